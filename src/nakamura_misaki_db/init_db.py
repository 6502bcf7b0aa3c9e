"""``nakamura-init-db``: bring the database to head on every deploy.

Run by a systemd oneshot before the application starts. Each run takes the
migration advisory lock, refuses a database that needs ``baseline-bridge``
(legacy revision id, or a schema that differs from revision 0001), and
otherwise runs ``alembic upgrade head``. Every step is idempotent, so running
it on every deploy is safe and needs no "already done" flag file.

stdout gets exactly one line on success; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

# Imports are kept light on purpose: a deploy whose database is already at head
# answers from alembic_version and the versions directory alone, without
# loading Alembic, alembic-utils or the models (see bench/ for the cost).
from . import __version__, migrations
from .db import connect, describe_sql_error
from .errors import EXIT_ERROR, EXIT_OK, DriftError, MigrationError, Refused
from .legacy_chain import legacy_ids_in
from .locking import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_LOCK_WAIT,
    LOCK_TIMEOUT_ENV,
    LOCK_WAIT_ENV,
    lock_timeout_setting,
    lock_wait_setting,
    validate_duration,
)
from .urls import EXAMPLE, masked, parse_database_url, redact, url_from_env
from .version_table import numbered_head, read_version

PROG = "nakamura-init-db"

DESCRIPTION = """\
Bring the nakamura-misaki database to the newest migration (alembic upgrade head).

Meant to run on every deploy (a systemd oneshot before the application): it is
idempotent, and concurrent runs are serialised by a PostgreSQL advisory lock.
It refuses, changing nothing, a database that still carries the retired legacy
schema or a legacy revision id: such a database needs `baseline-bridge` first
(see MIGRATION_GUIDE.md).
"""

EPILOG = f"""\
environment:
  DATABASE_URL            the database: {EXAMPLE}
                          (postgres://, postgresql+psycopg:// and the
                          application's postgresql+asyncpg:// forms work too).
                          Without it (and without --database-url) an embedded
                          PostgreSQL is used (needs the [embedded] extra).
  {LOCK_TIMEOUT_ENV}  how long one DDL statement may wait for a table lock
                          held by the application (default {DEFAULT_LOCK_TIMEOUT})
  {LOCK_WAIT_ENV}     how long to queue behind another migration run
                          holding the advisory lock (default {DEFAULT_LOCK_WAIT})

exit status:
  0  the database is at head (migrated now, or already there)
  1  error (cannot connect, lock timeout, SQL error); the run's transaction is rolled back
  2  bad usage or input (unsupported URL, bad duration)
  3  refused: the database needs `baseline-bridge plan` / `apply`; nothing was changed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", metavar="URL",
                        help="database to migrate (default: $DATABASE_URL); prefer the environment "
                             "variable, a command line is visible to other users")
    parser.add_argument("--lock-timeout", metavar="DURATION",
                        help=f"lock_timeout for each statement, e.g. 5s, 500ms, 2min "
                             f"(default: ${LOCK_TIMEOUT_ENV} or {DEFAULT_LOCK_TIMEOUT})")
    parser.add_argument("--sql", action="store_true",
                        help="print the SQL a deploy would run on this database now, and run nothing "
                             "(read-only; exit 3 if it needs baseline-bridge)")
    parser.add_argument("--debug", action="store_true",
                        help="log every migration step to stderr and show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _resolve_url(explicit: str | None) -> URL:
    if explicit is not None:
        return parse_database_url(explicit, source="--database-url")
    url = url_from_env()
    if url is not None:
        return url
    from .embedded import default_data_dir, embedded_database_url

    print(f"{PROG}: DATABASE_URL is not set: using the embedded PostgreSQL in {default_data_dir()}",
          file=sys.stderr)
    return embedded_database_url()


def _read_version(url: URL) -> tuple[str, ...] | None:
    with connect(url) as conn:
        return read_version(conn)


class _StepRecorder(logging.Handler):
    """Records the migration steps this run applied, as Alembic reports them, under the lock.

    What the database was *before* must come from inside the locked run: a version read
    earlier is stale when another deploy migrates in between, and then every concurrent run
    would claim it migrated the database.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.steps: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        # alembic.runtime.migration logs log.info("Running %s", step) for each step it applies.
        step = record.args[0] if record.msg == "Running %s" and isinstance(record.args, tuple) and record.args \
            else None
        if step is not None and getattr(step, "is_upgrade", False):
            self.steps.append((tuple(step.from_revisions_no_deps), tuple(step.to_revisions_no_deps)))


def _check_known(version: tuple[str, ...] | None) -> None:
    """A revision this package does not know (and that is not legacy): a newer release migrated it."""
    if not version or legacy_ids_in(version):
        return  # legacy ids are refused by env.py, under the lock
    unknown = sorted(set(version) - migrations.known_revisions())
    if unknown:
        raise MigrationError(
            f"the database is at revision {', '.join(unknown)}, which this release does not know "
            f"(newest here: {migrations.head_revision()}); it was probably migrated by a newer release. "
            "Deploy that release again; nothing was changed."
        )


def _one_line(message: str, cause: BaseException | None) -> str:
    """The journal gets one line; the drift guard's list of differences is summarised."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if isinstance(cause, DriftError) and len(lines) > 1:
        from .baseline import BRIDGE_HINT

        head = lines[0].rstrip(":")
        first = f" (first: {cause.differences[0].describe()})" if cause.differences else ""
        return f"{head}{first}. {BRIDGE_HINT}"
    return " ".join(lines) or "unknown error"


def _configure_logging(debug: bool) -> None:
    if debug:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(levelname)-5.5s [%(name)s] %(message)s")
    else:
        # Alembic logs each step at INFO; the journal should get one clean line.
        logging.getLogger("alembic").setLevel(logging.WARNING)


@dataclass
class Outcome:
    head: str
    applied: list[str]  # revisions this run applied, in order (empty: nothing to do)
    was: tuple[str, ...]  # the version before this run's first step (empty: none)


def already_at_head(url: URL) -> str | None:
    """The head id when the database records exactly it (nothing to do, nothing to lock), else None."""
    head = numbered_head(migrations.script_location() / "versions")
    return head if head is not None and _read_version(url) == (head,) else None


def run(url: URL, lock_timeout: str | None = None) -> Outcome:
    """Upgrade ``url`` to head; say what this run (and only this run) did."""
    from alembic import command

    _check_known(_read_version(url))
    cfg = migrations.alembic_config(url)
    if lock_timeout is not None:
        # env.py reads it as `-x lock_timeout=...`, exactly like the alembic CLI.
        cfg.cmd_opts = argparse.Namespace(x=[f"lock_timeout={lock_timeout}"])
    recorder = _StepRecorder()
    step_log = logging.getLogger("alembic.runtime.migration")
    saved_level = step_log.level
    step_log.addHandler(recorder)
    if not step_log.isEnabledFor(logging.INFO):
        step_log.setLevel(logging.INFO)
    try:
        command.upgrade(cfg, "head")
    finally:
        step_log.removeHandler(recorder)
        step_log.setLevel(saved_level)
    head = ",".join(_read_version(url) or ())
    if not recorder.steps:
        return Outcome(head, [], ())
    return Outcome(head, [",".join(to) for _, to in recorder.steps], recorder.steps[0][0])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.debug)
    url: URL | None = None
    try:
        lock_timeout = validate_duration(args.lock_timeout, "--lock-timeout") if args.lock_timeout else None
        lock_timeout_setting(lock_timeout)  # bad environment values are usage errors, found before connecting
        lock_wait_setting()
        url = _resolve_url(args.database_url)
        if args.sql:
            from .offline import deploy_sql

            print(deploy_sql(url, lock_timeout), end="")
            return EXIT_OK
        head = already_at_head(url)
        if head is not None:
            print(f"database already at head {head}, nothing to do: {masked(url)}")
            return EXIT_OK
        outcome = run(url, lock_timeout)
    except MigrationError as exc:
        return _fail(redact(str(exc), url), exc, exc.exit_code, args.debug)
    except SQLAlchemyError as exc:
        return _fail(describe_sql_error(exc, url), exc, EXIT_ERROR, args.debug)
    except Exception as exc:
        from alembic.util import CommandError

        if not isinstance(exc, CommandError):
            return _fail(redact(f"{type(exc).__name__}: {exc}", url), exc, EXIT_ERROR, args.debug)
        cause = exc.__cause__
        code = cause.exit_code if isinstance(cause, MigrationError) else EXIT_ERROR
        return _fail(redact(str(exc), url), cause, code, args.debug)

    if not outcome.applied:
        print(f"database already at head {outcome.head}, nothing to do: {masked(url)}")
    else:
        was = ",".join(outcome.was) or "empty"
        print(f"database at head {outcome.head} (was {was}; applied {', '.join(outcome.applied)}): {masked(url)}")
    return EXIT_OK


def _fail(message: str, cause: BaseException | None, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc(file=sys.stderr)
        print(message, file=sys.stderr)  # in full, every line
    kind = "refused" if isinstance(cause, Refused) else "error"
    print(f"{PROG}: {kind}: {_one_line(message, cause)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
