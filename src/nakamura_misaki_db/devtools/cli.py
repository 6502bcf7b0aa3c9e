"""``nakamura-db``: developer tooling (a lasting development database, migration lint)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import traceback
from collections.abc import Sequence
from pathlib import Path

from ..errors import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, BadInput, MigrationError

PROG = "nakamura-db"

EXIT_CODES = textwrap.dedent(
    """\
    exit codes:
      0  done, or nothing to do / nothing wrong
      1  error (the server would not start or stop, ...); `dev-db status`: not running
      2  bad usage or input (option, directory, embedded PostgreSQL not installed)
      3  refused: `lint` found problems (one line each)
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
    """
)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=fmt, epilog=EXAMPLES + "\n" + EXIT_CODES,
        description="Developer tooling for the nakamura-misaki database: a lasting development "
                    "PostgreSQL, and the migration lint (the same checks as `baseline-bridge lint`).")
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
                    "live models, and statements that survive a second run. The same checks as "
                    "`baseline-bridge lint`. Exit 0 when clean, 3 with one line per finding.",
        epilog="examples:\n  nakamura-db lint\n  nakamura-db lint --versions alembic/versions --json\n\n"
               + EXIT_CODES)
    p.add_argument("--versions", metavar="DIR", help="versions directory to check (default: the installed one)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def cmd_dev_db(args: argparse.Namespace) -> int:
    from . import dev_db

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
    from ..lint import default_versions_dir, lint_versions

    directory = Path(args.versions) if args.versions else default_versions_dir()
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory")
    findings = lint_versions(directory)
    if args.json:
        print(json.dumps([{"file": f.file, "reason": f.reason} for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(f)
        if not findings:
            print(f"{directory}: migrations are clean")
    return EXIT_REFUSED if findings else EXIT_OK


COMMANDS = {"dev-db": cmd_dev_db, "lint": cmd_lint}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except MigrationError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # one line, no traceback unless asked
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: unexpected error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
              file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
