"""Compare indexes (those not backing a primary key or unique constraint), by name and shape."""

from __future__ import annotations

from typing import Any

from nakamura_misaki_db.diff.kinds import Difference, DiffKind
from nakamura_misaki_db.schema.shapes import Index, Table

INVALID_TEXT = "INVALID or not ready (left by an interrupted CREATE INDEX CONCURRENTLY; PostgreSQL does not use it)"


def index_shape(ix: Index) -> dict[str, Any]:
    shape: dict[str, Any] = {"columns": list(ix.columns), "unique": ix.unique, "method": ix.method}
    if ix.where:
        shape["where"] = ix.where
    if ix.options:
        shape["options"] = list(ix.options)
    return shape


def compare_indexes(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    have = {i.name: i for i in actual.indexes}
    for ix in expected.indexes:
        got = have.pop(ix.name, None)
        if got is None:
            out.append(Difference(DiffKind.MISSING_INDEX, ix.name, t, expected=index_shape(ix)))
        elif index_shape(got) != index_shape(ix):
            out.append(Difference(DiffKind.INDEX_DEFINITION, ix.name, t,
                                  expected=index_shape(ix), actual=index_shape(got)))
        elif not got.valid:
            out.append(Difference(DiffKind.INVALID_INDEX, ix.name, t, expected="valid and ready",
                                  actual=INVALID_TEXT))
    # An extra index that is also invalid is reported as extra: whatever removes it removes both.
    out += [Difference(DiffKind.EXTRA_INDEX, ix.name, t, actual=index_shape(ix)) for ix in have.values()]
    return out
