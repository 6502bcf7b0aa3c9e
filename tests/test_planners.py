"""The planners and the classifier as pure functions: catalogs and data facts built by hand, no PostgreSQL.

Expected steps, refusals and states are written from legacy-states.md and
target-schema.md: what each situation must produce, never what the planner
happens to produce.
"""

from __future__ import annotations

import dataclasses

import pytest

from nakamura_misaki_db.bridge.steps import Refusal, Step
from nakamura_misaki_db.catalog.facts import DataFacts, Duplicates
from nakamura_misaki_db.catalog.state import DbKind, classify
from nakamura_misaki_db.diff import diff
from nakamura_misaki_db.schema.shapes import Unique
from nakamura_misaki_db.schema.target import target_catalog

from .catalogs import TASK_STATUS, TS, catalog, col, conversations, replace_column, tasks, varchar, with_rows

TARGET = target_catalog()
CHAIN = ["0001", "0002"]


def _plan(actual, facts: DataFacts | None = None, zone: str | None = None):
    from nakamura_misaki_db.bridge.planners import assemble
    from nakamura_misaki_db.bridge.planners.archive import tables_to_archive

    differences = diff(actual, TARGET)
    moving = tables_to_archive(actual, TARGET, differences)
    run_id = "00000000-0000-4000-8000-0000000000aa"
    return assemble(actual, TARGET, differences, facts or DataFacts(), moving, zone, run_id)


def _full(**tables):
    """The target's catalog with some tables replaced."""
    return dataclasses.replace(TARGET, tables={**TARGET.tables, **tables})


def _with_labels(*labels: str):
    return dataclasses.replace(_full(), enums={**TARGET.enums, "task_status": labels})


# -- enums ---------------------------------------------------------------------------------------

def test_enum_change_of_the_incident_task_status() -> None:
    from nakamura_misaki_db.bridge.planners.enums import enum_change

    change = enum_change("task_status", ["PENDING", "IN_PROGRESS", "COMPLETED"],
                         ["pending", "in_progress", "completed", "cancelled"])
    assert change.renames == (("PENDING", "pending"), ("IN_PROGRESS", "in_progress"), ("COMPLETED", "completed"))
    assert change.extras == () and not change.reordered and not change.needs_rebuild


def test_enum_change_sees_an_order_difference() -> None:
    from nakamura_misaki_db.bridge.planners.enums import enum_change

    change = enum_change("task_status", ["in_progress", "pending", "completed", "cancelled"],
                         ["pending", "in_progress", "completed", "cancelled"])
    assert change.reordered and change.needs_rebuild and change.renames == ()
    assert change.labels_to_probe(["in_progress", "pending", "completed", "cancelled"]) == [
        "in_progress", "pending", "completed", "cancelled"]


def test_incident_labels_become_renames_and_one_add_in_order() -> None:
    actual = _with_labels("PENDING", "IN_PROGRESS", "COMPLETED")
    planned = _plan(actual)
    assert planned.refusals == []
    assert [(s.action, s.object) for s in planned.steps] == [
        ("rename_enum_label", "task_status.PENDING"),
        ("rename_enum_label", "task_status.IN_PROGRESS"),
        ("rename_enum_label", "task_status.COMPLETED"),
        ("add_enum_label", "task_status.cancelled"),
    ]
    assert "AFTER 'completed'" in planned.steps[-1].sql[0]


def test_an_unmapped_label_in_use_is_refused_naming_the_rows() -> None:
    actual = _with_labels(*TARGET.enums["task_status"], "archived")
    facts = DataFacts(enum_columns={"task_status": [("public", "tasks", "status")]},
                      label_use={"task_status": {"public.tasks.status": 7}})
    planned = _plan(actual, facts)
    assert [r.object for r in planned.refusals] == ["enum task_status"]
    assert "archived" in planned.refusals[0].problem and "public.tasks.status (7 rows)" in planned.refusals[0].problem


def test_an_unused_unmapped_label_rebuilds_the_type() -> None:
    actual = _with_labels(*TARGET.enums["task_status"], "archived")
    facts = DataFacts(enum_columns={"task_status": [("public", "tasks", "status")]})
    planned = _plan(actual, facts)
    assert planned.refusals == []
    assert [(s.action, s.object, s.safety) for s in planned.steps] == [
        ("rebuild_enum", "task_status", "rewrites table")]


# -- columns -------------------------------------------------------------------------------------

def test_narrowing_is_refused_when_values_are_too_long() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "assignee_user_id", type=varchar(100))))
    facts = DataFacts(too_long={("tasks", "assignee_user_id", 50): ["k1", "k2"]})
    planned = _plan(actual, facts)
    assert [(r.object, "k1, k2" in r.problem) for r in planned.refusals] == [("tasks.assignee_user_id", True)]
    assert not any(s.action == "alter_columns" for s in planned.steps)


def test_narrowing_that_fits_rewrites_with_a_guard() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "assignee_user_id", type=varchar(100))))
    planned = _plan(actual)
    [alter] = [s for s in planned.steps if s.action == "alter_columns"]
    assert alter.safety == "rewrites table"
    assert any("length(\"assignee_user_id\") > 50" in sql for sql in alter.sql)


def test_naive_timestamps_with_rows_need_the_zone() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "due_at", type=TS)))
    assert [r.object for r in _plan(actual).refusals] == ["tasks"]
    planned = _plan(actual, zone="Asia/Tokyo")
    [alter] = planned.steps
    assert alter.sql[0] == "SET LOCAL TimeZone = 'Asia/Tokyo'" and alter.safety == "rewrites table"
    # UTC needs no rewrite; an empty table is converted as UTC.
    assert _plan(actual, zone="UTC").steps[0].safety == "catalog-only"
    empty = _plan(_full(tasks=replace_column(tasks(), "due_at", type=TS)))
    assert "SET LOCAL TimeZone = 'UTC'" in empty.steps[0].sql


def test_default_drop_is_described_as_a_drop() -> None:
    actual = _full(tasks=replace_column(tasks(), "title", default="'x'::character varying"))
    [step] = _plan(actual).steps
    assert step.summary == "drop server defaults on tasks: title"
    assert step.sql == ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" DROP DEFAULT']


def test_defaults_dropped_on_two_columns_are_one_step_over_a_table_without_an_estimate() -> None:
    # target-schema.md: tasks.title and tasks.description have no server default.
    extra = replace_column(replace_column(tasks(estimated_rows=None), "description", default="'x'::text"),
                           "title", default="'t'::character varying")
    assert _plan(_full(tasks=extra)).steps == [Step(
        "set_defaults", "tasks", "drop server defaults on tasks: title, description",
        ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" DROP DEFAULT, ALTER COLUMN "description" DROP DEFAULT'],
        "the target's columns have these defaults (and no default where one is dropped)", "catalog-only", "tasks",
        0, ["ACCESS EXCLUSIVE on tasks"])]


def test_a_widening_over_a_table_without_an_estimate_counts_zero_rows() -> None:
    narrow = replace_column(tasks(estimated_rows=None), "title", type=varchar(200))
    assert _plan(_full(tasks=narrow)).steps == [Step(
        "alter_columns", "tasks", "alter columns of tasks: title widened 200->500",
        ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" TYPE character varying(500)'],
        "column types/nullability differ from the target's", "catalog-only", "tasks", 0,
        ["ACCESS EXCLUSIVE on tasks"])]


def test_a_required_column_a_table_with_rows_lacks_is_left_to_the_archive_and_the_rest_still_planned() -> None:
    from nakamura_misaki_db.bridge.planners.columns import plan_columns

    # title is NOT NULL without a default: tasks with rows is archived whole (archive.py), so plan_columns
    # plans nothing for it, but keeps going: the description column after it is still added.
    lacking = with_rows(dataclasses.replace(tasks(), columns=tuple(
        c for c in tasks().columns if c.name not in ("title", "description"))), 10)
    expected = TARGET.tables["tasks"]
    planned = plan_columns(lacking, expected, diff(_full(tasks=lacking), TARGET), DataFacts(), TARGET.enums, None)
    assert [(s.action, s.summary, s.sql) for s in planned.steps] == [(
        "alter_columns", "alter columns of tasks: add description",
        ['ALTER TABLE "public"."tasks" ADD COLUMN "description" text'])]


def test_a_column_the_target_makes_nullable_drops_not_null_without_reading_rows() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "description", nullable=False)))
    planned = _plan(actual)
    assert planned.refusals == []
    [alter] = planned.steps
    assert alter.summary == "alter columns of tasks: description nullable"
    assert alter.sql == ['ALTER TABLE "public"."tasks" ALTER COLUMN "description" DROP NOT NULL']
    assert alter.safety == "catalog-only"  # dropping NOT NULL reads no row


def test_not_null_is_refused_while_rows_hold_null_naming_their_keys() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "title", nullable=True)))
    planned = _plan(actual, DataFacts(nulls={("tasks", "title"): ["k1", "k2"]}))
    assert planned.steps == []
    assert planned.refusals == [Refusal("tasks.title", "must be NOT NULL but rows have NULL (keys: k1, k2)",
                                        "fill those values, then plan again")]


def test_not_null_without_null_rows_is_set_and_checked_by_a_scan() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "title", nullable=True)))
    [alter] = _plan(actual, DataFacts(nulls={("tasks", "title"): []})).steps
    assert alter.summary == "alter columns of tasks: title NOT NULL (checked)"
    assert alter.sql == ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" SET NOT NULL']
    assert alter.safety == "validates data"  # SET NOT NULL reads every row
    # An empty table has nothing to read.
    [empty] = _plan(_full(tasks=replace_column(tasks(), "title", nullable=True))).steps
    assert empty.sql == alter.sql and empty.safety == "catalog-only"


# -- constraints ---------------------------------------------------------------------------------

def test_duplicates_are_archived_before_the_unique_constraint() -> None:
    actual = _full(conversations=with_rows(dataclasses.replace(conversations(), uniques=())))
    facts = DataFacts(duplicates={("conversations", ("user_id", "channel_id")): Duplicates(3, 5)})
    steps = _plan(actual, facts).steps
    # Phase 1 (before the transaction): move the duplicates, build the index CONCURRENTLY;
    # phase 2: attach it as the constraint.
    assert [(s.action, s.object, s.phase) for s in steps] == [
        ("archive_duplicates", "conversations(user_id, channel_id)", 1),
        ("build_unique_index", "uq_conversations_user_channel", 1),
        ("add_unique", "uq_conversations_user_channel", 2),
    ]
    assert "move 5 duplicate row(s)" in steps[0].summary and "last_message_at" in steps[0].summary
    assert any("CREATE UNIQUE INDEX CONCURRENTLY" in sql for sql in steps[1].sql)
    assert steps[2].sql == ['ALTER TABLE "public"."conversations" ADD CONSTRAINT "uq_conversations_user_channel" '
                            'UNIQUE USING INDEX "uq_conversations_user_channel"']


def test_an_index_left_by_an_earlier_run_is_adopted_or_rebuilt() -> None:
    from nakamura_misaki_db.schema.shapes import Index

    leftover = Index("uq_conversations_user_channel", ("user_id", "channel_id"), True)
    table = with_rows(dataclasses.replace(conversations(), uniques=(), indexes=(*conversations().indexes, leftover)))
    adopted = _plan(_full(conversations=table)).steps
    assert [(s.action, s.object) for s in adopted] == [("add_unique", "uq_conversations_user_channel")]
    assert "adopting" in adopted[0].summary
    # A crash during CREATE INDEX CONCURRENTLY leaves it INVALID: dropped and built again.
    rebuilt = _plan(_full(conversations=table), DataFacts(invalid_indexes=frozenset({leftover.name}))).steps
    assert [(s.action, s.object) for s in rebuilt] == [("build_unique_index", "uq_conversations_user_channel"),
                                                        ("add_unique", "uq_conversations_user_channel")]
    assert rebuilt[0].sql[1].startswith("DROP INDEX CONCURRENTLY IF EXISTS")


def test_an_empty_table_gets_its_unique_constraint_in_the_transaction() -> None:
    steps = _plan(_full(conversations=dataclasses.replace(conversations(), uniques=()))).steps
    assert [(s.action, s.phase, s.safety) for s in steps] == [("add_unique", 2, "catalog-only")]


def test_orphans_block_a_foreign_key() -> None:
    es = TARGET.tables["employee_skills"]
    actual = _full(employee_skills=with_rows(dataclasses.replace(es, foreign_keys=es.foreign_keys[1:])))
    facts = DataFacts(orphans={("employee_skills", "employee_skills_employee_id_fkey"): ["9"]})
    planned = _plan(actual, facts)
    assert planned.refusals == [Refusal(
        "employee_skills_employee_id_fkey", "rows of employee_skills point at missing employees rows (keys: 9)",
        "fix or remove those rows, then plan again")]
    assert not planned.steps


def test_a_foreign_key_whose_parent_moves_to_the_archive_is_refused_while_rows_point_at_it() -> None:
    from nakamura_misaki_db.bridge.planners.constraints import plan_foreign_keys

    es = TARGET.tables["employee_skills"]
    without_key = dataclasses.replace(es, foreign_keys=es.foreign_keys[1:])
    for rows, refused in ((with_rows(without_key), True), (without_key, False)):
        actual = _full(employee_skills=rows)
        planned = plan_foreign_keys(actual, diff(actual, TARGET), {"employees"}, DataFacts())
        assert planned.refusals == ([Refusal(
            "employee_skills_employee_id_fkey",
            "employee_skills has rows that point at employees, which moves to the archive and is recreated empty",
            "move or fix the rows of employee_skills first, then plan again")] if refused else [])
        assert [s.object for s in planned.steps] == ([] if refused else ["employee_skills_employee_id_fkey"])
    # The table itself moving: its keys come back with the recreated table, nothing to plan here.
    actual = _full(employee_skills=with_rows(without_key))
    assert plan_foreign_keys(actual, diff(actual, TARGET), {"employee_skills"}, DataFacts()).steps == []


def test_an_index_under_another_name_is_renamed_not_rebuilt() -> None:
    t = tasks()
    renamed = dataclasses.replace(t, indexes=tuple(
        dataclasses.replace(i, name="idx_tasks_assignee_status") if i.name == "ix_tasks_assignee_status" else i
        for i in t.indexes))
    steps = _plan(_full(tasks=renamed)).steps
    assert [(s.action, s.object) for s in steps] == [("rename_index", "idx_tasks_assignee_status")]


def test_every_removal_on_a_table_is_one_step_in_a_fixed_order_with_its_reason() -> None:
    """Drops of keys, uniques and checks, then index renames and drops, then what is recreated: each with
    its own SQL, reason, lock and the table's row estimate (written out whole: the plan file is reviewed)."""
    from nakamura_misaki_db.schema.shapes import Check, ForeignKey, Index

    es = TARGET.tables["employee_skills"]
    employee_fk, skill_fk = es.foreign_keys
    actual = dataclasses.replace(
        es, estimated_rows=2500, has_rows=True,
        foreign_keys=(dataclasses.replace(employee_fk, on_delete=None), skill_fk,
                      ForeignKey("employee_skills_legacy_fkey", ("skill_id",), "business_skills", ("skill_id",), None)),
        uniques=(Unique("uq_employee_skill", ("employee_id",)), Unique("uq_employee_skill_old", ("skill_id",))),
        checks=(Check("ck_old", "acquired_at <= updated_at"),),
        indexes=(Index("idx_es_employee", ("employee_id",), False),  # the target's idx_employee_skills_employee
                 Index("idx_employee_skills_skill", ("skill_id", "employee_id"), False),
                 Index("idx_old", ("acquired_at",), False)))
    planned = _plan(_full(employee_skills=actual))
    assert planned.refusals == []
    t, x = '"public"."employee_skills"', ["ACCESS EXCLUSIVE on employee_skills"]

    def drop(action, obj, summary, sql, reason):
        return Step(action, obj, summary, [sql], reason, "catalog-only", "employee_skills", 2500, x)

    recreated = "its definition differs; it is recreated below"
    build, *removals, create, attach, add_fk = planned.steps
    assert build.action == "build_unique_index" and build.object == "uq_employee_skill"
    assert removals == [
        drop("drop_foreign_key", "employee_skills_employee_id_fkey",
             "drop foreign key employee_skills_employee_id_fkey on employee_skills",
             f'ALTER TABLE {t} DROP CONSTRAINT "employee_skills_employee_id_fkey"', recreated),
        drop("drop_foreign_key", "employee_skills_legacy_fkey", "drop foreign key employee_skills_legacy_fkey on "
             "employee_skills", f'ALTER TABLE {t} DROP CONSTRAINT "employee_skills_legacy_fkey"',
             "the target does not have it"),
        drop("drop_unique", "uq_employee_skill", "drop unique constraint uq_employee_skill on employee_skills",
             f'ALTER TABLE {t} DROP CONSTRAINT "uq_employee_skill"', recreated),
        drop("drop_unique", "uq_employee_skill_old", "drop unique constraint uq_employee_skill_old on employee_skills",
             f'ALTER TABLE {t} DROP CONSTRAINT "uq_employee_skill_old"', "the target does not have it"),
        drop("drop_check", "ck_old", "drop check constraint ck_old on employee_skills",
             f'ALTER TABLE {t} DROP CONSTRAINT "ck_old"', "the target does not have it"),
        Step("rename_index", "idx_es_employee", "rename index idx_es_employee -> idx_employee_skills_employee",
             ['ALTER INDEX "public"."idx_es_employee" RENAME TO "idx_employee_skills_employee"'],
             "same definition as the target's idx_employee_skills_employee, another name", "catalog-only",
             "employee_skills", 2500, ["SHARE UPDATE EXCLUSIVE on employee_skills"]),
        drop("drop_index", "idx_old", "drop index idx_old on employee_skills", 'DROP INDEX "public"."idx_old"',
             "the target does not have it (an index holds no data)"),
        drop("drop_index", "idx_employee_skills_skill", "drop index idx_employee_skills_skill on employee_skills "
             "(recreated below)", 'DROP INDEX "public"."idx_employee_skills_skill"',
             "its definition differs from the target's"),
    ]
    assert create == Step("create_index", "idx_employee_skills_skill",
                          "create index idx_employee_skills_skill on employee_skills",
                          ["CREATE INDEX idx_employee_skills_skill ON public.employee_skills (skill_id)"],
                          "the target has this index", "builds index", "employee_skills", 2500,
                          ["SHARE on employee_skills"])
    assert attach.action == "add_unique" and attach.object == "uq_employee_skill"
    assert add_fk == Step("add_foreign_key", "employee_skills_employee_id_fkey",
                          "add foreign key employee_skills_employee_id_fkey on employee_skills -> employees",
                          ["ALTER TABLE public.employee_skills ADD CONSTRAINT employee_skills_employee_id_fkey "
                           "FOREIGN KEY(employee_id) REFERENCES public.employees (employee_id) ON DELETE CASCADE"],
                          "the target has this foreign key", "validates data", "employee_skills", 2500,
                          ["SHARE ROW EXCLUSIVE on employee_skills", "SHARE ROW EXCLUSIVE on employees"])


def test_an_empty_table_without_an_estimate_counts_zero_rows_in_its_steps() -> None:
    from nakamura_misaki_db.schema.shapes import Check, Index

    t = dataclasses.replace(tasks(), estimated_rows=None, checks=(Check("ck_old", "true"),),
                            indexes=(*tasks().indexes, Index("idx_tasks_assignee_due", ("assignee_user_id", "due_at"),
                                                             False)))
    steps = _plan(_full(tasks=t)).steps
    assert [(s.action, s.rows) for s in steps] == [("drop_check", 0), ("drop_index", 0)]


def test_a_check_constraint_of_the_target_is_dropped_and_added_back_validating_rows() -> None:
    from nakamura_misaki_db.bridge.planners.constraints import plan_additions, plan_removals
    from nakamura_misaki_db.diff import Difference, DiffKind

    # 0001 has no check constraint; a later target might: the planners already know how.
    changed = Difference(DiffKind.CHECK_DEFINITION, "ck_tasks_title", "tasks", expected="length(title) > 0",
                         actual="title <> ''")
    missing = Difference(DiffKind.MISSING_CHECK, "ck_tasks_due", "tasks", expected="due_at > created_at")
    table = with_rows(tasks(), 40)
    removed, still_missing = plan_removals(table, [changed, missing])
    assert removed.steps == [Step("drop_check", "ck_tasks_title", "drop check constraint ck_tasks_title on tasks",
                                  ['ALTER TABLE "public"."tasks" DROP CONSTRAINT "ck_tasks_title"'],
                                  "its definition differs; it is recreated below", "catalog-only", "tasks", 40,
                                  ["ACCESS EXCLUSIVE on tasks"])]
    assert still_missing == []
    added = plan_additions(table, [changed, missing], [], DataFacts(), "run")
    assert added.steps == [
        Step("add_check", name, f"add check constraint {name} on tasks",
             [f'ALTER TABLE "public"."tasks" ADD CONSTRAINT "{name}" CHECK ({expression})'],
             "the target has this check constraint (every row is checked)", "validates data", "tasks", 40,
             ["ACCESS EXCLUSIVE on tasks"])
        for name, expression in (("ck_tasks_title", "length(title) > 0"), ("ck_tasks_due", "due_at > created_at"))]


# -- archive -------------------------------------------------------------------------------------

def test_legacy_tables_move_to_the_archive_under_a_free_name() -> None:
    notes = dataclasses.replace(tasks(), name="notes")
    planned = _plan(_full(notes=notes), DataFacts(archive_tables=frozenset({"notes"})))
    [step] = planned.steps
    assert (step.action, step.object) == ("archive_table", "notes")
    assert 'ALTER TABLE "public"."notes" RENAME TO "notes_2"' in step.sql
    assert 'ALTER TABLE "public"."notes_2" SET SCHEMA "legacy_archive"' in step.sql


def test_a_table_that_cannot_be_converted_is_archived_and_recreated() -> None:
    odd = dataclasses.replace(tasks(), primary_key=Unique("tasks_pkey", ("title",)))
    steps = _plan(_full(tasks=odd)).steps
    assert [(s.action, s.object) for s in steps] == [("archive_table", "tasks"), ("create_table", "tasks")]


def _moving(actual) -> dict[str, str]:
    from nakamura_misaki_db.bridge.planners.archive import tables_to_archive

    return tables_to_archive(actual, TARGET, diff(actual, TARGET))


SHAPE = "its shape cannot be converted without guessing: "


@pytest.mark.parametrize(("table", "reason"), [
    # S4's old handoffs: PK id instead of handoff_id (and an extra column): the key decides.
    (dataclasses.replace(tasks(), primary_key=Unique("tasks_pkey", ("title",)),
                         columns=(*tasks().columns, col("reminded_at", TS, True))),
     SHAPE + "its primary key differs from the target's"),
    (dataclasses.replace(tasks(), columns=(*tasks().columns, col("reminded_at", TS, True), col("id_old", "uuid"))),
     SHAPE + "it has columns the target lacks (reminded_at, id_old)"),
    (with_rows(dataclasses.replace(tasks(), columns=tuple(c for c in tasks().columns if c.name != "title"))),
     SHAPE + "it lacks the required column title and has rows to fill it with"),
    # Missing columns that can be added: nullable, or no row to fill.
    (with_rows(dataclasses.replace(tasks(), columns=tuple(c for c in tasks().columns if c.name != "description"))),
     None),
    (dataclasses.replace(tasks(), columns=tuple(c for c in tasks().columns if c.name != "title")), None),
])
def test_tables_to_archive_says_why_a_shape_cannot_be_converted(table, reason) -> None:
    assert _moving(_full(tasks=table)) == ({"tasks": reason} if reason else {})


def test_a_missing_column_with_a_default_is_added_with_it_not_archived() -> None:
    # handoffs.status: NOT NULL DEFAULT 'pending' (S1's handoffs lack the default, an S5 table the column).
    handoffs = TARGET.tables["handoffs"]
    actual = _full(handoffs=with_rows(dataclasses.replace(
        handoffs, columns=tuple(c for c in handoffs.columns if c.name != "status"),
        indexes=tuple(i for i in handoffs.indexes if i.name != "idx_handoffs_status"))))
    planned = _plan(actual)
    assert _moving(actual) == {}
    alter = next(s for s in planned.steps if s.action == "alter_columns")
    assert alter.summary == "alter columns of handoffs: add status"
    assert alter.sql == ['ALTER TABLE "public"."handoffs" ADD COLUMN "status" character varying(20) '
                         "DEFAULT 'pending'::character varying NOT NULL"]


def test_only_the_table_that_differs_moves() -> None:
    odd = dataclasses.replace(tasks(), columns=(*tasks().columns, col("reminded_at", TS, True)))
    assert list(_moving(_full(tasks=odd))) == ["tasks"]
    assert _moving(_full()) == {}


def test_legacy_tables_move_for_being_legacy() -> None:
    notes = dataclasses.replace(tasks(), name="notes")
    assert _moving(_full(notes=notes)) == {"notes": "only a legacy revision created it; the target does not have it"}


def test_archiving_a_table_moves_it_whole_and_cuts_its_keys_into_public() -> None:
    # S4's old handoffs: task_id -> tasks.id ON DELETE SET NULL; notes -> sessions moves along with it.
    from nakamura_misaki_db.schema.shapes import ForeignKey

    old = dataclasses.replace(
        tasks(), name="handoffs", primary_key=Unique("handoffs_pkey", ("id",)),
        foreign_keys=(ForeignKey("handoffs_task_id_fkey", ("task_id",), "tasks", ("id",), "SET NULL"),),
        estimated_rows=1234, has_rows=True)
    notes = dataclasses.replace(tasks(), name="notes", foreign_keys=(
        ForeignKey("notes_session_id_fkey", ("session_id",), "sessions", ("id",), None),))
    sessions = dataclasses.replace(tasks(), name="sessions", estimated_rows=None)
    planned = _plan(_full(handoffs=old, notes=notes, sessions=sessions))
    archived = {s.object: s for s in planned.steps if s.action == "archive_table"}
    step = archived["handoffs"]
    assert step.summary == "move table handoffs (1,234 rows) to legacy_archive.handoffs"
    assert step.sql == ['CREATE SCHEMA IF NOT EXISTS "legacy_archive"',
                        'ALTER TABLE "public"."handoffs" SET SCHEMA "legacy_archive"',
                        'ALTER TABLE "legacy_archive"."handoffs" DROP CONSTRAINT "handoffs_task_id_fkey"']
    assert step.reason == SHAPE + "its primary key differs from the target's"
    assert (step.safety, step.table, step.rows, step.locks) == (
        "moves data to archive", "handoffs", 1234, ["ACCESS EXCLUSIVE on handoffs"])
    # A key between two tables that both move goes with them.
    assert archived["notes"].sql == ['CREATE SCHEMA IF NOT EXISTS "legacy_archive"',
                                     'ALTER TABLE "public"."notes" SET SCHEMA "legacy_archive"']
    assert archived["sessions"].summary == "move table sessions (0 rows) to legacy_archive.sessions"
    assert archived["sessions"].rows == 0
    # The target's handoffs is created again, empty.
    assert ("create_table", "handoffs") in [(s.action, s.object) for s in planned.steps]


def test_archive_names_never_collide_with_earlier_runs_or_this_one() -> None:
    from nakamura_misaki_db.bridge.planners.archive import archive_name, plan_archives

    assert archive_name("notes", set()) == "notes"
    assert archive_name("notes", {"notes", "notes_2"}) == "notes_3"
    notes, notes_2 = dataclasses.replace(tasks(), name="notes"), dataclasses.replace(tasks(), name="notes_2")
    actual = catalog(notes, notes_2)
    planned = plan_archives(actual, {"notes": "legacy", "notes_2": "legacy"},
                            DataFacts(archive_tables=frozenset({"notes"})))
    # notes takes notes_2 in the archive, so public.notes_2 becomes notes_2_2.
    assert [s.summary for s in planned.steps] == ["move table notes (0 rows) to legacy_archive.notes_2",
                                                  "move table notes_2 (0 rows) to legacy_archive.notes_2_2"]


# -- extension -----------------------------------------------------------------------------------

def test_a_missing_vector_extension_is_created_in_public() -> None:
    planned = _plan(dataclasses.replace(_full(), extensions={}))
    [step] = planned.steps
    assert (step.action, step.object, step.summary) == ("create_extension", "vector", "create extension vector")
    assert step.sql == ['CREATE EXTENSION IF NOT EXISTS "vector" WITH SCHEMA "public"']
    assert step.reason == "the target needs extension vector (may require a superuser)"
    assert (step.safety, step.locks) == ("catalog-only", ["none on tables"])


def test_a_vector_extension_in_another_schema_is_moved() -> None:
    planned = _plan(dataclasses.replace(_full(), extensions={"vector": "extensions"}))
    [step] = planned.steps
    assert (step.action, step.object) == ("move_extension", "vector")
    assert step.summary == "move extension vector to schema public"
    assert step.sql == ['ALTER EXTENSION "vector" SET SCHEMA "public"']
    assert step.reason == "extension vector lives in extensions, the target has it in public"
    assert (step.safety, step.locks) == ("catalog-only", ["objects of the extension"])


# -- classify ------------------------------------------------------------------------------------

S1_TABLES = (tasks(), conversations())


@pytest.mark.parametrize(("version", "tables", "kind"), [
    (None, (), DbKind.EMPTY),
    ((), (), DbKind.EMPTY),
    # A recorded revision is trusted only when the schema is what it built: two tables of 0001's seven are not.
    (("0001",), S1_TABLES, DbKind.DRIFTED),
    (("0001",), tuple(TARGET.tables.values()), DbKind.NEW_CHAIN),
    (("003_add_slack_users_table",), S1_TABLES, DbKind.LEGACY),
    (("006",), S1_TABLES, DbKind.LEGACY),  # the application's second chain is legacy too
    (("0001", "003_add_slack_users_table"), S1_TABLES, DbKind.MIXED),
    (("0999",), S1_TABLES, DbKind.NEWER),
    (("feature_branch_x",), S1_TABLES, DbKind.UNKNOWN),
    (None, (tasks(),), DbKind.UNVERSIONED),  # only additive differences: 0001 adopts it
    (None, (replace_column(tasks(), "title", type=varchar(200)),), DbKind.LEGACY),
])
def test_classify(version, tables, kind: DbKind) -> None:
    extras = {} if tables else {"enums": {}, "extensions": {}}
    state = classify(catalog(*tables, version=version, **extras), TARGET, CHAIN)
    assert state.kind == kind
    assert state.migratable == (kind in (DbKind.EMPTY, DbKind.NEW_CHAIN, DbKind.UNVERSIONED))


def test_status_and_the_guard_count_the_same_differences() -> None:
    from nakamura_misaki_db.catalog.state import differences_from_0001

    actual = catalog(replace_column(tasks(), "title", type=varchar(200)))
    state = classify(actual, TARGET, CHAIN)
    assert state.drift == len(differences_from_0001(actual, TARGET))
    assert f"in {state.drift} way(s)" in state.refusal()


def test_one_refusal_text_names_the_way_forward() -> None:
    mixed = classify(catalog(*S1_TABLES, version=("0001", "003_add_slack_users_table")), TARGET, CHAIN)
    assert "baseline-bridge apply" in mixed.refusal() and "stale legacy id 003_add_slack_users_table" in mixed.refusal()
    newer = classify(catalog(*S1_TABLES, version=("0999",)), TARGET, CHAIN)
    assert "0999, which this release does not know" in newer.refusal()


# -- column types: the exact clause for each conversion, and what has none -------------------------------------

def _alter(planned):
    [alter] = [s for s in planned.steps if s.action == "alter_columns"]
    return alter


def test_widening_a_varchar_is_one_clause_and_no_guard() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "title", type=varchar(200))))
    alter = _alter(_plan(actual))
    assert alter.sql == ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" TYPE character varying(500)']


def test_narrowing_is_guarded_by_a_check_that_says_what_to_do() -> None:
    # target-schema.md: tasks.assignee_user_id is varchar(50).
    actual = _full(tasks=with_rows(replace_column(tasks(), "assignee_user_id", type=varchar(100))))
    alter = _alter(_plan(actual))
    assert alter.sql == [
        'DO $guard$ BEGIN IF EXISTS (SELECT 1 FROM "public"."tasks" WHERE length("assignee_user_id") > 50) THEN '
        "RAISE EXCEPTION USING MESSAGE = 'baseline-bridge: tasks.assignee_user_id has values longer than 50 "
        "characters (written after the plan was made); nothing was changed: shorten them, then plan again'; "
        "END IF; END $guard$",
        'ALTER TABLE "public"."tasks" ALTER COLUMN "assignee_user_id" TYPE character varying(50)',
    ]


def test_legacy_status_text_becomes_the_enum_mapping_only_the_labels_stored() -> None:
    # legacy-states.md: the legacy chain stored member names (COMPLETED); the target stores values (completed).
    actual = _full(tasks=with_rows(replace_column(tasks(), "status", type=varchar(20))))
    facts = DataFacts(stored_values={("tasks", "status"): ["COMPLETED", "pending"]})
    alter = _alter(_plan(actual, facts))
    assert alter.sql == [
        'ALTER TABLE "public"."tasks" ALTER COLUMN "status" TYPE "public"."task_status" USING '
        '(CASE "status" WHEN \'COMPLETED\' THEN \'completed\' ELSE "status" END)::"public"."task_status"']


def test_status_text_with_nothing_stored_is_cast_directly() -> None:
    actual = _full(tasks=replace_column(tasks(), "status", type="text"))  # an empty table: no values read
    alter = _alter(_plan(actual))
    assert alter.sql == [
        'ALTER TABLE "public"."tasks" ALTER COLUMN "status" TYPE "public"."task_status" USING '
        '"status"::"public"."task_status"']


def test_status_values_that_are_no_label_and_no_legacy_name_are_refused() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "status", type=varchar(20))))
    facts = DataFacts(stored_values={("tasks", "status"): ["pending", "someday", "ARCHIVED"]})
    planned = _plan(actual, facts)
    assert planned.refusals == [Refusal(
        "tasks.status",
        "values ['ARCHIVED', 'someday'] are not labels of task_status ['pending', 'in_progress', 'completed', "
        "'cancelled'] and have no known mapping",
        "update those rows to target labels, then plan again")]
    assert not any(s.action == "alter_columns" for s in planned.steps)


@pytest.mark.parametrize(("column", "old"), [("due_at", "date"), ("status", "integer")])
def test_a_type_change_with_no_known_conversion_is_refused(column: str, old: str) -> None:
    # Only timestamp -> timestamptz and text -> enum have a rule; a date or an integer has none.
    new = {"due_at": "timestamp with time zone", "status": "task_status"}[column]
    planned = _plan(_full(tasks=with_rows(replace_column(tasks(), column, type=old))))
    assert planned.refusals == [Refusal(
        f"tasks.{column}", f"type {old} -> {new} has no known safe conversion",
        "convert the column by hand (or tell us the rule), then plan again")]


def test_a_collation_that_differs_is_reset_to_the_types_default() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "title", collation="C")))
    alter = _alter(_plan(actual))
    assert alter.sql == ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" TYPE character varying(500) '
                         'COLLATE "default"']
    assert alter.safety == "rewrites table"  # its indexes are rebuilt


def test_a_missing_not_null_column_without_default_is_added_only_to_an_empty_table() -> None:
    without_title = dataclasses.replace(tasks(), columns=tuple(c for c in tasks().columns if c.name != "title"))
    empty = _alter(_plan(_full(tasks=without_title)))
    assert empty.sql == ['ALTER TABLE "public"."tasks" ADD COLUMN "title" character varying(500) NOT NULL']
    # With rows there is no value to give them: the table is archived and recreated instead (archive.py).
    planned = _plan(_full(tasks=with_rows(without_title)))
    assert [(s.action, s.object) for s in planned.steps] == [("archive_table", "tasks"), ("create_table", "tasks")]
    assert not any("ADD COLUMN" in sql for s in planned.steps for sql in s.sql)


def test_an_object_of_a_later_revision_that_differs_is_refused_before_anything_runs() -> None:
    from nakamura_misaki_db.bridge.planners import assemble
    from nakamura_misaki_db.diff import Difference, DiffKind

    differs = Difference(DiffKind.LATER_OBJECT_DIFFERS, "projects", expected="as revision 0003 creates it",
                         actual="column name is text, not varchar(200)")
    planned = assemble(TARGET, TARGET, [differs], DataFacts(), {}, None, "00000000-0000-4000-8000-0000000000aa")
    assert planned.refusals == [Refusal(
        "projects", "should be as revision 0003 creates it, but: column name is text, not varchar(200)",
        "make it match that definition (or rename it out of the way) before the bridge, then plan again; the "
        "revision would otherwise refuse it on the next deploy")]


# -- plan_unique without duplicates: each step in full ---------------------------------------------------------

UQ = "uq_conversations_user_channel"


def _unique_planned(table, facts: DataFacts | None = None):
    """plan_unique for conversations' (user_id, channel_id), the target's uq_conversations_user_channel."""
    from nakamura_misaki_db.bridge.planners.constraints import plan_unique

    return plan_unique(table, UQ, ["user_id", "channel_id"], facts or DataFacts(), "run-1")


def _unique_steps(table, facts: DataFacts | None = None):
    return _unique_planned(table, facts).steps


def _attach(rows: int, adopting: bool = False) -> Step:
    return Step(
        "add_unique", UQ,
        f"attach index {UQ} as the unique constraint on conversations (user_id, channel_id)"
        + (" (adopting the index an earlier run built)" if adopting else ""),
        [f'ALTER TABLE "public"."conversations" ADD CONSTRAINT "{UQ}" UNIQUE USING INDEX "{UQ}"'],
        "the target has this unique constraint; the index exists, so this only records it (no scan)",
        "catalog-only", "conversations", rows, ["ACCESS EXCLUSIVE on conversations (a moment)"])


BUILD_WHY = (f"the index of unique constraint {UQ}, built without blocking writers; should a duplicate be written "
             "meanwhile, the build fails, the index is dropped, and a rerun moves that duplicate too")


def _build(rows: int, why: str = BUILD_WHY, drop_first: bool = False) -> Step:
    return Step(
        "build_unique_index", UQ, f"build index {UQ} on conversations (user_id, channel_id) CONCURRENTLY, before the "
        "transaction",
        ["SET maintenance_work_mem = '256MB'",
         *([f'DROP INDEX CONCURRENTLY IF EXISTS "public"."{UQ}"'] if drop_first else []),
         f'CREATE UNIQUE INDEX CONCURRENTLY "{UQ}" ON "public"."conversations" ("user_id", "channel_id")',
         "RESET maintenance_work_mem"],
        why, "builds index", "conversations", rows,
        ["SHARE UPDATE EXCLUSIVE on conversations (writers are not blocked)"], phase=1)


def test_unique_on_an_empty_table_is_one_catalog_step() -> None:
    table = dataclasses.replace(conversations(), uniques=())
    assert _unique_steps(table) == [Step(
        "add_unique", UQ, f"add unique constraint {UQ} on conversations (user_id, channel_id)",
        [f"ALTER TABLE public.conversations ADD CONSTRAINT {UQ} UNIQUE (user_id, channel_id)"],
        "the target has this unique constraint", "catalog-only", "conversations", 0,
        ["ACCESS EXCLUSIVE on conversations"])]


def test_unique_with_rows_builds_the_index_concurrently_then_attaches_it() -> None:
    table = with_rows(dataclasses.replace(conversations(), uniques=()), 5000)
    assert _unique_steps(table) == [_build(5000), _attach(5000)]


def test_an_index_an_earlier_run_left_is_adopted_or_rebuilt() -> None:
    from nakamura_misaki_db.schema.shapes import Index

    base = with_rows(dataclasses.replace(conversations(), uniques=()), 5000)
    left = Index(UQ, ("user_id", "channel_id"), True)
    table = dataclasses.replace(base, indexes=(*base.indexes, left))
    assert _unique_steps(table) == [_attach(5000, adopting=True)]
    invalid = _unique_steps(table, DataFacts(invalid_indexes=frozenset({UQ})))
    assert invalid == [_build(5000, f"an earlier run left {UQ} invalid; rebuilt: {BUILD_WHY}", drop_first=True),
                       _attach(5000)]
    for unlike in (dataclasses.replace(left, columns=("channel_id", "user_id")),
                   dataclasses.replace(left, unique=False), dataclasses.replace(left, where="(user_id IS NOT NULL)")):
        other = dataclasses.replace(base, indexes=(*base.indexes, unlike))
        assert _unique_steps(other) == [
            _build(5000, f"an earlier run left {UQ} unlike the target; rebuilt: {BUILD_WHY}", drop_first=True),
            _attach(5000)]


# -- an enum rebuilt: the step in full, and the refusal naming every use ----------------------------------------

def test_a_rebuild_names_every_table_using_the_type_its_rows_and_its_locks() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    # A legacy label (IN_PROGRESS -> in_progress) renamed and an unused extra one dropped: a rebuild.
    current = ["pending", "IN_PROGRESS", "completed", "cancelled", "archived"]
    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS), actual=current)
    facts = DataFacts(enum_columns={"task_status": [("public", "tasks", "status"), ("crm", "deals", "stage"),
                                                    ("public", "tasks", "previous_status")]})
    [step] = plan_enums([differs], facts, {"tasks": 1000, "crm.deals": 20, "notes": 5}).steps
    assert (step.action, step.object, step.safety, step.table, step.rows) == (
        "rebuild_enum", "task_status", "rewrites table", "crm.deals, tasks", 1020)
    assert step.summary == ("rebuild enum task_status as ('pending', 'in_progress', 'completed', 'cancelled') (no row "
                            "uses the labels it drops or moves)")
    assert step.reason == f"task_status has labels {current}; target {list(TASK_STATUS)}"
    assert step.locks == ["ACCESS EXCLUSIVE on type task_status", "ACCESS EXCLUSIVE on crm.deals",
                          "ACCESS EXCLUSIVE on tasks"]
    [block] = step.sql
    assert "v_schema   constant text   := 'public';" in block
    assert "v_target   constant text[] := ARRAY['pending', 'in_progress', 'completed', 'cancelled']::text[];" in block
    assert "v_from     constant text[] := ARRAY['IN_PROGRESS']::text[];" in block  # the rename kept in the rebuild
    assert "v_to       constant text[] := ARRAY['in_progress']::text[];" in block


def test_a_rebuild_of_a_type_no_column_uses_is_catalog_only() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                         actual=[*TASK_STATUS, "archived"])
    [step] = plan_enums([differs], DataFacts(), {"tasks": 1000}).steps
    assert (step.safety, step.table, step.rows, step.locks) == (
        "catalog-only", None, 0, ["ACCESS EXCLUSIVE on type task_status"])


def test_rows_using_dropped_labels_are_refused_listing_each_column() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                         actual=[*TASK_STATUS, "archived"])
    facts = DataFacts(label_use={"task_status": {"public.tasks.status": 1200, "crm.deals.stage": 3}})
    planned = plan_enums([differs], facts, {})
    assert planned.steps == []
    assert planned.refusals == [Refusal(
        "enum task_status",
        f"labels ['archived'] are not in the target {list(TASK_STATUS)} and no mapping applies and rows use them: "
        "public.tasks.status (1,200 rows), crm.deals.stage (3 rows)",
        "update those rows to target labels (or add a mapping), then plan again")]
    reordered = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                           actual=list(reversed(TASK_STATUS)))
    facts = DataFacts(label_use={"task_status": {"public.tasks.status": 4}})
    assert [r.problem for r in plan_enums([reordered], facts, {}).refusals] == [
        f"labels are in another order than the target {list(TASK_STATUS)} and rows use them: "
        "public.tasks.status (4 rows)"]


def test_defaults_set_and_dropped_in_one_step_in_full() -> None:
    # target-schema.md: employees.is_active DEFAULT true, employees.created_at/updated_at DEFAULT now().
    employees = TARGET.tables["employees"]
    actual_table = with_rows(dataclasses.replace(employees, columns=tuple(
        dataclasses.replace(c, default=None) if c.name in ("is_active", "updated_at")
        else dataclasses.replace(c, default="'?'::text") if c.name == "name" else c
        for c in employees.columns)), 40)
    [step] = _plan(_full(employees=actual_table)).steps
    assert step == Step(
        "set_defaults", "employees",
        "set server defaults on employees: is_active, updated_at; drop server defaults on employees: name",
        ['ALTER TABLE "public"."employees" ALTER COLUMN "name" DROP DEFAULT, ALTER COLUMN "is_active" SET DEFAULT '
         'true, ALTER COLUMN "updated_at" SET DEFAULT now()'],
        "the target's columns have these defaults (and no default where one is dropped)", "catalog-only",
        "employees", 40, ["ACCESS EXCLUSIVE on employees"])
    only_set = dataclasses.replace(actual_table, columns=tuple(
        dataclasses.replace(c, default=None) if c.name == "name" else c for c in actual_table.columns))
    [step] = _plan(_full(employees=only_set)).steps
    assert (step.summary, step.reason) == ("set server defaults on employees: is_active, updated_at",
                                           "the target's columns have these defaults")


def test_labels_renamed_and_added_in_place_each_its_own_step() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    lock = ["ACCESS EXCLUSIVE on type task_status"]
    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                         actual=["IN_PROGRESS", "completed"])
    assert plan_enums([differs], DataFacts(), {}).steps == [
        Step("rename_enum_label", "task_status.IN_PROGRESS", "rename label IN_PROGRESS -> in_progress of enum "
             "task_status", ["ALTER TYPE \"public\".\"task_status\" RENAME VALUE 'IN_PROGRESS' TO 'in_progress'"],
             "legacy spelling 'IN_PROGRESS' of target label 'in_progress'", "catalog-only", locks=lock),
        Step("add_enum_label", "task_status.pending", "add label pending to enum task_status before in_progress",
             ["ALTER TYPE \"public\".\"task_status\" ADD VALUE IF NOT EXISTS 'pending' BEFORE 'in_progress'"],
             "the target's task_status has 'pending'", "catalog-only", locks=lock),
        Step("add_enum_label", "task_status.cancelled", "add label cancelled to enum task_status after completed",
             ["ALTER TYPE \"public\".\"task_status\" ADD VALUE IF NOT EXISTS 'cancelled' AFTER 'completed'"],
             "the target's task_status has 'cancelled'", "catalog-only", locks=lock),
    ]
    empty = Difference(DiffKind.ENUM_LABELS, "task_status", expected=["pending", "done"], actual=[])
    assert [(s.summary, s.sql) for s in plan_enums([empty], DataFacts(), {}).steps] == [
        ("add label pending to enum task_status",
         ["ALTER TYPE \"public\".\"task_status\" ADD VALUE IF NOT EXISTS 'pending'"]),
        ("add label done to enum task_status after pending",
         ["ALTER TYPE \"public\".\"task_status\" ADD VALUE IF NOT EXISTS 'done' AFTER 'pending'"])]


def test_a_rebuild_counts_a_table_without_an_estimate_as_no_rows() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                         actual=[*TASK_STATUS, "archived"])
    facts = DataFacts(enum_columns={"task_status": [("public", "tasks", "status"), ("crm", "deals", "stage")]})
    [step] = plan_enums([differs], facts, {"tasks": 1000}).steps
    assert step.rows == 1000


# -- plan_columns: the step in full, naive timestamps, the facts' probes ---------------------------------------

def test_the_alter_step_in_full_with_a_nullable_column_added_to_a_table_with_rows() -> None:
    without = dataclasses.replace(tasks(), columns=tuple(c for c in tasks().columns if c.name != "description"))
    actual = _full(tasks=with_rows(replace_column(without, "title", nullable=True), 300))
    [alter] = _plan(actual).steps
    assert alter == Step(
        "alter_columns", "tasks", "alter columns of tasks: title NOT NULL (checked); add description",
        ['ALTER TABLE "public"."tasks" ALTER COLUMN "title" SET NOT NULL, ADD COLUMN "description" text'],
        "column types/nullability differ from the target's", "validates data", "tasks", 300,
        ["ACCESS EXCLUSIVE on tasks"])


def test_naive_timestamps_with_rows_and_no_zone_are_refused_saying_which_option() -> None:
    actual = _full(tasks=with_rows(replace_column(tasks(), "due_at", type=TS)))
    assert _plan(actual).refusals == [Refusal(
        "tasks", "has naive timestamps (timestamp without time zone) in a table with rows; converting them needs "
        "the zone they were written in",
        "rerun with --legacy-timezone ZONE (the application server's zone, e.g. Asia/Tokyo)")]


def test_an_empty_table_converts_naive_timestamps_as_utc_whatever_zone_is_given() -> None:
    planned = _plan(_full(tasks=replace_column(tasks(), "due_at", type=TS)), zone="Asia/Tokyo")
    assert planned.steps[0].sql[0] == "SET LOCAL TimeZone = 'UTC'"


def test_an_index_step_on_a_table_never_analyzed_reports_no_rows() -> None:
    t = dataclasses.replace(tasks(), estimated_rows=None,
                            indexes=tuple(i for i in tasks().indexes if i.name != "ix_tasks_status"))
    [step] = _plan(_full(tasks=t)).steps
    assert (step.object, step.rows) == ("ix_tasks_status", 0)


def test_the_victims_query_selects_all_but_the_most_recent_row_of_each_duplicated_key() -> None:
    from nakamura_misaki_db.bridge.planners.dependents import victims_sql
    from nakamura_misaki_db.catalog.dependents import Touched

    out = victims_sql(_full(), Touched(losing_rows={"conversations": ("user_id", "channel_id")}))
    assert list(out) == ["conversations"]
    assert 'PARTITION BY c."user_id", c."channel_id" ORDER BY c."last_message_at" DESC, c."conversation_id" DESC' \
        in out["conversations"]
    assert out["conversations"].endswith("WHERE r.rn > 1")


def test_labels_to_probe_are_the_ones_no_legacy_mapping_renames() -> None:
    from nakamura_misaki_db.bridge.planners.enums import labels_to_probe
    from nakamura_misaki_db.diff import Difference, DiffKind

    # COMPLETED is the legacy spelling of completed (renamed in place); archived has no mapping: only it is probed.
    differs = Difference(DiffKind.ENUM_LABELS, "task_status", expected=list(TASK_STATUS),
                         actual=["pending", "in_progress", "COMPLETED", "cancelled", "archived"])
    assert labels_to_probe([differs]) == {"task_status": ["archived"]}


# -- assemble: which table's steps run first, and the tables created -------------------------------------------

def test_the_table_rewritten_longest_goes_first_whatever_the_target_order() -> None:
    # The target lists conversations before tasks; tasks has more rows, so its rewrite runs first and
    # conversations' writers are not kept waiting behind a lock taken before tasks' long rewrite.
    actual = _full(conversations=with_rows(replace_column(conversations(), "created_at", type=TS), 10),
                   tasks=with_rows(replace_column(tasks(), "due_at", type=TS), 5000))
    steps = _plan(actual, zone="Asia/Tokyo").steps
    assert [(s.action, s.object, s.safety, s.rows) for s in steps] == [
        ("alter_columns", "tasks", "rewrites table", 5000), ("alter_columns", "conversations", "rewrites table", 10)]


def test_tables_are_ranked_by_what_runs_inside_the_transaction_not_before_it() -> None:
    # conversations' duplicates move and its index is built before the transaction (phase 1); inside it
    # only a catalog-only attach remains, like tasks' default: a tie broken by rows, tasks (5,000) first.
    actual = _full(conversations=with_rows(dataclasses.replace(conversations(), uniques=()), 10),
                   tasks=with_rows(replace_column(tasks(), "description", default="'x'::text"), 5000))
    facts = DataFacts(duplicates={("conversations", ("user_id", "channel_id")): Duplicates(3, 5)})
    steps = _plan(actual, facts).steps
    assert [(s.action, s.object, s.phase, s.rows) for s in steps] == [
        ("archive_duplicates", "conversations(user_id, channel_id)", 1, 10),
        ("build_unique_index", UQ, 1, 10),
        ("set_defaults", "tasks", 2, 5000),
        ("add_unique", UQ, 2, 10),
    ]


def test_an_enum_rebuild_over_a_table_without_an_estimate_counts_zero_rows() -> None:
    actual = _with_labels("pending", "in_progress", "completed", "cancelled", "archived")
    actual = dataclasses.replace(actual, tables={**actual.tables, "tasks": tasks(estimated_rows=None)})
    facts = DataFacts(enum_columns={"task_status": [("public", "tasks", "status")]})
    [step] = _plan(actual, facts).steps
    assert (step.action, step.table, step.rows, step.safety_text()) == (
        "rebuild_enum", "tasks", 0, "rewrites table tasks (~0 rows)")


def test_missing_and_archived_tables_are_created_empty_each_saying_why() -> None:
    from nakamura_misaki_db.bridge.planners.tables import plan_create_tables

    # handoffs is missing; tasks exists but moves to the archive; every other table stays as it is.
    actual = dataclasses.replace(TARGET, tables={k: v for k, v in TARGET.tables.items() if k != "handoffs"})
    steps = plan_create_tables(actual, TARGET, {"tasks"}).steps
    # target-schema.md: handoffs' and tasks' indexes.
    indexes = {
        "handoffs": ["CREATE INDEX idx_handoffs_from_user ON public.handoffs (from_user_id)",
                     "CREATE INDEX idx_handoffs_status ON public.handoffs (status)",
                     "CREATE INDEX idx_handoffs_to_user ON public.handoffs (to_user_id)"],
        "tasks": ["CREATE INDEX ix_tasks_assignee_status ON public.tasks (assignee_user_id, status)",
                  "CREATE INDEX ix_tasks_assignee_user_id ON public.tasks (assignee_user_id)",
                  "CREATE INDEX ix_tasks_due_at ON public.tasks (due_at)",
                  "CREATE INDEX ix_tasks_status ON public.tasks (status)"],
    }
    reasons = {"handoffs": "the target has table handoffs; the database does not",
               "tasks": "tasks was moved to the archive"}
    assert [s.object for s in steps] == ["handoffs", "tasks"]
    for step in steps:
        name = step.object
        assert step.sql[0].startswith(f"CREATE TABLE public.{name} (")
        assert step == Step("create_table", name, f"create table {name} with its indexes and constraints",
                            [step.sql[0], *indexes[name]], reasons[name], "catalog-only", name, 0,
                            [f"new table {name}"])
    assert "CONSTRAINT handoffs_pkey PRIMARY KEY (handoff_id)" in steps[0].sql[0]
    assert "status public.task_status NOT NULL" in steps[1].sql[0]


# -- foreign keys: each key decided on its own ---------------------------------------------------------------

EMPLOYEE_FK, SKILL_FK = "employee_skills_employee_id_fkey", "employee_skills_skill_id_fkey"


def _add_key(name: str, parent: str, rows: int) -> Step:
    # target-schema.md: both keys of employee_skills are ON DELETE CASCADE to their parent's key column.
    column = {"employees": "employee_id", "business_skills": "skill_id"}[parent]
    return Step("add_foreign_key", name, f"add foreign key {name} on employee_skills -> {parent}",
                [f"ALTER TABLE public.employee_skills ADD CONSTRAINT {name} FOREIGN KEY({column}) "
                 f"REFERENCES public.{parent} ({column}) ON DELETE CASCADE"],
                "the target has this foreign key", "validates data", "employee_skills", rows,
                ["SHARE ROW EXCLUSIVE on employee_skills", f"SHARE ROW EXCLUSIVE on {parent}"])


def test_a_key_refused_or_skipped_does_not_stop_the_next_one_being_planned() -> None:
    from nakamura_misaki_db.bridge.planners.constraints import plan_foreign_keys
    from nakamura_misaki_db.diff import Difference, DiffKind

    es = TARGET.tables["employee_skills"]
    actual = _full(employee_skills=dataclasses.replace(es, foreign_keys=(), estimated_rows=None, has_rows=True))
    missing = [Difference(DiffKind.MISSING_FOREIGN_KEY, name, table="employee_skills")
               for name in (EMPLOYEE_FK, SKILL_FK)]
    other = Difference(DiffKind.MISSING_INDEX, "ix_tasks_status", table="tasks")
    archived_table = Difference(DiffKind.MISSING_FOREIGN_KEY, "notes_task_id_fkey", table="notes")
    # Another kind of difference, and a key of a table that moves to the archive, come first: skipped.
    planned = plan_foreign_keys(actual, [other, archived_table, *missing], {"notes"}, DataFacts())
    # No estimate counts as zero rows.
    assert planned.steps == [_add_key(EMPLOYEE_FK, "employees", 0), _add_key(SKILL_FK, "business_skills", 0)]
    assert planned.refusals == []
    # Orphans refuse the first key, with every key listed; the second is still planned.
    facts = DataFacts(orphans={("employee_skills", EMPLOYEE_FK): ["7", "9"]})
    planned = plan_foreign_keys(actual, missing, set(), facts)
    assert planned.refusals == [Refusal(EMPLOYEE_FK, "rows of employee_skills point at missing employees rows "
                                        "(keys: 7, 9)", "fix or remove those rows, then plan again")]
    assert planned.steps == [_add_key(SKILL_FK, "business_skills", 0)]
    # A parent moving to the archive refuses the first key only.
    planned = plan_foreign_keys(actual, missing, {"employees"}, DataFacts())
    assert [r.object for r in planned.refusals] == [EMPLOYEE_FK]
    assert planned.steps == [_add_key(SKILL_FK, "business_skills", 0)]


def test_a_missing_enum_is_created_with_its_reason_and_no_table_lock() -> None:
    from nakamura_misaki_db.bridge.planners.enums import plan_enums
    from nakamura_misaki_db.diff import Difference, DiffKind

    missing = Difference(DiffKind.MISSING_ENUM, "task_status", expected=list(TASK_STATUS))
    [step] = plan_enums([missing], DataFacts(), {}).steps
    # The SQL is PGEnum's idempotent create (a DO block; tested with PGEnum), from the frozen target's labels.
    [sql] = step.sql
    assert """CREATE TYPE "public"."task_status" AS ENUM ('pending', 'in_progress', 'completed', 'cancelled');""" in sql
    assert step == Step("create_enum", "task_status", f"create enum task_status {TASK_STATUS}", [sql],
                        "the target has enum task_status", "catalog-only", locks=["none"])
