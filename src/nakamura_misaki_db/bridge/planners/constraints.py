"""Plan a table's constraints and indexes: drop what the target lacks (a constraint or index holds no data),
rename an index that only has another name, create what is missing, and move duplicate rows to the archive
before a unique constraint is added."""

from __future__ import annotations

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, cascade_table, duplicates_table
from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step, access_exclusive
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl, target
from nakamura_misaki_db.schema.legacy_chain import ACTIVITY_COLUMNS
from nakamura_misaki_db.schema.shapes import Catalog, Table

INDEX_BUILD_MEMORY = "256MB"
# ON DELETE actions that change rows of the referencing table when a referenced row goes.
FOLLOWING = ("CASCADE", "SET NULL", "SET DEFAULT")


def keep_by(table: Table) -> list[str] | None:
    """Columns that pick the row to keep among duplicates: the most recently active first, then the key."""
    activity = next((c for c in ACTIVITY_COLUMNS if table.column(c) is not None), None)
    pk = list(table.primary_key.columns) if table.primary_key else []
    return [activity, *pk] if activity and pk else None

_DROPS = (
    (Action.DROP_FOREIGN_KEY, "foreign key", (DiffKind.EXTRA_FOREIGN_KEY, DiffKind.FOREIGN_KEY_DEFINITION)),
    (Action.DROP_UNIQUE, "unique constraint", (DiffKind.EXTRA_UNIQUE, DiffKind.UNIQUE_DEFINITION)),
    (Action.DROP_CHECK, "check constraint", (DiffKind.EXTRA_CHECK, DiffKind.CHECK_DEFINITION)),
)


def plan_removals(actual: Table, differences: list[Difference]) -> tuple[Planned, list[str]]:
    """Steps that drop or rename, and the names of indexes still to be created afterwards."""
    out = Planned()
    name, rows = actual.name, actual.estimated_rows or 0
    for action, what, kinds in _DROPS:
        for d in differences:
            if d.kind in kinds:
                extra = d.kind.startswith("extra")
                out.add(Step(action, d.object, f"drop {what} {d.object} on {name}",
                             [ddl.drop_constraint(name, d.object)],
                             "the target does not have it" if extra
                             else "its definition differs; it is recreated below",
                             Safety.CATALOG_ONLY, name, rows, [access_exclusive(name)]))
    missing = {d.object: d for d in differences if d.kind == DiffKind.MISSING_INDEX}
    # An index named like a missing unique constraint was built by an earlier run's first phase:
    # plan_unique adopts or rebuilds it, it is not dropped here.
    pending_uniques = {d.object for d in differences if d.kind in (DiffKind.MISSING_UNIQUE, DiffKind.UNIQUE_DEFINITION)}
    for d in differences:
        if d.kind != DiffKind.EXTRA_INDEX or d.object in pending_uniques:
            continue
        twin = next((m for m in missing.values() if m.expected == d.actual), None)
        if twin is not None:
            del missing[twin.object]
            out.add(Step(Action.RENAME_INDEX, d.object, f"rename index {d.object} -> {twin.object}",
                         [ddl.rename_index(d.object, twin.object)],
                         f"same definition as the target's {twin.object}, another name",
                         Safety.CATALOG_ONLY, name, rows, [f"SHARE UPDATE EXCLUSIVE on {name}"]))
        else:
            out.add(Step(Action.DROP_INDEX, d.object, f"drop index {d.object} on {name}", [ddl.drop_index(d.object)],
                         "the target does not have it (an index holds no data)",
                         Safety.CATALOG_ONLY, name, rows, [access_exclusive(name)]))
    for d in differences:
        if d.kind == DiffKind.INVALID_INDEX and d.object not in pending_uniques:
            # PostgreSQL neither uses nor fully maintains it: drop it, and build it again below when it is
            # 0001's; an index of a later revision is built again by that revision on the next deploy.
            ours = d.object in target.index_names()
            out.add(Step(Action.DROP_INDEX, d.object,
                         f"drop index {d.object} on {name} (INVALID{'; rebuilt below' if ours else ''})",
                         [ddl.drop_index(d.object)],
                         "it is INVALID (an interrupted CREATE INDEX CONCURRENTLY left it): PostgreSQL does not "
                         "use it" + ("" if ours else "; the revision that defines it creates it again on the next "
                                                     "deploy"),
                         Safety.CATALOG_ONLY, name, rows, [access_exclusive(name)]))
            if ours:
                missing[d.object] = d
    for d in differences:
        if d.kind == DiffKind.INDEX_DEFINITION:
            out.add(Step(Action.DROP_INDEX, d.object, f"drop index {d.object} on {name} (recreated below)",
                         [ddl.drop_index(d.object)], "its definition differs from the target's",
                         Safety.CATALOG_ONLY, name, rows, [access_exclusive(name)]))
            missing[d.object] = d
    return out, list(missing)


def plan_additions(actual: Table, differences: list[Difference], missing_indexes: list[str], facts: DataFacts,
                   run_id: str) -> Planned:
    out = Planned()
    name, rows = actual.name, actual.estimated_rows or 0
    for index_name in missing_indexes:
        out.add(Step(Action.CREATE_INDEX, index_name, f"create index {index_name} on {name}",
                     [ddl.create_index(target.index(index_name))], "the target has this index",
                     Safety.BUILDS_INDEX, name, rows, [f"SHARE on {name}"]))
    for d in differences:
        if d.kind in (DiffKind.MISSING_CHECK, DiffKind.CHECK_DEFINITION):
            out.add(Step(Action.ADD_CHECK, d.object, f"add check constraint {d.object} on {name}",
                         [ddl.add_check(name, d.object, str(d.expected))],
                         "the target has this check constraint (every row is checked)", Safety.VALIDATES, name,
                         rows, [access_exclusive(name)]))
    for d in differences:
        if d.kind in (DiffKind.MISSING_UNIQUE, DiffKind.UNIQUE_DEFINITION):
            out.extend(plan_unique(actual, d.object, list(d.expected), facts, run_id))
    return out


def plan_unique(actual: Table, constraint: str, columns: list[str], facts: DataFacts, run_id: str) -> Planned:
    out = Planned()
    name, rows = actual.name, actual.estimated_rows or 0
    shown = ", ".join(columns)
    dups = facts.duplicates_of(name, columns) if actual.has_rows else None
    if dups and dups.keys:
        order = keep_by(actual)
        if order is None:
            out.refuse(constraint, f"{dups.keys} duplicated key(s) in {name} ({shown}) and no "
                       "column says which row is the most recent", "remove the duplicates by hand, then plan again")
            return out
        archive_table = duplicates_table(name)
        children = _following_children(name, facts)
        moves = {f"public.{name}": f"{ARCHIVE_SCHEMA}.{archive_table}"}
        moves.update({f"{c.schema}.{c.table}": f"{ARCHIVE_SCHEMA}.{c.archive_table}" for c in children})
        prep = [sql for c in children for sql in (ddl.create_child_archive(ARCHIVE_SCHEMA, c),
                                                  ddl.lock_against_writers(c.schema, c.table))]
        out.add(Step(
            Action.ARCHIVE_DUPLICATES, f"{name}({shown})",
            f"move {dups.extra_rows:,} duplicate row(s) of {name} ({dups.keys:,} keys) to "
            f"{ARCHIVE_SCHEMA}.{archive_table}, keeping the most recent by {order[0]}",
            [ddl.create_schema(ARCHIVE_SCHEMA), ddl.create_archive_copy(ARCHIVE_SCHEMA, archive_table, name), *prep,
             ddl.move_duplicates(name, columns, order, ARCHIVE_SCHEMA, archive_table, run_id, children)],
            f"unique constraint {constraint} cannot be added while duplicates exist (committed on its own "
            "before the index is built, without a table lock: writers keep going; the rows stay in the archive "
            "with this run's id even if a later step fails)",
            Safety.ARCHIVES, name, rows, [f"ROW EXCLUSIVE on {name} (writers are not blocked)",
                                          *(f"SHARE on {c.schema}.{c.table} (its writers wait)" for c in children)],
            moves=moves, phase=1,
        ))
    if not actual.has_rows:
        # Nothing to scan: the constraint is added in the transaction like any catalog change.
        out.add(Step(Action.ADD_UNIQUE, constraint, f"add unique constraint {constraint} on {name} ({shown})",
                     [ddl.add_constraint(target.constraint(name, constraint))],
                     "the target has this unique constraint", Safety.CATALOG_ONLY, name, rows,
                     [access_exclusive(name)]))
        return out
    # With rows, the index is built CONCURRENTLY before the transaction (writers go on) and
    # attached inside it (a moment's ACCESS EXCLUSIVE). An index left by an earlier run is
    # adopted when it is valid and has the right shape, rebuilt otherwise.
    existing = next((i for i in actual.indexes if i.name == constraint), None)
    adopt = (existing is not None and existing.unique and list(existing.columns) == list(columns)
             and not existing.where and constraint not in facts.invalid_indexes)
    if not adopt:
        build = [ddl.set_session("maintenance_work_mem", INDEX_BUILD_MEMORY),
                 *([ddl.drop_index_concurrently(constraint)] if existing is not None else []),
                 ddl.create_unique_index_concurrently(name, constraint, columns),
                 ddl.reset_session("maintenance_work_mem")]
        why = (f"the index of unique constraint {constraint}, built without blocking writers; should a duplicate "
               "be written meanwhile, the build fails, the index is dropped, and a rerun moves that duplicate too")
        if existing is not None:
            left = "invalid" if constraint in facts.invalid_indexes else "unlike the target"
            why = f"an earlier run left {constraint} {left}; rebuilt: {why}"
        out.add(Step(Action.BUILD_UNIQUE_INDEX, constraint,
                     f"build index {constraint} on {name} ({shown}) CONCURRENTLY, before the transaction",
                     build, why, Safety.BUILDS_INDEX, name, rows,
                     [f"SHARE UPDATE EXCLUSIVE on {name} (writers are not blocked)"], phase=1))
    out.add(Step(
        Action.ADD_UNIQUE, constraint,
        f"attach index {constraint} as the unique constraint on {name} ({shown})"
        + (" (adopting the index an earlier run built)" if adopt else ""),
        [ddl.attach_unique(name, constraint, constraint)],
        "the target has this unique constraint; the index exists, so this only records it (no scan)",
        Safety.CATALOG_ONLY, name, rows, [f"{access_exclusive(name)} (a moment)"],
    ))
    return out


def _following_children(table: str, facts: DataFacts) -> list[ddl.ChildArchive]:
    """Tables whose rows a foreign key changes when rows of ``table`` go: their rows are archived first."""
    out: list[ddl.ChildArchive] = []
    for key in facts.dependents.referencing:
        if key.ref_table == f"public.{table}" and key.on_delete in FOLLOWING:
            because = (f"ON DELETE {key.on_delete} of {key.qualified}: these rows pointed at duplicate rows of "
                       f"public.{table} that this run moved")
            out.append(ddl.ChildArchive(key.schema, key.table, key.columns, key.ref_columns,
                                        cascade_table(key.schema, key.table), because))
    return out


def plan_foreign_keys(actual: Catalog, differences: list[Difference], archived: set[str], facts: DataFacts) -> Planned:
    out = Planned()
    for d in differences:
        if d.kind not in (DiffKind.MISSING_FOREIGN_KEY, DiffKind.FOREIGN_KEY_DEFINITION):
            continue
        if d.table is None or d.table in archived:
            continue
        fk = target.foreign_key(d.table, d.object)
        parent = fk.referred_table.name
        table = actual.tables[d.table]
        if parent in archived and table.has_rows:
            out.refuse(d.object, f"{d.table} has rows that point at {parent}, which moves to the archive and is "
                       "recreated empty", f"move or fix the rows of {d.table} first, then plan again")
            continue
        orphans = facts.orphans.get((d.table, d.object), [])
        if orphans:
            out.refuse(d.object, f"rows of {d.table} point at missing {parent} rows (keys: {', '.join(orphans)})",
                       "fix or remove those rows, then plan again")
            continue
        out.add(Step(Action.ADD_FOREIGN_KEY, d.object, f"add foreign key {d.object} on {d.table} -> {parent}",
                     [ddl.add_constraint(fk)], "the target has this foreign key", Safety.VALIDATES, d.table,
                     table.estimated_rows or 0,
                     [f"SHARE ROW EXCLUSIVE on {d.table}", f"SHARE ROW EXCLUSIVE on {parent}"]))
    return out
