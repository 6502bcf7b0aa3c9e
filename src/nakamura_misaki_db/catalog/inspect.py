"""Read a live database into the plain, comparable ``Catalog`` (``schema.shapes``).

Reading touches only the catalog (plus O(1) probes), never scans table data:
its cost does not grow with row counts. Trusts nothing but the catalog itself.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.engine import Connection

from nakamura_misaki_db.catalog.version_table import VERSION_TABLE, read_version
from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.quoting import ident
from nakamura_misaki_db.schema.shapes import (
    Catalog,
    Check,
    Column,
    ForeignKey,
    Index,
    Table,
    Unique,
    by_name,
    on_delete_action,
)

__all__ = ["Catalog", "inspect_database", "read_version"]


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
    SELECT c.relname, greatest(c.reltuples::bigint, coalesce(s.n_live_tup, 0), 0), pg_total_relation_size(c.oid),
           row_security_active(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
    """
)

# Indexes PostgreSQL does not use: INVALID, or not even ready (an interrupted CREATE INDEX CONCURRENTLY).
_INVALID_INDEXES_SQL = sa.text(
    """
    SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE n.nspname = :schema AND NOT (i.indisvalid AND i.indisready)
    """
)

# Every other alembic_version: a session whose search_path names that schema first reads it, not ours.
_OTHER_VERSION_TABLES_SQL = sa.text(
    """
    SELECT n.nspname, has_table_privilege(c.oid, 'SELECT') AND NOT row_security_active(c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname = 'alembic_version' AND c.relkind IN ('r', 'p', 'v') AND n.nspname <> :schema
    ORDER BY 1
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
    stats: dict[str, tuple[int, int]] = {}
    hidden: list[str] = []
    for relname, estimate, size, rls_active in conn.execute(_TABLE_STATS_SQL, {"schema": schema}):
        stats[relname] = (int(estimate), int(size))
        if rls_active:
            hidden.append(str(relname))
    invalid = {str(r[0]) for r in conn.execute(_INVALID_INDEXES_SQL, {"schema": schema})}

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
        indexes = by_name(
            Index(
                name=i["name"],
                # "expressions" lists every key (plain columns too) when any is an expression.
                columns=tuple(i.get("expressions") or i["column_names"]),
                unique=bool(i["unique"]),
                method=str(i.get("dialect_options", {}).get("postgresql_using", "btree")),
                where=i.get("dialect_options", {}).get("postgresql_where"),
                options=_index_options(i),
                valid=i["name"] not in invalid,
            )
            for i in ixs.get(key, [])
            if i["name"] not in constraint_names and not i.get("duplicates_constraint")
        )
        estimated, size = stats.get(name, (0, 0))
        qualified = ident(schema, name)
        # Rows row level security hides cannot be probed (every session runs with row_security = off,
        # so the probe would fail): the statistics' estimate stands, and has_rows stays unknown.
        has_rows: bool | None = None
        if name not in hidden:
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
            uniques=by_name(Unique(u["name"], tuple(u["column_names"])) for u in unique_list),
            foreign_keys=by_name(
                ForeignKey(
                    name=f["name"],
                    columns=tuple(f["constrained_columns"]),
                    ref_table=f["referred_table"],
                    ref_columns=tuple(f["referred_columns"]),
                    on_delete=on_delete_action((f.get("options") or {}).get("ondelete")),
                )
                for f in fks.get(key, [])
            ),
            indexes=indexes,
            checks=by_name(Check(c["name"], c["sqltext"]) for c in cks.get(key, [])),
            estimated_rows=estimated if has_rows or has_rows is None else 0,
            size_bytes=size,
            has_rows=has_rows,
        )

    # alembic-utils' readers only call .execute(), which a Connection has too.
    extensions = {e.signature: e.schema for e in PGExtension.from_database(conn, "%")}
    enums = {e.signature: e.labels for e in PGEnum.from_database(conn, schema)}
    other = tuple(s for (s,) in conn.execute(_SCHEMAS_SQL) if s != schema)
    versions: dict[str, tuple[str, ...] | None] = {}
    for other_schema, readable in conn.execute(_OTHER_VERSION_TABLES_SQL, {"schema": schema}).all():
        versions[f"{other_schema}.{VERSION_TABLE}"] = read_version(conn, other_schema) if readable else None
    return Catalog(
        schema=schema,
        extensions=extensions,
        enums=enums,
        tables=tables,
        alembic_version=read_version(conn, schema),
        other_schemas=other,
        rls_hidden=tuple(sorted(hidden)),
        other_version_tables=versions,
    )
