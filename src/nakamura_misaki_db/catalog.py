"""Read a schema into plain, comparable data: from a live database or from a definition.

Both readers produce the same ``Catalog`` shape, so comparing a database with
the frozen ``0001`` definition is a comparison of two values (see ``diff``).
Reading a database touches only the catalog (plus O(1) probes), never scans
table data: its cost does not grow with row counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.engine import Connection

from .pg_enum import PGEnum
from .quoting import ident
from .version_table import VERSION_TABLE, read_version

__all__ = ["Catalog", "catalog_from_definition", "inspect_database", "read_version"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL's own spelling, as format_type() prints it
    nullable: bool
    default: str | None  # as pg_get_expr() prints it
    collation: str | None = None  # only when it differs from the type's default


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    method: str = "btree"
    where: str | None = None  # partial index predicate
    options: tuple[str, ...] = ()  # per-column sort order / INCLUDE columns


@dataclass(frozen=True)
class Check:
    name: str
    sqltext: str


@dataclass(frozen=True)
class Unique:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None  # "CASCADE", "SET NULL", ... or None for NO ACTION


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: Unique | None
    uniques: tuple[Unique, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()  # excluding the indexes that back PK/unique constraints
    checks: tuple[Check, ...] = ()
    # Facts about data, only for a live table; estimates from the statistics.
    estimated_rows: int | None = None
    size_bytes: int | None = None
    has_rows: bool | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    schema: str
    extensions: dict[str, str]  # extension name -> schema it lives in
    enums: dict[str, tuple[str, ...]]  # type name -> labels in sort order
    tables: dict[str, Table]
    # None: there is no alembic_version table; otherwise its rows.
    alembic_version: tuple[str, ...] | None = None
    other_schemas: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _by_name(items: Iterable[Any]) -> tuple[Any, ...]:
    """Constraints and indexes in name order, so two catalogs of the same schema compare equal."""
    return tuple(sorted(items, key=lambda item: item.name))


# -- from a definition -----------------------------------------------------------------------

def type_name(type_: sa.types.TypeEngine) -> str:
    """The PostgreSQL spelling of a SQLAlchemy type, as ``format_type()`` prints it."""
    if isinstance(type_, sa.Enum):
        return str(type_.name)
    if isinstance(type_, sa.Text):
        return "text"
    if isinstance(type_, sa.String):
        return f"character varying({type_.length})" if type_.length else "character varying"
    if isinstance(type_, sa.DateTime):
        return "timestamp with time zone" if type_.timezone else "timestamp without time zone"
    if isinstance(type_, sa.Uuid):
        return "uuid"
    if isinstance(type_, pg.JSONB):
        return "jsonb"
    if isinstance(type_, sa.JSON):
        return "json"
    if isinstance(type_, sa.Boolean):
        return "boolean"
    if isinstance(type_, sa.BigInteger):
        return "bigint"
    if isinstance(type_, sa.SmallInteger):
        return "smallint"
    if isinstance(type_, sa.Integer):
        return "integer"
    return type_.compile(dialect=pg.dialect()).lower()


def _default_text(column: sa.Column) -> str | None:
    default = column.server_default
    if default is None:
        return None
    arg = getattr(default, "arg", None)
    if isinstance(arg, sa.sql.elements.TextClause):
        return arg.text
    return str(arg)


def _index_where(index: sa.Index) -> str | None:
    where = index.dialect_options["postgresql"].get("where")
    return None if where is None else str(where)


def _ondelete(value: str | None) -> str | None:
    if value is None or value.upper() == "NO ACTION":
        return None
    return value.upper()


def catalog_from_definition(
    metadata: sa.MetaData,
    entities: Iterable[PGEnum | PGExtension],
    schema: str = "public",
) -> Catalog:
    tables: dict[str, Table] = {}
    for t in metadata.sorted_tables:
        pk = t.primary_key
        uniques = _by_name(
            Unique(str(c.name), tuple(col.name for col in c.columns))
            for c in t.constraints if isinstance(c, sa.UniqueConstraint)
        )
        fks = _by_name(
            ForeignKey(
                name=str(c.name),
                columns=tuple(col.name for col in c.columns),
                ref_table=c.referred_table.name,
                ref_columns=tuple(e.column.name for e in c.elements),
                on_delete=_ondelete(c.ondelete),
            )
            for c in t.constraints if isinstance(c, sa.ForeignKeyConstraint)
        )
        indexes = _by_name(
            Index(str(i.name), tuple(c.name for c in i.columns), bool(i.unique), where=_index_where(i))
            for i in t.indexes
        )
        checks = _by_name(
            Check(str(c.name), str(c.sqltext)) for c in t.constraints if isinstance(c, sa.CheckConstraint)
        )
        tables[t.name] = Table(
            name=t.name,
            columns=tuple(
                Column(c.name, type_name(c.type), bool(c.nullable), _default_text(c),
                       getattr(c.type, "collation", None))
                for c in t.columns
            ),
            primary_key=Unique(str(pk.name), tuple(c.name for c in pk.columns)) if pk.columns else None,
            uniques=uniques,
            foreign_keys=fks,
            indexes=indexes,
            checks=checks,
        )
    extensions = {e.signature: e.schema for e in entities if isinstance(e, PGExtension)}
    enums = {e.signature: e.labels for e in entities if isinstance(e, PGEnum)}
    return Catalog(schema=schema, extensions=extensions, enums=enums, tables=tables)


# -- from a live database --------------------------------------------------------------------

_COLUMNS_SQL = sa.text(
    """
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid),
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname END
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum
    """
)

# reltuples is -1 until the first VACUUM/ANALYZE; the statistics collector's
# live-tuple count covers fresh tables.
_TABLE_STATS_SQL = sa.text(
    """
    SELECT c.relname, greatest(c.reltuples::bigint, coalesce(s.n_live_tup, 0), 0), pg_total_relation_size(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
    """
)

# Bounded probe for tables the statistics have not seen yet: never scans more
# than this many rows, whatever the table's size.
_PROBE_LIMIT = 100_000

_SCHEMAS_SQL = sa.text(
    """
    SELECT nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
    ORDER BY 1
    """
)


def _index_options(reflected: dict[str, Any]) -> tuple[str, ...]:
    sorting = reflected.get("column_sorting") or {}
    opts = [f"{col} {' '.join(flags)}" for col, flags in sorted(sorting.items())]
    include = (reflected.get("dialect_options") or {}).get("postgresql_include") or []
    opts += [f"INCLUDE {col}" for col in include]
    return tuple(opts)


def inspect_database(conn: Connection, schema: str = "public") -> Catalog:
    """Read the live catalog of ``schema``. Trusts nothing but the catalog itself."""
    insp = sa.inspect(conn)
    columns: dict[str, list[Column]] = {}
    for relname, attname, typ, nullable, default, collation in conn.execute(_COLUMNS_SQL, {"schema": schema}):
        columns.setdefault(relname, []).append(Column(attname, typ, bool(nullable), default, collation))
    stats = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(_TABLE_STATS_SQL, {"schema": schema})}

    names = [n for n in columns if n != VERSION_TABLE]
    pks = insp.get_multi_pk_constraint(schema=schema)
    uqs = insp.get_multi_unique_constraints(schema=schema)
    fks = insp.get_multi_foreign_keys(schema=schema)
    ixs = insp.get_multi_indexes(schema=schema)
    cks = insp.get_multi_check_constraints(schema=schema)

    tables: dict[str, Table] = {}
    for name in sorted(names):
        key = (schema, name)
        pk = pks.get(key) or {}
        unique_list = uqs.get(key, [])
        constraint_names = {u["name"] for u in unique_list} | {pk.get("name")}
        indexes = _by_name(
            Index(
                name=i["name"],
                # "expressions" lists every key (plain columns too) when any is an expression.
                columns=tuple(i.get("expressions") or i["column_names"]),
                unique=bool(i["unique"]),
                method=str(i.get("dialect_options", {}).get("postgresql_using", "btree")),
                where=i.get("dialect_options", {}).get("postgresql_where"),
                options=_index_options(i),
            )
            for i in ixs.get(key, [])
            if i["name"] not in constraint_names and not i.get("duplicates_constraint")
        )
        estimated, size = stats.get(name, (0, 0))
        qualified = ident(schema, name)
        has_rows = bool(conn.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {qualified})")))
        if has_rows and estimated == 0:
            estimated = int(conn.scalar(sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {qualified} LIMIT {_PROBE_LIMIT}) AS probe"
            )) or 0)
        tables[name] = Table(
            name=name,
            columns=tuple(columns[name]),
            primary_key=(
                Unique(pk["name"], tuple(pk["constrained_columns"]))
                if pk.get("constrained_columns") else None
            ),
            uniques=_by_name(Unique(u["name"], tuple(u["column_names"])) for u in unique_list),
            foreign_keys=_by_name(
                ForeignKey(
                    name=f["name"],
                    columns=tuple(f["constrained_columns"]),
                    ref_table=f["referred_table"],
                    ref_columns=tuple(f["referred_columns"]),
                    on_delete=_ondelete((f.get("options") or {}).get("ondelete")),
                )
                for f in fks.get(key, [])
            ),
            indexes=indexes,
            checks=_by_name(Check(c["name"], c["sqltext"]) for c in cks.get(key, [])),
            estimated_rows=estimated if has_rows else 0,
            size_bytes=size,
            has_rows=has_rows,
        )

    # alembic-utils' readers only call .execute(), which a Connection has too.
    extensions = {e.signature: e.schema for e in PGExtension.from_database(conn, "%")}
    enums = {e.signature: e.labels for e in PGEnum.from_database(conn, schema)}
    other = tuple(s for (s,) in conn.execute(_SCHEMAS_SQL) if s != schema)
    return Catalog(
        schema=schema,
        extensions=extensions,
        enums=enums,
        tables=tables,
        alembic_version=read_version(conn, schema),
        other_schemas=other,
    )
