"""`baseline-bridge plan` and `status` on every legacy state S0-S5, on a real PostgreSQL 16.

The expected steps are written out by hand from legacy-states.md and
target-schema.md (what each state has versus what 0001 has), never taken from
the planner, so a planner that drops, adds or misnames a step fails here.

Every database is built once per module (the plan is read-only, which
test_plan_readonly.py proves) and planned as often as the tests need.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import sys
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.cli import main
from nakamura_misaki_db.bridge.plan import Plan
from nakamura_misaki_db.bridge.render import render_plan
from nakamura_misaki_db.bridge.status import database_status
from nakamura_misaki_db.bridge.steps import Step
from nakamura_misaki_db.connect.urls import with_password

from . import helpers
from .helpers import run

CLI = [sys.executable, "-m", "nakamura_misaki_db.bridge.cli"]
ROWS = 50
TOKYO = "Asia/Tokyo"

CATALOG_ONLY = "catalog-only"
REWRITES = "rewrites table"
ARCHIVES = "moves data to archive"
BUILDS_INDEX = "builds index"

TSTZ = "timestamp with time zone"

# -- expected steps, by hand from the spec ------------------------------------------------------

Pair = tuple[str, str]

# S1: create_all stored member names, and the legacy enum had no CANCELLED.
TASK_STATUS_S1_FIXES: list[Pair] = [
    ("rename_enum_label", "task_status.PENDING"),
    ("rename_enum_label", "task_status.IN_PROGRESS"),
    ("rename_enum_label", "task_status.COMPLETED"),
    ("add_enum_label", "task_status.cancelled"),
]
SKILL_CATEGORY_RENAMES: list[Pair] = [
    ("rename_enum_label", f"skill_category.{old}")
    for old in ("CUSTOMER_SUPPORT", "LOGISTICS", "APPRAISAL", "SALES", "MANAGEMENT", "STORE_OPERATION")
]
# The create_all / 001 tasks shape: one index the target lacks, one under another name,
# and one ALTER for title 200->500, user ids 100->50 and four ts -> tstz.
LEGACY_TASKS_FIXES: list[Pair] = [
    ("drop_index", "idx_tasks_assignee_due"),
    ("rename_index", "idx_tasks_assignee_status"),
    ("alter_columns", "tasks"),
]
# populate() writes 5% duplicated (user_id, channel_id) pairs into a table without the constraint.
CONVERSATIONS_UNIQUE_WITH_DUPLICATES: list[Pair] = [
    ("archive_duplicates", "conversations(user_id, channel_id)"),
    ("build_unique_index", "uq_conversations_user_channel"),
    ("add_unique", "uq_conversations_user_channel"),
]
CREATE_ALL_DEFAULTS: list[Pair] = [
    ("set_defaults", t) for t in ("employees", "business_skills", "employee_skills", "handoffs")
]
STAMP: Pair = ("stamp", "alembic_version")
TARGET_TABLES = ("tasks", "conversations", "employees", "business_skills", "employee_skills",
                 "slack_users", "handoffs")

S1_WITH_ROWS: list[Pair] = [
    *TASK_STATUS_S1_FIXES, *SKILL_CATEGORY_RENAMES, *LEGACY_TASKS_FIXES,
    *CONVERSATIONS_UNIQUE_WITH_DUPLICATES, *CREATE_ALL_DEFAULTS,
    ("create_table", "slack_users"), STAMP,
]
# No rows: no duplicates to move and no index to build before the transaction; the rest is the same.
S1_EMPTY: list[Pair] = [p for p in S1_WITH_ROWS if p[0] not in ("archive_duplicates", "build_unique_index")]
# S2: task_status already rebuilt lower-case with cancelled, slack_users exists.
S2_WITH_ROWS: list[Pair] = [
    *SKILL_CATEGORY_RENAMES, *LEGACY_TASKS_FIXES, *CONVERSATIONS_UNIQUE_WITH_DUPLICATES,
    *CREATE_ALL_DEFAULTS, STAMP,
]
# S4 (001): old tasks with a lowercase, complete task_status; old handoffs, notes, sessions;
# no skill_category, employees, business_skills, employee_skills, slack_users.
S4_B0BB: list[Pair] = [
    ("create_enum", "skill_category"), *LEGACY_TASKS_FIXES, *CONVERSATIONS_UNIQUE_WITH_DUPLICATES,
    ("create_table", "employees"), ("create_table", "business_skills"), ("create_table", "employee_skills"),
    ("create_table", "slack_users"), ("create_table", "handoffs"), STAMP,
]
S4_001: list[Pair] = [
    ("archive_table", "notes"), ("archive_table", "sessions"), ("archive_table", "handoffs"), *S4_B0BB,
]
S0_WITH_VECTOR: list[Pair] = [
    ("create_enum", "task_status"), ("create_enum", "skill_category"),
    *[("create_table", t) for t in TARGET_TABLES], STAMP,
]
S0_WITHOUT_VECTOR: list[Pair] = [("create_extension", "vector"), *S0_WITH_VECTOR]


# -- building and planning ----------------------------------------------------------------------

# The plan of a module database, cached: planning writes nothing (test_plan_readonly.py) and
# tests only read plans.
plan_of = functools.cache(helpers.plan_of)


def pairs(plan: Plan) -> Counter[Pair]:
    return Counter((s.action, s.object) for s in plan.steps)


def step(plan: Plan, action: str, obj: str) -> Step:
    found = [s for s in plan.steps if (s.action, s.object) == (action, obj)]
    assert len(found) == 1, (action, obj, [(s.action, s.object) for s in plan.steps])
    return found[0]


def position(plan: Plan, action: str, obj: str) -> int:
    return plan.steps.index(step(plan, action, obj))


def all_sql(plan: Plan) -> str:
    return "\n".join(sql for s in plan.steps for sql in s.sql)


def altered_columns(alter: Step) -> dict[str, str]:
    """column -> new type, from the ALTER TABLE statement of an alter_columns step."""
    statements = [s for s in alter.sql if s.lstrip().upper().startswith("ALTER TABLE")]
    assert len(statements) == 1, alter.sql  # one statement: the table is rewritten at most once
    found = re.findall(r'ALTER COLUMN "?(\w+)"? TYPE ([^,]+?)(?: USING [^,]+)?(?:,|$)', statements[0])
    return {col: typ.strip() for col, typ in found}


def defaulted_columns(set_defaults: Step) -> set[str]:
    return set(re.findall(r'ALTER COLUMN "?(\w+)"? SET DEFAULT', " ".join(set_defaults.sql)))


def assert_ready(plan: Plan, expected: list[Pair]) -> None:
    assert plan.refusals == [], [str(r) for r in plan.refusals]
    assert plan.status == "ready"
    assert pairs(plan) == Counter(p for p in expected if p != STAMP)
    # The version is recorded last, by apply itself after verifying: it is not a step to run or skip.
    assert STAMP in expected and plan.target_revision == "0001"
    assert all(s.action != "stamp" for s in plan.steps)
    assert "DROP TABLE" not in all_sql(plan).upper(), "the bridge never drops a table"


# -- S0 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("with_vector", "expected"), [(True, S0_WITH_VECTOR), (False, S0_WITHOUT_VECTOR)],
                         ids=["vector", "no-vector"])
def test_s0_empty_database_gets_everything_created(database, with_vector: bool, expected: list[Pair]) -> None:
    plan = plan_of(database("S0", rows=None, with_vector=with_vector))

    assert_ready(plan, expected)
    assert all(s.safety == CATALOG_ONLY for s in plan.steps)
    assert position(plan, "create_enum", "task_status") < position(plan, "create_table", "tasks")
    assert position(plan, "create_enum", "skill_category") < position(plan, "create_table", "business_skills")
    for parent in ("employees", "business_skills"):
        assert position(plan, "create_table", parent) < position(plan, "create_table", "employee_skills")
    if not with_vector:
        assert position(plan, "create_extension", "vector") == 0


# -- S1 -----------------------------------------------------------------------------------------

def test_s1_with_rows_exact_steps(database) -> None:
    plan = plan_of(database("S1"), TOKYO)

    assert_ready(plan, S1_WITH_ROWS)
    assert plan.legacy_timezone == TOKYO
    assert plan.source["alembic_version"] is None
    assert plan.source["legacy_ids"] == []


def test_s1_safety_classes(database) -> None:
    plan = plan_of(database("S1"), TOKYO)

    for s in plan.steps:
        if s.action in ("rename_enum_label", "add_enum_label", "drop_index", "rename_index", "set_defaults",
                        "create_table", "stamp"):
            assert s.safety == CATALOG_ONLY, (s.action, s.object, s.safety)
    # Asia/Tokyo: naive values must be shifted, and the user ids narrowed: a rewrite.
    alter = step(plan, "alter_columns", "tasks")
    assert alter.safety == REWRITES
    assert plan.rewrites == ["tasks"]
    assert step(plan, "archive_duplicates", "conversations(user_id, channel_id)").safety == ARCHIVES
    # The index is built before the transaction, without blocking writers; attaching it is catalog-only.
    assert step(plan, "build_unique_index", "uq_conversations_user_channel").safety == BUILDS_INDEX
    assert step(plan, "build_unique_index", "uq_conversations_user_channel").phase == 1
    assert step(plan, "add_unique", "uq_conversations_user_channel").safety == CATALOG_ONLY


def test_s1_enum_fixes_rename_and_add_values_in_place(database) -> None:
    plan = plan_of(database("S1"), TOKYO)

    for old, new in (("PENDING", "pending"), ("IN_PROGRESS", "in_progress"), ("COMPLETED", "completed")):
        sql = " ".join(step(plan, "rename_enum_label", f"task_status.{old}").sql)
        assert re.search(rf"""ALTER TYPE ("?public"?\.)?"?task_status"? RENAME VALUE '{old}' TO '{new}'""", sql), sql
    for old, new in (("CUSTOMER_SUPPORT", "顧客対応"), ("LOGISTICS", "物流"), ("APPRAISAL", "査定・修理"),
                     ("SALES", "販売"), ("MANAGEMENT", "管理"), ("STORE_OPERATION", "店舗")):
        sql = " ".join(step(plan, "rename_enum_label", f"skill_category.{old}").sql)
        assert re.search(rf"""ALTER TYPE ("?public"?\.)?"?skill_category"? RENAME VALUE '{old}' TO '{new}'""", sql), sql
    add = " ".join(step(plan, "add_enum_label", "task_status.cancelled").sql)
    assert re.search(r"ADD VALUE (IF NOT EXISTS )?'cancelled' AFTER 'completed'", add), add
    # AFTER 'completed' only exists once COMPLETED has been renamed.
    assert position(plan, "rename_enum_label", "task_status.COMPLETED") < position(
        plan, "add_enum_label", "task_status.cancelled")
    # No type swap anywhere: no new type, no dropped type, no column cast to an enum.
    text = all_sql(plan).upper()
    for forbidden in ("CREATE TYPE", "DROP TYPE", "RENAME TO TASK_STATUS", "RENAME TO SKILL_CATEGORY"):
        assert forbidden not in text
    assert "rebuild_enum" not in {s.action for s in plan.steps}


def test_s1_tasks_alter_is_one_statement_with_the_zone(database) -> None:
    plan = plan_of(database("S1"), TOKYO)
    alter = step(plan, "alter_columns", "tasks")

    assert altered_columns(alter) == {
        "title": "character varying(500)",
        "assignee_user_id": "character varying(50)",
        "creator_user_id": "character varying(50)",
        "due_at": TSTZ, "completed_at": TSTZ, "created_at": TSTZ, "updated_at": TSTZ,
    }
    text = " ".join(alter.sql)
    zone = next(i for i, s in enumerate(alter.sql) if "TimeZone" in s and "SET" in s.upper())
    main = next(i for i, s in enumerate(alter.sql) if s.upper().startswith("ALTER TABLE"))
    assert "'Asia/Tokyo'" in alter.sql[zone] and zone < main
    # The narrowing is re-checked at apply time (rows may be written after the plan).
    for col in ("assignee_user_id", "creator_user_id"):
        check = next(i for i, s in enumerate(alter.sql) if re.search(rf'length\("?{col}"?\) > 50', s))
        assert check < main
    assert "naive times read as Asia/Tokyo" in alter.summary
    assert "idx_tasks_assignee_due" not in text


def test_s1_order_constraints(database) -> None:
    plan = plan_of(database("S1"), TOKYO)

    assert position(plan, "archive_duplicates", "conversations(user_id, channel_id)") < position(
        plan, "add_unique", "uq_conversations_user_channel")
    # Drop the extra index before the rewrite: one index less to rebuild.
    assert position(plan, "drop_index", "idx_tasks_assignee_due") < position(plan, "alter_columns", "tasks")


def test_s1_server_defaults_per_table(database) -> None:
    plan = plan_of(database("S1"), TOKYO)

    assert defaulted_columns(step(plan, "set_defaults", "employees")) == {"is_active", "created_at", "updated_at"}
    assert defaulted_columns(step(plan, "set_defaults", "business_skills")) == {
        "display_order", "is_active", "created_at", "updated_at"}
    assert defaulted_columns(step(plan, "set_defaults", "employee_skills")) == {
        "acquired_at", "created_at", "updated_at"}
    assert defaulted_columns(step(plan, "set_defaults", "handoffs")) == {"status"}


def test_s1_empty_needs_no_zone_and_rewrites_nothing(database) -> None:
    plan = plan_of(database("S1", rows=None))

    assert_ready(plan, S1_EMPTY)
    alter = step(plan, "alter_columns", "tasks")
    assert alter.safety == CATALOG_ONLY
    assert any("TimeZone = 'UTC'" in s for s in alter.sql)
    assert plan.rewrites == []


def test_title_widening_alone_is_catalog_only(database) -> None:
    # Target-shaped tasks with rows, but the legacy title width: only a widening is left.
    url = database("S5", parts=("vector", "task_status", "tasks"),
                   sql="ALTER TABLE tasks ALTER COLUMN title TYPE varchar(200)")
    plan = plan_of(url)

    alter = step(plan, "alter_columns", "tasks")
    assert altered_columns(alter) == {"title": "character varying(500)"}
    assert alter.safety == CATALOG_ONLY
    assert not any("TimeZone" in s for s in alter.sql)
    assert plan.rewrites == []


@pytest.mark.parametrize(("zone", "safety"), [("UTC", CATALOG_ONLY), (TOKYO, REWRITES)])
def test_naive_timestamps_alone_rewrite_only_outside_utc(database, zone: str, safety: str) -> None:
    # Target-shaped tasks with rows whose timestamps are naive: the ts -> tstz step alone.
    naive = ", ".join(f"ALTER COLUMN {c} TYPE timestamp without time zone"
                      for c in ("due_at", "completed_at", "created_at", "updated_at"))
    url = database("S5", parts=("vector", "task_status", "tasks"), sql=f"ALTER TABLE tasks {naive}")
    plan = plan_of(url, zone)

    alter = step(plan, "alter_columns", "tasks")
    assert altered_columns(alter) == {"due_at": TSTZ, "completed_at": TSTZ, "created_at": TSTZ, "updated_at": TSTZ}
    assert alter.safety == safety
    assert any(f"TimeZone = '{zone}'" in s for s in alter.sql)


# -- S2 / S3 ------------------------------------------------------------------------------------

def test_s2_exact_steps(database) -> None:
    plan = plan_of(database("S2"), TOKYO)

    assert_ready(plan, S2_WITH_ROWS)
    assert plan.source["legacy_ids"] == ["003_add_slack_users_table"]
    assert "replacing 003_add_slack_users_table" in render_plan(plan, "db")
    assert all(s.safety == CATALOG_ONLY for s in plan.steps if s.action == "rename_enum_label")
    assert step(plan, "alter_columns", "tasks").safety == REWRITES


@pytest.mark.parametrize(("version", "base"), [("001", "S1"), ("79bb97c4352b", "S2")])
def test_s3_plan_follows_the_catalog_not_the_id(database, version: str, base: str) -> None:
    plan = plan_of(database("S3", version=version, base=base), TOKYO)

    expected = S1_WITH_ROWS if base == "S1" else S2_WITH_ROWS
    assert_ready(plan, expected)
    assert plan.source["alembic_version"] == [version]
    assert plan.source["legacy_ids"] == [version]
    assert f"replacing {version}" in render_plan(plan, "db")


# -- S4 -----------------------------------------------------------------------------------------

def test_s4_001_archives_legacy_tables_then_creates_the_target_ones(database) -> None:
    plan = plan_of(database("S4", version="001"), TOKYO)

    assert_ready(plan, S4_001)
    for name in ("notes", "sessions", "handoffs"):
        archive = step(plan, "archive_table", name)
        assert archive.safety == ARCHIVES
        assert any(re.search(r'SET SCHEMA "?legacy_archive"?', s) for s in archive.sql), archive.sql
    # The old handoffs go aside before the target handoffs are created under the same name.
    assert position(plan, "archive_table", "handoffs") < position(plan, "create_table", "handoffs")
    # Its ON DELETE SET NULL key into tasks must not follow it into the archive.
    assert any("DROP CONSTRAINT" in s and "handoffs_task_id_fkey" in s
               for s in step(plan, "archive_table", "handoffs").sql)
    assert position(plan, "create_enum", "skill_category") < position(plan, "create_table", "business_skills")
    for parent in ("employees", "business_skills"):
        assert position(plan, "create_table", parent) < position(plan, "create_table", "employee_skills")
    assert position(plan, "archive_duplicates", "conversations(user_id, channel_id)") < position(
        plan, "add_unique", "uq_conversations_user_channel")
    assert plan.source["legacy_ids"] == ["001"]
    assert plan.left_alone == []


def test_s4_b0bbf866ebc2_exact_steps(database) -> None:
    plan = plan_of(database("S4", version="b0bbf866ebc2"), TOKYO)

    assert_ready(plan, S4_B0BB)
    assert step(plan, "alter_columns", "tasks").safety == REWRITES
    assert plan.source["legacy_ids"] == ["b0bbf866ebc2"]


# -- S5 -----------------------------------------------------------------------------------------

def test_s5_target_shaped_tables_only_get_the_missing_ones(database) -> None:
    plan = plan_of(database("S5", parts=("vector", "task_status", "tasks", "conversations")))

    assert_ready(plan, [
        ("create_enum", "skill_category"),
        *[("create_table", t) for t in ("employees", "business_skills", "employee_skills", "slack_users",
                                        "handoffs")],
        STAMP,
    ])
    assert all(s.safety == CATALOG_ONLY for s in plan.steps)


def test_s5_english_skill_categories_are_renamed(database) -> None:
    url = database("S5", parts=("employees", "business_skills", "employee_skills"),
                   skill_category_labels=("CUSTOMER_SUPPORT", "LOGISTICS", "APPRAISAL", "SALES", "MANAGEMENT",
                                          "STORE_OPERATION"))
    plan = plan_of(url)

    assert_ready(plan, [
        ("create_extension", "vector"), ("create_enum", "task_status"), *SKILL_CATEGORY_RENAMES,
        *[("create_table", t) for t in ("tasks", "conversations", "slack_users", "handoffs")],
        STAMP,
    ])
    assert all(s.safety == CATALOG_ONLY for s in plan.steps)


def test_s5_uppercase_task_status_with_cancelled_is_four_renames(database) -> None:
    url = database("S5", parts=("vector", "task_status", "tasks"),
                   task_status_labels=("PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED"))
    plan = plan_of(url)

    assert_ready(plan, [
        *[("rename_enum_label", f"task_status.{x}") for x in ("PENDING", "IN_PROGRESS", "COMPLETED", "CANCELLED")],
        ("create_enum", "skill_category"),
        *[("create_table", t) for t in ("conversations", "employees", "business_skills", "employee_skills",
                                        "slack_users", "handoffs")],
        STAMP,
    ])
    sql = " ".join(step(plan, "rename_enum_label", "task_status.CANCELLED").sql)
    assert "RENAME VALUE 'CANCELLED' TO 'cancelled'" in sql


def test_s5_missing_labels_are_added_in_target_order(database) -> None:
    # (in_progress, completed): pending goes first, cancelled after completed.
    url = database("S5", parts=("vector", "task_status", "tasks"), task_status_labels=("in_progress", "completed"))
    plan = plan_of(url)

    assert_ready(plan, [
        ("add_enum_label", "task_status.pending"), ("add_enum_label", "task_status.cancelled"),
        ("create_enum", "skill_category"),
        *[("create_table", t) for t in ("conversations", "employees", "business_skills", "employee_skills",
                                        "slack_users", "handoffs")],
        STAMP,
    ])
    pending = " ".join(step(plan, "add_enum_label", "task_status.pending").sql)
    cancelled = " ".join(step(plan, "add_enum_label", "task_status.cancelled").sql)
    assert re.search(r"ADD VALUE (IF NOT EXISTS )?'pending' BEFORE 'in_progress'", pending), pending
    assert re.search(r"ADD VALUE (IF NOT EXISTS )?'cancelled' AFTER 'completed'", cancelled), cancelled
    assert all(s.safety == CATALOG_ONLY for s in plan.steps)


def test_s5_odd_unused_labels_rebuild_the_type(database) -> None:
    # Only the type exists, with a label the target lacks and no row anywhere: rebuild it.
    plan = plan_of(database("S5", rows=None, parts=("task_status",), task_status_labels=("PENDING", "done")))

    assert_ready(plan, [
        ("create_extension", "vector"), ("rebuild_enum", "task_status"), ("create_enum", "skill_category"),
        *[("create_table", t) for t in TARGET_TABLES],
        STAMP,
    ])
    assert position(plan, "rebuild_enum", "task_status") < position(plan, "create_table", "tasks")
    rebuild = " ".join(step(plan, "rebuild_enum", "task_status").sql)
    assert "'pending', 'in_progress', 'completed', 'cancelled'" in rebuild


def test_s5_odd_labels_on_a_type_no_table_uses(database) -> None:
    url = database("S5", parts=("vector", "task_status", "skill_category", "employees", "business_skills",
                                "employee_skills"),
                   task_status_labels=("Pending", "in_progress", "completed"))
    plan = plan_of(url)

    assert_ready(plan, [
        ("rebuild_enum", "task_status"),
        *[("create_table", t) for t in ("tasks", "conversations", "slack_users", "handoffs")],
        STAMP,
    ])


# -- status -------------------------------------------------------------------------------------

def _status_cli(url: URL, *extra: str) -> str:
    """`baseline-bridge status` in-process (the subprocess route is covered by test_plan_cli_json...)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["status", "--database-url", with_password(url), *extra])
    assert code == 0, err.getvalue()
    return out.getvalue()


def test_status_s1_says_no_alembic_version(database) -> None:
    url = database("S1")
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            status = database_status(conn)
    finally:
        eng.dispose()

    assert status.kind == "legacy"
    assert status.alembic_version is None
    assert status.legacy_ids == []
    assert "no alembic_version" in status.describe()
    assert status.drift > 0
    text = _status_cli(url)
    assert "legacy" in text and "no alembic_version" in text
    assert "baseline-bridge plan" in text


@pytest.mark.parametrize(("state", "options", "legacy_id"), [
    ("S2", {}, "003_add_slack_users_table"),
    ("S3", {"version": "001", "base": "S1"}, "001"),
    ("S3", {"version": "79bb97c4352b", "base": "S2"}, "79bb97c4352b"),
    ("S4", {"version": "b0bbf866ebc2"}, "b0bbf866ebc2"),
])
def test_status_names_the_legacy_id(database, state: str, options: dict[str, Any], legacy_id: str) -> None:
    url = database(state, **options)
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            status = database_status(conn)
    finally:
        eng.dispose()

    assert status.kind == "legacy"
    assert status.legacy_ids == [legacy_id]
    assert status.alembic_version == [legacy_id]
    assert f"legacy revision {legacy_id}" in status.describe()
    assert f"legacy revision {legacy_id}" in _status_cli(url)
    data = json.loads(_status_cli(url, "--json"))
    assert data["kind"] == "legacy" and data["legacy_ids"] == [legacy_id]


@pytest.mark.parametrize("with_vector", [True, False])
def test_status_s0_is_empty(database, with_vector: bool) -> None:
    url = database("S0", rows=None, with_vector=with_vector)
    text = _status_cli(url)
    assert "empty" in text
    data = json.loads(_status_cli(url, "--json"))
    assert data["kind"] == "empty" and data["legacy_ids"] == [] and data["alembic_version"] is None


def test_plan_cli_json_lists_the_same_steps(database) -> None:
    url = database("S2")
    result = run([*CLI, "plan", "--json", "--legacy-timezone", TOKYO], url)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "ready"
    assert Counter((s["action"], s["object"]) for s in data["steps"]) == Counter(p for p in S2_WITH_ROWS if p != STAMP)
