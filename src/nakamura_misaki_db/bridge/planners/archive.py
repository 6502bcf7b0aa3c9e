"""Plan what moves to the archive whole: legacy-only tables, and target-named tables whose shape cannot be
converted without guessing. Moved with ``ALTER TABLE ... SET SCHEMA``: no copy, nothing dropped."""

from __future__ import annotations

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA
from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step, access_exclusive
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.shapes import Catalog, Table


def unconvertible_reason(actual: Table, expected: Table, differences: list[Difference]) -> str | None:
    """Why ``actual`` cannot be altered into ``expected`` without guessing (None if it can)."""
    mine = [d for d in differences if d.table == actual.name]
    if any(d.kind == DiffKind.PRIMARY_KEY for d in mine):
        return "its primary key differs from the target's"
    extra = [d.column for d in mine if d.kind == DiffKind.EXTRA_COLUMN]
    if extra:
        return f"it has columns the target lacks ({', '.join(extra)})"
    for d in mine:
        if d.kind == DiffKind.MISSING_COLUMN:
            col = expected.column(d.column)
            if col is not None and not col.nullable and col.default is None and actual.has_rows:
                return f"it lacks the required column {col.name} and has rows to fill it with"
    return None


def tables_to_archive(actual: Catalog, target: Catalog, differences: list[Difference]) -> dict[str, str]:
    """Table -> why it moves to the archive."""
    moving: dict[str, str] = {}
    for d in differences:
        if d.kind == DiffKind.LEGACY_TABLE:
            moving[d.object] = "only a legacy revision created it; the target does not have it"
    for name, expected in target.tables.items():
        table = actual.tables.get(name)
        if table is None:
            continue
        why = unconvertible_reason(table, expected, differences)
        if why:
            moving[name] = f"its shape cannot be converted without guessing: {why}"
    return moving


def archive_name(name: str, taken: frozenset[str] | set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` ... if an earlier run already archived a table of that name."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def plan_archives(actual: Catalog, moving: dict[str, str], facts: DataFacts) -> Planned:
    out = Planned()
    taken = set(facts.archive_tables)
    for name, reason in moving.items():
        table = actual.tables[name]
        new_name = archive_name(name, taken)
        taken.add(new_name)
        # Every archiving step creates the schema if needed: steps stand on their own.
        sql = [ddl.create_schema(ARCHIVE_SCHEMA)]
        if new_name != name:
            sql.append(ddl.rename_table(name, new_name))
        sql.append(ddl.set_schema(new_name, ARCHIVE_SCHEMA))
        # A foreign key from the archive into public would let the
        # application's deletes rewrite archived rows (ON DELETE SET NULL).
        for fk in table.foreign_keys:
            if fk.ref_table not in moving:
                sql.append(ddl.drop_constraint(new_name, fk.name, schema=ARCHIVE_SCHEMA))
        out.add(Step(
            Action.ARCHIVE_TABLE, name,
            f"move table {name} ({table.estimated_rows or 0:,} rows) to {ARCHIVE_SCHEMA}.{new_name}",
            sql, reason, Safety.ARCHIVES, name, table.estimated_rows or 0, [access_exclusive(name)],
        ))
    return out
