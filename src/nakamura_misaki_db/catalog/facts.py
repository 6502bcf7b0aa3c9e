"""Data facts: what the rows say, gathered once, before any decision is made.

The planners (and the ``0001`` guard) decide from a catalog, its differences
and these facts alone, so every decision is a pure function, tested without
PostgreSQL. Gathering reads only what the differences call for: duplicate keys
for a missing unique constraint, values too long for a narrowed column, NULLs
for a new NOT NULL, stored values for a text -> enum cast, rows using enum
labels that would go away, orphans for a new foreign key. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nakamura_misaki_db.catalog.dependents import Dependents
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema.quoting import ident
from nakamura_misaki_db.schema.shapes import Catalog, Table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MAX_KEYS_SHOWN = 10


@dataclass(frozen=True)
class Duplicates:
    keys: int  # duplicated key values
    extra_rows: int  # rows beyond the first of each key (what would be moved away)


@dataclass
class DataFacts:
    """Plain data, keyed by table and column names; every field can be built by hand in a test."""

    duplicates: dict[tuple[str, tuple[str, ...]], Duplicates] = field(default_factory=dict)
    too_long: dict[tuple[str, str, int], list[str]] = field(default_factory=dict)  # -> keys of rows
    nulls: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # -> keys of rows
    stored_values: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # distinct, for casts
    enum_columns: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # enum -> (schema, t, col)
    label_use: dict[str, dict[str, int]] = field(default_factory=dict)  # enum -> "s.t.col" -> rows
    orphans: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (table, fk) -> keys
    archive_tables: frozenset[str] = frozenset()  # table names already in the archive schema
    invalid_indexes: frozenset[str] = frozenset()  # indexes a failed CONCURRENTLY build left behind
    dependents: Dependents = field(default_factory=Dependents)  # the open world around what is touched

    def duplicates_of(self, table: str, columns: Sequence[str]) -> Duplicates:
        return self.duplicates.get((table, tuple(columns)), Duplicates(0, 0))


# -- probes ------------------------------------------------------------------------------------

def _scalar(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> Any:
    import sqlalchemy as sa

    return conn.execute(sa.text(sql), params or {}).scalar()


def key_list(conn: Connection, table: Table, where: str, params: dict[str, Any] | None = None,
             schema: str = "public") -> list[str]:
    """Primary-key values of (at most a few) rows matching ``where``, for messages."""
    import sqlalchemy as sa

    pk = list(table.primary_key.columns) if table.primary_key else [table.columns[0].name]
    cols = ", ".join(f"{ident(c)}::text" for c in pk)
    rows = conn.execute(
        sa.text(f"SELECT {cols} FROM {ident(schema, table.name)} WHERE {where} LIMIT {MAX_KEYS_SHOWN + 1}"),
        params or {},
    ).all()
    keys = [", ".join(str(v) for v in r) for r in rows[:MAX_KEYS_SHOWN]]
    if len(rows) > MAX_KEYS_SHOWN:
        keys.append("...")
    return keys


def count_duplicates(conn: Connection, table: str, columns: Sequence[str], schema: str = "public") -> Duplicates:
    cols = ", ".join(ident(c) for c in columns)
    row = _row(conn, f"SELECT count(*), coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM "
                     f"{ident(schema, table)} GROUP BY {cols} HAVING count(*) > 1) AS g")
    return Duplicates(int(row[0]), int(row[1]))


def _row(conn: Connection, sql: str) -> tuple[Any, ...]:
    import sqlalchemy as sa

    return tuple(conn.execute(sa.text(sql)).one())


def enum_columns(conn: Connection, enum: str, schema: str = "public") -> list[tuple[str, str, str]]:
    """Every table column (any schema) whose type is the enum ``schema.enum``."""
    import sqlalchemy as sa

    rows = conn.execute(sa.text(
        "SELECT n.nspname, c.relname, a.attname FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE a.atttypid = to_regtype(:t) AND c.relkind IN ('r', 'p') AND NOT a.attisdropped"
        " ORDER BY 1, 2, 3"
    ), {"t": ident(schema, enum)}).all()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


def label_use(conn: Connection, columns: Iterable[tuple[str, str, str]], labels: Sequence[str]) -> dict[str, int]:
    """Rows per ``schema.table.column`` that hold one of ``labels``."""
    out: dict[str, int] = {}
    for schema, table, col in columns:
        n = _scalar(conn, f"SELECT count(*) FROM {ident(schema, table)} WHERE {ident(col)}::text = ANY(:l)",
                    {"l": list(labels)})
        if n:
            out[f"{schema}.{table}.{col}"] = int(n)
    return out


def orphan_keys(conn: Connection, child: Table, parent: str, columns: Sequence[str],
                parent_columns: Sequence[str]) -> list[str]:
    cond = " AND ".join(f"p.{ident(pc)} = c.{ident(cc)}" for cc, pc in zip(columns, parent_columns, strict=True))
    notnull = " AND ".join(f"c.{ident(cc)} IS NOT NULL" for cc in columns)
    import sqlalchemy as sa

    pk = list(child.primary_key.columns) if child.primary_key else [child.columns[0].name]
    cols = ", ".join(f"c.{ident(k)}::text" for k in pk)
    # Key order, so the same orphans are named the same way on every run (a join returns them in any order).
    order = ", ".join(f"c.{ident(k)}" for k in pk)
    rows = conn.execute(sa.text(
        f"SELECT {cols} FROM {ident('public', child.name)} c WHERE {notnull} AND NOT EXISTS "
        f"(SELECT 1 FROM {ident('public', parent)} p WHERE {cond}) ORDER BY {order} LIMIT {MAX_KEYS_SHOWN + 1}"
    )).all()
    keys = [", ".join(str(v) for v in r) for r in rows[:MAX_KEYS_SHOWN]]
    if len(rows) > MAX_KEYS_SHOWN:
        keys.append("...")
    return keys


def archive_tables(conn: Connection, archive_schema: str) -> frozenset[str]:
    import sqlalchemy as sa

    rows = conn.execute(sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :s AND c.relkind IN ('r', 'p')"), {"s": archive_schema}).all()
    return frozenset(str(r[0]) for r in rows)


def invalid_indexes(conn: Connection, schema: str = "public") -> frozenset[str]:
    import sqlalchemy as sa

    rows = conn.execute(sa.text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND NOT i.indisvalid"),
        {"s": schema}).all()
    return frozenset(str(r[0]) for r in rows)


def varchar_length(type_name: str) -> int | None:
    if type_name.startswith("character varying(") and type_name.endswith(")"):
        return int(type_name[len("character varying("):-1])
    return None


def is_textual(type_name: str) -> bool:
    return type_name == "text" or type_name.startswith("character varying")


# -- gathering ---------------------------------------------------------------------------------

def gather(conn: Connection, actual: Catalog, target: Catalog, differences: list[Difference], *,
           skip_tables: Iterable[str] = (), archive_schema: str = "legacy_archive",
           enum_probe: dict[str, list[str]] | None = None) -> DataFacts:
    """The facts ``differences`` call for. ``skip_tables``: tables that will be archived whole.

    ``enum_probe``: enum type -> labels whose use must be counted (the enum
    planner says which: only a rebuild needs to know).
    """
    from nakamura_misaki_db.schema.target import foreign_key

    skip = set(skip_tables)
    facts = DataFacts(archive_tables=archive_tables(conn, archive_schema), invalid_indexes=invalid_indexes(conn))
    for d in differences:
        table = actual.tables.get(d.table) if d.table else None
        if d.table in skip or table is None:
            continue
        with_rows = bool(table.has_rows)
        if d.kind in (DiffKind.MISSING_UNIQUE, DiffKind.UNIQUE_DEFINITION) and with_rows:
            cols = tuple(d.expected)
            facts.duplicates[(d.table, cols)] = count_duplicates(conn, d.table, cols)
        elif d.kind == DiffKind.COLUMN_TYPE and with_rows:
            old, new = varchar_length(str(d.actual)), varchar_length(str(d.expected))
            if old is not None and new is not None and new < old:
                facts.too_long[(d.table, d.column, new)] = key_list(
                    conn, table, f"length({ident(d.column)}) > {new}")
            elif is_textual(str(d.actual)) and d.expected in target.enums:
                facts.stored_values[(d.table, d.column)] = [str(r[0]) for r in _all(
                    conn, f"SELECT DISTINCT {ident(d.column)}::text FROM {ident('public', d.table)} "
                          f"WHERE {ident(d.column)} IS NOT NULL ORDER BY 1")]
        elif d.kind == DiffKind.COLUMN_NULLABLE and d.expected == "NOT NULL" and with_rows:
            facts.nulls[(d.table, d.column)] = key_list(conn, table, f"{ident(d.column)} IS NULL")
        elif d.kind in (DiffKind.MISSING_FOREIGN_KEY, DiffKind.FOREIGN_KEY_DEFINITION) and with_rows:
            fk = foreign_key(d.table, d.object)
            parent = fk.referred_table.name
            if parent in actual.tables and parent not in skip:
                facts.orphans[(d.table, d.object)] = orphan_keys(
                    conn, table, parent, [c.name for c in fk.columns], [e.column.name for e in fk.elements])
    for d in differences:
        if d.kind == DiffKind.ENUM_LABELS:
            facts.enum_columns[d.object] = enum_columns(conn, d.object)
            wanted = (enum_probe or {}).get(d.object)
            if wanted:
                facts.label_use[d.object] = label_use(conn, facts.enum_columns[d.object], wanted)
    return facts


def _all(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    import sqlalchemy as sa

    return [tuple(r) for r in conn.execute(sa.text(sql)).all()]
