"""The target: the frozen definition of revision ``0001`` as a catalog, and its objects by name.

One definition, read by everyone who needs it: the ``0001`` migration
(``baseline``), the bridge's planners, verify and status. It comes from the
frozen ``schema.frozen.r0001_baseline`` module, never from the live models, so a model change
cannot move the target.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension

from nakamura_misaki_db.schema.from_definition import catalog_from_definition
from nakamura_misaki_db.schema.frozen import r0001_baseline as frozen
from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.shapes import Catalog, Check, Column, Index, LaterObjects, Table

REVISION = frozen.REVISION
SCHEMA = frozen.SCHEMA


@cache
def target_catalog() -> Catalog:
    """The frozen 0001 definition, as a catalog (computed once per process)."""
    return catalog_from_definition(frozen.metadata, frozen.ENTITIES, frozen.SCHEMA)


def table(name: str) -> sa.Table:
    return frozen.metadata.tables[name]


def index(name: str) -> sa.Index:
    for t in frozen.metadata.tables.values():
        for ix in t.indexes:
            if ix.name == name:
                return ix
    raise KeyError(name)


@cache
def index_names() -> frozenset[str]:
    """Names of every index 0001 defines (those behind constraints excluded)."""
    return frozenset(ix.name for t in frozen.metadata.tables.values() for ix in t.indexes if ix.name)


def constraint(table_name: str, name: str) -> sa.Constraint:
    for c in frozen.metadata.tables[table_name].constraints:
        if c.name == name:
            return c
    raise KeyError(name)


def foreign_key(table_name: str, name: str) -> sa.ForeignKeyConstraint:
    found = constraint(table_name, name)
    assert isinstance(found, sa.ForeignKeyConstraint)
    return found


def enum(name: str) -> PGEnum:
    return next(e for e in frozen.ENUMS if e.signature == name)


def extension(name: str) -> PGExtension:
    return next(e for e in frozen.ENTITIES if isinstance(e, PGExtension) and e.signature == name)


def tables_in_order() -> list[sa.Table]:
    """Target tables in foreign-key order (parents first)."""
    return list(frozen.metadata.sorted_tables)


def enums() -> tuple[PGEnum, ...]:
    return tuple(frozen.ENUMS)


@cache
def later_objects() -> LaterObjects:
    """Every object a revision after 0001 creates, from the frozen definitions (``frozen``), by name."""
    from nakamura_misaki_db.schema.frozen import LATER_REVISIONS

    tables: dict[str, tuple[str, Table]] = {}
    columns: dict[tuple[str, str], tuple[str, Column]] = {}
    checks: dict[tuple[str, str], tuple[str, Check]] = {}
    indexes: dict[tuple[str, str], tuple[str, Index]] = {}
    for rs in LATER_REVISIONS:
        catalog = catalog_from_definition(rs.metadata, (), SCHEMA)
        for name in rs.creates:
            tables[name] = (rs.revision, catalog.tables[name])
        for name in rs.extends:
            stub = catalog.tables[name]
            columns.update({(name, c.name): (rs.revision, c) for c in stub.columns})
            checks.update({(name, c.name): (rs.revision, c) for c in stub.checks})
            indexes.update({(name, i.name): (rs.revision, i) for i in stub.indexes})
    return LaterObjects(tables, columns, checks, indexes)
