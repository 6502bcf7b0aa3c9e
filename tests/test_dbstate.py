"""classify() and what a DatabaseState says, on catalogs built by hand: no PostgreSQL, milliseconds.

Every command (status, plan, apply, nakamura-init-db, env.py) answers "what is this
database?" with these words, so they are written out here by hand: the kind, the
description, the next step and the refusal (MIGRATION_GUIDE.md sections 5 and 7:
"alembic_version holds '006', a revision of the application's second chain", "the
database differs from revision 0001 in N way(s)", "the database is at revision X,
which this release does not know", "mixed: revision R of this chain and a stale
legacy id").
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from nakamura_misaki_db.catalog.state import DatabaseState, DbKind, compare_with_0001, differences_from_0001
from nakamura_misaki_db.catalog.state import classify as classify_with
from nakamura_misaki_db.diff import DiffKind, diff
from nakamura_misaki_db.schema.shapes import Catalog, Column, Table

from .catalogs import catalog, conversations, employee_skills, replace_column, tasks, varchar

# The 0001 these tests compare with (three of its tables, target-schema.md) and a chain of three revisions.
TARGET = catalog(tasks(), conversations(), employee_skills())
CHAIN = ("0001", "0002", "0003")

INIT_DB = "run `nakamura-init-db` (or `alembic upgrade head`)"
BUILDS = "run `nakamura-init-db` (or `alembic upgrade head`): it builds what is missing"
NEWER_NEXT = "deploy the release that migrated it (its scripts are not in this one)"
UNKNOWN_NEXT = ("find the code that wrote that revision; neither `nakamura-init-db` nor the bridge will "
                "touch this database")
MIXED_NEXT = ("run `baseline-bridge plan`, then `baseline-bridge apply`: it verifies the schema and "
              "removes the stale legacy row")
ONLY_RECORDS = "the schema already equals 0001: `baseline-bridge apply` only records the revision"
RECONCILE = "run `baseline-bridge plan` to see the reconciliation, then `baseline-bridge apply`"

APP_CHAIN = "the application's second chain (002-006)"
RETIRED = "the retired legacy chain"


def classify(database: Catalog, target: Catalog, chain) -> DatabaseState:
    """classify() in this file's world, where every revision of CHAIN builds exactly TARGET."""
    return classify_with(database, target, chain,
                         at_revision=lambda c, _revision: [d for d in diff(c, target) if not d.foreign])


def at(version: tuple[str, ...] | None, *tables: Table, **kw) -> Catalog:
    """A database with these tables (default: exactly 0001's) and these alembic_version rows."""
    return catalog(*(tables or (tasks(), conversations(), employee_skills())), version=version, **kw)


def no_tables(version: tuple[str, ...] | None = None, **kw) -> Catalog:
    return dataclasses.replace(catalog(version=version, **kw), tables={})


NARROW_TITLE = replace_column(tasks(), "title", type=varchar(200))  # a change only the bridge can make

# name: (database, kind, describe(), next_step())
STATES: dict[str, tuple[Catalog, DbKind, str, str]] = {
    "at head": (at(("0003",)), DbKind.NEW_CHAIN,
                "on the new migration chain at revision 0003 (at head)", "nothing to do"),
    "behind head": (at(("0001",)), DbKind.NEW_CHAIN,
                    "on the new migration chain at revision 0001 (head is 0003)", INIT_DB),
    "empty": (no_tables(enums={}), DbKind.EMPTY, "empty (no application tables)", BUILDS),
    "empty, no extension, empty version table": (no_tables((), enums={}, extensions={}), DbKind.EMPTY,
                                                 "empty (no application tables)", BUILDS),
    "empty but an enum nobody owns": (no_tables(enums={"mood": ("calm",)}), DbKind.EMPTY,
                                      "empty (no application tables)", BUILDS),
    "only our enum types": (no_tables(), DbKind.UNVERSIONED,
                            "not versioned (no alembic_version); its tables are a part of revision 0001 "
                            "(3 object(s) missing, nothing that differs)", BUILDS),
    # A table of 0001 is schema enough, even before its enum types exist (2 types, 2 tables missing).
    "a table of 0001 without the enum types": (at(None, tasks(), enums={}), DbKind.UNVERSIONED,
                                               "not versioned (no alembic_version); its tables are a part of "
                                               "revision 0001 (4 object(s) missing, nothing that differs)", BUILDS),
    "part of 0001, no version table": (at(None, tasks(), conversations()), DbKind.UNVERSIONED,
                                       "not versioned (no alembic_version); its tables are a part of revision "
                                       "0001 (1 object(s) missing, nothing that differs)", BUILDS),
    "part of 0001, empty version table": (at((), tasks()), DbKind.UNVERSIONED,
                                          "not versioned (alembic_version is empty); its tables are a part of "
                                          "revision 0001 (2 object(s) missing, nothing that differs)", BUILDS),
    "newer release": (at(("0009",)), DbKind.NEWER,
                      "at revision 0009, which this release does not know (newest here: 0003): "
                      "probably migrated by a newer release", NEWER_NEXT),
    "unknown ids": (at(("feature_x", "zz9")), DbKind.UNKNOWN,
                    "at revision feature_x, zz9, which this release does not know (newest here: 0003): "
                    "not an id of this chain nor of the legacy chains", UNKNOWN_NEXT),
    "mixed": (at(("0001", "001", "006")), DbKind.MIXED,
              "mixed: alembic_version = 0001, 001, 006 holds revision 0001 of this chain and the stale legacy id "
              "001, 006", MIXED_NEXT),
    "legacy id, schema equals 0001": (at(("006",)), DbKind.LEGACY,
                                      f"legacy (legacy revision 006 of {APP_CHAIN}; alembic_version = 006)",
                                      ONLY_RECORDS),
    "legacy id, drifted": (at(("003_add_slack_users_table",), NARROW_TITLE, conversations(), employee_skills()),
                           DbKind.LEGACY,
                           f"legacy (legacy revision 003_add_slack_users_table of {RETIRED}; "
                           "alembic_version = 003_add_slack_users_table)", RECONCILE),
    "no version table, drifted": (at(None, NARROW_TITLE, conversations(), employee_skills()), DbKind.LEGACY,
                                  "legacy (no legacy revision recorded; no alembic_version)",
                                  # with no version row it may be a database of this chain that lost it
                                  "if it was migrated by this chain and only lost its version row, "
                                  "`nakamura-db recover-version`; otherwise " + RECONCILE),
}


@pytest.mark.parametrize("name", list(STATES))
def test_each_state_is_classified_described_and_given_its_next_step(name: str) -> None:
    database, kind, describe, next_step = STATES[name]
    state = classify(database, TARGET, CHAIN)
    assert state.kind == kind
    assert state.describe() == describe
    assert state.next_step() == next_step


@pytest.mark.parametrize(("version", "kind"), [
    (("0009",), DbKind.NEWER),
    (("0004",), DbKind.NEWER),
    (("0000",), DbKind.UNKNOWN),  # four digits, but not beyond head: nobody's
    (("00009",), DbKind.UNKNOWN),  # five digits: not our numbering
    (("009",), DbKind.UNKNOWN),
    (("abcd",), DbKind.UNKNOWN),
    (("0009", "feature_x"), DbKind.UNKNOWN),  # not all of them are ours-to-be
    (("0009", "0001"), DbKind.NEWER),  # an unknown id wins over ours
    (("0008", "0002"), DbKind.NEWER),
], ids=str)
def test_unknown_ids_are_a_newer_release_only_when_all_are_four_digits_beyond_head(version, kind) -> None:
    state = classify(at(version), TARGET, CHAIN)
    assert state.kind == kind
    assert state.unknown_ids == [v for v in version if v not in CHAIN]
    assert state.refusal_exit_code == 3


def test_without_a_chain_no_id_is_newer() -> None:
    state = classify(at(("0009",)), TARGET, ())
    assert (state.kind, state.head, state.unknown_ids) == (DbKind.UNKNOWN, "", ["0009"])


def test_the_fields_of_a_mixed_state() -> None:
    state = classify(at(("0002", "001", "0001", "001")), TARGET, CHAIN)
    assert state.kind == DbKind.MIXED
    assert state.alembic_version == ["0002", "001", "0001", "001"]
    assert state.revision == "0002"  # the newest of ours
    assert state.legacy_ids == ["001"]  # each once
    assert state.unknown_ids == []
    assert state.head == "0003"
    assert state.tables == ["conversations", "employee_skills", "tasks"]


def test_a_recorded_revision_whose_schema_differs_is_drifted_not_trusted() -> None:
    # Issue 22: a legacy schema stamped by hand is not on the new chain, whatever alembic_version says.
    state = classify(at(("0003",), NARROW_TITLE, conversations()), TARGET, CHAIN)
    assert state.kind == DbKind.DRIFTED
    assert state.differences == [
        "column type: tasks.title: expected character varying(500), found character varying(200)",
        "missing table: employee_skills"]
    assert state.describe() == (
        "alembic_version records revision 0003 of this chain, but the schema is not what 0003 builds: "
        "2 difference(s) (column type: tasks.title: expected character varying(500), found character "
        "varying(200); missing table: employee_skills)")
    assert not state.migratable and state.bridgeable and state.refusal_exit_code == 3
    assert state.refusal().endswith(
        "Nothing was changed. Next: run `baseline-bridge plan`, then `baseline-bridge apply`: the bridge reconciles "
        "the schema from the catalog, whatever alembic_version says, and records 0001; then `nakamura-init-db`.")


def test_two_rows_of_this_chain_are_one_refusal_naming_the_row_to_keep() -> None:
    state = classify(at(("0001", "0003")), TARGET, CHAIN)
    assert (state.kind, state.matches, state.migratable, state.bridgeable) == (DbKind.SEVERAL, "0003", False, False)
    assert state.refusal() == (
        "alembic_version holds several revisions of this chain (0001, 0003), but a database is at one: the schema "
        "is what revision 0003 builds. Nothing was changed. Next: keep only the row of 0003: DELETE FROM "
        "public.alembic_version WHERE version_num <> '0003'; then `nakamura-init-db`.")
    drifted = classify(at(("0001", "0003"), NARROW_TITLE, conversations(), employee_skills()), TARGET, CHAIN)
    assert (drifted.kind, drifted.matches, drifted.bridgeable) == (DbKind.SEVERAL, None, True)
    assert "the schema is what none of them builds (column type: tasks.title" in drifted.describe()


def test_drift_and_blocking_count_differences_from_0001() -> None:
    # narrowed title (blocking), missing employee_skills (additive), an unknown table (foreign: not counted)
    mine = dataclasses.replace(tasks(), name="my_notes")
    state = classify(at(None, NARROW_TITLE, conversations(), mine), TARGET, CHAIN)
    assert (state.kind, state.drift, state.blocking) == (DbKind.LEGACY, 2, 1)
    assert state.alembic_version is None
    assert state.revision is None
    assert state.tables == ["conversations", "my_notes", "tasks"]
    assert state.refusal_exit_code == 3


def test_a_database_with_only_additive_differences_is_unversioned_not_legacy() -> None:
    # employee_skills.acquired_at without its default: 0001 adds it
    database = at(None, tasks(), conversations(), replace_column(employee_skills(), "acquired_at", default=None))
    state = classify(database, TARGET, CHAIN)
    assert (state.kind, state.drift, state.blocking) == (DbKind.UNVERSIONED, 1, 0)
    assert state.migratable


# -- which legacy chain an id belongs to ----------------------------------------------------------

def _handoffs(*columns: str) -> Table:
    return Table("handoffs", tuple(Column(c, "uuid", False, None) for c in columns), None)


@pytest.mark.parametrize(("version", "tables", "chain"), [
    (("b0bbf866ebc2",), (), RETIRED),
    (("001", "b0bbf866ebc2"), (), RETIRED),
    (("006",), (), APP_CHAIN),
    (("001", "002"), (), APP_CHAIN),
    # "001" begins both chains: only a table one of them alone created tells them apart
    (("001",), (dataclasses.replace(tasks(), name="notes"),), RETIRED),
    (("001",), (dataclasses.replace(tasks(), name="sessions"),), RETIRED),
    (("001",), (_handoffs("id", "task_id"),), RETIRED),  # the old handoffs (PK id)
    (("001",), (dataclasses.replace(tasks(), name="projects"),), "the application's second chain"),
    (("001",), (dataclasses.replace(tasks(), name="notifications"),), "the application's second chain"),
    (("001",), (_handoffs("handoff_id", "task_id"), dataclasses.replace(tasks(), name="project_tasks")),
     "the application's second chain"),
    (("001",), (dataclasses.replace(tasks(), name="task_dependencies"),), "the application's second chain"),
    (("001",), (_handoffs("handoff_id"),),
     "one of the two retired chains (both begin with 001; the catalog decides the plan either way)"),
], ids=str)
def test_a_legacy_id_names_its_chain(version, tables, chain) -> None:
    state = classify(at(version, tasks(), *tables), TARGET, CHAIN)
    assert state.kind == DbKind.LEGACY
    assert state.chain == chain
    assert state.refusal().startswith(f"alembic_version holds '{version[0]}', a revision of {chain}; ")


def test_no_chain_is_named_without_a_legacy_id() -> None:
    assert classify(at(("0009",)), TARGET, CHAIN).chain is None
    assert classify(at(None, NARROW_TITLE), TARGET, CHAIN).chain is None
    assert classify(at(("0001",)), TARGET, CHAIN).chain is None


# -- the refusal every command prints ---------------------------------------------------------------

REFUSALS: dict[str, str] = {
    "legacy id, drifted": (
        "alembic_version holds '003_add_slack_users_table', a revision of the retired legacy chain; the schema "
        "must be reconciled before it can be migrated. Nothing was changed. Next: run `baseline-bridge plan` to "
        "see the reconciliation, then `baseline-bridge apply`."),
    "legacy id, schema equals 0001": (
        "alembic_version holds '006', a revision of the application's second chain (002-006); the schema must "
        "be reconciled before it can be migrated. Nothing was changed. Next: the schema already equals 0001: "
        "`baseline-bridge apply` only records the revision."),
    "no version table, drifted": (
        "the database differs from revision 0001 in 1 way(s) (1 of them only baseline-bridge can close) and has "
        "no alembic_version: nothing records that this migration chain built it. Nothing was changed. Next: if "
        "it was migrated by this chain and only lost its version row, `nakamura-db recover-version`; otherwise "
        "run `baseline-bridge plan` to see the reconciliation, then `baseline-bridge apply`."),
    "mixed": (
        "alembic_version holds revision 0001 of this chain and the stale legacy id 001, 006. Nothing was "
        "changed. Next: run `baseline-bridge plan`, then `baseline-bridge apply`: it verifies the schema and "
        "removes the stale legacy row."),
    "newer release": (
        "the database is at revision 0009, which this release does not know (newest here: 0003): probably "
        "migrated by a newer release. Nothing was changed. Next: deploy the release that migrated it (its "
        "scripts are not in this one)."),
    "unknown ids": (
        "the database is at revision feature_x, zz9, which this release does not know (newest here: 0003): not "
        "an id of this chain nor of the legacy chains. Nothing was changed. Next: find the code that wrote that "
        "revision; neither `nakamura-init-db` nor the bridge will touch this database."),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_the_refusal_names_what_was_found_and_what_to_do(name: str) -> None:
    state = classify(STATES[name][0], TARGET, CHAIN)
    assert not state.migratable
    assert state.refusal() == REFUSALS[name]


def test_refusal_of_drift_with_an_empty_version_table_counts_every_way() -> None:
    database = at((), NARROW_TITLE, replace_column(conversations(), "user_id", nullable=True))
    assert classify(database, TARGET, CHAIN).refusal() == (
        "the database differs from revision 0001 in 3 way(s) (2 of them only baseline-bridge can close) and has "
        "alembic_version is empty: nothing records that this migration chain built it. Nothing was changed. "
        "Next: if it "
        "was migrated by this chain and only lost its version row, `nakamura-db recover-version`; otherwise run "
        "`baseline-bridge plan` to see the reconciliation, then `baseline-bridge apply`.")


@pytest.mark.parametrize(("version", "text"), [
    (None, "no alembic_version"),
    ((), "alembic_version is empty"),
    (("0002",), "alembic_version = 0002"),
    (("0001", "001"), "alembic_version = 0001, 001"),
])
def test_version_text(version, text: str) -> None:
    assert classify(at(version), TARGET, CHAIN).version_text() == text


def test_to_dict_is_every_field_plus_the_words_as_plain_json() -> None:
    state = classify(STATES["behind head"][0], TARGET, CHAIN)
    data = state.to_dict()
    assert data == {
        "kind": "new_chain",
        "alembic_version": ["0001"],
        "revision": "0001",
        "legacy_ids": [],
        "unknown_ids": [],
        "head": "0003",
        "chain": None,
        "drift": 0,
        "blocking": 0,
        "tables": ["conversations", "employee_skills", "tasks"],
        "timezone": None,
        "last_bridge_run": None,
        "differences": [],
        "matches": None,
        "rls_hidden": [],
        "other_version_tables": {},
        "leftovers": [],
        "describe": "on the new migration chain at revision 0001 (head is 0003)",
        "next": INIT_DB,
    }
    assert type(data["kind"]) is str
    assert json.loads(json.dumps(data)) == data


def test_to_dict_of_a_legacy_state() -> None:
    data = classify(STATES["legacy id, drifted"][0], TARGET, CHAIN).to_dict()
    assert (data["kind"], data["legacy_ids"], data["chain"], data["drift"], data["blocking"]) == (
        "legacy", ["003_add_slack_users_table"], RETIRED, 1, 1)
    assert data["next"] == RECONCILE


def test_a_state_built_directly_describes_itself() -> None:
    # DatabaseState is also built by hand (status adds the time zone and the last bridge run)
    state = DatabaseState(DbKind.NEW_CHAIN, ["0007"], "0007", [], [], "0007", None, 0, 0, ["tasks"],
                          timezone="UTC", last_bridge_run={"id": 1})
    assert state.describe() == "on the new migration chain at revision 0007 (at head)"
    assert state.to_dict()["timezone"] == "UTC"
    assert state.to_dict()["last_bridge_run"] == {"id": 1}


# -- the comparison with 0001 that status, the guard, plan and verify share --------------------------

PRIORITY = Column("priority", "integer", False, "5")  # app-chain.md: revision 006/0007's tasks.priority


def test_an_object_of_a_later_revision_as_it_defines_it_is_kept_not_drift() -> None:
    database = at(None, dataclasses.replace(tasks(), columns=(*tasks().columns, PRIORITY)), conversations(),
                  employee_skills())
    differences, kept = compare_with_0001(database, TARGET)
    assert differences == []
    assert kept == ["column tasks.priority: already as revision 0007 defines it (adopted there)"]
    state = classify(database, TARGET, CHAIN)
    assert (state.kind, state.drift) == (DbKind.UNVERSIONED, 0)


def test_an_object_of_a_later_revision_that_differs_is_blocking_drift() -> None:
    nullable = dataclasses.replace(PRIORITY, nullable=True)
    database = at(None, dataclasses.replace(tasks(), columns=(*tasks().columns, nullable)), conversations(),
                  employee_skills())
    [d] = differences_from_0001(database, TARGET)
    assert (d.kind, d.object) == (DiffKind.LATER_OBJECT_DIFFERS, "tasks.priority")
    state = classify(database, TARGET, CHAIN)
    assert (state.kind, state.drift, state.blocking) == (DbKind.LEGACY, 1, 1)


def test_objects_we_do_not_own_are_compared_but_not_counted() -> None:
    mine = dataclasses.replace(tasks(), name="my_notes")
    database = at(None, tasks(), conversations(), employee_skills(), mine, enums={
        **catalog().enums, "mood": ("calm",)})
    differences, kept = compare_with_0001(database, TARGET)
    assert sorted((d.kind, d.object) for d in differences) == [
        (DiffKind.EXTRA_ENUM, "mood"), (DiffKind.UNKNOWN_TABLE, "my_notes")]
    assert kept == []
    assert differences_from_0001(database, TARGET) == []
    assert classify(database, TARGET, CHAIN).kind == DbKind.UNVERSIONED
