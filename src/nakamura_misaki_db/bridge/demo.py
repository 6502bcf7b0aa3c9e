"""`baseline-bridge demo`: the incident and its fix, end to end, on an embedded PostgreSQL."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.util import CommandError

from ..catalog import read_version
from ..db import connect, make_engine, psycopg_connect
from ..embedded import ensure_database, server_url, start_server
from ..errors import EXIT_ERROR, EXIT_OK, BadInput
from ..legacy.sample_data import populate
from ..legacy.states import build_state
from ..migrations import alembic_config, head_revision
from ..quoting import ident
from ..urls import DatabaseUrl
from .plan import read_only_plan
from .render import render_apply, render_plan, render_status
from .run import apply_plan
from .status import read_only_status

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
            "slack_users", "legacy_archive.conversations_duplicates")


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

        _section(f"1. the incident database (state S1), {rows:,} tasks and conversations")
        engine = make_engine(url)
        with engine.begin() as conn:
            build_state(conn, "S1")
            counts = populate(conn, "S1", rows=rows)
        engine.dispose()
        print("built by the old create_all: no alembic_version, English enum labels, naive timestamps")
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        before = _facts(url)

        _section("2. a plain `alembic upgrade head` (what every deploy runs)")
        try:
            command.upgrade(alembic_config(url), "head")
            print("UNEXPECTED: the upgrade ran on a drifted database")
            return EXIT_ERROR
        except CommandError as exc:
            lines = str(exc).splitlines()
            print("refused, and nothing was changed:")
            for line in lines[:6]:
                print(f"  {line}")
            if len(lines) > 7:
                print(f"  ... ({len(lines) - 7} more differences)")
            print(f"  {lines[-1]}")

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
        print(f"both succeeded: the database is at head {head_revision()} ({after['alembic_version']})")

        _section("7. before and after")
        print(_table(before, after))
        print("\nNo row was lost: duplicates were moved to legacy_archive.conversations_duplicates,"
              f" naive timestamps were read as {ZONE}.")
        return EXIT_OK
    finally:
        if tmp is not None:
            if server is not None:
                server.cleanup()  # stop the server before its data directory goes
            tmp.cleanup()
