"""A frozen SQLAlchemy definition read into the same ``Catalog`` shape a live database gives."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg

from nakamura_misaki_db.schema.pg_enum import PGEnum
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


def catalog_from_definition(
    metadata: sa.MetaData,
    entities: Iterable[PGEnum | PGExtension],
    schema: str = "public",
) -> Catalog:
    tables: dict[str, Table] = {}
    for t in metadata.sorted_tables:
        pk = t.primary_key
        uniques = by_name(
            Unique(str(c.name), tuple(col.name for col in c.columns))
            for c in t.constraints if isinstance(c, sa.UniqueConstraint)
        )
        fks = by_name(
            ForeignKey(
                name=str(c.name),
                columns=tuple(col.name for col in c.columns),
                ref_table=c.referred_table.name,
                ref_columns=tuple(e.column.name for e in c.elements),
                on_delete=on_delete_action(c.ondelete),
            )
            for c in t.constraints if isinstance(c, sa.ForeignKeyConstraint)
        )
        indexes = by_name(
            Index(str(i.name), tuple(c.name for c in i.columns), bool(i.unique), where=_index_where(i))
            for i in t.indexes
        )
        checks = by_name(
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

