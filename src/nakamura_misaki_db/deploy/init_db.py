"""``nakamura-init-db``: bring the database to head on every deploy.

Run by a systemd oneshot before the application starts. A database already at
head is answered with psycopg alone (no SQLAlchemy, no Alembic: the usual
deploy costs little more than one query): ``alembic_version`` must say head
*and* the schema's fingerprint must be head's (``catalog.fingerprint``), so a
hand-stamped version row or an INVALID index is never "at head". Any other
answer runs ``alembic upgrade head``, whose ``env.py`` takes the migration
advisory lock, compares the schema with what the recorded revision built
(``catalog.state``), refuses, changing nothing, one that differs or needs
``baseline-bridge``, and runs the upgrade's preflight (``catalog.preflight``).
Every step is idempotent, so running it on every deploy is safe and needs no
"already done" flag file.

stdout gets exactly one line on success; errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field

# Imports are kept light on purpose (see bench/): everything heavier than psycopg
# is imported inside the functions that need it, after the no-op check.
from nakamura_misaki_db import __version__
from nakamura_misaki_db.catalog.version_table import numbered_head, read_version_psycopg
from nakamura_misaki_db.connect.errors import EXIT_ERROR, EXIT_OK, DriftError, MigrationError, Refused
from nakamura_misaki_db.connect.locking import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_LOCK_WAIT,
    LOCK_TIMEOUT_ENV,
    LOCK_WAIT_ENV,
    lock_timeout_setting,
    lock_wait_setting,
    validate_duration,
)
from nakamura_misaki_db.connect.resolve import resolve_database_url
from nakamura_misaki_db.connect.urls import EXAMPLE, DatabaseUrl, redact
from nakamura_misaki_db.schema import revisions as migrations

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
  3  refused: the database needs `baseline-bridge plan` / `apply` (its schema is not what
     its alembic_version says), was migrated by a release this one does not know, or the
     preflight found a problem (a standby, a read-only session, a missing privilege,
     hidden rows, an event trigger), each named with its fix; nothing was changed

example:
  DATABASE_URL=postgresql+asyncpg://nakamura_misaki@localhost:5432/nakamura_misaki {PROG}
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
    parser.add_argument("--allow-event-trigger", metavar="NAME", action="append", default=[],
                        help="go on although event trigger NAME fires on the migration's commands (repeat for "
                             "each; refused otherwise)")
    parser.add_argument("--debug", action="store_true",
                        help="log every migration step to stderr and show tracebacks")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _one_line(message: str, cause: BaseException | None) -> str:
    """The journal gets one line; the drift guard's list of differences is summarised."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    if isinstance(cause, DriftError) and len(lines) > 1:
        from nakamura_misaki_db.deploy.baseline import BRIDGE_HINT

        head = lines[0].rstrip(":")
        first = f" (first: {cause.differences[0].describe()})" if cause.differences else ""
        return f"{head}{first}. {BRIDGE_HINT}"
    return " ".join(lines) or "unknown error"


def _configure_logging(debug: bool) -> None:
    import logging

    if debug:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(levelname)-5.5s [%(name)s] %(message)s")
    else:
        # Alembic logs each step at INFO; the journal should get one clean line.
        logging.getLogger("alembic").setLevel(logging.WARNING)


@dataclass
class Outcome:
    head: str
    applied: list[str] = field(default_factory=list)  # revisions this run applied, in order
    was: tuple[str, ...] = ()  # the version before this run's first step (empty: none)


def already_at_head(url: DatabaseUrl) -> str | None:
    """The head id when the database records exactly it (nothing to do, nothing to lock), else None.

    Any other answer (legacy, empty, behind, newer) takes the full path, where
    the lock is taken and the classifier decides.
    """
    from nakamura_misaki_db.catalog.fingerprint import is_head
    from nakamura_misaki_db.connect.connection import psycopg_connect

    head = numbered_head(migrations.script_location() / "versions")
    if head is None:
        return None
    with psycopg_connect(url) as conn:
        return head if read_version_psycopg(conn) == (head,) and is_head(conn, head) else None


def run(url: DatabaseUrl, lock_timeout: str | None = None, allow_event_triggers: Sequence[str] = (),
        notes: list[str] | None = None) -> Outcome:
    """Upgrade ``url`` to head; say what this run (and only this run) did.

    What was applied comes from Alembic's ``on_version_apply`` hook, called
    under the lock: a version read before the run would be stale whenever
    another deploy migrated in between.
    """
    from alembic import command

    from nakamura_misaki_db.catalog.version_table import read_version
    from nakamura_misaki_db.connect.connection import connect

    cfg = migrations.alembic_config(url)
    if lock_timeout is not None:
        cfg.attributes["lock_timeout"] = lock_timeout
    applied: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    cfg.attributes["applied_steps"] = applied
    cfg.attributes["preflight_notes"] = notes if notes is not None else []
    if allow_event_triggers:
        cfg.attributes["allow_event_trigger"] = ",".join(allow_event_triggers)
    try:
        command.upgrade(cfg, "head")
    except Exception as exc:
        # A run of later revisions commits each one (transaction_per_migration): say which ones did. The
        # steps reported applied are only those the database holds (a run through 0001-0007 rolled back whole).
        done = [",".join(to) for _, to in applied]
        try:
            with connect(url) as conn:
                at = ",".join(read_version(conn) or ())
        except Exception:  # the database is gone too: say nothing rather than guess
            at = ""
        done = done[:done.index(at) + 1] if at in done else []
        if done:
            exc.add_note(f"Committed before the failure: {', '.join(done)}; the database is at {done[-1]} "
                         "(the next deploy resumes from there).")
        raise
    with connect(url) as conn:
        head = ",".join(read_version(conn) or ())
    if not applied:
        return Outcome(head)
    return Outcome(head, [",".join(to) for _, to in applied], applied[0][0])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url: DatabaseUrl | None = None
    try:
        lock_timeout = validate_duration(args.lock_timeout, "--lock-timeout") if args.lock_timeout else None
        lock_timeout_setting(lock_timeout)  # bad environment values are usage errors, found before connecting
        lock_wait_setting()
        url = resolve_database_url(args.database_url, announce=lambda text: print(f"{PROG}: {text}", file=sys.stderr))
        if args.sql:
            from nakamura_misaki_db.deploy.offline import deploy_sql

            print(deploy_sql(url, lock_timeout), end="")
            return EXIT_OK
        head = already_at_head(url)
        if head is not None:
            print(f"database already at head {head}, nothing to do: {url.masked()}")
            return EXIT_OK
        _configure_logging(args.debug)
        notes: list[str] = []
        outcome = run(url, lock_timeout, args.allow_event_trigger, notes)
        for note in notes:  # what the preflight saw (other sessions connected): stderr, stdout keeps one line
            print(f"{PROG}: note: {note.strip()}", file=sys.stderr)
    except MigrationError as exc:
        return _fail(redact(str(exc), url), exc, exc.exit_code, args.debug)
    except Exception as exc:
        return _fail_unexpected(exc, url, args.debug)

    if not outcome.applied:
        print(f"database already at head {outcome.head}, nothing to do: {url.masked()}")
    else:
        was = ",".join(outcome.was) or "empty"
        print(f"database at head {outcome.head} (was {was}; applied {', '.join(outcome.applied)}): {url.masked()}")
    return EXIT_OK


def _fail_unexpected(exc: Exception, url: DatabaseUrl | None, debug: bool) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from nakamura_misaki_db.connect.connection import describe_sql_error

    if isinstance(exc, SQLAlchemyError):
        return _fail(describe_sql_error(exc, url), exc, EXIT_ERROR, debug, exc)
    if not isinstance(exc, CommandError):
        return _fail(redact(f"{type(exc).__name__}: {exc}", url), exc, EXIT_ERROR, debug)
    cause = exc.__cause__
    code = cause.exit_code if isinstance(cause, MigrationError) else EXIT_ERROR
    return _fail(redact(str(exc), url), cause, code, debug, exc)


def _fail(message: str, cause: BaseException | None, code: int, debug: bool,
          raised: BaseException | None = None) -> int:
    notes = [n for e in (raised, cause) if e is not None for n in getattr(e, "__notes__", [])]
    if notes:
        message = f"{message} {' '.join(dict.fromkeys(notes))}"
    if debug:
        traceback.print_exc(file=sys.stderr)
        print(message, file=sys.stderr)  # in full, every line
    kind = "refused" if isinstance(cause, Refused) else "error"
    line = _one_line(message, cause)
    print(f"{PROG}: {kind}: {line.removeprefix(f'{kind}: ')}", file=sys.stderr)  # a message may say it already
    return code


if __name__ == "__main__":
    sys.exit(main())
