"""Compare tables: which exist, and their columns and primary keys."""

from __future__ import annotations

from typing import Any

from nakamura_misaki_db.diff.kinds import Difference, DiffKind
from nakamura_misaki_db.schema.legacy_chain import LEGACY_ONLY_TABLES
from nakamura_misaki_db.schema.shapes import Catalog, Table


def compare_table_presence(actual: Catalog, expected: Catalog) -> tuple[list[Difference], list[str]]:
    """Differences for missing and surplus tables, and the names present in both."""
    out: list[Difference] = []
    both: list[str] = []
    for name in expected.tables:
        if name in actual.tables:
            both.append(name)
        else:
            out.append(Difference(DiffKind.MISSING_TABLE, name, name))
    for name in actual.tables:
        if name not in expected.tables:
            kind = DiffKind.LEGACY_TABLE if name in LEGACY_ONLY_TABLES else DiffKind.UNKNOWN_TABLE
            out.append(Difference(kind, name, name))
    return out, both


def compare_columns(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    for col in expected.columns:
        have = actual.column(col.name)
        obj = f"{t}.{col.name}"
        if have is None:
            out.append(Difference(DiffKind.MISSING_COLUMN, obj, t, expected=col.type))
            continue
        if have.type != col.type:
            out.append(Difference(DiffKind.COLUMN_TYPE, obj, t, expected=col.type, actual=have.type))
        if have.nullable != col.nullable:
            out.append(Difference(
                DiffKind.COLUMN_NULLABLE, obj, t,
                expected="NULL" if col.nullable else "NOT NULL",
                actual="NULL" if have.nullable else "NOT NULL",
            ))
        if have.collation != col.collation:
            out.append(Difference(DiffKind.COLUMN_COLLATION, obj, t, expected=col.collation or "default",
                                  actual=have.collation or "default"))
        if have.default != col.default:
            kind = DiffKind.MISSING_DEFAULT if have.default is None else DiffKind.COLUMN_DEFAULT
            out.append(Difference(kind, obj, t, expected=col.default, actual=have.default))
    wanted = {c.name for c in expected.columns}
    for col in actual.columns:
        if col.name not in wanted:
            out.append(Difference(DiffKind.EXTRA_COLUMN, f"{t}.{col.name}", t, actual=col.type))
    return out


def compare_primary_key(actual: Table, expected: Table) -> list[Difference]:
    if expected.primary_key == actual.primary_key:
        return []
    return [Difference(DiffKind.PRIMARY_KEY, expected.name, expected.name,
                       expected=_pk(expected), actual=_pk(actual) or "none")]


def _pk(table: Table) -> dict[str, Any] | None:
    pk = table.primary_key
    return None if pk is None else {"name": pk.name, "columns": list(pk.columns)}
