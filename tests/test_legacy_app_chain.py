"""States S6 and S7 (the application's second chain) and their sample data, on real PostgreSQL.

Every expected value is written by hand from app-chain.md (sections 2, 4, 5),
in spec_sql.py for the objects of 002-006 and here for the rest.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.util import CommandError
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.legacy_chain import APP_CHAIN_REVISIONS, LEGACY_REVISIONS, legacy_ids_in

from . import spec_sql
from .helpers import build_legacy, fingerprint, row_checksums, rows, run, scalar, upgrade

INCIDENT_TABLES = {"tasks", "conversations", "employees", "business_skills", "employee_skills", "handoffs"}
INCIDENT_TASK_INDEXES = {"tasks_pkey", "idx_tasks_assignee_due", "idx_tasks_assignee_status",
                         "ix_tasks_assignee_user_id", "ix_tasks_due_at", "ix_tasks_status"}
TASKS_BEFORE_006 = ["id", "title", "description", "assignee_user_id", "creator_user_id", "status", "due_at"]
# Section 4: create_all (incident) vs the chain-2 001 build (dump B).
INCIDENT_TASK_TAIL = ["created_at", "updated_at", "completed_at"]
APP_001_TASK_TAIL = ["completed_at", "created_at", "updated_at"]
ADDED_BY_006 = ["priority", "progress_percent", "estimated_hours"]
APP_TABLE_NAMES = {"projects", "project_tasks", "task_dependencies", "daily_summaries", "team_metrics",
                   "notifications"}


def tables(url: URL) -> set[str]:
    return {r[0] for r in rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def column_facts(url: URL, table: str) -> list[tuple[str, str, bool, str | None]]:
    """(name, format_type, nullable, default) in column order."""
    return [tuple(r) for r in rows(
        url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        t=f"public.{table}")]


def constraint_defs(url: URL, table: str) -> dict[str, str]:
    return dict(rows(url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                          " WHERE conrelid = CAST(:t AS regclass) AND contype <> 'n'", t=f"public.{table}"))


def index_defs(url: URL, table: str) -> dict[str, str]:
    return dict(rows(url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                          " AND tablename = :t", t=table))


def labels(url: URL, type_name: str) -> list[str]:
    return [r[0] for r in rows(url, "SELECT enumlabel FROM pg_enum WHERE enumtypid = CAST(:t AS regtype)"
                                    " ORDER BY enumsortorder", t=type_name)]


def defaults(url: URL) -> set[tuple[str, str, str]]:
    return set(rows(url, "SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
                         " JOIN pg_class c ON c.oid = d.adrelid JOIN pg_attribute a"
                         " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
                         " WHERE c.relnamespace = 'public'::regnamespace"))


def expected_app_tables(n: int) -> set[str]:
    return {t for rev in APP_CHAIN_REVISIONS[1:n] for t in spec_sql.APP_TABLES[rev]}


def assert_app_objects(url: URL, n: int) -> None:
    """Exactly the objects of the application's 002..00n (section 2), nothing of the later ones."""
    present = expected_app_tables(n)
    assert APP_TABLE_NAMES & tables(url) == present
    for table in present:
        assert column_facts(url, table) == [
            (c, *facts) for (t, c), facts in spec_sql.LATER_COLUMNS.items() if t == table], table
        assert constraint_defs(url, table) == {
            name: d for (t, name), d in spec_sql.LATER_CONSTRAINTS.items() if t == table}, table
        assert index_defs(url, table) == spec_sql.LATER_INDEXES[table], table
    # Every FK of section 2 is ON UPDATE NO ACTION and not deferrable.
    assert rows(url, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text"
                     " = ANY(:t) AND (confupdtype <> 'a' OR condeferrable)", t=sorted(present)) == [(0,)]
    tasks = column_facts(url, "tasks")
    tasks_constraints = constraint_defs(url, "tasks")
    if n == 6:
        assert tasks[-3:] == [(c, *spec_sql.TASKS_ADDED_COLUMNS[c]) for c in ADDED_BY_006]
        assert tasks_constraints == {"tasks_pkey": "PRIMARY KEY (id)", **spec_sql.TASKS_ADDED_CONSTRAINTS}
        assert index_defs(url, "tasks")["idx_tasks_priority"] == spec_sql.TASKS_ADDED_INDEXES["idx_tasks_priority"]
    else:
        assert not {c for c, *_ in tasks} & set(ADDED_BY_006)
        assert tasks_constraints == {"tasks_pkey": "PRIMARY KEY (id)"}
    assert set(index_defs(url, "tasks")) == INCIDENT_TASK_INDEXES | ({"idx_tasks_priority"} if n == 6 else set())
    # Section 2: the only server defaults anything of 002-006 sets.
    app_defaults = {d for d in defaults(url) if d[0] in APP_TABLE_NAMES or d[1] in ADDED_BY_006}
    assert app_defaults == {d for d in spec_sql.LATER_DEFAULTS if d[0] in present or (n == 6 and d[0] == "tasks")}
    assert rows(url, "SELECT version_num FROM alembic_version") == [(f"00{n}",)]


# -- facts about the ids ------------------------------------------------------------------

def test_app_chain_ids_are_legacy_ids() -> None:
    assert APP_CHAIN_REVISIONS == ("001", "002", "003", "004", "005", "006")
    assert "001" in LEGACY_REVISIONS  # the id both chains start with
    assert legacy_ids_in(("006",)) == ["006"]
    assert legacy_ids_in(("0006",)) == []  # ours is four digits


def test_a_database_stamped_by_the_application_chain_is_refused_as_legacy(db_url: URL) -> None:
    # Not "Can't locate revision '006'": the bridge message, exit 3, nothing changed.
    build_legacy(db_url, "S7", rows=20, n=6)
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as err:
        upgrade(db_url)
    message = str(err.value)
    assert "alembic_version holds '006'" in message and "baseline-bridge" in message
    assert "Can't locate revision" not in message
    init = run([str(Path(sys.executable).parent / "nakamura-init-db")], db_url)
    assert init.returncode == 3, init.stdout + init.stderr
    assert fingerprint(db_url) == before


# -- S7 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_s7_is_the_incident_database_plus_002_to_00n(database: Callable[..., URL], n: int) -> None:
    url = database("S7", rows=None, n=n)
    assert tables(url) == INCIDENT_TABLES | expected_app_tables(n) | {"alembic_version"}
    assert labels(url, "task_status") == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert labels(url, "skill_category")[0] == "CUSTOMER_SUPPORT"
    names = [c for c, *_ in column_facts(url, "tasks")]
    assert names == TASKS_BEFORE_006 + INCIDENT_TASK_TAIL + (ADDED_BY_006 if n == 6 else [])
    assert "uq_conversations_user_channel" not in constraint_defs(url, "conversations")
    assert "ix_conversations_last_message_at" in index_defs(url, "conversations")
    assert_app_objects(url, n)


def test_s7_insert_without_the_new_columns_gets_the_defaults(database: Callable[..., URL]) -> None:
    url = database("S7", rows=None, n=6, sql="""
        INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, created_at, updated_at)
        VALUES ('7a5c0000-0000-4000-8000-000000000001', 't', 'U1', 'U2', 'PENDING', now(), now())""")
    assert rows(url, "SELECT priority, progress_percent, estimated_hours FROM tasks") == [(5, 0, None)]


# -- S6 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_s6_is_the_chain_2_001_build_plus_002_to_00n(database: Callable[..., URL], n: int) -> None:
    url = database("S6", rows=None, n=n)
    assert tables(url) == INCIDENT_TABLES | {"slack_users"} | expected_app_tables(n) | {"alembic_version"}
    assert labels(url, "task_status") == ["pending", "in_progress", "completed", "cancelled"]
    assert labels(url, "skill_category") == ["顧客対応", "物流", "査定・修理", "販売", "管理", "店舗"]
    tasks = column_facts(url, "tasks")
    assert [c for c, *_ in tasks] == TASKS_BEFORE_006 + APP_001_TASK_TAIL + (ADDED_BY_006 if n == 6 else [])
    facts = {c: (t, null) for c, t, null, _ in tasks}
    assert facts["title"] == ("character varying(200)", False)
    assert facts["assignee_user_id"] == facts["creator_user_id"] == ("character varying(100)", False)
    assert {facts[c][0] for c in [*APP_001_TASK_TAIL, "due_at"]} == {"timestamp without time zone"}
    # conversations WITH the unique constraint and WITHOUT ix_conversations_last_message_at
    assert constraint_defs(url, "conversations") == {
        "conversations_pkey": "PRIMARY KEY (conversation_id)",
        "uq_conversations_user_channel": "UNIQUE (user_id, channel_id)"}
    assert set(index_defs(url, "conversations")) == {
        "conversations_pkey", "uq_conversations_user_channel", "idx_conversations_last_message",
        "idx_conversations_user_channel", "ix_conversations_channel_id", "ix_conversations_user_id"}
    # slack_users: the target's columns, only its primary key, no server defaults
    assert set(index_defs(url, "slack_users")) == {"slack_users_pkey"}
    slack = column_facts(url, "slack_users")
    assert [c for c, *_ in slack] == ["user_id", "name", "real_name", "display_name", "email", "is_admin",
                                      "is_bot", "deleted", "slack_created_at", "synced_at", "created_at",
                                      "updated_at"]
    assert slack[0][1:3] == ("character varying(50)", False)
    assert {t for _, t, _, _ in slack[8:]} == {"timestamp with time zone"}
    # no server default on any table 001 made (employees ... slack_users): only 002-006 set some
    assert {d for d in defaults(url) if d[0] not in APP_TABLE_NAMES and d[1] not in ADDED_BY_006} == set()
    assert_app_objects(url, n)


# -- sample data ---------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["S6", "S7"])
def test_sample_data_fills_every_new_table_realistically(database: Callable[..., URL], state: str) -> None:
    url = database(state, rows=60, n=6)
    counts = {t: scalar(url, f"SELECT count(*) FROM {t}") for t in APP_TABLE_NAMES}
    assert all(n > 0 for n in counts.values()), counts
    assert counts["projects"] == 3  # rows / 20
    # project_tasks point at existing tasks and projects, each task in one project at most
    assert scalar(url, "SELECT count(*) FROM project_tasks pt JOIN tasks t ON t.id = pt.task_id"
                       " JOIN projects p USING (project_id)") == counts["project_tasks"]
    assert scalar(url, "SELECT count(DISTINCT task_id) FROM project_tasks") == counts["project_tasks"]
    positions = rows(url, "SELECT project_id, array_agg(position ORDER BY position) FROM project_tasks"
                          " GROUP BY project_id")
    assert all(list(p) == list(range(len(p))) for _, p in positions)
    # dependencies between two different existing tasks
    assert scalar(url, "SELECT count(*) FROM task_dependencies WHERE blocking_task_id = blocked_task_id") == 0
    assert scalar(url, "SELECT count(*) FROM task_dependencies d JOIN tasks a ON a.id = d.blocking_task_id"
                       " JOIN tasks b ON b.id = d.blocked_task_id") == counts["task_dependencies"]
    # a week of summaries, one team-wide row (user_id NULL) per day
    assert scalar(url, "SELECT count(DISTINCT date) FROM daily_summaries") == 7
    assert scalar(url, "SELECT count(*) FROM daily_summaries WHERE user_id IS NULL") == 7
    # team_metrics: jsonb metadata on most rows, NULL on some
    assert scalar(url, "SELECT count(*) FROM team_metrics WHERE metadata ->> 'source' = 'daily_batch'") > 0
    assert scalar(url, "SELECT count(*) FROM team_metrics WHERE metadata IS NULL") > 0
    # notifications: some about existing tasks, some unread
    assert scalar(url, "SELECT count(*) FROM notifications n JOIN tasks t ON t.id = n.task_id") > 0
    assert scalar(url, "SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL AND read_at IS NULL") > 0
    # tasks: priority, progress consistent with the status, estimates sometimes missing
    assert scalar(url, "SELECT count(*) FROM tasks WHERE priority NOT BETWEEN 1 AND 10") == 0
    assert scalar(url, "SELECT count(*) FROM tasks WHERE lower(status::text) = 'completed'"
                       " AND progress_percent <> 100") == 0
    assert scalar(url, "SELECT count(DISTINCT progress_percent) FROM tasks") > 2
    assert 0 < scalar(url, "SELECT count(*) FROM tasks WHERE estimated_hours IS NULL") < 60


def test_sample_data_is_deterministic_and_follows_n(make_db: Callable[[], URL]) -> None:
    first, second, small = make_db(), make_db(), make_db()
    build_legacy(first, "S7", rows=40, n=6)
    build_legacy(second, "S7", rows=40, n=6)
    build_legacy(small, "S7", rows=40, n=3)
    assert row_checksums(first) == row_checksums(second)
    # At 003 there are no later tables, and tasks has no priority to fill.
    assert APP_TABLE_NAMES & tables(small) == {"projects", "project_tasks", "task_dependencies"}
    assert scalar(small, "SELECT count(*) FROM task_dependencies") > 0
