"""``baseline-bridge check-app MODULE:ATTR``: the application's models against a database or the head schema."""

from __future__ import annotations

import argparse
import json
import textwrap

from nakamura_misaki_db.connect.errors import EXIT_OK, EXIT_REFUSED

DESCRIPTION = textwrap.dedent(
    """\
    Import the application's SQLAlchemy models (a declarative Base or a MetaData, given as
    MODULE:ATTR or path/to/models.py:ATTR) and check them against a database (--database-url,
    else DATABASE_URL) or, with --head, against this release's head schema (no database needed).

    One line per problem, in the application's terms (Model.attribute (table.column)), each with
    its fix: enums that persist member names where the database holds values (or the reverse) and
    labels the type lacks; tables and columns the database lacks; strings longer than the column
    allows; NOT NULL columns without a default that the application leaves unset or maps as
    nullable; naive DateTime on timestamptz (with the database's TimeZone) and the reverse; types
    PostgreSQL cannot assign. Reads only the catalog; changes nothing.
    """
)

EPILOG = textwrap.dedent(
    """\
    examples:
      baseline-bridge check-app app.models:Base --head
      baseline-bridge check-app src/infrastructure/database/schema.py:Base --database-url postgresql://app@db/nakamura_misaki
      baseline-bridge check-app app.models:Base app.slack_users:Base --json

    exit codes:
      0  compatible (warnings, if any, are printed)
      1  error (connection, SQL)
      2  bad input (MODULE:ATTR not importable, missing, not a MetaData/Base; bad URL)
      3  not compatible: the problems are printed
    """
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-app", help="check the application's SQLAlchemy models against the database or head",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="MODULE:ATTR",
                   help="the application's declarative Base or MetaData, e.g. app.models:Base (several allowed)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--database-url", metavar="URL",
                       help="database to check against (default: $DATABASE_URL; passwords are never printed)")
    where.add_argument("--head", action="store_true", help="check against this release's head schema instead")
    p.add_argument("--json", action="store_true", help="print the findings as JSON on stdout")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")


def cmd_check_app(args: argparse.Namespace) -> int:
    from nakamura_misaki_db.appcheck.check import run_check
    from nakamura_misaki_db.appcheck.loader import load_target

    app = [load_target(spec) for spec in args.targets]
    report = run_check(app, database_url=args.database_url, head=args.head)
    if args.json:
        print(json.dumps({"targets": args.targets, **report.to_dict()}, ensure_ascii=False, indent=2))
    else:
        zone = f" (TimeZone {report.timezone})" if report.timezone else ""
        print(f"checking {', '.join(args.targets)} against {report.against}{zone}")
        for finding in report.findings:
            print(finding)
        errors = len(report.errors)
        warnings = len(report.findings) - errors
        note = f", {warnings} warning(s)" if warnings else ""
        if errors:
            print(f"not compatible: {errors} problem(s){note}")
        else:
            print(f"compatible: {report.tables} table(s), {report.columns} column(s) checked{note}")
    return EXIT_OK if report.compatible else EXIT_REFUSED
