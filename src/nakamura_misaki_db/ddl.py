"""SQL that creates what a definition has and a database lacks.

Rendered by SQLAlchemy's DDL compiler from the definition itself, so no
statement here restates the schema. Used by revision 0001 (create what is
missing) and by the bridge's plan (its "create" steps).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable

from .drift import Difference
from .pg_enum import PGEnum

DIALECT = pg.dialect()


def _compile(element: sa.schema.ExecutableDDLElement) -> str:
    return str(element.compile(dialect=DIALECT)).strip()


def clause_sql(clause: sa.TextClause) -> str:
    """Plain SQL of an alembic-utils statement (which escapes colons for ``text()``)."""
    return clause.text.replace("\\:", ":")


def run_sql(conn: sa.Connection, sql: str) -> None:
    """Execute one plain SQL statement exactly as written.

    Through ``text()`` with colons escaped: that keeps ``:name`` from being read
    as a bind parameter and lets the driver see ``%`` (PL/pgSQL ``format``) as
    plain text.
    """
    conn.execute(sa.text(sql.replace(":", "\\:")))


def quote(name: str) -> str:
    return DIALECT.identifier_preparer.quote(name)


def find_index(metadata: sa.MetaData, name: str) -> sa.Index:
    for table in metadata.tables.values():
        for ix in table.indexes:
            if ix.name == name:
                return ix
    raise KeyError(name)


def find_constraint(metadata: sa.MetaData, table: str, name: str) -> sa.Constraint:
    for c in metadata.tables[table].constraints:
        if c.name == name:
            return c
    raise KeyError(name)


def create_table_statements(table: sa.Table) -> list[str]:
    return [_compile(CreateTable(table))] + [
        _compile(CreateIndex(ix)) for ix in sorted(table.indexes, key=lambda i: str(i.name))
    ]


def create_statements(
    d: Difference, metadata: sa.MetaData, entities: tuple[PGEnum | PGExtension, ...]
) -> list[str]:
    """The statements that close an additive difference ``d``."""
    if d.kind == "missing_extension":
        ext = next(e for e in entities if isinstance(e, PGExtension) and e.signature == d.object)
        return [f"CREATE EXTENSION IF NOT EXISTS {quote(ext.signature)} WITH SCHEMA {quote(ext.schema)}"]
    if d.kind == "missing_enum":
        enum = next(e for e in entities if isinstance(e, PGEnum) and e.signature == d.object)
        return [clause_sql(enum.to_sql_statement_create())]
    if d.kind == "missing_table":
        return create_table_statements(metadata.tables[d.object])
    if d.kind == "missing_index":
        return [_compile(CreateIndex(find_index(metadata, d.object)))]
    if d.kind in ("missing_unique", "missing_foreign_key"):
        assert d.table is not None
        # isolate_from_table=False: the default would mark the constraint in the
        # (frozen, shared) metadata so that later CREATE TABLEs silently omit it.
        constraint = find_constraint(metadata, d.table, d.object)
        return [_compile(AddConstraint(constraint, isolate_from_table=False))]
    if d.kind == "missing_default":
        assert d.table is not None
        column = d.object.split(".", 1)[1]
        return [
            f"ALTER TABLE {quote(d.table)} ALTER COLUMN {quote(column)} SET DEFAULT {d.expected}"
        ]
    raise ValueError(f"{d.kind} is not an additive difference")
