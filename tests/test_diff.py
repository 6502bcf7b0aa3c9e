"""diff() on catalogs built by hand: table-driven, no PostgreSQL, milliseconds.

Each case perturbs one thing of the target's shape and says, by hand, which
difference must come out (kind and object), and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from nakamura_misaki_db.diff import DiffKind, blocking, diff
from nakamura_misaki_db.schema.shapes import Catalog, Check, ForeignKey, Index, Table, Unique
from nakamura_misaki_db.schema.target import target_catalog

from .catalogs import (
    SKILL_CATEGORY,
    TASK_STATUS,
    TSTZ,
    catalog,
    conversations,
    employee_skills,
    replace_column,
    tasks,
    varchar,
)

EXPECTED = catalog(tasks(), conversations(), employee_skills())


def _table(name: str, change: Callable[[Table], Table]) -> Callable[[Catalog], Catalog]:
    def apply(c: Catalog) -> Catalog:
        return dataclasses.replace(c, tables={**c.tables, name: change(c.tables[name])})
    return apply


def _drop(name: str) -> Callable[[Catalog], Catalog]:
    return lambda c: dataclasses.replace(c, tables={k: v for k, v in c.tables.items() if k != name})


CASES: dict[str, tuple[Callable[[Catalog], Catalog], list[tuple[DiffKind, str]]]] = {
    "identical": (lambda c: c, []),
    "varchar narrower": (_table("tasks", lambda t: replace_column(t, "title", type=varchar(200))),
                         [(DiffKind.COLUMN_TYPE, "tasks.title")]),
    "naive timestamp": (_table("tasks", lambda t: replace_column(t, "due_at", type="timestamp without time zone")),
                        [(DiffKind.COLUMN_TYPE, "tasks.due_at")]),
    "nullable": (_table("tasks", lambda t: replace_column(t, "title", nullable=True)),
                 [(DiffKind.COLUMN_NULLABLE, "tasks.title")]),
    "default missing": (_table("employee_skills", lambda t: replace_column(t, "acquired_at", default=None)),
                        [(DiffKind.MISSING_DEFAULT, "employee_skills.acquired_at")]),
    # A changed or an extra default is drift too, not only a missing one.
    "default changed": (_table("employee_skills", lambda t: replace_column(t, "acquired_at",
                                                                         default="CURRENT_TIMESTAMP")),
                        [(DiffKind.COLUMN_DEFAULT, "employee_skills.acquired_at")]),
    "default extra": (_table("tasks", lambda t: replace_column(t, "title", default="'untitled'::character varying")),
                      [(DiffKind.COLUMN_DEFAULT, "tasks.title")]),
    "collation": (_table("tasks", lambda t: replace_column(t, "title", collation="C")),
                  [(DiffKind.COLUMN_COLLATION, "tasks.title")]),
    "column missing": (_table("tasks", lambda t: dataclasses.replace(
        t, columns=tuple(c for c in t.columns if c.name != "description"))),
        [(DiffKind.MISSING_COLUMN, "tasks.description")]),
    "column extra": (_table("tasks", lambda t: dataclasses.replace(
        t, columns=(*t.columns, dataclasses.replace(t.columns[2], name="priority")))),
        [(DiffKind.EXTRA_COLUMN, "tasks.priority")]),
    "primary key": (_table("tasks", lambda t: dataclasses.replace(t, primary_key=Unique("pk_tasks", ("id",)))),
                    [(DiffKind.PRIMARY_KEY, "tasks")]),
    "unique missing": (_table("conversations", lambda t: dataclasses.replace(t, uniques=())),
                       [(DiffKind.MISSING_UNIQUE, "uq_conversations_user_channel")]),
    "unique columns": (_table("conversations", lambda t: dataclasses.replace(
        t, uniques=(Unique("uq_conversations_user_channel", ("channel_id", "user_id")),))),
        [(DiffKind.UNIQUE_DEFINITION, "uq_conversations_user_channel")]),
    "unique extra": (_table("tasks", lambda t: dataclasses.replace(t, uniques=(Unique("uq_title", ("title",)),))),
                     [(DiffKind.EXTRA_UNIQUE, "uq_title")]),
    "foreign key on delete": (_table("employee_skills", lambda t: dataclasses.replace(t, foreign_keys=(
        ForeignKey("employee_skills_employee_id_fkey", ("employee_id",), "employees", ("employee_id",), None),
        t.foreign_keys[1]))), [(DiffKind.FOREIGN_KEY_DEFINITION, "employee_skills_employee_id_fkey")]),
    "foreign key missing": (_table("employee_skills", lambda t: dataclasses.replace(
        t, foreign_keys=t.foreign_keys[1:])), [(DiffKind.MISSING_FOREIGN_KEY, "employee_skills_employee_id_fkey")]),
    "check extra": (_table("tasks", lambda t: dataclasses.replace(t, checks=(Check("ck_title", "(title <> '')"),))),
                    [(DiffKind.EXTRA_CHECK, "ck_title")]),
    "index missing": (_table("tasks", lambda t: dataclasses.replace(
        t, indexes=tuple(i for i in t.indexes if i.name != "ix_tasks_status"))),
        [(DiffKind.MISSING_INDEX, "ix_tasks_status")]),
    "index partial": (_table("tasks", lambda t: dataclasses.replace(t, indexes=tuple(
        dataclasses.replace(i, where="(due_at IS NOT NULL)") if i.name == "ix_tasks_due_at" else i
        for i in t.indexes))), [(DiffKind.INDEX_DEFINITION, "ix_tasks_due_at")]),
    "index sort order": (_table("tasks", lambda t: dataclasses.replace(t, indexes=tuple(
        dataclasses.replace(i, options=("due_at DESC",)) if i.name == "ix_tasks_due_at" else i
        for i in t.indexes))), [(DiffKind.INDEX_DEFINITION, "ix_tasks_due_at")]),
    "index extra": (_table("tasks", lambda t: dataclasses.replace(
        t, indexes=(*t.indexes, Index("idx_tasks_assignee_due", ("assignee_user_id", "due_at"), False)))),
        [(DiffKind.EXTRA_INDEX, "idx_tasks_assignee_due")]),
    "enum order": (lambda c: dataclasses.replace(c, enums={**c.enums, "task_status": tuple(reversed(TASK_STATUS))}),
                   [(DiffKind.ENUM_LABELS, "task_status")]),
    "enum missing": (lambda c: dataclasses.replace(c, enums={"task_status": TASK_STATUS}),
                     [(DiffKind.MISSING_ENUM, "skill_category")]),
    "enum extra": (lambda c: dataclasses.replace(c, enums={**c.enums, "mood": ("calm",)}),
                   [(DiffKind.EXTRA_ENUM, "mood")]),
    "extension missing": (lambda c: dataclasses.replace(c, extensions={}), [(DiffKind.MISSING_EXTENSION, "vector")]),
    "extension schema": (lambda c: dataclasses.replace(c, extensions={"vector": "extensions"}),
                         [(DiffKind.EXTENSION_SCHEMA, "vector")]),
    "table missing": (_drop("conversations"), [(DiffKind.MISSING_TABLE, "conversations")]),
    "legacy table": (lambda c: dataclasses.replace(c, tables={**c.tables, "notes": dataclasses.replace(
        c.tables["tasks"], name="notes")}), [(DiffKind.LEGACY_TABLE, "notes")]),
    "unknown table": (lambda c: dataclasses.replace(c, tables={**c.tables, "my_notes": dataclasses.replace(
        c.tables["tasks"], name="my_notes")}), [(DiffKind.UNKNOWN_TABLE, "my_notes")]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_change_gives_exactly_one_difference(case: str) -> None:
    change, expected = CASES[case]
    found = [(d.kind, d.object) for d in diff(change(EXPECTED), EXPECTED)]
    assert found == expected


# What each difference of CASES carries besides its kind and object: (table, expected, actual), from the spec.
FK_EMPLOYEE = {"columns": ["employee_id"], "references": "employees(employee_id)", "on_delete": "CASCADE"}
BTREE = {"unique": False, "method": "btree"}
CARRIED: dict[str, tuple[str | None, object, object]] = {
    "varchar narrower": ("tasks", "character varying(500)", "character varying(200)"),
    "naive timestamp": ("tasks", "timestamp with time zone", "timestamp without time zone"),
    "nullable": ("tasks", "NOT NULL", "NULL"),
    "default missing": ("employee_skills", "now()", None),
    "default changed": ("employee_skills", "now()", "CURRENT_TIMESTAMP"),
    "default extra": ("tasks", None, "'untitled'::character varying"),
    "collation": ("tasks", "default", "C"),
    "column missing": ("tasks", "text", None),
    "column extra": ("tasks", None, "text"),
    "primary key": ("tasks", {"name": "tasks_pkey", "columns": ["id"]}, {"name": "pk_tasks", "columns": ["id"]}),
    "unique missing": ("conversations", ["user_id", "channel_id"], None),
    "unique columns": ("conversations", ["user_id", "channel_id"], ["channel_id", "user_id"]),
    "unique extra": ("tasks", None, ["title"]),
    "foreign key on delete": ("employee_skills", FK_EMPLOYEE, {**FK_EMPLOYEE, "on_delete": None}),
    "foreign key missing": ("employee_skills", FK_EMPLOYEE, None),
    "check extra": ("tasks", None, "(title <> '')"),
    "index missing": ("tasks", {"columns": ["status"], **BTREE}, None),
    "index partial": ("tasks", {"columns": ["due_at"], **BTREE},
                      {"columns": ["due_at"], **BTREE, "where": "(due_at IS NOT NULL)"}),
    "index sort order": ("tasks", {"columns": ["due_at"], **BTREE},
                         {"columns": ["due_at"], **BTREE, "options": ["due_at DESC"]}),
    "index extra": ("tasks", None, {"columns": ["assignee_user_id", "due_at"], **BTREE}),
    "enum order": (None, list(TASK_STATUS), list(reversed(TASK_STATUS))),
    "enum missing": (None, list(SKILL_CATEGORY), None),
    "enum extra": (None, None, ["calm"]),
    "extension missing": (None, "public", None),
    "extension schema": (None, "public", "extensions"),
    "table missing": ("conversations", None, None),
    "legacy table": ("notes", None, None),
    "unknown table": ("my_notes", None, None),
}


@pytest.mark.parametrize("case", list(CARRIED))
def test_each_difference_carries_its_table_what_is_expected_and_what_was_found(case: str) -> None:
    change, _ = CASES[case]
    [difference] = diff(change(EXPECTED), EXPECTED)
    assert (difference.table, difference.expected, difference.actual) == CARRIED[case]


def test_every_case_says_what_its_difference_carries() -> None:
    assert set(CARRIED) == set(CASES) - {"identical"}


def test_additive_and_blocking_kinds() -> None:
    actual = CASES["default missing"][0](EXPECTED)
    assert [d.additive for d in diff(actual, EXPECTED)] == [True]
    assert blocking(diff(actual, EXPECTED)) == []
    changed = CASES["default changed"][0](EXPECTED)
    assert [d.kind for d in blocking(diff(changed, EXPECTED))] == [DiffKind.COLUMN_DEFAULT]
    # Objects we do not own are reported, never blocking.
    unknown = CASES["unknown table"][0](EXPECTED)
    assert blocking(diff(unknown, EXPECTED)) == []


def test_describe_never_prints_none_for_both_sides() -> None:
    [d] = diff(CASES["table missing"][0](EXPECTED), EXPECTED)
    assert d.describe() == "missing table: conversations"


def test_the_frozen_target_has_the_spec_shape_of_these_tables() -> None:
    # target-schema.md, restated in tests/catalogs.py: the frozen definition must agree.
    target = target_catalog()
    for name in ("tasks", "conversations", "employee_skills"):
        got = dataclasses.replace(target.tables[name], estimated_rows=0, has_rows=False)
        assert diff(catalog(got), catalog(EXPECTED.tables[name])) == [], name
    assert target.enums["task_status"] == TASK_STATUS
    assert target.tables["tasks"].column("due_at").type == TSTZ  # type: ignore[union-attr]


# -- objects of later revisions (accept_later) ---------------------------------------------------

def _later():
    from nakamura_misaki_db.schema.shapes import Column, LaterObjects

    notes = dataclasses.replace(tasks(), name="projects", indexes=(), checks=())
    return LaterObjects(
        tables={"projects": ("0003", notes)},
        columns={("tasks", "priority"): ("0007", Column("priority", "integer", False, "0"))},
        checks={("tasks", "ck_priority"): ("0007", Check("ck_priority", "((priority >= 0))"))},
        indexes={("tasks", "ix_tasks_priority"): ("0007", Index("ix_tasks_priority", ("priority",), False))},
    )


def _with_later_objects(*, table=None, column=None, check=None, index=None) -> Catalog:
    from nakamura_misaki_db.schema.shapes import Column

    later = _later()
    t = tasks()
    t = dataclasses.replace(t, columns=(*t.columns, column or Column("priority", "integer", False, "0")))
    t = dataclasses.replace(t, checks=(check or Check("ck_priority", "((priority >= 0))"),))
    t = dataclasses.replace(t, indexes=(*t.indexes, index or Index("ix_tasks_priority", ("priority",), False)))
    projects = table or later.tables["projects"][1]
    return catalog(t, conversations(), employee_skills(), projects)


def _accept(actual: Catalog):
    from nakamura_misaki_db.diff.later import accept_later

    return accept_later(diff(actual, EXPECTED), actual, _later())


def test_later_objects_equal_to_their_revision_are_kept_not_drift() -> None:
    left, kept = _accept(_with_later_objects())
    assert left == []
    assert sorted(kept) == [
        "check constraint ck_priority on tasks: already as revision 0007 defines it (adopted there)",
        "column tasks.priority: already as revision 0007 defines it (adopted there)",
        "index ix_tasks_priority on tasks: already as revision 0007 defines it (adopted there)",
        "table projects: already as revision 0003 defines it (adopted there)",
    ]


@pytest.mark.parametrize(("changed", "obj", "expected", "actual_words"), [
    ({"column": "nullable"}, "tasks.priority", "column tasks.priority as revision 0007 defines it",
     "column nullable: tasks.priority: expected NOT NULL, found NULL"),
    ({"check": "(priority > 0)"}, "ck_priority", "check constraint ck_priority on tasks as revision 0007 defines it",
     "check definition: ck_priority: expected ((priority >= 0)), found (priority > 0)"),
    ({"index": "unique"}, "ix_tasks_priority", "index ix_tasks_priority on tasks as revision 0007 defines it",
     "index definition: ix_tasks_priority: expected columns=(priority), unique=False, method=btree, found "
     "columns=(priority), unique=True, method=btree"),
    ({"table": "title"}, "projects", "table projects as revision 0003 defines it",
     "column type: projects.title: expected character varying(500), found character varying(10)"),
], ids=["column", "check", "index", "table"])
def test_a_later_object_that_differs_is_one_refusable_difference(changed, obj, expected, actual_words) -> None:
    from nakamura_misaki_db.schema.shapes import Column

    later = _later()
    [(what, how)] = changed.items()
    if what == "column":
        actual = _with_later_objects(column=Column("priority", "integer", True, "0"))
    elif what == "check":
        actual = _with_later_objects(check=Check("ck_priority", how))
    elif what == "index":
        actual = _with_later_objects(index=Index("ix_tasks_priority", ("priority",), True))
    else:
        actual = _with_later_objects(table=replace_column(later.tables["projects"][1], "title", type=varchar(10)))
    left, kept = _accept(actual)
    [d] = left
    # The difference sits on the table that holds the object; its text is the later revision's own comparison.
    assert (d.kind, d.object, d.table, d.expected, d.actual) == (
        DiffKind.LATER_OBJECT_DIFFERS, obj, "projects" if what == "table" else "tasks", expected, actual_words)
    assert d in blocking(left)  # the later revision would refuse it: so does the bridge, up front
    assert len(kept) == 3


def test_differences_that_are_not_later_objects_pass_through() -> None:
    actual = _with_later_objects()
    actual = dataclasses.replace(actual, tables={**actual.tables, "tasks": replace_column(
        actual.tables["tasks"], "title", type=varchar(200))})
    left, kept = _accept(actual)
    assert [(d.kind, d.object) for d in left] == [(DiffKind.COLUMN_TYPE, "tasks.title")]
    assert len(kept) == 4


@pytest.mark.parametrize(("primary_key", "shown"), [
    (None, "none"),
    (Unique("pk_tasks", ("id",)), {"name": "pk_tasks", "columns": ["id"]}),
    (Unique("tasks_pkey", ("id", "title")), {"name": "tasks_pkey", "columns": ["id", "title"]}),
])
def test_a_primary_key_difference_shows_both_keys(primary_key: Unique | None, shown: object) -> None:
    # target-schema.md: tasks.id is the primary key `tasks_pkey`.
    actual = _table("tasks", lambda t: dataclasses.replace(t, primary_key=primary_key))(EXPECTED)
    [difference] = diff(actual, EXPECTED)
    assert (difference.kind, difference.object) == (DiffKind.PRIMARY_KEY, "tasks")
    assert difference.expected == {"name": "tasks_pkey", "columns": ["id"]}
    assert difference.actual == shown


def test_a_foreign_key_difference_shows_columns_reference_and_on_delete() -> None:
    # target-schema.md: employee_skills.employee_id REFERENCES employees(employee_id) ON DELETE CASCADE.
    wider = ForeignKey("employee_skills_employee_id_fkey", ("employee_id", "skill_id"), "employees",
                       ("employee_id", "skill_id"), None)
    actual = _table("employee_skills", lambda t: dataclasses.replace(
        t, foreign_keys=(wider, t.foreign_keys[1])))(EXPECTED)
    [difference] = diff(actual, EXPECTED)
    assert difference.kind == DiffKind.FOREIGN_KEY_DEFINITION
    assert difference.expected == {"columns": ["employee_id"], "references": "employees(employee_id)",
                                   "on_delete": "CASCADE"}
    assert difference.actual == {"columns": ["employee_id", "skill_id"],
                                 "references": "employees(employee_id, skill_id)", "on_delete": None}


def test_an_extra_foreign_key_is_shown_with_what_it_references() -> None:
    # target-schema.md: employee_skills has two keys; a third, to tasks, is extra and shown whole.
    extra = ForeignKey("employee_skills_task_fkey", ("id",), "tasks", ("id",), "SET NULL")
    actual = _table("employee_skills",
                    lambda t: dataclasses.replace(t, foreign_keys=(*t.foreign_keys, extra)))(EXPECTED)
    [difference] = diff(actual, EXPECTED)
    assert (difference.kind, difference.object, difference.table) == (
        DiffKind.EXTRA_FOREIGN_KEY, "employee_skills_task_fkey", "employee_skills")
    assert (difference.expected, difference.actual) == (
        None, {"columns": ["id"], "references": "tasks(id)", "on_delete": "SET NULL"})


@pytest.mark.parametrize(("expected", "actual", "line"), [
    (None, None, "foreign key definition: fk_x"),
    (None, ["a", "b"], "foreign key definition: fk_x (found (a, b))"),
    ({"columns": ["a"], "on_delete": "CASCADE"}, None,
     "foreign key definition: fk_x (expected columns=(a), on_delete=CASCADE)"),
    ({"columns": ["a"], "on_delete": "CASCADE"}, {"columns": ("a", "b"), "on_delete": None},
     "foreign key definition: fk_x: expected columns=(a), on_delete=CASCADE, found columns=(a, b), on_delete=None"),
    ("varchar(50)", "varchar(100)", "foreign key definition: fk_x: expected varchar(50), found varchar(100)"),
])
def test_a_difference_in_one_line_as_plans_and_refusals_print_it(expected: object, actual: object,
                                                                  line: str) -> None:
    from nakamura_misaki_db.diff import Difference

    assert Difference(DiffKind.FOREIGN_KEY_DEFINITION, "fk_x", "t", expected=expected, actual=actual).describe() \
        == line


def test_a_later_table_with_two_problems_is_one_difference_naming_both() -> None:
    later = _later()
    projects = replace_column(later.tables["projects"][1], "title", type=varchar(10))
    projects = replace_column(projects, "description", nullable=False)
    left, _ = _accept(_with_later_objects(table=projects))
    [d] = left
    assert (d.kind, d.object, d.table) == (DiffKind.LATER_OBJECT_DIFFERS, "projects", "projects")
    problems = str(d.actual).split("; ")
    assert len(problems) == 2, d.actual
    assert problems[0] == ("column type: projects.title: expected character varying(500), "
                           "found character varying(10)")
    assert problems[1].startswith("column nullable: projects.description")


def test_a_later_column_with_two_problems_is_one_difference_on_its_table() -> None:
    from nakamura_misaki_db.schema.shapes import Column

    # Revision 0007 (here) defines tasks.priority as integer NOT NULL DEFAULT 0.
    [d] = _accept(_with_later_objects(column=Column("priority", "integer", True, "5")))[0]
    assert (d.kind, d.object, d.table) == (DiffKind.LATER_OBJECT_DIFFERS, "tasks.priority", "tasks")
    assert d.expected == "column tasks.priority as revision 0007 defines it"
    problems = str(d.actual).split("; ")
    assert len(problems) == 2, d.actual
    assert problems[0].startswith("column nullable: tasks.priority")
    assert problems[1].startswith("column default: tasks.priority")


# -- checks and indexes: each difference in full ------------------------------------------------------------

def test_check_constraints_missing_redefined_or_extra_each_say_what_is_expected_and_found() -> None:
    from nakamura_misaki_db.diff import Difference
    from nakamura_misaki_db.diff.constraints import compare_checks

    # app-chain.md: revision 006 adds ck_priority CHECK ((priority >= 0)) to tasks.
    wanted = Check("ck_priority", "((priority >= 0))")
    expected = tasks(checks=(wanted,))
    assert compare_checks(tasks(), expected) == [
        Difference(DiffKind.MISSING_CHECK, "ck_priority", "tasks", expected="((priority >= 0))")]
    assert compare_checks(tasks(checks=(Check("ck_priority", "((priority > 0))"),)), expected) == [
        Difference(DiffKind.CHECK_DEFINITION, "ck_priority", "tasks", expected="((priority >= 0))",
                   actual="((priority > 0))")]
    assert compare_checks(tasks(checks=(wanted, Check("ck_title", "((title <> ''))"))), expected) == [
        Difference(DiffKind.EXTRA_CHECK, "ck_title", "tasks", actual="((title <> ''))")]


def test_index_shapes_name_columns_uniqueness_method_and_only_the_where_and_options_there_are() -> None:
    from nakamura_misaki_db.diff import Difference
    from nakamura_misaki_db.diff.indexes import compare_indexes, index_shape

    assert index_shape(Index("ix_tasks_due_at", ("due_at",), False)) == {
        "columns": ["due_at"], "unique": False, "method": "btree"}
    partial = Index("ix_tasks_due_at", ("due_at",), True, "hash", "(due_at IS NOT NULL)", ("due_at DESC",))
    assert index_shape(partial) == {"columns": ["due_at"], "unique": True, "method": "hash",
                                    "where": "(due_at IS NOT NULL)", "options": ["due_at DESC"]}
    # target-schema.md: ix_tasks_due_at ON tasks (due_at), a plain btree.
    changed = tasks(indexes=tuple(partial if i.name == "ix_tasks_due_at" else i for i in tasks().indexes))
    extra = Index("idx_tasks_title", ("title",), False, where="(title <> '')")
    assert compare_indexes(dataclasses.replace(changed, indexes=(*changed.indexes, extra)), tasks()) == [
        Difference(DiffKind.INDEX_DEFINITION, "ix_tasks_due_at", "tasks",
                   expected={"columns": ["due_at"], "unique": False, "method": "btree"},
                   actual={"columns": ["due_at"], "unique": True, "method": "hash", "where": "(due_at IS NOT NULL)",
                           "options": ["due_at DESC"]}),
        Difference(DiffKind.EXTRA_INDEX, "idx_tasks_title", "tasks",
                   actual={"columns": ["title"], "unique": False, "method": "btree", "where": "(title <> '')"}),
    ]
    without = tasks(indexes=tuple(i for i in tasks().indexes if i.name != "ix_tasks_status"))
    assert compare_indexes(without, tasks()) == [Difference(
        DiffKind.MISSING_INDEX, "ix_tasks_status", "tasks", expected={"columns": ["status"], "unique": False,
                                                                      "method": "btree"})]


def test_differences_come_in_one_stable_order() -> None:
    # Extensions, enums, then each expected table in definition order (a missing one in its place), within a
    # table: columns, primary key, unique, foreign key, check, index; last the tables the target lacks.
    actual = dataclasses.replace(EXPECTED, extensions={}, enums={**EXPECTED.enums, "mood": ("calm",)}, tables={
        "my_notes": dataclasses.replace(tasks(), name="my_notes"),
        "tasks": tasks(columns=tuple(c for c in tasks().columns if c.name != "description"),
                       primary_key=Unique("pk_tasks", ("id",)), uniques=(Unique("uq_title", ("title",)),),
                       checks=(Check("ck_title", "(title <> '')"),),
                       indexes=tuple(i for i in tasks().indexes if i.name != "ix_tasks_status")),
        "employee_skills": employee_skills(foreign_keys=employee_skills().foreign_keys[1:]),
        "notes": dataclasses.replace(tasks(), name="notes"),
    })
    assert [(d.kind, d.object) for d in diff(actual, EXPECTED)] == [
        (DiffKind.MISSING_EXTENSION, "vector"),
        (DiffKind.EXTRA_ENUM, "mood"),
        (DiffKind.MISSING_COLUMN, "tasks.description"),
        (DiffKind.PRIMARY_KEY, "tasks"),
        (DiffKind.EXTRA_UNIQUE, "uq_title"),
        (DiffKind.EXTRA_CHECK, "ck_title"),
        (DiffKind.MISSING_INDEX, "ix_tasks_status"),
        (DiffKind.MISSING_TABLE, "conversations"),
        (DiffKind.MISSING_FOREIGN_KEY, "employee_skills_employee_id_fkey"),
        (DiffKind.UNKNOWN_TABLE, "my_notes"),
        (DiffKind.LEGACY_TABLE, "notes"),
    ]


def test_nullability_and_collation_are_shown_in_both_directions() -> None:
    from nakamura_misaki_db.diff import Difference
    from nakamura_misaki_db.diff.tables import compare_columns

    # target-schema.md: tasks.description is nullable, with the type's default collation.
    required = replace_column(tasks(), "description", nullable=False)
    assert compare_columns(required, tasks()) == [Difference(
        DiffKind.COLUMN_NULLABLE, "tasks.description", "tasks", expected="NULL", actual="NOT NULL")]
    # A definition with a collation (as a later revision might have) against a column without one.
    collated = replace_column(tasks(), "title", collation="C")
    assert compare_columns(tasks(), collated) == [Difference(
        DiffKind.COLUMN_COLLATION, "tasks.title", "tasks", expected="C", actual="default")]


def test_a_later_table_kept_does_not_hide_the_unknown_table_after_it() -> None:
    actual = _with_later_objects()
    actual = dataclasses.replace(actual, tables={**actual.tables,
                                                 "my_notes": dataclasses.replace(tasks(), name="my_notes")})
    left, kept = _accept(actual)
    assert [(d.kind, d.object) for d in left] == [(DiffKind.UNKNOWN_TABLE, "my_notes")]
    assert "table projects: already as revision 0003 defines it (adopted there)" in kept
