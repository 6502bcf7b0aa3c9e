"""Revisions 0003-0007 (the application's 002-006) on real PostgreSQL.

Fresh builds are compared with spec_sql.py's hand-written SQL; adoption and
refusal run on databases prepared by hand; "nothing changed" is a fingerprint
(schema dump plus row checksums) taken before and after.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.deploy import guarded
from nakamura_misaki_db.schema.frozen import LATER_REVISIONS, RevisionSchema, frozen_schema
from nakamura_misaki_db.schema.frozen import r0003_project_management as r0003
from nakamura_misaki_db.schema.revisions import alembic_config as packaged_config

from . import spec_sql
from .helpers import (
    alembic_config,
    build_legacy,
    connection,
    dump_without_version,
    execute_sql,
    fingerprint,
    row_checksums,
    rows,
    scalar,
    schema_dump,
    upgrade,
    version_rows,
)

LATER = ("0003", "0004", "0005", "0006", "0007")
# The revision section 2 of the spec ends with. Tests that compare a whole schema with the spec
# upgrade to it, not to head: a later revision may add to the schema (tests/test_new_revision.py).
LAST = LATER[-1]
TASK_ROW = """
INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, created_at, updated_at)
VALUES ('7a5c0000-0000-4000-8000-000000000001', 'Call back', 'U1', 'U2', 'pending', now(), now()),
       ('7a5c0000-0000-4000-8000-000000000002', 'Pack order', 'U1', 'U2', 'completed', now(), now());
"""


def engine_run(url: URL, fn: Callable[[sa.Connection], object]) -> object:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            return fn(conn)
    finally:
        eng.dispose()


def downgrade(url: URL, target: str, *, allow_data_loss: bool = False) -> None:
    cfg = alembic_config(url)
    if allow_data_loss:
        cfg.cmd_opts = type("Opts", (), {"x": ["allow_data_loss=true"]})()
    command.downgrade(cfg, target)


def refused(url: URL, target: str = "head") -> str:
    """Run an upgrade that must be refused; return the message."""
    with pytest.raises(CommandError) as err:
        upgrade(url, target)
    return str(err.value)


# -- the chain -----------------------------------------------------------------------------

def test_the_chain_continues_with_one_revision_per_application_revision() -> None:
    script = ScriptDirectory.from_config(packaged_config())
    chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert chain[2:7] == list(LATER)
    assert [s.revision for s in LATER_REVISIONS] == list(LATER)
    for rev, schema in zip(LATER, LATER_REVISIONS, strict=True):
        # Each revision runs its own frozen definition, found by its own id.
        source = Path(script.get_revision(rev).path).read_text()
        assert f'guarded_upgrade(op, "{rev}")' in source and f'guarded_downgrade(op, "{rev}", **kw)' in source
        assert frozen_schema(rev) is schema
        assert f"``{spec_sql.APP_REVISION[rev]}``" in script.get_revision(rev).module.__doc__  # which upstream one
    created = {t for s in LATER_REVISIONS for t in s.creates}
    assert created == set(spec_sql.LATER_TABLES)
    assert [s.extends for s in LATER_REVISIONS] == [(), (), (), (), ("tasks",)]


def test_fresh_head_equals_the_hand_written_sql(make_db: Callable[[], URL]) -> None:
    by_alembic, by_hand = make_db(), make_db()
    upgrade(by_alembic, LAST)
    execute_sql(by_hand, spec_sql.head_schema_sql())
    assert version_rows(by_alembic) == [LAST]
    assert dump_without_version(by_alembic) == dump_without_version(by_hand)


def test_fresh_head_has_exactly_the_section_2_objects(db_url: URL) -> None:
    upgrade(db_url, "head")
    for table in spec_sql.LATER_TABLES:
        columns = rows(db_url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
                               " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
                               " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                               " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped"
                               " ORDER BY a.attnum", t=table)
        assert columns == [(c, *f) for (t, c), f in spec_sql.LATER_COLUMNS.items() if t == table], table
        constraints = dict(rows(db_url, "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                                        " WHERE conrelid = CAST(:t AS regclass) AND contype <> 'n'", t=table))
        assert constraints == {n: d for (t, n), d in spec_sql.LATER_CONSTRAINTS.items() if t == table}, table
        assert dict(rows(db_url, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t",
                         t=table)) == spec_sql.LATER_INDEXES[table]
    tasks_tail = rows(db_url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,"
                              " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
                              " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                              " WHERE a.attrelid = 'tasks'::regclass AND a.attnum > 10 ORDER BY a.attnum")
    assert tasks_tail == [(c, *f) for c, f in spec_sql.TASKS_ADDED_COLUMNS.items()]
    assert scalar(db_url, "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                          " WHERE conname = 'ck_tasks_progress_percent_range'") == \
        spec_sql.TASKS_ADDED_CONSTRAINTS["ck_tasks_progress_percent_range"]
    assert scalar(db_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_tasks_priority'") == \
        spec_sql.TASKS_ADDED_INDEXES["idx_tasks_priority"]


def test_head_behaves_as_section_2_says(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, TASK_ROW)
    # An insert that omits the three new columns gets priority 5, progress 0, no estimate.
    assert rows(db_url, "SELECT DISTINCT priority, progress_percent, estimated_hours FROM tasks") == [(5, 0, None)]
    with pytest.raises(sa.exc.IntegrityError, match="ck_tasks_progress_percent_range"):
        execute_sql(db_url, "UPDATE tasks SET progress_percent = 101")
    with pytest.raises(sa.exc.IntegrityError, match="ck_no_self_dependency"):
        execute_sql(db_url, "INSERT INTO task_dependencies VALUES (gen_random_uuid(),"
                            " '7a5c0000-0000-4000-8000-000000000001', '7a5c0000-0000-4000-8000-000000000001',"
                            " 'blocks', now())")
    # Two team-wide summaries (user_id NULL) of one date are both accepted: plain UNIQUE.
    execute_sql(db_url, "INSERT INTO daily_summaries (id, date, created_at) VALUES"
                        " (gen_random_uuid(), '2025-04-01', now()), (gen_random_uuid(), '2025-04-01', now())")
    assert scalar(db_url, "SELECT count(*) FROM daily_summaries WHERE user_id IS NULL") == 2
    # ON DELETE CASCADE from tasks into the three tables that point at it.
    execute_sql(db_url, """
        INSERT INTO projects VALUES ('7a5c0000-0000-4000-8000-0000000000a1', 'P', NULL, NULL, NULL, 'active',
                                     now(), now());
        INSERT INTO project_tasks VALUES (gen_random_uuid(), '7a5c0000-0000-4000-8000-0000000000a1',
                                          '7a5c0000-0000-4000-8000-000000000001', 0, now());
        INSERT INTO task_dependencies VALUES (gen_random_uuid(), '7a5c0000-0000-4000-8000-000000000002',
                                              '7a5c0000-0000-4000-8000-000000000001', 'blocks', now());
        INSERT INTO notifications (id, notification_type, task_id, content, created_at)
            VALUES (gen_random_uuid(), 'due_reminder', '7a5c0000-0000-4000-8000-000000000001', 'x', now());
        DELETE FROM tasks WHERE id = '7a5c0000-0000-4000-8000-000000000001';""")
    assert [scalar(db_url, f"SELECT count(*) FROM {t}")
            for t in ("project_tasks", "task_dependencies", "notifications")] == [0, 0, 0]


# -- re-applied: a no-op -------------------------------------------------------------------

def test_each_revision_run_again_at_head_does_nothing(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, TASK_ROW)
    before = fingerprint(db_url)
    for schema in LATER_REVISIONS:
        decision = engine_run(db_url, lambda conn, s=schema: guarded.decide(conn, s))
        assert decision.statements == [] and decision.problems == [], schema.revision
        assert decision.adopted, schema.revision
        assert engine_run(db_url, lambda conn, s=schema: guarded.upgrade(conn, s)) == []
    assert fingerprint(db_url) == before


def test_stamped_back_to_0002_the_whole_run_adopts_everything(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, TASK_ROW)
    before = fingerprint(db_url)
    command.stamp(alembic_config(db_url), "0002")
    upgrade(db_url, "head")
    assert fingerprint(db_url) == before  # same catalog, same rows, same version row


# -- adopted: what the application's own migrations created ---------------------------------

def test_s7_stamped_0002_by_hand_is_refused_then_bridged_and_adopted(db_url: URL) -> None:
    # Issue 22: a legacy schema with a hand-written version row is not trusted. Refused, nothing changed;
    # after the bridge, 0003-0007 adopt the application's six tables and the tasks columns with their rows.
    build_legacy(db_url, "S7", rows=60, n=6)
    execute_sql(db_url, "UPDATE alembic_version SET version_num = '0002'")
    schema_before, rows_before = schema_dump(db_url), row_checksums(db_url)
    assert all(rows_before[f"public.{t}"][0] > 0 for t in spec_sql.LATER_TABLES)

    with pytest.raises(CommandError, match="alembic_version records revision 0002 of this chain, but the schema "
                                           "is not what 0002 builds"):
        upgrade(db_url, LAST)
    assert (schema_dump(db_url), row_checksums(db_url)) == (schema_before, rows_before)

    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone="Asia/Tokyo").status == "applied"
    upgrade(db_url, LAST)
    assert version_rows(db_url) == [LAST]
    after = row_checksums(db_url)
    for table in spec_sql.LATER_TABLES:  # adopted: not one row of the application's tables changed
        assert after[f"public.{table}"] == rows_before[f"public.{table}"], table


def test_an_identical_table_made_by_hand_is_adopted_and_the_rest_created(make_db: Callable[[], URL]) -> None:
    url, reference = make_db(), make_db()
    upgrade(url, "0002")
    upgrade(reference, "head")
    # projects exists already, exactly as the application's 002 made it, with a row.
    execute_sql(url, spec_sql.APP_SQL["002"].split("CREATE TABLE project_tasks")[0]
                + "INSERT INTO projects VALUES (gen_random_uuid(), '年末棚卸し', NULL, 'U1', NULL, 'active',"
                  " now(), now());")
    kept = row_checksums(url)["public.projects"]
    upgrade(url, "head")
    assert row_checksums(url)["public.projects"] == kept
    assert dump_without_version(url) == dump_without_version(reference)


def test_0007_adopts_columns_added_by_hand_and_adds_the_rest(make_db: Callable[[], URL]) -> None:
    url, reference = make_db(), make_db()
    upgrade(url, "0006")
    upgrade(reference, "head")
    execute_sql(url, TASK_ROW + "ALTER TABLE tasks ADD COLUMN priority integer NOT NULL DEFAULT 5;"
                                "ALTER TABLE tasks ADD COLUMN progress_percent integer NOT NULL DEFAULT 0;"
                                "UPDATE tasks SET priority = 2, progress_percent = 40;")
    decision = engine_run(url, lambda conn: guarded.decide(conn, LATER_REVISIONS[4]))
    assert decision.adopted == ["column tasks.priority", "column tasks.progress_percent"]
    assert decision.created == ["column tasks.estimated_hours", "check ck_tasks_progress_percent_range on tasks",
                                "index idx_tasks_priority on tasks"]
    upgrade(url, "head")
    assert dump_without_version(url) == dump_without_version(reference)
    assert rows(url, "SELECT DISTINCT priority, progress_percent FROM tasks") == [(2, 40)]


# -- refused: a different object, named; nothing changed -------------------------------------

@pytest.mark.parametrize(("sql", "named"), [
    pytest.param(spec_sql.APP_SQL["004"].replace("metadata jsonb", "metadata json"),
                 ["team_metrics.metadata: expected jsonb, found json"], id="metadata-json"),
    pytest.param(spec_sql.APP_SQL["004"].replace("pk_daily_summaries", "daily_summaries_pkey"),
                 ["primary key: daily_summaries", "pk_daily_summaries", "daily_summaries_pkey"], id="pk-name"),
    pytest.param(spec_sql.APP_SQL["004"].replace("tasks_pending integer NOT NULL DEFAULT 0",
                                                 "tasks_pending integer NOT NULL"),
                 ["daily_summaries.tasks_pending"], id="missing-default"),
    pytest.param(spec_sql.APP_SQL["003"].replace(
        "    CONSTRAINT ck_no_self_dependency CHECK (blocking_task_id <> blocked_task_id),\n", ""),
                 ["missing check: ck_no_self_dependency"], id="orm-built-no-check"),
    pytest.param(spec_sql.APP_SQL["005"].replace(" WHERE read_at IS NULL", ""),
                 ["idx_notifications_unread"], id="index-not-partial"),
    pytest.param(spec_sql.APP_SQL["002"] + "CREATE INDEX ix_projects_name ON projects (name);",
                 ["extra index: ix_projects_name"], id="extra-index"),
    pytest.param("ALTER TABLE tasks ADD COLUMN priority bigint NOT NULL DEFAULT 5;",
                 ["tasks.priority: expected integer, found bigint"], id="tasks-column-type"),
    pytest.param("ALTER TABLE tasks ADD COLUMN progress_percent integer NOT NULL DEFAULT 0,"
                 " ADD CONSTRAINT ck_tasks_progress_percent_range CHECK (progress_percent BETWEEN 0 AND 99);",
                 ["check definition: ck_tasks_progress_percent_range"], id="tasks-check-definition"),
    pytest.param("CREATE INDEX idx_tasks_priority ON tasks (status);",
                 ["index definition: idx_tasks_priority"], id="tasks-index-definition"),
    pytest.param("CREATE INDEX idx_projects_status ON conversations (user_id);",
                 ["idx_projects_status (taken by an index on conversations)"], id="index-name-taken"),
    pytest.param("CREATE VIEW notifications AS SELECT 1 AS id;",
                 ["notifications (taken by a view)"], id="view-of-that-name"),
])
def test_a_different_object_is_refused_naming_it_and_nothing_changes(db_url: URL, sql: str,
                                                                       named: list[str]) -> None:
    upgrade(db_url, "0002")
    execute_sql(db_url, TASK_ROW + sql)
    before = fingerprint(db_url)
    message = refused(db_url)
    for part in named:
        assert part in message, message
    # The last line says what to do: where the revision's own definition is, and the two ways out.
    [revision] = re.findall(r"^revision (\d{4}) refused: ", message, re.M)
    assert message.splitlines()[-1] == (
        "Nothing was changed. An object of the same name but another shape was probably made by hand or by the "
        "application's own ORM (create_all), not by its migrations. Compare it with nakamura_misaki_db.schema.frozen "
        f"(revision {revision}), bring it to that shape by hand (or drop it if it holds no rows), then rerun."), message
    assert fingerprint(db_url) == before
    assert version_rows(db_url) == ["0002"]


def test_the_refusal_lists_every_difference(db_url: URL) -> None:
    upgrade(db_url, "0004")
    execute_sql(db_url, spec_sql.APP_SQL["004"].replace("metadata jsonb", "metadata json")
                .replace("pk_daily_summaries", "daily_summaries_pkey")
                .replace("pk_team_metrics", "team_metrics_pkey"))
    message = refused(db_url)
    assert "revision 0005 refused" in message and "(3 problem(s))" in message
    for part in ("team_metrics.metadata", "daily_summaries_pkey", "team_metrics_pkey"):
        assert part in message


def test_rows_that_break_the_new_check_are_counted_not_failed_on(db_url: URL) -> None:
    upgrade(db_url, "0006")
    execute_sql(db_url, TASK_ROW + "ALTER TABLE tasks ADD COLUMN progress_percent integer NOT NULL DEFAULT 0;"
                                   "UPDATE tasks SET progress_percent = 150 WHERE title = 'Call back';")
    before = fingerprint(db_url)
    message = refused(db_url)
    assert "1 row(s) violate ck_tasks_progress_percent_range" in message
    assert "IntegrityError" not in message and "CheckViolation" not in message
    assert fingerprint(db_url) == before


def test_a_not_null_column_without_default_over_rows_is_refused_with_the_count(db_url: URL) -> None:
    # A frozen definition could ask for this; PostgreSQL would fail on the rows.
    metadata = sa.MetaData()
    sa.Table("tasks", metadata, sa.Column("rank", sa.Integer(), nullable=False))
    schema = RevisionSchema("9999", metadata, creates=(), extends=("tasks",))
    upgrade(db_url, "head")
    execute_sql(db_url, TASK_ROW)
    with pytest.raises(Refused, match=r"tasks\.rank: a NOT NULL column without a default cannot be added to the 2 "):
        engine_run(db_url, lambda conn: guarded.upgrade(conn, schema))
    assert scalar(db_url, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'tasks'::regclass"
                          " AND attname = 'rank'") == 0


def test_a_missing_foreign_key_target_is_refused(db_url: URL) -> None:
    with pytest.raises(Refused, match="table tasks, which revision 0003's tables reference, does not exist"):
        engine_run(db_url, lambda conn: guarded.upgrade(conn, r0003.SCHEMA))
    assert scalar(db_url, "SELECT to_regclass('public.projects')") is None


# -- downgrade ---------------------------------------------------------------------------------

def test_downgrade_refuses_tables_holding_rows(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, "INSERT INTO team_metrics VALUES (gen_random_uuid(), '2025-04-01', 'overdue_tasks', 3,"
                        " '{\"source\": \"daily_batch\"}', now())")
    before = fingerprint(db_url)
    with pytest.raises(CommandError, match=r"downgrading 0005 would drop data: table team_metrics \(1 row\(s\)\)"):
        downgrade(db_url, "0002")
    assert fingerprint(db_url) == before  # 0007 and 0006 went back in the same, rolled-back run
    downgrade(db_url, "0002", allow_data_loss=True)
    assert version_rows(db_url) == ["0002"]
    assert [scalar(db_url, f"SELECT to_regclass('public.{t}')") for t in spec_sql.LATER_TABLES] == [None] * 6


def test_downgrade_of_0007_refuses_while_its_columns_hold_data(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, TASK_ROW)
    # Rows holding only the columns' defaults lose nothing: that downgrade is allowed (and undone here).
    downgrade(db_url, "0006")
    upgrade(db_url, "head")
    execute_sql(db_url, "UPDATE tasks SET priority = 1, estimated_hours = 2.5 WHERE title = 'Call back'")
    before = fingerprint(db_url)
    with pytest.raises(CommandError, match=r"tasks\.priority \(1 row\(s\).*tasks\.estimated_hours \(1 row"):
        downgrade(db_url, "0006")
    assert fingerprint(db_url) == before
    downgrade(db_url, "0006", allow_data_loss=True)
    assert scalar(db_url, "SELECT count(*) FROM tasks") == 2
    assert scalar(db_url, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'tasks'::regclass"
                          " AND attname IN ('priority', 'progress_percent', 'estimated_hours')") == 0
    assert scalar(db_url, "SELECT to_regclass('public.idx_tasks_priority')") is None


def test_downgrade_is_idempotent(db_url: URL) -> None:
    upgrade(db_url, "head")
    for schema in reversed(LATER_REVISIONS):
        engine_run(db_url, lambda conn, s=schema: guarded.downgrade(conn, s))
    at_0002 = schema_dump(db_url)
    for schema in reversed(LATER_REVISIONS):  # a second time over nothing: no error, no change
        engine_run(db_url, lambda conn, s=schema: guarded.downgrade(conn, s))
    assert schema_dump(db_url) == at_0002


# -- offline (--sql) ---------------------------------------------------------------------------

def offline(direction: str, revisions: list[str]) -> str:
    """What the migrations print under `alembic upgrade --sql` (as_sql context, no database)."""
    buffer = io.StringIO()
    context = MigrationContext.configure(dialect_name="postgresql",
                                         opts={"as_sql": True, "output_buffer": buffer})
    script = ScriptDirectory.from_config(packaged_config())
    with Operations.context(context):
        for rev in revisions:
            getattr(script.get_revision(rev).module, direction)()
    return buffer.getvalue()


def test_offline_upgrade_renders_plain_statements_that_build_the_same_schema(make_db: Callable[[], URL]) -> None:
    sql = offline("upgrade", list(LATER))
    for rev in LATER:
        assert f"-- revision {rev}, offline: plain statements for a database at the previous revision" in sql
    # DDL names the schema (public) whatever the session's search_path says.
    assert "CREATE TABLE public.projects" in sql
    assert 'ALTER TABLE "public"."tasks" ADD COLUMN priority INTEGER DEFAULT 5 NOT NULL;' in sql
    by_script, online = make_db(), make_db()
    upgrade(by_script, "0002")
    execute_sql(by_script, sql)
    upgrade(online, LAST)
    assert dump_without_version(by_script) == dump_without_version(online)


def test_offline_downgrade_says_it_drops_rows_and_undoes_the_upgrade(make_db: Callable[[], URL]) -> None:
    sql = offline("downgrade", list(reversed(LATER)))
    assert "drop tables and columns WITH their rows" in sql
    url, at_0002 = make_db(), make_db()
    upgrade(url, LAST)
    upgrade(at_0002, "0002")
    execute_sql(url, sql)
    assert dump_without_version(url) == dump_without_version(at_0002)


# -- the frozen definitions guard themselves -------------------------------------------------

def test_revision_schema_rejects_inconsistent_definitions() -> None:
    md = sa.MetaData()
    sa.Table("parent", md, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table("child", md, sa.Column("pid", sa.Integer(), sa.ForeignKey("parent.id")))
    with pytest.raises(ValueError, match="child is listed before parent"):
        RevisionSchema("9999", md, creates=("child", "parent"))
    with pytest.raises(ValueError, match="not in its metadata"):
        RevisionSchema("9999", md, creates=("nope",))
    with pytest.raises(ValueError, match="may only add columns"):
        RevisionSchema("9999", md, creates=("child",), extends=("parent",))
    ok = RevisionSchema("9999", md, creates=("parent", "child"))
    assert ok.references == ()
