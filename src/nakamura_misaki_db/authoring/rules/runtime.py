"""What fails before any SQL reaches the server: the revision's own Python, read offline.

The capture runs ``upgrade()`` / ``downgrade()`` as ``alembic upgrade --sql`` does. An
exception there is a deploy that fails the same way under ``--sql`` (or, for a NameError, on
every run): ``bind.scalar(...)`` / ``sa.inspect(bind)`` have no database offline (Alembic's
``MockConnection``), so a revision reading the catalog in Python with no
``op.get_context().as_sql`` branch cannot be rendered. Undefined names and syntax errors are
found without running anything, by ruff's pyflakes rules (``authoring.pyflakes``), also in
branches the offline run does not take.
"""

from __future__ import annotations

from collections.abc import Iterator

from nakamura_misaki_db.authoring.rules.base import ERROR, GUIDE, WARNING, Hazard, RevisionView, Rule, shorten

ONLINE_ONLY = Rule(
    "online-only", ERROR,
    "the revision reads the live database from Python with no offline branch: `alembic upgrade --sql` "
    "and `nakamura-init-db --sql` fail on it, leaving a partial script with no COMMIT",
    f'{GUIDE} 11.11 "Data migrations that work offline"')
RUN_FAILS = Rule(
    "run-fails", ERROR,
    "the revision's function raised when run as `alembic upgrade --sql` runs it; a deploy fails the same way",
    f'{GUIDE} 11.11 "Data migrations that work offline"')
OPAQUE_SQL = Rule(
    "opaque-sql", WARNING,
    "EXECUTE of a string built at run time: no rule can read the statement it runs",
    f'{GUIDE} 11.1 "What lint checks"')
UNDEFINED_NAME = Rule(
    "undefined-name", ERROR,
    "a name used but never defined or imported raises NameError when that line runs, in the middle of a deploy",
    f'{GUIDE} 11.1 "What lint checks"')
SYNTAX_ERROR = Rule(
    "syntax-error", ERROR,
    "the file does not parse: Alembic cannot load the chain, so every deploy fails",
    f'{GUIDE} 11.1 "What lint checks"')
STALE_OPT_OUT = Rule(
    "stale-opt-out", ERROR,
    "SAFETY_REVIEWED names an operation the revision does not perform (any more): a review of nothing, "
    "which would silently cover a later operation with the same name",
    f'{GUIDE} 11.2 "Opting out, reviewed"')
LINT_TOOL_MISSING = Rule(
    "lint-tool-missing", ERROR,
    "ruff is not installed, so undefined names and syntax errors were not checked",
    "pip install 'nakamura-misaki-db[lint]' (or [dev])")
RULES = (ONLINE_ONLY, RUN_FAILS, OPAQUE_SQL, UNDEFINED_NAME, SYNTAX_ERROR, STALE_OPT_OUT, LINT_TOOL_MISSING)


def check_run(view: RevisionView) -> Iterator[Hazard]:
    capture = view.parsed.capture
    error = capture.error
    if error is not None:
        where = f"line {error.line}" if error.line is not None else "outside the revision file"
        text = shorten(f"{error.kind}: {error.message}")
        if error.needs_a_database:
            yield Hazard(ONLINE_ONLY, capture.function, text, f"{where}: no database offline")
        elif error.kind == "Refused":
            # A deliberate refusal offline (e.g. a downgrade that cannot be rendered): said, not failed.
            yield Hazard(RUN_FAILS, capture.function, text, f"{where}: refuses offline", severity=WARNING)
        else:
            yield Hazard(RUN_FAILS, capture.function, text, where)
    for query in view.parsed.opaque:
        yield Hazard(OPAQUE_SQL, capture.function, shorten(query), "inside a DO block")


CHECKS = (check_run,)
