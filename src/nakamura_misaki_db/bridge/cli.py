"""The ``baseline-bridge`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from nakamura_misaki_db.appcheck.cli import add_parser as add_check_app_parser
from nakamura_misaki_db.appcheck.cli import cmd_check_app
from nakamura_misaki_db.connect.connection import connect, describe_sql_error
from nakamura_misaki_db.connect.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_REFUSED,
    BadInput,
    MigrationError,
    refusal_from,
)
from nakamura_misaki_db.connect.locking import is_lock_timeout, lock_timeout_message
from nakamura_misaki_db.connect.resolve import resolve_database_url
from nakamura_misaki_db.connect.urls import DatabaseUrl, candidate_urls, redact

EXIT_CODES = textwrap.dedent(
    """\
    exit codes:
      0  done, or nothing to do / nothing wrong
      1  error (connection, SQL, lock timeout, ...)
      2  bad usage or input (options, URL, time zone, plan file)
      3  refused: going on would be unsafe; nothing was changed
    """
)

DESCRIPTION = textwrap.dedent(
    """\
    Reconcile a legacy nakamura-misaki database with migration revision 0001, once.

    It reads the real catalog (it does not trust alembic_version), shows a plan,
    and on `apply`, holding the migration lock, changes the database in one
    transaction (after moving duplicate rows to the archive and building the
    unique index concurrently, if the plan needs them), verifies that nothing
    differs from 0001, and records 0001. Data that does not belong in the
    target is moved to the legacy_archive schema, never dropped.

    The database comes from --database-url, else DATABASE_URL (postgresql://,
    postgres://, postgresql+psycopg:// or postgresql+asyncpg://), else an
    embedded PostgreSQL (pip install 'nakamura-misaki-db[embedded]').
    """
)

EXAMPLES = textwrap.dedent(
    """\
    examples:
      baseline-bridge status
      baseline-bridge plan --legacy-timezone Asia/Tokyo --out bridge-plan.json
      baseline-bridge apply --plan bridge-plan.json
      baseline-bridge demo
    """
)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", metavar="URL",
                        help="database to work on (default: $DATABASE_URL; passwords are never printed)")
    parser.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (and progress events as JSON lines on stderr)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true",
                        help="no progress on stderr, only the result (progress goes to stderr: one line per step, "
                        "live on a terminal; JSON lines with --json)")


def progress_for(args: argparse.Namespace):
    """Progress on stderr: JSON lines with --json, nothing with --quiet, else lines (live on a terminal)."""
    from nakamura_misaki_db.bridge.progress import JsonLines, Lines, Silent

    if getattr(args, "quiet", False):
        return Silent()
    if getattr(args, "json", False):
        return JsonLines(sys.stderr)
    return Lines(sys.stderr, tty=sys.stderr.isatty())


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="baseline-bridge", description=DESCRIPTION,
                                     epilog=EXAMPLES + "\n" + EXIT_CODES, formatter_class=fmt)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("status", help="what this database is: empty, new chain, or legacy (and how far off)",
                       description="Say what the database is: empty, on the new chain (at which revision), or "
                       "legacy (which legacy id, or none), and how many differences from 0001 it has.",
                       epilog="example:\n  baseline-bridge status --database-url postgresql://app@db/nakamura_misaki\n\n"
                       + EXIT_CODES, formatter_class=fmt)
    _common(p)

    p = sub.add_parser("plan", help="show the steps that would reconcile the database (writes nothing)",
                       description="Inspect the database and print the ordered steps that would bring it to "
                       "revision 0001: what each does, its SQL, why, its safety class and the locks it takes. "
                       "Writes nothing. Exits 3 if a difference cannot be closed safely, saying what to do.",
                       epilog="example:\n  baseline-bridge plan --legacy-timezone Asia/Tokyo --out bridge-plan.json"
                       "\n\n" + EXIT_CODES, formatter_class=fmt)
    _common(p)
    p.add_argument("--legacy-timezone", metavar="TZ",
                   help="zone the legacy naive timestamps were written in (e.g. Asia/Tokyo); required when "
                   "tables with naive timestamps have rows")
    p.add_argument("--set-database-timezone", action="store_true",
                   help="also make the --legacy-timezone the database's TimeZone (ALTER DATABASE ... SET TimeZone), "
                   "so the application's new naive datetimes are read in the zone it writes them in")
    p.add_argument("--out", metavar="FILE", help="also save the plan (JSON, with a catalog fingerprint) for "
                   "`apply --plan FILE`")
    p.add_argument("--sql", action="store_true", help="show the SQL of every step")
    _quiet(p)

    p = sub.add_parser("apply", help="reconcile the database (one transaction), verify, stamp 0001",
                       description="Under the migration advisory lock: phase 1 (only if the plan has it) moves "
                       "duplicate rows to legacy_archive and builds the unique index CONCURRENTLY, each "
                       "committed on its own, blocking no writer; phase 2 runs every other step in one "
                       "transaction, verifies inside it that no difference from 0001 is left, records 0001 and an "
                       "audit row, and commits. Before anything is written, a preflight refuses (exit 3) a standby, "
                       "a read-only session, a missing privilege, rows hidden by row level security, an event "
                       "trigger on the plan's commands and, unless --allow-connected-clients, any other connected "
                       "client, each with its fix. A failure after phase 1 puts phase 1 back (rows returned, index "
                       "and archive it created dropped, the tables compared with before) and says so, or says "
                       "exactly what is left. On a database already at 0001 or later it says so and exits 0.",
                       epilog="examples:\n  baseline-bridge apply --legacy-timezone Asia/Tokyo\n"
                       "  baseline-bridge apply --plan bridge-plan.json\n\n" + EXIT_CODES, formatter_class=fmt)
    _common(p)
    p.add_argument("--legacy-timezone", metavar="TZ", help="as for `plan`")
    p.add_argument("--set-database-timezone", action="store_true",
                   help="as for `plan`: set the database's TimeZone to --legacy-timezone in the same transaction")
    p.add_argument("--plan", metavar="FILE", help="apply exactly this saved plan; refused (exit 3) if the "
                   "database changed since it was made")
    p.add_argument("--lock-timeout", metavar="DURATION",
                   help="max wait for each table lock, e.g. 5s (default: $MIGRATION_LOCK_TIMEOUT or 5s)")
    p.add_argument("--lock-wait", metavar="DURATION",
                   help="max wait for another migration run to finish (default: $MIGRATION_LOCK_WAIT or 10min)")
    p.add_argument("--allow-connected-clients", action="store_true",
                   help="go on while other sessions are connected to the database (refused otherwise: stop the "
                   "application first); they are listed, and every wait for them is bounded by --lock-timeout")
    p.add_argument("--allow-event-trigger", metavar="NAME", action="append", default=[],
                   help="go on although event trigger NAME fires on the plan's commands (repeat for each; refused "
                   "otherwise)")
    _quiet(p)

    p = sub.add_parser("demo", help="the whole story on an embedded PostgreSQL, no setup needed",
                       description="Start an embedded PostgreSQL, build the incident database (state S1) with "
                       "sample data, show that `alembic upgrade head` refuses it, then run status, plan, apply "
                       "and `alembic upgrade head`, and print a before/after table.",
                       epilog="example:\n  baseline-bridge demo\n\n" + EXIT_CODES, formatter_class=fmt)
    p.add_argument("--rows", type=int, default=2000, help="rows of sample tasks and conversations (default 2000)")
    p.add_argument("--keep", metavar="DIR", help="keep the embedded server's data in DIR (default: a temp dir)")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    p = sub.add_parser("lint", help="check the migration scripts (numbering, chain, downgrades, imports)",
                       description="Check every migration: four-digit ids consecutive from 0001, file name "
                       "<id>_<slug>.py, one head, a linear chain, ids that fit varchar(32), a real downgrade, "
                       "no import of the live models; then the safety rules on every revision after 0007 (rule "
                       "id, why, the guide's safe pattern; MIGRATION_GUIDE.md section 11). The same checks as "
                       "`nakamura-db lint`. Exit 0 when clean or only warnings / reviewed findings, 3 otherwise.",
                       epilog="example:\n  baseline-bridge lint\n\n" + EXIT_CODES, formatter_class=fmt)
    p.add_argument("--versions", metavar="DIR", help="versions directory to check (default: the installed one)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--database-url", metavar="URL",
                   help="also say what each operation of a pending revision would do to this database (a copy "
                        "of production, or production: read-only, ACCESS SHARE locks only): rows a drop loses, "
                        "NULLs a NOT NULL rejects, values a narrower type rejects, orphans, table size")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    add_check_app_parser(sub)
    return parser


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _url(args: argparse.Namespace) -> DatabaseUrl:
    return resolve_database_url(args.database_url)


def cmd_status(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.bridge.render import render_status
    from nakamura_misaki_db.bridge.status import read_only_status

    url = _url(args)
    with connect(url) as conn:
        status = read_only_status(conn)
    _emit(args, {"database": url.masked(), **status.to_dict()}, render_status(status, url.masked()))
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.bridge.plan import read_only_plan
    from nakamura_misaki_db.bridge.render import render_plan

    url = _url(args)
    with connect(url) as conn:
        plan = read_only_plan(conn, legacy_timezone=args.legacy_timezone,
                              set_database_timezone=args.set_database_timezone, progress=progress_for(args))
    plan.source["database"] = url.masked()
    if args.out:
        try:
            Path(args.out).write_text(plan.to_json() + "\n", encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"cannot write the plan to {args.out}: {exc.strerror}") from None
    _emit(args, plan.to_dict(), render_plan(plan, url.masked(), show_sql=args.sql))
    if args.out and not args.json:
        print(f"plan saved to {args.out}")
    return EXIT_REFUSED if plan.status == "refused" else EXIT_OK


def load_plan(path: str):
    from nakamura_misaki_db.bridge.plan import Plan

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"plan file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BadInput(f"plan file {path} is not a readable plan (corrupt JSON?)") from None
    try:
        return Plan.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadInput(f"plan file {path} is not a baseline-bridge plan (missing or malformed fields)") from None


def cmd_apply(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.bridge.plan import validate_timezone
    from nakamura_misaki_db.bridge.render import render_apply
    from nakamura_misaki_db.bridge.run import apply_plan
    from nakamura_misaki_db.connect.locking import validate_duration

    saved = load_plan(args.plan) if args.plan else None
    if args.lock_timeout:
        validate_duration(args.lock_timeout, "--lock-timeout")
    if args.lock_wait:
        validate_duration(args.lock_wait, "--lock-wait")
    url = _url(args)
    with connect(url) as conn:
        with conn.begin():
            validate_timezone(conn, args.legacy_timezone)
        result = apply_plan(conn, saved=saved, legacy_timezone=args.legacy_timezone,
                            lock_timeout=args.lock_timeout, lock_wait=args.lock_wait,
                            set_database_timezone=args.set_database_timezone, progress=progress_for(args),
                            allow_connected_clients=args.allow_connected_clients,
                            allow_event_triggers=tuple(args.allow_event_trigger))
    _emit(args, {"database": url.masked(), **result.to_dict()}, render_apply(result, url.masked()))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.bridge.demo import run_demo

    return run_demo(rows=args.rows, keep=args.keep)


def cmd_lint(args: argparse.Namespace) -> int:
    # The same check as `nakamura-db lint`; kept here for the commands people know.
    from nakamura_misaki_db.authoring.lint_command import run_lint

    return run_lint(args.versions, as_json=args.json, database_url=args.database_url)


COMMANDS = {"status": cmd_status, "plan": cmd_plan, "apply": cmd_apply, "demo": cmd_demo, "lint": cmd_lint,
            "check-app": cmd_check_app}


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    print(f"baseline-bridge: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"status": "error", "exit_code": code, "error": message}, ensure_ascii=False))
    return code


def _notes(exc: BaseException) -> str:
    """What the run added to an error on its way out (e.g. what an earlier phase left done)."""
    return "".join(f" {note}" for note in getattr(exc, "__notes__", []))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "debug", False):
        # Warnings of dependencies are for developers; --debug shows them (and tracebacks).
        warnings.simplefilter("ignore")
    # Every URL whose password must be scrubbed from what we print.
    secrets = candidate_urls(getattr(args, "database_url", None))
    try:
        return COMMANDS[args.command](args)
    except MigrationError as exc:
        if args.debug:
            traceback.print_exc()
        return _fail(args, redact(str(exc) + _notes(exc), *secrets), exc.exit_code)
    except SQLAlchemyError as exc:
        if args.debug:
            traceback.print_exc()
        refusal = refusal_from(exc)  # a refusal raised in SQL (PGEnum, a guard): exit 3, as every refusal
        if refusal is not None:
            return _fail(args, redact(f"refused: {refusal}" + _notes(exc), *secrets), EXIT_REFUSED)
        if is_lock_timeout(exc):
            return _fail(args, lock_timeout_message(exc, getattr(args, "lock_timeout", None)) + _notes(exc),
                         EXIT_ERROR)
        return _fail(args, describe_sql_error(exc, *secrets) + _notes(exc), EXIT_ERROR)
    except KeyboardInterrupt as exc:
        return _fail(args, "interrupted; the transaction was rolled back" + _notes(exc), EXIT_ERROR)
    except Exception as exc:  # the last line of defence: one line, no traceback, no secrets
        if args.debug:
            traceback.print_exc()
        text = redact(f"unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)", *secrets)
        return _fail(args, text, EXIT_ERROR)


if __name__ == "__main__":
    sys.exit(main())
