"""Diff: compare two catalogs and list every difference as data.

Split by object kind, as Alembic's own comparison is: ``types`` (extensions,
enums), ``tables`` (presence, columns, primary keys), ``constraints``
(unique, foreign key, check), ``indexes``. ``diff(actual, expected)`` runs
them all in a stable order. It is pure: two values in, a list out, no
database, so it is tested table-driven in milliseconds.

Used by revision ``0001`` (its guard), by ``baseline-bridge plan`` (what to
close), by verify (what is left) and by status (how far off).
"""

from __future__ import annotations

from nakamura_misaki_db.diff.constraints import compare_checks, compare_foreign_keys, compare_uniques, fk_shape
from nakamura_misaki_db.diff.indexes import compare_indexes, index_shape
from nakamura_misaki_db.diff.kinds import ADDITIVE_KINDS, FOREIGN_KINDS, Difference, DiffKind
from nakamura_misaki_db.diff.tables import compare_columns, compare_primary_key, compare_table_presence
from nakamura_misaki_db.diff.types import compare_enums, compare_extensions
from nakamura_misaki_db.schema.shapes import Catalog, Table

__all__ = [
    "ADDITIVE_KINDS",
    "FOREIGN_KINDS",
    "DiffKind",
    "Difference",
    "blocking",
    "diff",
    "diff_table",
    "fk_shape",
    "index_shape",
]


def diff_table(actual: Table, expected: Table) -> list[Difference]:
    """Every way one table differs from its definition."""
    return [
        *compare_columns(actual, expected),
        *compare_primary_key(actual, expected),
        *compare_uniques(actual, expected),
        *compare_foreign_keys(actual, expected),
        *compare_checks(actual, expected),
        *compare_indexes(actual, expected),
    ]


def diff(actual: Catalog, expected: Catalog) -> list[Difference]:
    """Every way ``actual`` differs from ``expected``, in a stable order.

    Tables that exist only in ``actual`` are ``legacy_table`` when an old
    revision created them and ``unknown_table`` otherwise; callers decide what
    each means (the bridge leaves unknown tables alone).
    """
    presence, both = compare_table_presence(actual, expected)
    out = [*compare_extensions(actual, expected), *compare_enums(actual, expected)]
    missing = [d for d in presence if d.kind == DiffKind.MISSING_TABLE]
    surplus = [d for d in presence if d.kind != DiffKind.MISSING_TABLE]
    # Keep the historic order: missing tables interleaved in definition order, then surplus tables.
    for name in expected.tables:
        if name in both:
            out.extend(diff_table(actual.tables[name], expected.tables[name]))
        else:
            out.extend(d for d in missing if d.object == name)
    out.extend(surplus)
    return out


def blocking(differences: list[Difference]) -> list[Difference]:
    """Differences that revision 0001 must not paper over (anything not additive and not foreign)."""
    return [d for d in differences if not d.additive and not d.foreign]
