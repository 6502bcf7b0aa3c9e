"""``baseline-bridge check-app TARGET...``: every mapping of the application against a database or the head schema."""

from __future__ import annotations

import argparse
import json
import textwrap

from nakamura_misaki_db.connect.errors import EXIT_OK, EXIT_REFUSED, BadInput

DESCRIPTION = textwrap.dedent(
    """\
    Import the application's SQLAlchemy models the way it imports itself and check every mapping
    against a database (--database-url, else DATABASE_URL) or, with --head, against this release's
    head schema (no database needed).

    TARGET is the application's package directory (`check-app src`, run from its checkout: every
    module that uses SQLAlchemy is imported, every declarative Base and MetaData collected; modules
    that fail to import are reported and the rest is checked; Alembic directories are skipped), a
    module (dotted, or path/to/file.py), or MODULE:ATTR (only that Base or MetaData).

    One block per mapped class, with its module; one line per problem, each with its fix: enums that
    persist member names where the database holds values (or the reverse) and labels the type lacks;
    tables and columns the database lacks; strings longer than the column allows; NOT NULL columns
    without a default that the application leaves unset or maps as nullable; naive DateTime on
    timestamptz (with the database's TimeZone) and the reverse; types PostgreSQL cannot assign; two
    classes that map one table differently.

    Without --probe the findings are predicted from the catalog (read only). With --probe (on a
    rehearsal copy: every write is rolled back, but sequences advance and triggers fire), each
    mapping makes the round trips the application makes: it loads existing rows, inserts typical
    rows (every enum member) and reads them back, reads every label of its enum types, and writes
    values at the declared limits. Each finding then says "fails" (with the driver's error) or
    "would fail for values like X"; only what fails decides the exit code (--strict: what would
    fail too).
    """
)

EPILOG = textwrap.dedent(
    """\
    examples:
      baseline-bridge check-app app.models:Base --head
      baseline-bridge check-app src --database-url postgresql://app@db/nakamura_misaki
      baseline-bridge check-app src --probe --driver both \\
          --ignore src.infrastructure.database.schema.TaskTable "no repository uses it"
      baseline-bridge check-app src/infrastructure/database/schema.py:Base --json

    exit codes:
      0  every checked mapping fits (with --probe: round-trips); warnings, if any, are printed
      1  error (connection, SQL)
      2  bad input (a target not importable or holding no mapping; a bad URL or --ignore)
      3  not compatible: what fails is printed
    """
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-app", help="check every mapping of the application against the database or head",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="TARGET",
                   help="the application's package directory (e.g. src), a module or file, or MODULE:ATTR")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--database-url", metavar="URL",
                       help="database to check against (default: $DATABASE_URL; passwords are never printed)")
    where.add_argument("--head", action="store_true", help="check against this release's head schema instead")
    p.add_argument("--probe", action="store_true",
                   help="prove each finding by round trips through the mappings, in a transaction that is rolled "
                   "back (for the rehearsal copy)")
    p.add_argument("--driver", choices=("url", "psycopg", "asyncpg", "both"),
                   help="--probe on the URL's driver (default: postgresql+asyncpg:// is asyncpg, any other form "
                   "psycopg), on one, or on both")
    p.add_argument("--ignore", nargs=2, action="append", metavar=("MODEL", "REASON"), default=[],
                   help="do not check MODEL (module.Class, or a unique end of it), for REASON; shown in the report")
    p.add_argument("--strict", action="store_true",
                   help="also fail on what would fail only for some values, and on modules that did not import")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def cmd_check_app(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.appcheck.check import run_check
    from nakamura_misaki_db.appcheck.report import render

    if args.driver is not None and not args.probe:
        raise BadInput("--driver chooses the driver of --probe: add --probe")
    ignore: dict[str, str] = {}
    for model, reason in args.ignore:
        if model in ignore:
            raise BadInput(f"--ignore {model} is given twice")
        ignore[model] = reason
    report = run_check(list(args.targets), database_url=args.database_url, head=args.head, probe=args.probe,
                       driver=args.driver or "url", ignore=ignore, strict=args.strict)
    if args.json:
        print(json.dumps({"targets": args.targets, **report.to_dict()}, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(render(report, ", ".join(args.targets))))
    return EXIT_OK if report.compatible else EXIT_REFUSED
