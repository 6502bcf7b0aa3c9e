"""`baseline-bridge plan` refuses what it cannot close safely, and says what to do.

One test per refusal the issue names (a label in use with no mapping, a value
too long to narrow, naive timestamps with no --legacy-timezone, a type change
with no known safe cast), plus the other refusals of legacy-states.md's table,
the things that must NOT be refused (unknown tables, empty tables), and the
CLI's exit codes for them (3 refused, 2 bad input).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import Plan, Refusal, Step, make_plan
from nakamura_misaki_db.connect.errors import BadInput

from .helpers import bridge_cli, execute_sql, fingerprint, plan_of, rows, run, upgrade

CLI = [sys.executable, "-m", "nakamura_misaki_db.bridge.cli"]
ROWS = 50
TOKYO = "Asia/Tokyo"
TASKS_ONLY = ("vector", "task_status", "tasks")
FIRST_TASK = "(SELECT id FROM tasks ORDER BY id LIMIT 1)"


# -- building and planning (databases are made once per module; plan is read-only) --------------

def only_refusal(plan: Plan) -> Refusal:
    assert plan.status == "refused"
    assert len(plan.refusals) == 1, [str(r) for r in plan.refusals]
    return plan.refusals[0]


def steps_of(plan: Plan, action: str, obj: str) -> list[Step]:
    return [s for s in plan.steps if (s.action, s.object) == (action, obj)]


# -- the refusal cases, as (builder, timezone) so the CLI test can replay them -------------------

def _extra_label_in_use(database: Callable[..., URL]) -> URL:
    return database("S5", parts=TASKS_ONLY,
                    task_status_labels=("pending", "in_progress", "completed", "cancelled", "archived"),
                    sql=f"UPDATE tasks SET status = 'archived' WHERE id = {FIRST_TASK}")


def _long_user_ids(database: Callable[..., URL]) -> URL:
    return database("S1", long_user_ids=True)


def _naive_rows(database: Callable[..., URL]) -> URL:
    return database("S1")


def _no_safe_cast(database: Callable[..., URL]) -> URL:
    return database("S5", parts=TASKS_ONLY,
                    sql="ALTER TABLE tasks ALTER COLUMN description TYPE boolean USING description IS NOT NULL")


def _unknown_status_value(database: Callable[..., URL]) -> URL:
    return database("S5", parts=TASKS_ONLY,
                    sql="ALTER TABLE tasks ALTER COLUMN status TYPE varchar(20) USING status::text;"
                        f" UPDATE tasks SET status = 'DONE' WHERE id = {FIRST_TASK}")


def _reordered_labels_in_use(database: Callable[..., URL]) -> URL:
    return database("S5", parts=TASKS_ONLY,
                    task_status_labels=("completed", "pending", "in_progress", "cancelled"))


def _null_in_not_null(database: Callable[..., URL]) -> URL:
    return database("S5", parts=TASKS_ONLY,
                    sql=f"ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL; "
                        f"UPDATE tasks SET title = NULL WHERE id = {FIRST_TASK}")


@dataclass(frozen=True)
class RefusalCase:
    build: Callable[[Callable[..., URL]], URL]
    zone: str | None
    # Written from legacy-states.md's refusal table, not taken from the product: the object the
    # refusal names, words its problem must contain, and what its remedy tells the operator to do.
    object: str
    problem: tuple[str, ...]
    remedy: str


REFUSAL_CASES: dict[str, RefusalCase] = {
    "label-in-use-without-mapping": RefusalCase(_extra_label_in_use, None, "enum task_status",
                                                ("archived", "public.tasks"), "update those rows"),
    "too-long-to-narrow": RefusalCase(_long_user_ids, TOKYO, "tasks.assignee_user_id",
                                      ("longer than 50 characters",), "shorten those values to 50 characters"),
    "naive-timestamps-without-zone": RefusalCase(_naive_rows, None, "tasks", ("naive timestamps",),
                                                 "--legacy-timezone"),
    "no-safe-cast": RefusalCase(_no_safe_cast, None, "tasks.description", ("boolean", "text"),
                                "convert the column by hand"),
    "unknown-status-value": RefusalCase(_unknown_status_value, None, "tasks.status", ("DONE",),
                                        "update those rows"),
    "reordered-labels-in-use": RefusalCase(_reordered_labels_in_use, None, "enum task_status",
                                           ("order", "tasks.status"), "update those rows"),
    "null-in-not-null": RefusalCase(_null_in_not_null, None, "tasks.title", ("NOT NULL", "NULL"),
                                    "fill those values"),
}


# -- (a) a label in use with no mapping ---------------------------------------------------------

def test_label_in_use_without_mapping_is_refused_naming_label_and_column(database) -> None:
    url = _extra_label_in_use(database)
    plan = plan_of(url)

    refusal = only_refusal(plan)
    text = f"{refusal.object} {refusal.problem}"
    assert "archived" in text
    assert "task_status" in text
    assert "tasks.status" in text
    n = rows(url, "SELECT count(*) FROM tasks WHERE status = 'archived'")[0][0]
    assert f"{n:,} rows" in refusal.problem or f"{n} row" in refusal.problem
    assert refusal.remedy
    assert not steps_of(plan, "rebuild_enum", "task_status")


def test_extra_label_nobody_uses_is_rebuilt_not_refused(database) -> None:
    url = database("S5", parts=TASKS_ONLY,
                   task_status_labels=("pending", "in_progress", "completed", "cancelled", "archived"),
                   sql="UPDATE tasks SET status = 'pending' WHERE status = 'archived'")
    plan = plan_of(url)

    assert plan.status == "ready", [str(r) for r in plan.refusals]
    [rebuild] = steps_of(plan, "rebuild_enum", "task_status")
    assert rebuild.safety == "rewrites table"  # the rows of tasks are cast to the new type


def test_reordered_labels_in_use_are_refused(database) -> None:
    refusal = only_refusal(plan_of(_reordered_labels_in_use(database)))

    assert "task_status" in refusal.object
    assert "order" in refusal.problem and "tasks.status" in refusal.problem


def test_reordered_legacy_spelled_labels_in_use_are_refused(database) -> None:
    """Labels that need a rename AND are out of order: rows still hold the legacy spelling.

    The plan must look for rows under the spelling the database has now
    (COMPLETED, PENDING, ...), not under the target spelling the renames will
    give them; otherwise it finds no rows, plans a rebuild, and `apply` fails
    inside PostgreSQL (exit 1) instead of `plan` refusing (exit 3).
    """
    url = database("S5", parts=TASKS_ONLY, task_status_labels=("COMPLETED", "PENDING", "IN_PROGRESS", "CANCELLED"))
    assert rows(url, "SELECT count(*) FROM tasks")[0][0] == ROWS
    plan = plan_of(url)

    refusal = only_refusal(plan)
    assert "task_status" in refusal.object
    assert "order" in refusal.problem and "tasks.status" in refusal.problem
    assert not steps_of(plan, "rebuild_enum", "task_status")


# -- (b) a value too long to narrow -------------------------------------------------------------

def test_too_long_user_ids_are_refused_naming_the_rows_keys(database) -> None:
    url = _long_user_ids(database)
    plan = plan_of(url, TOKYO)

    refusal = only_refusal(plan)
    assert refusal.object == "tasks.assignee_user_id"
    assert "50" in refusal.problem
    long_ids = [r[0] for r in rows(url, "SELECT id::text FROM tasks WHERE length(assignee_user_id) > 50")]
    assert len(long_ids) == 3  # populate(long_user_ids=True) makes three 60-character assignees
    for key in long_ids:
        assert key in refusal.problem
    short_ids = [r[0] for r in rows(url, "SELECT id::text FROM tasks WHERE length(assignee_user_id) <= 50 LIMIT 5")]
    for key in short_ids:
        assert key not in refusal.problem
    assert "shorten" in refusal.remedy or "50" in refusal.remedy


def test_refused_narrowing_is_not_left_unchecked_in_the_plan(database) -> None:
    """A step must not narrow a column without the length check (summary and SQL must agree).

    The refused column must either vanish from the ALTER or carry its check, like
    creator_user_id does; otherwise `plan --sql` shows an unchecked narrowing of
    exactly the column that was refused, and the summary does not mention it.
    """
    plan = plan_of(_long_user_ids(database), TOKYO)

    for alter in steps_of(plan, "alter_columns", "tasks"):
        statement = next(s for s in alter.sql if s.upper().startswith("ALTER TABLE"))
        for col in re.findall(r'ALTER COLUMN "?(\w+)"? TYPE character varying\(50\)', statement):
            assert any(re.search(rf'length\("?{col}"?\) > 50', s) for s in alter.sql), (col, alter.sql)
            assert col in alter.summary, (col, alter.summary)


# -- (c) naive timestamps without --legacy-timezone ---------------------------------------------

def test_naive_timestamps_with_rows_need_a_legacy_timezone(database) -> None:
    plan = plan_of(_naive_rows(database))

    refusal = only_refusal(plan)
    assert refusal.object == "tasks"
    assert "--legacy-timezone" in refusal.remedy
    assert not steps_of(plan, "alter_columns", "tasks")
    # With the zone, the same database is not refused.
    assert plan_of(_naive_rows(database), TOKYO).status == "ready"


def test_naive_timestamps_in_empty_tables_need_no_zone(database) -> None:
    plan = plan_of(database("S1", rows=None))

    assert plan.status == "ready" and plan.refusals == []
    [alter] = steps_of(plan, "alter_columns", "tasks")
    assert alter.safety == "catalog-only"
    assert any("TimeZone = 'UTC'" in s for s in alter.sql)


# -- (d) a type change with no known safe cast --------------------------------------------------

def test_type_change_without_safe_cast_is_refused(database) -> None:
    refusal = only_refusal(plan_of(_no_safe_cast(database)))

    assert refusal.object == "tasks.description"
    assert "no known safe conversion" in refusal.problem
    assert "boolean" in refusal.problem and "text" in refusal.problem


def test_varchar_status_with_unknown_values_is_refused_listing_them(database) -> None:
    refusal = only_refusal(plan_of(_unknown_status_value(database)))

    assert refusal.object == "tasks.status"
    assert "DONE" in refusal.problem


def test_varchar_status_with_legacy_spellings_is_cast_through_the_mapping(database) -> None:
    url = database("S5", parts=TASKS_ONLY,
                   sql="ALTER TABLE tasks ALTER COLUMN status TYPE varchar(20) USING upper(status::text)")
    plan = plan_of(url)

    assert plan.status == "ready", [str(r) for r in plan.refusals]
    [alter] = steps_of(plan, "alter_columns", "tasks")
    text = " ".join(alter.sql)
    assert "WHEN 'PENDING' THEN 'pending'" in text and "task_status" in text
    assert alter.safety == "rewrites table"


def test_null_in_a_column_that_must_be_not_null_is_refused_with_keys(database) -> None:
    url = _null_in_not_null(database)
    refusal = only_refusal(plan_of(url))

    assert refusal.object == "tasks.title"
    [key] = [r[0] for r in rows(url, "SELECT id::text FROM tasks WHERE title IS NULL")]
    assert key in refusal.problem


# -- what is not refused: unknown objects are left alone ----------------------------------------

def test_unknown_table_and_type_are_left_alone_and_reported(database) -> None:
    url = database("S1", sql="CREATE TABLE my_notes (id integer PRIMARY KEY, body text NOT NULL);"
                             " INSERT INTO my_notes VALUES (1, 'keep me');"
                             " CREATE TYPE mood AS ENUM ('calm', 'busy')")
    plan = plan_of(url, TOKYO)

    assert plan.status == "ready", [str(r) for r in plan.refusals]
    assert any("my_notes" in item and "table" in item for item in plan.left_alone), plan.left_alone
    assert any("mood" in item for item in plan.left_alone), plan.left_alone
    for s in plan.steps:
        assert s.object not in ("my_notes", "mood") and s.table != "my_notes"
        assert not any("my_notes" in sql or "mood" in sql for sql in s.sql), (s.action, s.sql)
    result = bridge_cli(url, "plan", "--legacy-timezone", TOKYO)
    code, out = result.returncode, result.stdout
    assert code == 0
    assert re.search(r"left alone: .*my_notes", out), out


# -- bad input: an unknown zone -----------------------------------------------------------------

def test_unknown_legacy_timezone_is_bad_input(database) -> None:
    url = database("S1")
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn, pytest.raises(BadInput, match="Mars/Olympus_Mons"):
            make_plan(conn, legacy_timezone="Mars/Olympus_Mons")
    finally:
        eng.dispose()

    result = run([*CLI, "plan", "--legacy-timezone", "Mars/Olympus_Mons"], url)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Mars/Olympus_Mons" in result.stderr
    assert "Traceback" not in result.stderr


# -- every refusal through the CLI: exit 3 and the remedy ----------------------------------------

@pytest.mark.parametrize("case", list(REFUSAL_CASES))
def test_cli_refusal_exits_3_and_prints_the_remedy(database, case: str) -> None:
    expected = REFUSAL_CASES[case]
    url = expected.build(database)
    zone_args = ["--legacy-timezone", expected.zone] if expected.zone else []

    result = bridge_cli(url, "plan", *zone_args)
    code, out, err = result.returncode, result.stdout, result.stderr
    assert code == 3, (out, err)
    assert "REFUSED" in out
    assert expected.object in out and expected.remedy in out, out
    for words in expected.problem:
        assert words in out, (words, out)

    result = bridge_cli(url, "plan", "--json", *zone_args)
    code, out = result.returncode, result.stdout
    assert code == 3
    data = json.loads(out)
    assert data["status"] == "refused"
    [refusal] = data["refusals"]  # exactly one thing is wrong in each case
    assert refusal["object"] == expected.object
    assert expected.remedy in refusal["remedy"]
    assert all(words in refusal["problem"] for words in expected.problem), refusal["problem"]


def test_cli_refusal_exit_code_in_a_real_process(database) -> None:
    result = run([*CLI, "plan"], _naive_rows(database))

    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "--legacy-timezone" in result.stdout


def test_database_from_a_newer_release_is_refused_not_bridged(db_url: URL) -> None:
    # A revision id this release does not have (say 0999) on a schema with an extra column:
    # "reconciling" it to 0001 would archive what the newer release added.
    upgrade(db_url, "head")
    execute_sql(db_url, "UPDATE alembic_version SET version_num = '0999';"
                        "ALTER TABLE tasks ADD COLUMN story_points integer")
    before = fingerprint(db_url)
    plan = run([*CLI, "plan"], db_url)
    assert plan.returncode == 3
    assert "0999" in plan.stdout and "does not know" in plan.stdout
    applied = run([*CLI, "apply"], db_url)
    assert applied.returncode == 3
    status = run([*CLI, "status"], db_url)
    assert status.returncode == 0 and "which this release does not know" in status.stdout
    assert fingerprint(db_url) == before


def test_orphan_rows_refuse_the_foreign_key_and_name_their_keys(database) -> None:
    # S1 with one employee_skills row whose employee was deleted while the key was missing.
    orphan = "00000000-0000-4000-8000-0000000000a9"
    url = database("S1", sql=(
        "ALTER TABLE employee_skills DROP CONSTRAINT employee_skills_employee_id_fkey;"
        "INSERT INTO employee_skills (id, employee_id, skill_id, acquired_at, created_at, updated_at)"
        f" SELECT '{orphan}', '00000000-0000-4000-8000-00000000dead', skill_id, now(), now(), now()"
        " FROM business_skills LIMIT 1"))
    before = fingerprint(url)
    plan = plan_of(url, TOKYO)
    refusal = only_refusal(plan)
    assert refusal.object == "employee_skills_employee_id_fkey"
    assert orphan in refusal.problem and "employees" in refusal.problem
    assert not steps_of(plan, "add_foreign_key", "employee_skills_employee_id_fkey")
    result = bridge_cli(url, "apply", "--legacy-timezone", TOKYO)
    assert result.returncode == 3 and orphan in result.stdout + result.stderr
    assert fingerprint(url) == before
