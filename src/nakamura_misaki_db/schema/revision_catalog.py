"""What revision R must have built: the frozen definitions of 0001 .. R as one catalog.

``alembic_version`` only says which revision a database claims; these catalogs
are what each claim is checked against (``catalog.state``). Revision ``0001``
is ``target``; ``0002`` drops two indexes (``frozen.r0002_drop_redundant_indexes``);
every later revision that changes the schema has its ``RevisionSchema`` in
``frozen`` (tables it creates, columns, CHECKs and indexes it adds). A revision
after ``FROZEN_THROUGH`` with neither may have changed what earlier ones built
(an enum label, a column): ``catalog.state`` then checks only what cannot be
undone that way (every table, type and extension present, no index INVALID).
"""

from __future__ import annotations

import dataclasses
from functools import cache

from nakamura_misaki_db.schema.from_definition import catalog_from_definition
from nakamura_misaki_db.schema.frozen import LATER_REVISIONS
from nakamura_misaki_db.schema.frozen import r0002_drop_redundant_indexes as r0002
from nakamura_misaki_db.schema.shapes import Catalog, LaterObjects, Table, by_name
from nakamura_misaki_db.schema.target import SCHEMA, later_objects, target_catalog

# The newest revision whose effect the frozen definitions record: up to it, "what R built" is exact.
FROZEN_THROUGH = max(("0001", r0002.REVISION, *(s.revision for s in LATER_REVISIONS)))


def _after(revision: str, other: str) -> bool:
    """Is ``other`` later than ``revision``? (Four-digit ids: their order is the chain's.)"""
    return other > revision


@cache
def revision_catalog(revision: str) -> Catalog:
    """Everything 0001 .. ``revision`` create, as one catalog (computed once per revision)."""
    base = target_catalog()
    tables = dict(base.tables)
    if not _after(revision, r0002.REVISION):
        for name, dropped in r0002.DROPS.items():
            table = tables[name]
            tables[name] = dataclasses.replace(
                table, indexes=tuple(i for i in table.indexes if i.name not in dropped))
    for schema in LATER_REVISIONS:
        if _after(revision, schema.revision):
            continue
        made = catalog_from_definition(schema.metadata, (), SCHEMA)
        for name in schema.creates:
            tables[name] = made.tables[name]
        for name in schema.extends:
            tables[name] = _extend(tables[name], made.tables[name])
    return dataclasses.replace(base, tables=tables)


def _extend(table: Table, stub: Table) -> Table:
    """``table`` with what a revision's stub adds to it: columns (appended), CHECKs and indexes."""
    return dataclasses.replace(table, columns=table.columns + stub.columns,
                               checks=by_name((*table.checks, *stub.checks)),
                               indexes=by_name((*table.indexes, *stub.indexes)))


@cache
def later_than(revision: str) -> LaterObjects:
    """What the revisions after ``revision`` create: present exactly as defined, it is not a difference."""
    every = later_objects()

    def keep(items: dict) -> dict:
        return {k: v for k, v in items.items() if _after(revision, v[0])}

    return LaterObjects(keep(every.tables), keep(every.columns), keep(every.checks), keep(every.indexes))


def dropped_later(revision: str) -> frozenset[tuple[str, str]]:
    """(table, index) that a revision after ``revision`` drops: absent, it is not a difference."""
    if not _after(revision, r0002.REVISION):
        return frozenset()
    return frozenset((table, index) for table, names in r0002.DROPS.items() for index in names)
