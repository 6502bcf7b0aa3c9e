"""Compare extensions and enum types (labels in order)."""

from __future__ import annotations

from nakamura_misaki_db.diff.kinds import Difference, DiffKind
from nakamura_misaki_db.schema.shapes import Catalog


def compare_extensions(actual: Catalog, expected: Catalog) -> list[Difference]:
    out: list[Difference] = []
    for name, schema in expected.extensions.items():
        have = actual.extensions.get(name)
        if have is None:
            out.append(Difference(DiffKind.MISSING_EXTENSION, name, expected=schema))
        elif have != schema:
            out.append(Difference(DiffKind.EXTENSION_SCHEMA, name, expected=schema, actual=have))
    return out


def compare_enums(actual: Catalog, expected: Catalog) -> list[Difference]:
    out: list[Difference] = []
    for name, labels in expected.enums.items():
        have = actual.enums.get(name)
        if have is None:
            out.append(Difference(DiffKind.MISSING_ENUM, name, expected=list(labels)))
        elif tuple(have) != tuple(labels):  # order matters: it is how values sort
            out.append(Difference(DiffKind.ENUM_LABELS, name, expected=list(labels), actual=list(have)))
    for name, labels in actual.enums.items():
        if name not in expected.enums:
            out.append(Difference(DiffKind.EXTRA_ENUM, name, actual=list(labels)))
    return out
