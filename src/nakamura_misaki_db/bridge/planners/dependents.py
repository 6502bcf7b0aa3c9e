"""Plan around the open world: keep every dependent object working, or refuse up front naming it.

Pure: the steps the other planners made, what they touch (``touched_by``),
and the dependents read by ``nakamura_misaki_db.catalog.dependents``. For each
dependent a careful DBA's choice:

- a plain view over a column whose type changes is dropped and recreated
  from its own definition around the ALTER (owner, grants, options and
  comment kept), with every view that reads it;
- rows of another table that point at rows moved to the archive follow them:
  for ON DELETE CASCADE / SET NULL / SET DEFAULT, a copy of those rows goes
  to the archive in the same statement, before the foreign key acts;
- everything else that would break or stop the run is refused before
  anything is written, with the object's own definition and what to do:
  materialized views, trigger WHEN clauses, policies and rules on an altered
  column, generated columns, code that spells an old enum label, DELETE
  triggers and rules on a table that loses rows, a NO ACTION foreign key
  whose rows point at rows that would move, cascades two levels deep,
  functions that name a table that moves to the archive.
"""

from __future__ import annotations

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, cascade_table
from nakamura_misaki_db.bridge.planners.constraints import FOLLOWING, keep_by
from nakamura_misaki_db.bridge.planners.enums import enum_change
from nakamura_misaki_db.bridge.steps import Action, Planned, Step
from nakamura_misaki_db.catalog.dependents import Dependents, ReferencingKey, Touched
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.shapes import Catalog


def touched_by(actual: Catalog, differences: list[Difference], moving: dict[str, str], facts: DataFacts) -> Touched:
    """What the plan will touch, from the differences and the facts (before any step exists)."""
    altered = tuple(sorted({(d.table, d.column) for d in differences
                            if d.kind in (DiffKind.COLUMN_TYPE, DiffKind.COLUMN_COLLATION)
                            and d.table and d.table not in moving}))
    renamed: dict[str, tuple[str, ...]] = {}
    rebuilt: list[str] = []
    for d in differences:
        if d.kind == DiffKind.ENUM_LABELS:
            change = enum_change(d.object, list(d.actual), list(d.expected))
            if change.needs_rebuild:
                rebuilt.append(d.object)
            elif change.renames:
                renamed[d.object] = tuple(old for old, _ in change.renames)
    losing = {table: cols for (table, cols), dups in facts.duplicates.items()
              if dups.keys and table not in moving and keep_by(actual.tables[table])}
    dropped = tuple((d.table, d.object, tuple(d.actual)) for d in differences
                    if d.kind in (DiffKind.EXTRA_UNIQUE, DiffKind.UNIQUE_DEFINITION) and d.table)
    return Touched(altered_columns=altered, renamed_labels=renamed, rebuilt_enums=tuple(rebuilt),
                   losing_rows=losing, moving=tuple(moving), dropped_uniques=dropped)


def victims_sql(actual: Catalog, touched: Touched) -> dict[str, str]:
    """Table losing rows -> the SELECT of exactly the rows the archive step will move."""
    out: dict[str, str] = {}
    for table, cols in touched.losing_rows.items():
        order = keep_by(actual.tables[table])
        if order:
            out[table] = ddl.duplicate_victims(table, cols, order)
    return out


def plan_dependents(planned: Planned, touched: Touched, deps: Dependents) -> Planned:
    """Adjust ``planned`` in place (wrap steps, add refusals) and return it."""
    for step in planned.steps:
        if step.action == Action.ALTER_COLUMNS and step.table:
            _around_alter(planned, step, touched, deps)
        elif step.action == Action.ARCHIVE_DUPLICATES and step.table:
            _around_row_moves(planned, step, deps)
        elif step.action == Action.ARCHIVE_TABLE:
            _around_archived_table(planned, step, touched, deps)
    _around_labels(planned, deps)
    _around_dropped_uniques(planned, touched, deps)
    return planned


def _around_alter(planned: Planned, step: Step, touched: Touched, deps: Dependents) -> None:
    table = step.table
    columns = [c for t, c in touched.altered_columns if t == table]
    for use in deps.column_uses:
        if use.table == table and use.column in columns:
            planned.refuse(
                f"{use.kind} {use.name}",
                f"uses {table}.{use.column}, whose type changes; PostgreSQL cannot alter the column while it "
                f"exists ({use.definition})",
                f"drop it before the bridge and recreate it afterwards from that definition (or make it not use "
                f"{use.column}), then plan again")
    roots = sorted({v for c in columns for v in deps.column_views.get((table, c), [])})
    if not roots:
        return
    chain = deps.views_in_order(roots)
    blocked = False
    for view in chain:
        problem = None
        if view.materialized:
            problem = "is a materialized view (its data would have to be rebuilt)"
        elif view.extra_rules or view.triggers:
            problem = "has rules or INSTEAD OF triggers of its own"
        elif view.owner != deps.current_user and not deps.superuser:
            problem = f"is owned by {view.owner}; recreating it needs that role or a superuser"
        if problem:
            blocked = True
            planned.refuse(f"view {view.qualified}",
                           f"reads {table}.{', '.join(columns)}, whose type changes, and {problem}",
                           f"drop it before the bridge and recreate it afterwards (its definition: "
                           f"{' '.join(view.definition.split())[:300]}), or run the bridge as its owner")
    if blocked:
        return
    drops = [ddl.drop_view(v.schema, v.name) for v in reversed(chain)]
    creates = [sql for v in chain for sql in ddl.recreate_view(v.schema, v.name, v.definition, v.options, v.owner,
                                                                v.grants, v.comment, deps.current_user)]
    step.sql[:] = drops + step.sql + creates
    step.dependents += [f"view {v.qualified}: dropped and recreated from its own definition around the ALTER "
                        "(owner, grants, options and comment kept)" for v in chain]


def _around_row_moves(planned: Planned, step: Step, deps: Dependents) -> None:
    table = step.table
    assert table is not None
    for trigger in deps.triggers:
        if trigger.table == table and trigger.enabled and "DELETE" in trigger.events:
            planned.refuse(f"trigger {trigger.qualified}",
                           f"fires when rows of {table} are deleted, and the bridge moves duplicate rows out of "
                           f"{table} ({trigger.definition})",
                           f"disable it for the run (ALTER TABLE {trigger.schema}.{table} DISABLE TRIGGER "
                           f"{trigger.name}), apply, then enable it again; or remove the duplicates by hand")
    for rule in deps.rules:
        if rule.table == table and rule.event == "DELETE":
            planned.refuse(f"rule {rule.schema}.{table}.{rule.name}",
                           f"rewrites deletes on {table}, and the bridge moves duplicate rows out of it",
                           "drop the rule for the run and recreate it afterwards, or remove the duplicates by hand")
    if table in deps.row_security:
        planned.refuse(f"table {table}", "has row level security that this role does not bypass: the bridge "
                       "must see every row to move the duplicates", "use a role with BYPASSRLS, or the table's owner "
                       "when the table does not FORCE row level security")
    for key in deps.referencing:
        if key.ref_table != f"public.{table}":
            continue
        if key.on_delete in FOLLOWING:
            # plan_unique already copies these rows in the statement that moves their parents.
            archive = cascade_table(key.schema, key.table)
            step.dependents.append(f"foreign key {key.qualified} (ON DELETE {key.on_delete}): ~{key.affected_rows:,} "
                                   f"row(s) pointing at moved rows are copied to {ARCHIVE_SCHEMA}.{archive} first")
            for deeper in deps.second_level:
                if deeper.ref_table == key.child:
                    planned.refuse(f"foreign key {deeper.qualified}",
                                   f"points at {key.child}, whose rows the ON DELETE {key.on_delete} of "
                                   f"{key.qualified} would change: a cascade two levels deep",
                                   "remove the duplicates of " + table + " by hand (deciding what happens to the "
                                   "rows that point at them), then plan again")
        elif key.affected_rows:
            planned.refuse(f"foreign key {key.qualified}",
                           f"{key.affected_rows:,} row(s) of {key.child} point at duplicate rows of {table} that "
                           f"the bridge would move to the archive (ON DELETE {key.on_delete})",
                           f"point those rows at the row that is kept for each ({', '.join(key.ref_columns)}), or "
                           "remove them, then plan again")
        else:
            step.dependents.append(f"foreign key {key.qualified} (ON DELETE {key.on_delete}): no row points at the "
                                   "rows that move")


def _around_archived_table(planned: Planned, step: Step, touched: Touched, deps: Dependents) -> None:
    table = step.object
    for key in deps.referencing:
        if key.ref_table == f"public.{table}" and not (key.schema == "public" and key.table in touched.moving):
            planned.refuse(f"foreign key {key.qualified}", f"points into {table}, which must move to the archive",
                           f"drop or rework {key.qualified} first, then plan again")
    for mention in deps.table_mentions.get(table, []):
        planned.refuse(f"{mention.kind} {mention.name}",
                       f"names table {table}, which moves to {ARCHIVE_SCHEMA}: it would fail when it runs "
                       f"({mention.excerpt})",
                       f"change or drop it before the bridge (the table will be {ARCHIVE_SCHEMA}.{table}), then plan "
                       "again")


def _around_labels(planned: Planned, deps: Dependents) -> None:
    for enum, mentions in deps.label_mentions.items():
        for m in mentions:
            effect = ("would fail at run time" if m.kind in ("function", "trigger", "default")
                      else "would silently stop matching rows")
            planned.refuse(f"{m.kind} {m.name}",
                           f"spells the label {m.spelled} of {enum}, which the bridge renames; it {effect} "
                           f"({m.excerpt})",
                           "make it spell the target label (or compare case-insensitively, e.g. "
                           "lower(status::text)) before the bridge, then plan again")
    for enum, uses in deps.type_uses.items():
        planned.refuse(f"enum {enum}", f"must be rebuilt, but is used by: {'; '.join(uses)}",
                       "drop or change those objects first (a rebuild only handles plain table columns without a "
                       "default), then plan again")


def _around_dropped_uniques(planned: Planned, touched: Touched, deps: Dependents) -> None:
    for table, name, columns in touched.dropped_uniques:
        for key in deps.referencing:
            if key.ref_table == f"public.{table}" and tuple(key.ref_columns) == tuple(columns):
                planned.refuse(f"foreign key {key.qualified}",
                               f"needs the unique constraint {name} on {table}, which the target does not have",
                               f"drop or rework {key.qualified} first, then plan again")


def referencing_into(deps: Dependents, table: str) -> list[ReferencingKey]:
    return [k for k in deps.referencing if k.ref_table == f"public.{table}"]
