"""`apply` must be safe: idempotent, exact about saved plans, all-or-nothing, self-verifying, audited.

"Nothing changed" is always checked with ``helpers.fingerprint`` (pg_dump of every
schema plus an order-independent checksum of every table's rows).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import Step
from nakamura_misaki_db.bridge.run import RunFailed, VerificationFailed, apply_plan
from nakamura_misaki_db.connect.errors import EXIT_REFUSED, Refused

from .helpers import (
    bridge_cli,
    build,
    connection,
    execute_sql,
    failing_with,
    fingerprint,
    plan_of,
    rows,
    scalar,
    upgrade,
    version_rows,
)
from .test_apply_states import DUPLICATE_RATIO, ROWS, ZONE

ARCHIVE = "legacy_archive"


def archive_schema_exists(url: URL) -> bool:
    return bool(scalar(url, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :s)", s=ARCHIVE))


def save_plan(url: URL, path: Path, zone: str | None = ZONE) -> dict[str, Any]:
    args = ["plan", "--out", str(path)] + (["--legacy-timezone", zone] if zone else [])
    result = bridge_cli(url, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(path.read_text(encoding="utf-8"))


def counts(url: URL, *schemas: str) -> dict[str, int]:
    tables = rows(url, "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(:s) ORDER BY 1, 2",
                  s=list(schemas))
    return {f"{s}.{t}": int(scalar(url, f'SELECT count(*) FROM "{s}"."{t}"')) for s, t in tables}


class InjectedFailure(RuntimeError):
    pass


# -- a second apply ----------------------------------------------------------------------------


def test_second_apply_is_a_no_op(db_url: URL) -> None:
    build(db_url, "S1", rows=ROWS, duplicate_ratio=DUPLICATE_RATIO)
    first = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE)
    assert first.returncode == 0, first.stdout + first.stderr
    after_first = fingerprint(db_url)

    again = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to do" in again.stdout
    plain = bridge_cli(db_url, "apply", "--json")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert json.loads(plain.stdout)["status"] == "nothing_to_do"
    assert fingerprint(db_url) == after_first
    assert int(scalar(db_url, f"SELECT count(*) FROM {ARCHIVE}.bridge_runs")) == 1

    # Still nothing to do once the new chain has moved on past 0001.
    upgrade(db_url, "head")
    after_head = fingerprint(db_url)
    later = bridge_cli(db_url, "apply")
    assert later.returncode == 0, later.stdout + later.stderr
    assert "nothing to do" in later.stdout
    assert fingerprint(db_url) == after_head


# -- saved plans -------------------------------------------------------------------------------

STALE_CHANGES: dict[str, tuple[bool, str]] = {
    # name: (build S1 with rows?, SQL run after the plan was saved)
    "add_column": (True, "ALTER TABLE tasks ADD COLUMN note text"),
    "add_index": (True, "CREATE INDEX ix_conversations_created_at ON conversations (created_at)"),
    "drop_index": (True, "DROP INDEX idx_tasks_assignee_due"),
    "add_enum_label": (True, "ALTER TYPE task_status ADD VALUE 'CANCELLED'"),
    "drop_table": (True, "DROP TABLE handoffs"),
    # A plan made on empty tables converts naive timestamps as UTC (catalog only):
    # rows written afterwards would be shifted by 9 hours if it still ran.
    "insert_into_empty_table": (False, "INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status,"
                                       " created_at, updated_at) VALUES (gen_random_uuid(), 't', 'U1', 'U1',"
                                       " 'PENDING', now()::timestamp, now()::timestamp)"),
}


@pytest.mark.parametrize("change", list(STALE_CHANGES))
def test_stale_saved_plan_is_refused_and_nothing_changes(db_url: URL, tmp_path: Path, change: str) -> None:
    with_rows, sql = STALE_CHANGES[change]
    build(db_url, "S1", rows=50 if with_rows else None)
    plan_file = tmp_path / "plan.json"
    save_plan(db_url, plan_file, ZONE if with_rows else None)
    execute_sql(db_url, sql)
    before = fingerprint(db_url)

    result = bridge_cli(db_url, "apply", "--plan", str(plan_file))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "changed since the plan was made" in result.stderr
    assert fingerprint(db_url) == before
    assert version_rows(db_url) is None


def test_duplicate_written_after_the_plan_fails_safely(db_url: URL, tmp_path: Path) -> None:
    """A plan made without duplicates has no archive step; a duplicate written later must not slip through."""
    build(db_url, "S1", rows=50, duplicate_ratio=0.0)
    plan_file = tmp_path / "plan.json"
    saved = save_plan(db_url, plan_file)
    assert not any(s["action"] == "archive_duplicates" for s in saved["steps"])
    execute_sql(db_url, "INSERT INTO conversations SELECT gen_random_uuid(), user_id, channel_id, messages,"
                        " created_at, updated_at, last_message_at FROM conversations LIMIT 1")
    before = fingerprint(db_url)

    result = bridge_cli(db_url, "apply", "--plan", str(plan_file))
    assert result.returncode != 0, result.stdout + result.stderr
    assert fingerprint(db_url) == before


@pytest.mark.parametrize("other_state", [
    pytest.param({"state": "S2"}, id="S2"),
    pytest.param({"state": "S4", "version": "001"}, id="S4"),
    pytest.param({"state": "S5"}, id="S5"),
])
def test_plan_from_another_database_is_refused(make_db: Callable[[], URL], tmp_path: Path,
                                              other_state: dict[str, Any]) -> None:
    source, target = make_db(), make_db()
    build(source, "S1", rows=30)
    options = dict(other_state)
    build(target, options.pop("state"), rows=30, **options)
    plan_file = tmp_path / "plan.json"
    save_plan(source, plan_file)
    before = fingerprint(target)

    result = bridge_cli(target, "apply", "--plan", str(plan_file))
    assert result.returncode == 3, result.stdout + result.stderr
    assert fingerprint(target) == before


def test_saved_plan_with_another_zone_is_bad_input(db_url: URL, tmp_path: Path) -> None:
    build(db_url, "S1", rows=20)
    plan_file = tmp_path / "plan.json"
    save_plan(db_url, plan_file)
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "apply", "--plan", str(plan_file), "--legacy-timezone", "UTC")
    assert result.returncode == 2, result.stdout + result.stderr
    assert fingerprint(db_url) == before


# -- all or nothing ----------------------------------------------------------------------------

FAILURE_STATES = [
    pytest.param({"state": "S1"}, id="S1"),
    pytest.param({"state": "S4", "version": "001"}, id="S4-001"),
]


@pytest.mark.parametrize("state", FAILURE_STATES)
def test_failure_at_any_step_leaves_the_database_exactly_as_it_was(db_url: URL, state: dict[str, Any]) -> None:
    # No duplicates: the first phase only builds the unique index CONCURRENTLY, which a failure
    # drops again, so every failure must leave the database exactly as it was.
    # (With duplicates, see test_a_failure_after_the_first_phase_keeps_only_the_moved_duplicates.)
    options = dict(state)
    build(db_url, options.pop("state"), rows=80, duplicate_ratio=0.0, **options)
    plan = plan_of(db_url, ZONE)
    assert plan.status == "ready"
    n = len(plan.steps)
    # Right at the start, early, in the middle (archive/rewrite steps), before the last steps,
    # and after the last one (all fixes done; verification and the version row come next: n + 1).
    points = sorted({1, 2, n // 2, n - 1, n, n + 1})
    assert len(points) >= 5
    before = fingerprint(db_url)
    assert not archive_schema_exists(db_url)

    for k in points:
        seen: list[tuple[int, str]] = []

        def hook(number: int, step: Step, k: int = k, seen: list[tuple[int, str]] = seen) -> None:
            seen.append((number, step.action))
            if number == k:
                raise InjectedFailure(f"injected before step {k}")

        def finish(k: int = k, seen: list[tuple[int, str]] = seen) -> None:
            seen.append((n + 1, "verify"))
            if k == n + 1:
                raise InjectedFailure("injected before verification and the version row")

        with connection(db_url) as conn, failing_with(InjectedFailure):
            apply_plan(conn, legacy_timezone=ZONE, before_step=hook, before_verify=finish)
        assert [s[0] for s in seen] == list(range(1, k + 1))
        assert fingerprint(db_url) == before, f"failure before step {k} left changes behind"
        assert not archive_schema_exists(db_url)
        assert version_rows(db_url) == before_version(state)

    # A database error (not a Python exception) in the middle rolls back too.
    with connection(db_url) as conn:
        def sql_error(number: int, step: Step) -> None:
            if number == n // 2:
                conn.exec_driver_sql("SELECT 1/0")

        with failing_with(sa.exc.DBAPIError):
            apply_plan(conn, legacy_timezone=ZONE, before_step=sql_error)
    assert fingerprint(db_url) == before
    assert not archive_schema_exists(db_url)

    assert scalar(db_url, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0

    # And the database is still bridgeable afterwards.
    with connection(db_url) as conn:
        result = apply_plan(conn, legacy_timezone=ZONE)
    assert result.status == "applied"
    assert version_rows(db_url) == ["0001"]


def test_a_failure_after_the_first_phase_puts_it_back(db_url: URL) -> None:
    # Issue 22: all or nothing across both phases. The duplicates phase 1 moved return, the archive
    # it created and the index it built go, and the database is exactly as it was.
    build(db_url, "S1", rows=80, duplicate_ratio=0.2)
    before = fingerprint(db_url)
    plan = plan_of(db_url, ZONE)
    assert [s.action for s in plan.steps if s.phase == 1] == ["archive_duplicates", "build_unique_index"]
    with connection(db_url) as conn, failing_with(InjectedFailure) as failed:
        def fail() -> None:
            raise InjectedFailure("after the last step")

        apply_plan(conn, legacy_timezone=ZONE, before_verify=fail)
    assert fingerprint(db_url) == before
    message = str(failed[0])
    assert message.startswith("InjectedFailure: after the last step. Phase 1 had committed on its own; this run "
                              "put it back: index uq_conversations_user_channel dropped; ")
    assert ("legacy_archive.conversations_duplicates dropped (this run created it); schema legacy_archive dropped "
            "(this run created it). Verified: public.conversations holds exactly the rows it held before (") in message
    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=ZONE).status == "applied"


def before_version(state: dict[str, Any]) -> list[str] | None:
    return [state["version"]] if "version" in state else None


# -- the verification inside apply -------------------------------------------------------------

# SQL a rogue hook runs on apply's own connection after the last step, right before
# verification: each leaves the schema different from 0001, so verification must refuse
# and roll everything back.
LEFTOVERS: dict[str, str] = {
    "column_type": "ALTER TABLE tasks ALTER COLUMN title TYPE varchar(400)",
    "column_nullable": "ALTER TABLE slack_users ALTER COLUMN email SET NOT NULL",
    "column_default": "ALTER TABLE employees ALTER COLUMN is_active DROP DEFAULT",
    "extra_column": "ALTER TABLE conversations ADD COLUMN extra text",
    "missing_column": "ALTER TABLE handoffs DROP COLUMN accepted_at",
    "missing_index": "DROP INDEX ix_tasks_status",
    "extra_index": "CREATE INDEX ix_tasks_created_at ON tasks (created_at)",
    "index_columns": "DROP INDEX ix_tasks_assignee_status;"
                     " CREATE INDEX ix_tasks_assignee_status ON tasks (status, assignee_user_id)",
    "missing_unique": "ALTER TABLE conversations DROP CONSTRAINT uq_conversations_user_channel",
    "foreign_key_on_delete": "ALTER TABLE employee_skills DROP CONSTRAINT employee_skills_employee_id_fkey,"
                             " ADD CONSTRAINT employee_skills_employee_id_fkey FOREIGN KEY (employee_id)"
                             " REFERENCES employees (employee_id)",
    "extra_enum_label": "ALTER TYPE task_status ADD VALUE 'archived'",
    "missing_table": "DROP TABLE slack_users",
    # Also differences from 0001 that only a catalog with CHECK constraints and index
    # predicates sees (pg_dump of the bridged and the fresh database would differ).
    "check_constraint": "ALTER TABLE tasks ADD CONSTRAINT tasks_title_not_blank CHECK (title <> '')",
    "partial_index": "DROP INDEX ix_tasks_due_at; CREATE INDEX ix_tasks_due_at ON tasks (due_at)"
                     " WHERE due_at IS NOT NULL",
}


@pytest.mark.parametrize("leftover", list(LEFTOVERS))
def test_verification_catches_a_leftover_difference_and_rolls_back(db_url: URL, leftover: str) -> None:
    build(db_url, "S1", rows=40, duplicate_ratio=0.0)  # no first-phase archive: all must roll back
    before = fingerprint(db_url)
    reached: list[str] = []

    with connection(db_url) as conn:
        def rogue() -> None:
            reached.append("verify")
            conn.exec_driver_sql(LEFTOVERS[leftover])

        with pytest.raises(Refused) as caught:
            apply_plan(conn, legacy_timezone=ZONE, before_verify=rogue)
    assert reached == ["verify"]
    # Phase 1 had built the unique index: the refusal comes wrapped, saying it was put back.
    assert isinstance(caught.value, RunFailed) and caught.value.restored and caught.value.restored.done
    assert isinstance(caught.value.__cause__, VerificationFailed), caught.value
    assert caught.value.exit_code == EXIT_REFUSED
    assert "verification failed" in str(caught.value)
    assert fingerprint(db_url) == before
    assert not archive_schema_exists(db_url)
    assert version_rows(db_url) is None


# -- audit -------------------------------------------------------------------------------------


def test_audit_row_matches_what_happened(db_url: URL, tmp_path: Path) -> None:
    build(db_url, "S4", version="001", rows=120)
    before_counts = counts(db_url, "public")
    before_counts.pop("public.alembic_version")
    pairs = int(scalar(db_url, "SELECT count(DISTINCT (user_id, channel_id)) FROM conversations"))
    n_duplicates = before_counts["public.conversations"] - pairs
    assert n_duplicates > 0

    plan_file = tmp_path / "plan.json"
    saved = save_plan(db_url, plan_file)
    result = bridge_cli(db_url, "apply", "--plan", str(plan_file), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "applied"
    assert out["run_id"] == saved["plan_id"]

    audit = rows(db_url, f"SELECT run_id::text, source_state, steps, rows_archived, row_counts_before,"
                         f" row_counts_after, finished_at FROM {ARCHIVE}.bridge_runs")
    assert len(audit) == 1
    run_id, source, steps, archived, counts_before, counts_after, finished_at = audit[0]
    assert run_id == saved["plan_id"]
    assert finished_at is not None
    assert source["alembic_version"] == ["001"]
    # Each step as the saved plan names it: what was done, to what, the summary and how safe it was.
    fields = ("action", "object", "summary", "safety")
    assert steps == [{key: s[key] for key in fields} for s in saved["steps"]]
    assert len(steps) == out["steps_done"]

    # Rows archived: exactly what is now in the archive, per table.
    after_archive = counts(db_url, ARCHIVE)
    assert archived == {
        f"{ARCHIVE}.conversations_duplicates": n_duplicates,
        f"{ARCHIVE}.handoffs": before_counts["public.handoffs"],
        f"{ARCHIVE}.notes": before_counts["public.notes"],
        f"{ARCHIVE}.sessions": before_counts["public.sessions"],
    }
    assert {k: v for k, v in after_archive.items() if k != f"{ARCHIVE}.bridge_runs"} == archived
    assert set(scalar(db_url, f"SELECT array_agg(DISTINCT bridge_run_id::text) FROM"
                              f" {ARCHIVE}.conversations_duplicates")) == {run_id}

    # Row counts before and after: the real ones.
    assert counts_before == before_counts
    after = counts(db_url, "public", ARCHIVE)
    after.pop("public.alembic_version")
    after.pop(f"{ARCHIVE}.bridge_runs")
    assert counts_after == after
    assert counts_after["public.conversations"] == pairs
    assert counts_after["public.tasks"] == before_counts["public.tasks"]
    assert counts_after["public.handoffs"] == 0
    assert out["row_counts_before"] == counts_before
    # The report lists the tables by name (jsonb in the audit row keeps no order of its own).
    assert list(out["row_counts_before"]) == sorted(counts_before)
    assert out["row_counts_after"] == counts_after
    assert out["rows_archived"] == archived

    # A second (no-op) apply adds no audit row.
    again = bridge_cli(db_url, "apply")
    assert again.returncode == 0
    assert int(scalar(db_url, f"SELECT count(*) FROM {ARCHIVE}.bridge_runs")) == 1


def test_rows_put_back_do_not_fire_the_tables_triggers(db_url: URL) -> None:
    # A trigger that rewrites every inserted conversation (the application's "touch updated_at"): the
    # duplicates returning after a failure must come back as they were, not touched.
    touch = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); "
             "RETURN NEW; END $$; CREATE TRIGGER touch_conversations BEFORE INSERT ON conversations FOR EACH ROW "
             "EXECUTE FUNCTION touch()")
    build(db_url, "S1", rows=80, duplicate_ratio=0.2, sql=touch)
    before = fingerprint(db_url)
    with connection(db_url) as conn, failing_with(InjectedFailure) as failed:
        def fail() -> None:
            raise InjectedFailure("after the last step")

        apply_plan(conn, legacy_timezone=ZONE, before_verify=fail)
    assert "(trigger(s) touch_conversations held off meanwhile)" in str(failed[0])
    assert fingerprint(db_url) == before  # the trigger is enabled again, and no row was touched
