"""Compare unique, foreign key and check constraints, by name and definition."""

from __future__ import annotations

from typing import Any

from nakamura_misaki_db.diff.kinds import Difference, DiffKind
from nakamura_misaki_db.schema.shapes import ForeignKey, Table


def compare_uniques(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    have = {u.name: u for u in actual.uniques}
    for uq in expected.uniques:
        got = have.pop(uq.name, None)
        if got is None:
            out.append(Difference(DiffKind.MISSING_UNIQUE, uq.name, t, expected=list(uq.columns)))
        elif got.columns != uq.columns:
            out.append(Difference(DiffKind.UNIQUE_DEFINITION, uq.name, t,
                                  expected=list(uq.columns), actual=list(got.columns)))
    out += [Difference(DiffKind.EXTRA_UNIQUE, uq.name, t, actual=list(uq.columns)) for uq in have.values()]
    return out


def fk_shape(fk: ForeignKey) -> dict[str, Any]:
    return {
        "columns": list(fk.columns),
        "references": f"{fk.ref_table}({', '.join(fk.ref_columns)})",
        "on_delete": fk.on_delete,
    }


def compare_foreign_keys(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    have = {f.name: f for f in actual.foreign_keys}
    for fk in expected.foreign_keys:
        got = have.pop(fk.name, None)
        if got is None:
            out.append(Difference(DiffKind.MISSING_FOREIGN_KEY, fk.name, t, expected=fk_shape(fk)))
        elif got != fk:
            out.append(Difference(DiffKind.FOREIGN_KEY_DEFINITION, fk.name, t,
                                  expected=fk_shape(fk), actual=fk_shape(got)))
    out += [Difference(DiffKind.EXTRA_FOREIGN_KEY, fk.name, t, actual=fk_shape(fk)) for fk in have.values()]
    return out


def compare_checks(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    have = {c.name: c for c in actual.checks}
    for ck in expected.checks:
        got = have.pop(ck.name, None)
        if got is None:
            out.append(Difference(DiffKind.MISSING_CHECK, ck.name, t, expected=ck.sqltext))
        elif got.sqltext != ck.sqltext:
            out.append(Difference(DiffKind.CHECK_DEFINITION, ck.name, t, expected=ck.sqltext, actual=got.sqltext))
    out += [Difference(DiffKind.EXTRA_CHECK, ck.name, t, actual=ck.sqltext) for ck in have.values()]
    return out
