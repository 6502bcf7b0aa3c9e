"""Objects of later revisions: present in the database, they are not drift from 0001 when they are exactly
what that later revision defines.

A database the application's second chain migrated (states S6, S7 of
app-chain.md) already has what our revisions 0003-0007 create: tables, and
columns, CHECKs and indexes on ``tasks``. Compared with 0001 alone they look
like extra objects, and an extra column would even make ``tasks`` look
unconvertible. ``accept_later`` takes each such object out of the differences
when it equals its frozen definition (the later revision will adopt it), and
turns it into a ``later_object_differs`` difference when it does not (the
later revision would refuse it, so the bridge refuses it up front).
"""

from __future__ import annotations

import dataclasses

from nakamura_misaki_db.diff.constraints import compare_checks
from nakamura_misaki_db.diff.indexes import compare_indexes, index_shape
from nakamura_misaki_db.diff.kinds import Difference, DiffKind
from nakamura_misaki_db.diff.tables import compare_columns
from nakamura_misaki_db.schema.shapes import Catalog, LaterObjects, Table


def _single(table: Table, **parts: tuple) -> Table:
    """``table`` reduced to the one object being compared."""
    empty: dict = {"primary_key": None, "uniques": (), "foreign_keys": (), "checks": (), "indexes": (), "columns": ()}
    return dataclasses.replace(table, **{**empty, **parts})


def accept_later(differences: list[Difference], actual: Catalog, later: LaterObjects
                 ) -> tuple[list[Difference], list[str]]:
    """(differences left, one note per later object kept as it is)."""
    out: list[Difference] = []
    kept: list[str] = []
    for d in differences:
        table = actual.tables.get(d.table) if d.table else None
        if d.kind == DiffKind.UNKNOWN_TABLE and d.object in later.tables:
            revision, expected = later.tables[d.object]
            from nakamura_misaki_db.diff import diff_table

            problems = diff_table(actual.tables[d.object], expected)
            if problems:
                out.append(Difference(DiffKind.LATER_OBJECT_DIFFERS, d.object, d.object,
                                      expected=f"table {d.object} as revision {revision} defines it",
                                      actual="; ".join(p.describe() for p in problems)))
            else:
                kept.append(f"table {d.object}: already as revision {revision} defines it (adopted there)")
            continue
        if table is not None and d.kind == DiffKind.EXTRA_COLUMN and (d.table, d.column) in later.columns:
            revision, want = later.columns[(d.table, d.column)]
            have = table.column(d.column)
            assert have is not None
            problems = compare_columns(_single(table, columns=(have,)), _single(table, columns=(want,)))
            _keep_or_refuse(out, kept, d, f"column {d.object}", revision, problems)
            continue
        if table is not None and d.kind == DiffKind.EXTRA_CHECK and (d.table, d.object) in later.checks:
            revision, want_check = later.checks[(d.table, d.object)]
            got = next(c for c in table.checks if c.name == d.object)
            problems = compare_checks(_single(table, checks=(got,)), _single(table, checks=(want_check,)))
            _keep_or_refuse(out, kept, d, f"check constraint {d.object} on {d.table}", revision, problems)
            continue
        if table is not None and d.kind == DiffKind.EXTRA_INDEX and (d.table, d.object) in later.indexes:
            revision, want_index = later.indexes[(d.table, d.object)]
            got_index = next(i for i in table.indexes if i.name == d.object)
            problems = compare_indexes(_single(table, indexes=(got_index,)), _single(table, indexes=(want_index,)))
            if [p.kind for p in problems] == [DiffKind.INVALID_INDEX]:
                # Its shape is right but PostgreSQL does not use it: not adoptable, yet nothing to refuse
                # either (dropped, it is simply absent, and its revision creates it).
                out.append(dataclasses.replace(problems[0], expected=f"valid and ready (revision {revision} "
                                                                    "defines it)"))
                continue
            _keep_or_refuse(out, kept, d, f"index {d.object} on {d.table}", revision, problems)
            continue
        out.append(d)
    return out, kept


def _keep_or_refuse(out: list[Difference], kept: list[str], d: Difference, what: str, revision: str,
                    problems: list[Difference]) -> None:
    if problems:
        out.append(Difference(DiffKind.LATER_OBJECT_DIFFERS, d.object, d.table,
                              expected=f"{what} as revision {revision} defines it",
                              actual="; ".join(p.describe() for p in problems)))
    else:
        kept.append(f"{what}: already as revision {revision} defines it (adopted there)")


__all__ = ["LaterObjects", "accept_later", "index_shape"]  # LaterObjects: from schema.shapes
