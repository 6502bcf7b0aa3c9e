"""The lint command, shared by ``nakamura-db lint`` and ``baseline-bridge lint``: findings, exit code.

Two parts: the structural checks of every script (``lint``: numbering, chain, downgrades,
imports, idempotency), then the safety rules on the revisions after the safety baseline
(``safety``), each finding with its rule id, the operation, why and the guide's safe pattern.
Exit 3 when any structural finding or unreviewed safety error remains; warnings and reviewed
findings are printed and exit 0. ``--database-url``: the safety findings also say what each
operation would do there (``datafacts``), read in one read-only transaction.
"""

from __future__ import annotations

import json
from pathlib import Path

from nakamura_misaki_db.authoring.lint import default_versions_dir, lint_versions
from nakamura_misaki_db.authoring.safety import SafetyFinding, lint_safety, summary
from nakamura_misaki_db.connect.errors import EXIT_OK, EXIT_REFUSED, BadInput


def _with_facts(directory: Path, shown: str, database_url: str) -> list[SafetyFinding]:
    import sqlalchemy as sa

    from nakamura_misaki_db.authoring import datafacts
    from nakamura_misaki_db.connect.connection import connect
    from nakamura_misaki_db.connect.resolve import resolve_database_url

    url = resolve_database_url(database_url)
    with connect(url) as conn, conn.begin() as transaction:
        # A copy of production, or production itself: read only, never queued behind a migration's
        # ACCESS EXCLUSIVE for long, named in pg_stat_activity.
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        conn.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
        conn.execute(sa.text("SET LOCAL application_name = 'nakamura-db lint'"))
        facts = datafacts.Facts(conn)
        applied = datafacts.applied_revisions(conn)

        class _Annotator:
            @staticmethod
            def annotate(item: object, found: list[SafetyFinding]) -> None:
                datafacts.annotate(facts, applied, item.script.revision, found)  # type: ignore[attr-defined]

        findings = lint_safety(directory, shown, facts=_Annotator())
        transaction.rollback()
    return findings


def run_lint(versions: str | None, *, as_json: bool = False, database_url: str | None = None) -> int:
    """Lint ``versions`` (default: this release's scripts); print findings; exit 3 if any blocks."""
    directory = Path(versions) if versions else default_versions_dir()
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory")
    shown = str(directory)
    findings = lint_versions(directory)
    safety = _with_facts(directory, shown, database_url) if database_url else lint_safety(directory, shown)
    blocking = bool(findings) or any(f.blocking for f in safety)
    if as_json:
        # One list, as before the safety rules: a safety finding adds its rule, level, facts, ...
        print(json.dumps([{"file": f.file, "reason": f.reason} for f in findings] + [f.as_json() for f in safety],
                         ensure_ascii=False, indent=2))
        return EXIT_REFUSED if blocking else EXIT_OK
    for f in findings:
        print(f)
    for s in safety:
        print(s)
    if not findings and not safety:
        print(f"{directory}: migrations are clean")
    elif safety:
        print(f"{directory}: safety: {summary(safety)}")
    return EXIT_REFUSED if blocking else EXIT_OK
