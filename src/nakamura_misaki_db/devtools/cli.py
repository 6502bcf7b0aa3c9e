"""``nakamura-db``: developer and operator tooling (a lasting development database, migration lint,
recording head on a database that lost its version row)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import traceback
import warnings
from collections.abc import Sequence

from nakamura_misaki_db.connect.errors import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, MigrationError
from nakamura_misaki_db.connect.urls import candidate_urls, redact

PROG = "nakamura-db"

EXIT_CODES = textwrap.dedent(
    """\
    exit codes:
      0  done, or nothing to do / nothing wrong
      1  error (the server would not start or stop, connection, SQL, lock timeout); `dev-db status`: not running
      2  bad usage or input (option, directory, URL, duration, embedded PostgreSQL not installed)
      3  refused: `lint` found problems (one line each); `recover-version`: nothing to recover, or the
         schema differs from head (each difference listed); nothing was changed
    """
)

EXAMPLES = textwrap.dedent(
    """\
    examples:
      eval "$(nakamura-db dev-db start)"   # start it (or find it running), export DATABASE_URL
      alembic upgrade head                 # ... then use it
      nakamura-db dev-db status
      nakamura-db dev-db stop
      nakamura-db lint
      nakamura-db lint --versions path/to/alembic/versions
      nakamura-db recover-version --check  # a database that lost its alembic_version row: would head fit?
      nakamura-db recover-version          # ... then record it
    """
)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=fmt, epilog=EXAMPLES + "\n" + EXIT_CODES,
        description="Tooling for the nakamura-misaki database: a lasting development PostgreSQL, the "
                    "migration lint (the same checks as `baseline-bridge lint`), and the recovery of a lost "
                    "alembic_version row.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "dev-db", help="start, stop or show a lasting development database (embedded PostgreSQL 16 + pgvector)",
        formatter_class=fmt,
        description="A development database that stays up between commands. Its data lives in "
                    "$NAKAMURA_DB_EMBEDDED_DIR, else ~/.local/share/nakamura-misaki-db/dev. It listens on a "
                    "Unix socket only and needs no password.\n\n"
                    "start   start it (or find it running); prints `export DATABASE_URL=...` on stdout\n"
                    "status  say whether it runs; when it does, print the same export line (exit 1 if not)\n"
                    "stop    stop it (the data stays; exit 0 when it was not running either)",
        epilog="examples:\n  eval \"$(nakamura-db dev-db start)\"\n  nakamura-db dev-db status\n"
               "  nakamura-db dev-db stop\n\n" + EXIT_CODES)
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    p = sub.add_parser(
        "lint", help="check the migration scripts (numbering, chain, downgrades, imports, idempotency)",
        formatter_class=fmt,
        description="Check every migration: four-digit ids consecutive from 0001, file name <id>_<slug>.py, "
                    "one head, a linear chain, ids that fit varchar(32), a real downgrade, no import of the "
                    "live models, and statements that survive a second run; then the safety rules on every "
                    "revision after 0007: what loses data or blocks writers, each finding with its rule id, "
                    "why, and the guide's safe pattern (MIGRATION_GUIDE.md section 11). The same checks as "
                    "`baseline-bridge lint`. Exit 0 when clean or only warnings / reviewed findings, 3 otherwise.",
        epilog="examples:\n  nakamura-db lint\n  nakamura-db lint --versions alembic/versions --json\n"
               "  nakamura-db lint --database-url \"$COPY_OF_PRODUCTION_URL\"\n\n"
               + EXIT_CODES)
    p.add_argument("--versions", metavar="DIR", help="versions directory to check (default: the installed one)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--database-url", metavar="URL",
                   help="also say what each operation of a pending revision would do to this database (a copy "
                        "of production, or production: read-only, ACCESS SHARE locks only): rows a drop loses, "
                        "NULLs a NOT NULL rejects, values a narrower type rejects, orphans, table size")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    p = sub.add_parser(
        "recover-version", help="record head on a database that lost its alembic_version row, if its schema "
                                "is head's (Alembic's own check)",
        formatter_class=fmt,
        description="For a database that lost its alembic_version row (a restore, a hand edit). Under the "
                    "migration lock and in one transaction: create alembic_version if it is missing, insert "
                    "head, run Alembic's own check (`alembic check`: tables, columns, defaults, indexes, keys, "
                    "CHECK constraints and enum labels of the models against the database), and commit only if "
                    "it finds no difference. Otherwise it rolls back and refuses (exit 3), listing each "
                    "difference and what to do. Refused too, changing nothing: a database whose alembic_version "
                    "holds a row (nothing was lost: see `baseline-bridge status`) and an empty database (run "
                    "`nakamura-init-db`). Not compared (the models do not describe them): views, triggers, "
                    "functions, grants, an index's WHERE clause.",
        epilog="examples:\n  nakamura-db recover-version --check\n"
               "  nakamura-db recover-version --database-url postgresql://nakamura_misaki@localhost/nakamura_misaki"
               "\n\n" + EXIT_CODES)
    p.add_argument("--database-url", metavar="URL",
                   help="database to work on (default: $DATABASE_URL; passwords are never printed)")
    p.add_argument("--check", action="store_true",
                   help="dry run: verify and report, record nothing (the transaction is rolled back)")
    p.add_argument("--lock-timeout", metavar="DURATION",
                   help="max wait for each table lock, e.g. 5s (default: $MIGRATION_LOCK_TIMEOUT or 5s)")
    p.add_argument("--lock-wait", metavar="DURATION",
                   help="max wait for another migration run to finish (default: $MIGRATION_LOCK_WAIT or 10min)")
    p.add_argument("--json", action="store_true", help="print the result (or the refusal) as JSON on stdout")
    p.add_argument("--debug", action="store_true", help="show Alembic's log, warnings and tracebacks")
    return parser


def cmd_dev_db(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.devtools import dev_db

    if args.action == "start":
        db, started = dev_db.start()
        what = "started" if started else "already running"
        # stdout carries only the export line, so `eval "$(nakamura-db dev-db start)"` works.
        print(f"{PROG}: development database {what} (pid {db.pid}) in {db.data_dir}", file=sys.stderr)
        print(db.export_line())
        return EXIT_OK
    if args.action == "stop":
        stopped = dev_db.stop()
        print(f"development database {'stopped' if stopped else 'was not running'}: {dev_db.dev_data_dir()}")
        return EXIT_OK
    db = dev_db.status()
    if not db.running:
        print(f"development database not running: {db.data_dir} (start it: {PROG} dev-db start)")
        return EXIT_ERROR
    print(f"development database running (pid {db.pid}) in {db.data_dir}")
    print(db.export_line())
    return EXIT_OK


def cmd_lint(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.authoring.lint_command import run_lint

    return run_lint(args.versions, as_json=args.json, database_url=args.database_url)


def cmd_recover_version(args: argparse.Namespace) -> int:
    import logging

    from nakamura_misaki_db.connect.connection import connect
    from nakamura_misaki_db.connect.locking import lock_timeout_setting, lock_wait_setting, validate_duration
    from nakamura_misaki_db.connect.resolve import resolve_database_url
    from nakamura_misaki_db.deploy.recover_version import recover_version
    from nakamura_misaki_db.schema.revisions import alembic_config

    lock_timeout = validate_duration(args.lock_timeout, "--lock-timeout") if args.lock_timeout else None
    lock_wait = validate_duration(args.lock_wait, "--lock-wait") if args.lock_wait else None
    lock_timeout_setting(lock_timeout)  # bad environment values are usage errors, found before connecting
    lock_wait_setting(lock_wait)
    if args.debug:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)-5.5s [%(name)s] %(message)s")
    url = resolve_database_url(args.database_url, announce=lambda text: print(f"{PROG}: {text}", file=sys.stderr))
    with connect(url) as conn:
        result = recover_version(conn, alembic_config(url), dry_run=args.check, lock_wait=lock_wait,
                                 lock_timeout=lock_timeout)
    if args.json:
        print(json.dumps({"database": url.masked(), **result.to_dict()}, ensure_ascii=False, indent=2))
    elif args.check:
        print(f"head {result.head} would be recorded: the schema equals head (alembic check: no difference); "
              f"nothing was changed (--check): {url.masked()}")
    else:
        print(f"recorded head {result.head}: the schema equals head (alembic check: no difference): {url.masked()}")
    return EXIT_OK


COMMANDS = {"dev-db": cmd_dev_db, "lint": cmd_lint, "recover-version": cmd_recover_version}


def _fail(args: argparse.Namespace, message: str, code: int, exc: BaseException | None = None) -> int:
    if getattr(args, "debug", False) and exc is not None:
        traceback.print_exc()
    kind = "refused: " if code == EXIT_REFUSED and args.command == "recover-version" else ""
    print(f"{PROG}: {kind}{message}", file=sys.stderr)
    if args.command == "recover-version" and args.json:
        data = {"status": "refused" if code == EXIT_REFUSED else "error", "exit_code": code, "error": message}
        for name in ("head", "differences"):
            if hasattr(exc, name):
                data[name] = getattr(exc, name)
        print(json.dumps(data, ensure_ascii=False, indent=2))
    return code


def _database_error(exc: BaseException, args: argparse.Namespace, secrets: list) -> tuple[str, int] | None:
    """A database error (SQLAlchemy's, or Alembic's wrapping of one) as one line and its exit code."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from nakamura_misaki_db.connect.connection import describe_sql_error
    from nakamura_misaki_db.connect.locking import is_lock_timeout, lock_timeout_message

    if isinstance(exc, SQLAlchemyError):
        if is_lock_timeout(exc):
            return lock_timeout_message(exc, getattr(args, "lock_timeout", None)), EXIT_ERROR
        return describe_sql_error(exc, *secrets), EXIT_ERROR
    if isinstance(exc, CommandError):  # env.py's words already; the cause says how bad it is
        cause = exc.__cause__
        code = cause.exit_code if isinstance(cause, MigrationError) else EXIT_ERROR
        return redact(" ".join(str(exc).split()), *secrets), code
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        warnings.simplefilter("ignore")  # dependencies' warnings are for developers: --debug shows them
    secrets = candidate_urls(getattr(args, "database_url", None))  # every password to scrub from output
    try:
        return COMMANDS[args.command](args)
    except MigrationError as exc:
        return _fail(args, redact(str(exc), *secrets), exc.exit_code, exc)
    except KeyboardInterrupt as exc:
        rolled_back = "; the transaction was rolled back" if args.command == "recover-version" else ""
        return _fail(args, f"interrupted{rolled_back}", EXIT_ERROR, exc)
    except Exception as exc:  # one line, no traceback unless asked
        known = _database_error(exc, args, secrets) if args.command == "recover-version" else None
        if known is not None:
            return _fail(args, known[0], known[1], exc)
        text = redact(f"unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)", *secrets)
        return _fail(args, text, EXIT_ERROR, exc)


if __name__ == "__main__":
    sys.exit(main())
