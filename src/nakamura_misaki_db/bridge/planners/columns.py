"""Plan a table's columns: server defaults, then one ALTER TABLE for types, nullability and new columns,
so the table is rewritten at most once. Narrowing, NOT NULL and casts are proven safe by the facts first."""

from __future__ import annotations

from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step, access_exclusive
from nakamura_misaki_db.catalog.facts import DataFacts, is_textual, varchar_length
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.legacy_chain import LEGACY_LABELS
from nakamura_misaki_db.schema.shapes import Table

TIMESTAMP = "timestamp without time zone"
TIMESTAMPTZ = "timestamp with time zone"


def plan_defaults(actual: Table, differences: list[Difference]) -> Planned:
    out = Planned()
    defaults = [d for d in differences if d.kind in (DiffKind.MISSING_DEFAULT, DiffKind.COLUMN_DEFAULT)]
    if not defaults:
        return out
    name = actual.name
    clauses = [ddl.set_default(d.column, str(d.expected)) if d.expected is not None else ddl.drop_default(d.column)
               for d in defaults]
    setting = [d.column for d in defaults if d.expected is not None]
    dropping = [d.column for d in defaults if d.expected is None]
    what = "; ".join(part for part in (
        f"set server defaults on {name}: {', '.join(setting)}" if setting else "",
        f"drop server defaults on {name}: {', '.join(dropping)}" if dropping else "") if part)
    why = "the target's columns have these defaults" if not dropping else \
        "the target's columns have these defaults (and no default where one is dropped)"
    out.add(Step(Action.SET_DEFAULTS, name, what, [ddl.alter_table(name, clauses)], why, Safety.CATALOG_ONLY,
                 name, actual.estimated_rows or 0, [access_exclusive(name)]))
    return out


class _Alter:
    """The clauses of one ALTER TABLE, and what they cost."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.notes: list[str] = []
        self.guards: list[str] = []
        self.rewrite = False
        self.scans = False  # SET NOT NULL reads every row
        self.timezone = False


def plan_columns(actual: Table, expected: Table, differences: list[Difference], facts: DataFacts,
                 enums: dict[str, tuple[str, ...]], legacy_timezone: str | None) -> Planned:
    out = Planned()
    name = actual.name
    alter = _Alter()
    kinds = (DiffKind.COLUMN_TYPE, DiffKind.COLUMN_NULLABLE, DiffKind.MISSING_COLUMN, DiffKind.COLUMN_COLLATION)
    for d in (d for d in differences if d.kind in kinds):
        want = expected.column(d.column)
        assert want is not None
        if d.kind == DiffKind.MISSING_COLUMN:
            if not want.nullable and want.default is None and actual.has_rows:
                continue  # the table is archived instead (see archive.unconvertible_reason)
            alter.clauses.append(ddl.add_column(d.column, want.type, default=want.default, nullable=want.nullable))
            alter.notes.append(f"add {d.column}")
        elif d.kind == DiffKind.COLUMN_COLLATION:
            collation = want.collation or "default"
            alter.clauses.append(ddl.alter_type(d.column, want.type, collation=collation))
            alter.notes.append(f"{d.column} collation {d.actual} -> {collation}")
            alter.rewrite = True  # its indexes are rebuilt
        elif d.kind == DiffKind.COLUMN_NULLABLE:
            _nullability(out, alter, actual, d, want.nullable, facts)
        else:
            _column_type(out, alter, actual, d, facts, enums)

    if not alter.clauses:
        return out
    sql: list[str] = list(alter.guards)
    zone_note = ""
    if alter.timezone:
        if actual.has_rows and not legacy_timezone:
            out.refuse(name, "has naive timestamps (timestamp without time zone) in a table with rows; "
                       "converting them needs the zone they were written in",
                       "rerun with --legacy-timezone ZONE (the application server's zone, e.g. Asia/Tokyo)")
            return out
        zone = legacy_timezone if actual.has_rows and legacy_timezone else "UTC"
        # With the session zone UTC, PostgreSQL converts timestamp -> timestamptz
        # in the catalog only; any other zone rewrites the table.
        if zone != "UTC":
            alter.rewrite = True
        zone_note = f", naive times read as {zone}"
        sql.append(ddl.set_timezone(zone))
    sql.append(ddl.alter_table(name, alter.clauses))
    if alter.timezone:
        sql.append(ddl.reset_timezone())
    if not actual.has_rows:
        safety = Safety.CATALOG_ONLY
    elif alter.rewrite:
        safety = Safety.REWRITES
    else:
        safety = Safety.VALIDATES if (alter.guards or alter.scans) else Safety.CATALOG_ONLY
    out.add(Step(Action.ALTER_COLUMNS, name, f"alter columns of {name}: " + "; ".join(alter.notes) + zone_note,
                 sql, "column types/nullability differ from the target's", safety, name,
                 actual.estimated_rows or 0, [access_exclusive(name)]))
    return out


def _nullability(out: Planned, alter: _Alter, actual: Table, d: Difference, nullable: bool,
                 facts: DataFacts) -> None:
    if nullable:
        alter.clauses.append(ddl.drop_not_null(d.column))
        alter.notes.append(f"{d.column} nullable")
        return
    nulls = facts.nulls.get((actual.name, d.column), []) if actual.has_rows else []
    if nulls:
        out.refuse(d.object, f"must be NOT NULL but rows have NULL (keys: {', '.join(nulls)})",
                   "fill those values, then plan again")
        return
    alter.clauses.append(ddl.set_not_null(d.column))
    alter.notes.append(f"{d.column} NOT NULL (checked)")
    alter.scans = True


def _column_type(out: Planned, alter: _Alter, actual: Table, d: Difference, facts: DataFacts,
                 enums: dict[str, tuple[str, ...]]) -> None:
    name, col = actual.name, d.column
    old, new = str(d.actual), str(d.expected)
    old_len, new_len = varchar_length(old), varchar_length(new)
    if old_len is not None and new_len is not None:
        if new_len > old_len:
            alter.clauses.append(ddl.alter_type(col, new))
            alter.notes.append(f"{col} widened {old_len}->{new_len}")
            return
        too_long = facts.too_long.get((name, col, new_len), []) if actual.has_rows else []
        if too_long:
            out.refuse(d.object, f"values longer than {new_len} characters cannot be narrowed "
                       f"(rows with key {', '.join(too_long)})",
                       f"shorten those values to {new_len} characters, then plan again")
            return
        alter.clauses.append(ddl.alter_type(col, new))
        alter.guards.append(ddl.fail_if(
            ddl.longer_than(name, col, new_len),
            f"{name}.{col} has values longer than {new_len} characters (written after the plan was made); "
            "nothing was changed: shorten them, then plan again"))
        alter.notes.append(f"{col} narrowed {old_len}->{new_len} (checked)")
        alter.rewrite = True  # PostgreSQL rewrites a table to narrow a varchar
        return
    if old == TIMESTAMP and new == TIMESTAMPTZ:
        alter.clauses.append(ddl.alter_type(col, TIMESTAMPTZ))
        alter.timezone = True
        alter.notes.append(f"{col} -> timestamptz")
        return
    if is_textual(old) and new in enums:
        target = list(enums[new])
        mapping = LEGACY_LABELS.get(new, {})
        values = facts.stored_values.get((name, col), [])
        unknown = sorted(v for v in values if v not in target and v not in mapping)
        if unknown:
            out.refuse(d.object, f"values {unknown} are not labels of {new} {target} and have no known mapping",
                       "update those rows to target labels, then plan again")
            return
        used = {k: v for k, v in mapping.items() if k in values}
        alter.clauses.append(ddl.alter_type(col, ddl.enum_type(new), using=ddl.map_labels(col, used, new)))
        alter.notes.append(f"{col} -> {new} (legacy labels mapped)")
        alter.rewrite = True
        return
    out.refuse(d.object, f"type {old} -> {new} has no known safe conversion",
               "convert the column by hand (or tell us the rule), then plan again")
