"""`baseline-bridge demo`: production's most likely story and its fix, end to end, on an embedded PostgreSQL.

The database is state S7 of app-chain.md: the incident database (built by
``create_all``, member-name enum labels, naive timestamps, duplicate
conversations) whose ``alembic_version`` was reset to ``001`` by hand and then
migrated by the application's own 002-006. The demo shows the deploy refusing
it, the bridge reconciling it, the deploy bringing it to head, and ends where
a real rollout must: ``check-app`` on the application's models, failing with
the member-name mistake and passing with its one-line fix.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.util import CommandError

from nakamura_misaki_db.bridge.plan import read_only_plan
from nakamura_misaki_db.bridge.render import render_apply, render_plan, render_status
from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.bridge.status import read_only_status
from nakamura_misaki_db.catalog.inspect import read_version
from nakamura_misaki_db.connect.connection import connect, make_engine, psycopg_connect
from nakamura_misaki_db.connect.embedded import ensure_database, server_url, start_server
from nakamura_misaki_db.connect.errors import EXIT_ERROR, EXIT_OK, BadInput
from nakamura_misaki_db.connect.urls import DatabaseUrl
from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.schema.quoting import ident
from nakamura_misaki_db.schema.revisions import alembic_config, head_revision

DEMO_DATABASE = "nakamura_misaki_demo"
ZONE = "Asia/Tokyo"

_FACTS_SQL = {
    "task_status labels": "SELECT string_agg(enumlabel, ', ' ORDER BY enumsortorder) FROM pg_enum "
                          "WHERE enumtypid = to_regtype('public.task_status')",
    "skill_category labels": "SELECT string_agg(enumlabel, ', ' ORDER BY enumsortorder) FROM pg_enum "
                             "WHERE enumtypid = to_regtype('public.skill_category')",
    "tasks.title": "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                   "WHERE attrelid = to_regclass('public.tasks') AND attname = 'title'",
    "tasks.assignee_user_id": "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                              "WHERE attrelid = to_regclass('public.tasks') AND attname = 'assignee_user_id'",
    "tasks.due_at": "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = to_regclass('public.tasks') AND attname = 'due_at'",
    "uq_conversations_user_channel": "SELECT CASE WHEN count(*) > 0 THEN 'present' ELSE 'missing' END "
                                     "FROM pg_constraint WHERE conname = 'uq_conversations_user_channel'",
    "slack_users table": "SELECT CASE WHEN to_regclass('public.slack_users') IS NULL THEN 'missing' "
                         "ELSE 'present' END",
}

_COUNTED = ("tasks", "conversations", "employees", "business_skills", "employee_skills", "handoffs",
            "slack_users", "projects", "project_tasks", "task_dependencies", "notifications",
            "legacy_archive.conversations_duplicates")
STATE, STATE_N = "S7", 6


def _facts(url: DatabaseUrl) -> dict[str, Any]:
    with connect(url) as conn:
        facts: dict[str, Any] = {k: conn.scalar(sa.text(q)) for k, q in _FACTS_SQL.items()}
        version = read_version(conn)
        facts["alembic_version"] = "(no table)" if version is None else ", ".join(version) or "(empty)"
        for table in _COUNTED:
            schema, name = table.split(".") if "." in table else ("public", table)
            exists = conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"{schema}.{name}"})
            facts[f"rows: {table}"] = conn.scalar(sa.text(f"SELECT count(*) FROM {ident(schema, name)}")) \
                if exists else "-"
    return facts


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(3, 72 - len(title)))


def _table(before: dict[str, Any], after: dict[str, Any]) -> str:
    keys = list(before)
    w0 = max(len(k) for k in keys)
    w1 = max([len(str(before[k])) for k in keys] + [len("before")])
    rows = [f"{'':<{w0}}  {'before':<{w1}}  after", f"{'-' * w0}  {'-' * w1}  {'-' * 5}"]
    rows += [f"{k:<{w0}}  {before[k]!s:<{w1}}  {after[k]}" for k in keys]
    return "\n".join(rows)


def _check_app_story(url: DatabaseUrl) -> int:
    from nakamura_misaki_db.appcheck.check import run_check
    from nakamura_misaki_db.bridge.demo_app import FIXED, MISTAKEN

    for target, expect in ((MISTAKEN, False), (FIXED, True)):
        report = run_check(target, database_url=url)
        print(f"$ baseline-bridge check-app {target}")
        for finding in report.findings:
            print(f"  {finding}")
        verdict = "compatible" if report.compatible else f"not compatible: {len(report.errors)} problem(s) (exit 3)"
        print(f"  {verdict}")
        if report.compatible != expect:
            print("UNEXPECTED: check-app did not tell the mistaken models from the fixed ones")
            return EXIT_ERROR
    print("\nThe application's enums stored member names (PENDING); the database now holds values (pending).")
    print("The fix is one line per enum column: values_callable=lambda e: [m.value for m in e]")
    return EXIT_OK


def run_demo(*, rows: int = 2000, keep: str | None = None) -> int:
    if rows < 10:
        raise BadInput("--rows must be at least 10")
    tmp = None if keep else tempfile.TemporaryDirectory(prefix="nakamura-demo-")
    data_dir = Path(keep) if keep else Path(tmp.name) / "pgdata"  # type: ignore[union-attr]
    server = None
    try:
        _section("0. an embedded PostgreSQL 16 + pgvector")
        server = start_server(data_dir)
        admin_url = server_url(server)
        with psycopg_connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {ident(DEMO_DATABASE)} WITH (FORCE)")
        url = ensure_database(admin_url, DEMO_DATABASE)
        print(f"server data in {data_dir}; database {url.masked()}")

        _section(f"1. production as it most likely is (state S7), {rows:,} tasks and conversations")
        engine = make_engine(url)
        with engine.begin() as conn:
            build_state(conn, STATE, n=STATE_N)
            counts = populate(conn, STATE, rows=rows)
        engine.dispose()
        print("built by the old create_all (English enum labels, naive timestamps, duplicate conversations),")
        print("then alembic_version reset to 001 by hand and migrated by the application's own 002-006")
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        before = _facts(url)

        _section("2. `alembic upgrade head` (what every deploy runs)")
        try:
            command.upgrade(alembic_config(url), "head")
            print("UNEXPECTED: the upgrade ran on a drifted database")
            return EXIT_ERROR
        except CommandError as exc:
            lines = str(exc).splitlines()
            print("refused, and nothing was changed:")
            shown = lines if len(lines) <= 7 else [*lines[:6], f"... ({len(lines) - 7} more differences)", lines[-1]]
            for line in shown:
                print(f"  {line}")

        _section("3. baseline-bridge status")
        with connect(url) as conn:
            print(render_status(read_only_status(conn), url.masked()))

        _section(f"4. baseline-bridge plan --legacy-timezone {ZONE}")
        with connect(url) as conn:
            plan = read_only_plan(conn, legacy_timezone=ZONE)
        print(render_plan(plan, url.masked(), compact=True))

        _section(f"5. baseline-bridge apply --legacy-timezone {ZONE}")
        with connect(url) as conn:
            result = apply_plan(conn, legacy_timezone=ZONE)
        print(render_apply(result, url.masked()))

        _section("6. `alembic upgrade head` again, and once more")
        command.upgrade(alembic_config(url), "head")
        command.upgrade(alembic_config(url), "head")
        after = _facts(url)
        print(f"both succeeded: the database is at head {head_revision()} ({after['alembic_version']});")
        print("0003-0007 adopted the tables and columns the application's 002-006 had created")

        _section("7. before and after")
        print(_table(before, after))
        print("\nNo row was lost: duplicates were moved to legacy_archive.conversations_duplicates,"
              f" naive timestamps were read as {ZONE}, the application's later tables kept every row.")

        _section("8. before the switch: does the application's code fit? (baseline-bridge check-app)")
        return _check_app_story(url)
    finally:
        if tmp is not None:
            if server is not None:
                server.cleanup()  # stop the server before its data directory goes
            tmp.cleanup()
