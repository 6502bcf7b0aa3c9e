"""The legacy state builders and the sample data, checked against a real PostgreSQL 16.

Expected values are written out here from legacy-states.md, not taken from the
module under test, so a typo in either shows up as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.legacy import (
    LEGACY_REVISIONS,
    STATES,
    build_state,
    populate,
    state_sql,
)

from .helpers import row_checksums, rows, scalar, schema_dump

TS = "timestamp without time zone"
TSTZ = "timestamp with time zone"

S1_TABLES = {"tasks", "conversations", "employees", "business_skills", "employee_skills",
             "handoffs"}
S1_TASK_INDEXES = {"tasks_pkey", "idx_tasks_assignee_due", "idx_tasks_assignee_status",
                   "ix_tasks_assignee_user_id", "ix_tasks_due_at", "ix_tasks_status"}
CONVERSATION_INDEXES = {"conversations_pkey", "idx_conversations_last_message",
                        "idx_conversations_user_channel", "ix_conversations_channel_id",
                        "ix_conversations_last_message_at", "ix_conversations_user_id"}
LOWER_STATUS = ["pending", "in_progress", "completed", "cancelled"]
ENGLISH_CATEGORIES = ["CUSTOMER_SUPPORT", "LOGISTICS", "APPRAISAL", "SALES", "MANAGEMENT",
                      "STORE_OPERATION"]
JAPANESE_CATEGORIES = ["顧客対応", "物流", "査定・修理", "販売", "管理", "店舗"]


# -- helpers ----------------------------------------------------------------


def make(url: URL, state: str, *, rows_: int | None = None, seed: int = 0,
         long_user_ids: bool = False, **options: Any) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            build_state(conn, state, **options)
            if rows_ is None:
                return {}
            return populate(conn, state, rows=rows_, seed=seed, long_user_ids=long_user_ids)
    finally:
        engine.dispose()


def tables(url: URL) -> set[str]:
    return {r[0] for r in rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def labels(url: URL, type_name: str) -> list[str]:
    return [r[0] for r in rows(
        url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
        " WHERE t.typname = :t ORDER BY e.enumsortorder", t=type_name)]


def columns(url: URL, table: str) -> dict[str, tuple[str, bool, str | None]]:
    """column -> (format_type, nullable, default)."""
    result = rows(
        url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped",
        t=f"public.{table}")
    return {r[0]: (r[1], r[2], r[3]) for r in result}


def indexes(url: URL, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in rows(
        url, "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = 'public' AND tablename = :t", t=table)}


def constraints(url: URL, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in rows(
        url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = CAST(:t AS regclass) AND contype <> 'n'", t=f"public.{table}")}


def exists(url: URL, name: str) -> bool:
    return scalar(url, "SELECT to_regclass(:n) IS NOT NULL", n=f"public.{name}")


def version(url: URL) -> list[str]:
    return [r[0] for r in rows(url, "SELECT version_num FROM alembic_version")]


def has_vector(url: URL) -> bool:
    return scalar(url, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 1


def count(url: URL, table: str) -> int:
    return scalar(url, f"SELECT count(*) FROM {table}")


# -- constants and arguments -----------------------------------------------


def test_constants() -> None:
    assert STATES == ("S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7")
    assert LEGACY_REVISIONS == (
        "001", "b0bbf866ebc2", "002_add_tasks_table", "79bb97c4352b", "ca1f08e0bc8a",
        "003_add_slack_users_table", "004_add_unique_constraint_to_conversations")


@pytest.mark.parametrize("call", [
    lambda: state_sql("S8"),
    lambda: state_sql("S6", n=0),
    lambda: state_sql("S6", n=7),
    lambda: state_sql("S7", n=1),  # S7 is 001 reset by hand plus at least 002
    lambda: state_sql("S7", n="6"),
    lambda: state_sql("S7", n=True),
    lambda: state_sql("s1"),
    lambda: state_sql("S3", version="003_add_slack_users_table"),
    lambda: state_sql("S3", base="S4"),
    lambda: state_sql("S4", version="79bb97c4352b"),
    lambda: state_sql("S5", parts=("notes",)),
    lambda: state_sql("S5", parts="tasks"),
    lambda: state_sql("S5", parts=("employee_skills",)),
])
def test_bad_arguments_raise_value_error(call: Callable[[], str]) -> None:
    with pytest.raises(ValueError):
        call()


def test_unknown_state_raises_in_build_and_populate(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="S9"):
            build_state(conn, "S9")
        with pytest.raises(ValueError, match="S9"):
            populate(conn, "S9")


# -- S0 -----------------------------------------------------------------------


def test_s0_is_empty_with_or_without_the_extension(make_db: Callable[[], URL]) -> None:
    with_ext, without = make_db(), make_db()
    make(with_ext, "S0", rows_=10)
    make(without, "S0", with_vector=False)
    assert has_vector(with_ext)
    assert not has_vector(without)
    for url in (with_ext, without):
        assert tables(url) == set()
        assert scalar(url, "SELECT count(*) FROM pg_type t JOIN pg_namespace n"
                           " ON n.oid = t.typnamespace WHERE n.nspname = 'public'"
                           " AND t.typtype = 'e'") == 0


# -- S1 -----------------------------------------------------------------------


def test_s1_catalog(db_url: URL) -> None:
    make(db_url, "S1")
    assert has_vector(db_url)
    assert tables(db_url) == S1_TABLES
    assert not exists(db_url, "slack_users")
    assert not exists(db_url, "alembic_version")
    assert labels(db_url, "task_status") == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert labels(db_url, "skill_category") == ENGLISH_CATEGORIES

    tasks = columns(db_url, "tasks")
    assert tasks["title"] == ("character varying(200)", False, None)
    assert tasks["assignee_user_id"][0] == "character varying(100)"
    assert tasks["creator_user_id"][0] == "character varying(100)"
    assert tasks["status"][0] == "task_status"
    for col in ("due_at", "completed_at", "created_at", "updated_at"):
        assert tasks[col][0] == TS, col
    assert set(indexes(db_url, "tasks")) == S1_TASK_INDEXES
    assert indexes(db_url, "tasks")["idx_tasks_assignee_due"].endswith(
        "(assignee_user_id, due_at)")
    assert set(constraints(db_url, "tasks")) == {"tasks_pkey"}

    conv = columns(db_url, "conversations")
    assert conv["last_message_at"][0] == TSTZ
    assert conv["messages"][0] == "json"
    assert set(indexes(db_url, "conversations")) == CONVERSATION_INDEXES
    assert set(constraints(db_url, "conversations")) == {"conversations_pkey"}

    # create_all emitted no server defaults anywhere.
    for table in ("employees", "business_skills", "employee_skills", "handoffs"):
        assert all(d is None for _, _, d in columns(db_url, table).values()), table
    assert set(constraints(db_url, "employees")) == {"employees_pkey", "employees_name_key"}
    skills = constraints(db_url, "employee_skills")
    assert skills["uq_employee_skill"] == "UNIQUE (employee_id, skill_id)"
    assert skills["employee_skills_employee_id_fkey"] == (
        "FOREIGN KEY (employee_id) REFERENCES employees(employee_id) ON DELETE CASCADE")
    assert skills["employee_skills_skill_id_fkey"] == (
        "FOREIGN KEY (skill_id) REFERENCES business_skills(skill_id) ON DELETE CASCADE")
    assert columns(db_url, "business_skills")["category"][0] == "skill_category"
    assert columns(db_url, "employees")["created_at"][0] == TS

    handoffs = columns(db_url, "handoffs")
    assert "handoff_id" in handoffs and "id" not in handoffs
    assert handoffs["status"] == ("character varying(20)", False, None)
    assert set(indexes(db_url, "handoffs")) == {
        "handoffs_pkey", "idx_handoffs_from_user", "idx_handoffs_to_user", "idx_handoffs_status"}


def test_s1_data(db_url: URL) -> None:
    counts = make(db_url, "S1", rows_=60)
    assert counts == {t: count(db_url, t) for t in S1_TABLES}
    assert counts["tasks"] == 60 and counts["conversations"] == 60
    assert all(n > 0 for n in counts.values())
    assert {r[0] for r in rows(db_url, "SELECT DISTINCT status::text FROM tasks")} <= {
        "PENDING", "IN_PROGRESS", "COMPLETED"}
    assert {r[0] for r in rows(db_url, "SELECT DISTINCT category::text FROM business_skills")} \
        <= set(ENGLISH_CATEGORIES)
    # Every user id survives the later narrowing to varchar(50).
    assert scalar(db_url, "SELECT max(greatest(length(assignee_user_id),"
                          " length(creator_user_id))) FROM tasks") <= 50
    assert scalar(db_url, "SELECT max(length(user_id)) FROM conversations") <= 50
    # Duplicated (user_id, channel_id) pairs, each row with its own last_message_at.
    dups = rows(db_url, "SELECT count(*), count(DISTINCT last_message_at) FROM conversations"
                        " GROUP BY user_id, channel_id HAVING count(*) > 1")
    assert len(dups) == 3  # round(60 * 0.05)
    assert all(n == distinct for n, distinct in dups)
    assert scalar(db_url, "SELECT count(*) FROM tasks WHERE status = 'COMPLETED'"
                          " AND completed_at IS NULL") == 0
    # employee_skills points at generated parents (the foreign keys say so too).
    assert scalar(db_url, "SELECT count(*) FROM employee_skills es"
                          " JOIN employees e USING (employee_id)"
                          " JOIN business_skills s USING (skill_id)") == counts["employee_skills"]


def test_timestamps_are_tokyo_wall_clock(db_url: URL) -> None:
    make(db_url, "S2", rows_=20)
    # The generator's clock starts at 2024-04-01 09:00 in Tokyo. Naive columns
    # hold that wall-clock time, timestamptz columns the same instant (00:00 UTC).
    newest_skill = scalar(db_url, "SELECT max(updated_at) FROM business_skills")
    assert newest_skill == datetime(2024, 3, 31, 9, 0)  # epoch minus one day
    synced = scalar(db_url, "SELECT min(synced_at) AT TIME ZONE 'UTC' FROM slack_users")
    assert synced == datetime(2025, 4, 1, 0, 0)  # epoch plus one year, 09:00 in Tokyo
    first_task = scalar(db_url, "SELECT min(created_at) FROM tasks")
    assert first_task.tzinfo is None
    assert datetime(2024, 4, 1, 9, 0) <= first_task < datetime(2025, 4, 1, 9, 0)


# -- S2 / S3 ------------------------------------------------------------------


def test_s2(db_url: URL) -> None:
    counts = make(db_url, "S2", rows_=60)
    assert version(db_url) == ["003_add_slack_users_table"]
    assert columns(db_url, "alembic_version")["version_num"][0] == "character varying(32)"
    assert set(constraints(db_url, "alembic_version")) == {"alembic_version_pkc"}
    assert labels(db_url, "task_status") == LOWER_STATUS
    assert not exists(db_url, "task_status_new")
    assert labels(db_url, "skill_category") == ENGLISH_CATEGORIES
    assert tables(db_url) == {*S1_TABLES, "slack_users", "alembic_version"}
    slack = columns(db_url, "slack_users")
    assert slack["user_id"] == ("character varying(50)", False, None)
    assert slack["is_admin"] == ("boolean", False, "false")
    assert slack["synced_at"][0] == TSTZ
    assert set(indexes(db_url, "slack_users")) == {
        "slack_users_pkey", "ix_slack_users_name", "ix_slack_users_email",
        "ix_slack_users_deleted", "ix_slack_users_synced_at"}
    # Everything else is still S1.
    assert columns(db_url, "tasks")["title"][0] == "character varying(200)"
    assert set(indexes(db_url, "tasks")) == S1_TASK_INDEXES
    assert "uq_conversations_user_channel" not in constraints(db_url, "conversations")
    assert columns(db_url, "employees")["is_active"][2] is None

    assert counts["slack_users"] == count(db_url, "slack_users") > 0
    statuses = {r[0] for r in rows(db_url, "SELECT DISTINCT status::text FROM tasks")}
    assert statuses <= set(LOWER_STATUS) and "pending" in statuses
    # The task user ids are Slack users.
    assert scalar(db_url, "SELECT count(*) FROM tasks t LEFT JOIN slack_users u"
                          " ON u.user_id = t.assignee_user_id WHERE u.user_id IS NULL") == 0


@pytest.mark.parametrize("legacy_id", ["001", "002_add_tasks_table", "ca1f08e0bc8a"])
def test_s3_on_s1_catalog(db_url: URL, legacy_id: str) -> None:
    make(db_url, "S3", rows_=20, version=legacy_id)
    assert version(db_url) == [legacy_id]
    assert labels(db_url, "task_status") == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert tables(db_url) == {*S1_TABLES, "alembic_version"}


def test_s3_defaults_and_s2_base(make_db: Callable[[], URL]) -> None:
    default, on_s2 = make_db(), make_db()
    make(default, "S3")
    make(on_s2, "S3", rows_=20, version="b0bbf866ebc2", base="S2")
    assert version(default) == ["79bb97c4352b"]
    assert version(on_s2) == ["b0bbf866ebc2"]
    assert labels(on_s2, "task_status") == LOWER_STATUS
    assert count(on_s2, "slack_users") > 0


# -- S4 -----------------------------------------------------------------------


def test_s4_at_001(db_url: URL) -> None:
    counts = make(db_url, "S4", rows_=40)
    assert version(db_url) == ["001"]
    assert has_vector(db_url)
    assert tables(db_url) == {"tasks", "handoffs", "conversations", "notes", "sessions",
                              "alembic_version"}
    assert labels(db_url, "task_status") == LOWER_STATUS
    assert not exists(db_url, "skill_category")
    tasks = columns(db_url, "tasks")
    assert tasks["title"][0] == "character varying(200)"
    assert tasks["assignee_user_id"][0] == "character varying(100)"
    assert tasks["created_at"][0] == TS
    assert set(indexes(db_url, "tasks")) == S1_TASK_INDEXES

    handoffs = columns(db_url, "handoffs")
    assert {"id", "reminded_at"} <= set(handoffs)
    assert not {"handoff_id", "status", "accepted_at"} & set(handoffs)
    assert handoffs["handoff_at"][0] == TS
    assert constraints(db_url, "handoffs")["handoffs_task_id_fkey"] == (
        "FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE SET NULL")

    assert columns(db_url, "notes")["embedding"][0] == "vector(1024)"
    ivf = indexes(db_url, "notes")["idx_notes_embedding"]
    assert "USING ivfflat (embedding vector_cosine_ops)" in ivf and "lists='100'" in ivf
    assert columns(db_url, "sessions")["state"][0] == "json"

    assert counts == {t: count(db_url, t)
                      for t in ("tasks", "conversations", "handoffs", "notes", "sessions")}
    assert counts["notes"] > 0 and counts["handoffs"] > 0 and counts["sessions"] > 0
    assert scalar(db_url, "SELECT min(vector_dims(embedding)) FROM notes") == 1024
    assert scalar(db_url, "SELECT count(*) FROM notes WHERE embedding IS NULL") == 0
    assert scalar(db_url, "SELECT count(*) FROM handoffs h JOIN tasks t ON t.id = h.task_id") > 0
    statuses = {r[0] for r in rows(db_url, "SELECT DISTINCT status::text FROM tasks")}
    assert statuses <= set(LOWER_STATUS)


def test_s4_after_b0bbf866ebc2(db_url: URL) -> None:
    counts = make(db_url, "S4", rows_=20, version="b0bbf866ebc2")
    assert version(db_url) == ["b0bbf866ebc2"]
    assert tables(db_url) == {"tasks", "conversations", "alembic_version"}
    assert counts == {"tasks": 20, "conversations": 20}


# -- S5 -----------------------------------------------------------------------


def test_s5_default_parts_are_target_shaped(db_url: URL) -> None:
    counts = make(db_url, "S5", rows_=40)
    assert not exists(db_url, "alembic_version")
    assert has_vector(db_url)
    assert tables(db_url) == {"tasks", "conversations"}
    assert labels(db_url, "task_status") == LOWER_STATUS
    assert not exists(db_url, "skill_category")
    tasks = columns(db_url, "tasks")
    assert tasks["title"][0] == "character varying(500)"
    assert tasks["assignee_user_id"][0] == "character varying(50)"
    assert tasks["due_at"][0] == TSTZ
    assert set(indexes(db_url, "tasks")) == {
        "tasks_pkey", "ix_tasks_assignee_user_id", "ix_tasks_status", "ix_tasks_due_at",
        "ix_tasks_assignee_status"}
    assert constraints(db_url, "conversations")["uq_conversations_user_channel"] == (
        "UNIQUE (user_id, channel_id)")
    # The unique constraint is honoured: no duplicates generated.
    assert counts == {"tasks": 40, "conversations": 40}


def test_s5_chosen_parts(make_db: Callable[[], URL]) -> None:
    skills, bare, labelled = make_db(), make_db(), make_db()
    counts = make(skills, "S5", rows_=30,
                  parts=("employees", "business_skills", "employee_skills", "handoffs"))
    assert not has_vector(skills)
    assert tables(skills) == {"employees", "business_skills", "employee_skills", "handoffs"}
    assert labels(skills, "skill_category") == JAPANESE_CATEGORIES
    assert not labels(skills, "task_status")
    assert columns(skills, "employees")["is_active"][2] == "true"
    assert columns(skills, "business_skills")["display_order"][2] == "0"
    assert columns(skills, "handoffs")["status"][2] == "'pending'::character varying"
    assert {r[0] for r in rows(skills, "SELECT DISTINCT category::text FROM business_skills")} \
        <= set(JAPANESE_CATEGORIES)
    assert counts["employee_skills"] == count(skills, "employee_skills") > 0

    make(bare, "S5", parts=("vector",))
    assert has_vector(bare) and tables(bare) == set() and not labels(bare, "task_status")

    make(labelled, "S5", rows_=20, parts=("task_status", "tasks"),
         task_status_labels=("todo", "done"))
    assert labels(labelled, "task_status") == ["todo", "done"]
    assert {r[0] for r in rows(labelled, "SELECT DISTINCT status::text FROM tasks")} <= {
        "todo", "done"}


# -- populate -----------------------------------------------------------------


def test_populate_is_deterministic(make_db: Callable[[], URL]) -> None:
    first, second, other = make_db(), make_db(), make_db()
    make(first, "S4", rows_=30, seed=7)
    make(second, "S4", rows_=30, seed=7)
    make(other, "S4", rows_=30, seed=8)
    assert row_checksums(first) == row_checksums(second)
    differing = {t for t, v in row_checksums(other).items() if v != row_checksums(first)[t]}
    assert differing >= {"public.tasks", "public.conversations", "public.notes"}
    assert differing == set(row_checksums(first)) - {"public.alembic_version"}


def test_populate_keeps_the_catalog(make_db: Callable[[], URL]) -> None:
    # populate rebuilds the indexes of the bulk tables; they must come back as they were.
    empty, filled = make_db(), make_db()
    make(empty, "S2")
    make(filled, "S2", rows_=20)
    assert schema_dump(filled) == schema_dump(empty)


def test_long_user_ids(make_db: Callable[[], URL]) -> None:
    url, target = make_db(), make_db()
    make(url, "S1", rows_=30, long_user_ids=True)
    lengths = [r[0] for r in rows(url, "SELECT length(assignee_user_id) FROM tasks"
                                       " WHERE length(assignee_user_id) > 50")]
    assert lengths == [60, 60, 60]
    assert scalar(url, "SELECT max(length(creator_user_id)) FROM tasks") <= 50
    # A target-shaped tasks table (varchar(50)) cannot take them: refuse up front.
    with pytest.raises(ValueError, match="varchar"):
        make(target, "S5", rows_=10, long_user_ids=True)


@pytest.mark.parametrize("kwargs", [{"rows": 0}, {"duplicate_ratio": 1.0},
                                    {"duplicate_ratio": -0.1}])
def test_populate_rejects_bad_sizes(engine: sa.Engine, kwargs: dict[str, Any]) -> None:
    with engine.begin() as conn:
        build_state(conn, "S1")
        with pytest.raises(ValueError):
            populate(conn, "S1", **kwargs)
