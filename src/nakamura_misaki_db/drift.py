"""Compare two catalogs and list every difference as data.

``diff(actual, expected)`` is used by revision ``0001`` (its guard), by
``baseline-bridge plan`` (what to close) and by the bridge's verify step (what
is left). Differences are values with a kind, the object they concern and the
expected/actual facts, so they print, serialise to JSON and compare in tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .catalog import Catalog, Table
from .legacy_chain import LEGACY_ONLY_TABLES

# Objects the target does not define and that belong to nobody we know: left
# alone and reported, never a reason to refuse.
FOREIGN_KINDS = frozenset({"unknown_table", "extra_enum"})

# Kinds whose fix only adds something; every other kind changes or removes.
ADDITIVE_KINDS = frozenset(
    {
        "missing_extension",
        "missing_enum",
        "missing_table",
        "missing_index",
        "missing_unique",
        "missing_foreign_key",
        "missing_default",
    }
)


@dataclass(frozen=True)
class Difference:
    kind: str
    object: str  # "task_status", "tasks", "tasks.title", "ix_tasks_status"
    table: str | None = None
    expected: Any = None
    actual: Any = None

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE_KINDS

    def describe(self) -> str:
        what = self.kind.replace("_", " ")
        if self.expected is None and self.actual is not None:
            return f"{what}: {self.object} (found {_show(self.actual)})"
        if self.actual is None and self.expected is not None:
            return f"{what}: {self.object} (expected {_show(self.expected)})"
        return f"{what}: {self.object}: expected {_show(self.expected)}, found {_show(self.actual)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return str(value)


def _index_shape(ix: Any) -> dict[str, Any]:
    shape = {"columns": list(ix.columns), "unique": ix.unique, "method": ix.method}
    if ix.where:
        shape["where"] = ix.where
    if ix.options:
        shape["options"] = list(ix.options)
    return shape


def _diff_table(actual: Table, expected: Table) -> list[Difference]:
    out: list[Difference] = []
    t = expected.name
    for col in expected.columns:
        have = actual.column(col.name)
        obj = f"{t}.{col.name}"
        if have is None:
            out.append(Difference("missing_column", obj, t, expected=col.type))
            continue
        if have.type != col.type:
            out.append(Difference("column_type", obj, t, expected=col.type, actual=have.type))
        if have.nullable != col.nullable:
            out.append(Difference(
                "column_nullable", obj, t,
                expected="NULL" if col.nullable else "NOT NULL",
                actual="NULL" if have.nullable else "NOT NULL",
            ))
        if have.collation != col.collation:
            out.append(Difference("column_collation", obj, t, expected=col.collation or "default",
                                  actual=have.collation or "default"))
        if have.default != col.default:
            kind = "missing_default" if have.default is None else "column_default"
            out.append(Difference(kind, obj, t, expected=col.default, actual=have.default))
    wanted = {c.name for c in expected.columns}
    for col in actual.columns:
        if col.name not in wanted:
            out.append(Difference("extra_column", f"{t}.{col.name}", t, actual=col.type))

    if expected.primary_key != actual.primary_key:
        out.append(Difference(
            "primary_key", t, t,
            expected=_pk(expected), actual=_pk(actual),
        ))

    have_uq = {u.name: u for u in actual.uniques}
    for uq in expected.uniques:
        got = have_uq.pop(uq.name, None)
        if got is None:
            out.append(Difference("missing_unique", uq.name, t, expected=list(uq.columns)))
        elif got.columns != uq.columns:
            out.append(Difference("unique_definition", uq.name, t,
                                  expected=list(uq.columns), actual=list(got.columns)))
    for uq in have_uq.values():
        out.append(Difference("extra_unique", uq.name, t, actual=list(uq.columns)))

    have_fk = {f.name: f for f in actual.foreign_keys}
    for fk in expected.foreign_keys:
        got = have_fk.pop(fk.name, None)
        if got is None:
            out.append(Difference("missing_foreign_key", fk.name, t, expected=_fk(fk)))
        elif got != fk:
            out.append(Difference("foreign_key_definition", fk.name, t,
                                  expected=_fk(fk), actual=_fk(got)))
    for fk in have_fk.values():
        out.append(Difference("extra_foreign_key", fk.name, t, actual=_fk(fk)))

    have_ck = {c.name: c for c in actual.checks}
    for ck in expected.checks:
        got = have_ck.pop(ck.name, None)
        if got is None:
            out.append(Difference("missing_check", ck.name, t, expected=ck.sqltext))
        elif got.sqltext != ck.sqltext:
            out.append(Difference("check_definition", ck.name, t, expected=ck.sqltext, actual=got.sqltext))
    for ck in have_ck.values():
        out.append(Difference("extra_check", ck.name, t, actual=ck.sqltext))

    have_ix = {i.name: i for i in actual.indexes}
    for ix in expected.indexes:
        got = have_ix.pop(ix.name, None)
        if got is None:
            out.append(Difference("missing_index", ix.name, t, expected=_index_shape(ix)))
        elif _index_shape(got) != _index_shape(ix):
            out.append(Difference("index_definition", ix.name, t,
                                  expected=_index_shape(ix), actual=_index_shape(got)))
    for ix in have_ix.values():
        out.append(Difference("extra_index", ix.name, t, actual=_index_shape(ix)))
    return out


def _pk(table: Table) -> dict[str, Any] | None:
    pk = table.primary_key
    return None if pk is None else {"name": pk.name, "columns": list(pk.columns)}


def _fk(fk: Any) -> dict[str, Any]:
    return {
        "columns": list(fk.columns),
        "references": f"{fk.ref_table}({', '.join(fk.ref_columns)})",
        "on_delete": fk.on_delete,
    }


def diff(actual: Catalog, expected: Catalog) -> list[Difference]:
    """Every way ``actual`` differs from ``expected``, in a stable order.

    Tables that exist only in ``actual`` are reported as ``legacy_table`` when
    an old revision created them and as ``unknown_table`` otherwise; callers
    decide what each means (the bridge leaves unknown tables alone).
    """
    out: list[Difference] = []
    for name, schema in expected.extensions.items():
        have = actual.extensions.get(name)
        if have is None:
            out.append(Difference("missing_extension", name, expected=schema))
        elif have != schema:
            out.append(Difference("extension_schema", name, expected=schema, actual=have))

    for name, labels in expected.enums.items():
        have = actual.enums.get(name)
        if have is None:
            out.append(Difference("missing_enum", name, expected=list(labels)))
        elif tuple(have) != tuple(labels):
            out.append(Difference("enum_labels", name, expected=list(labels), actual=list(have)))
    for name, labels in actual.enums.items():
        if name not in expected.enums:
            out.append(Difference("extra_enum", name, actual=list(labels)))

    for name, table in expected.tables.items():
        have = actual.tables.get(name)
        if have is None:
            out.append(Difference("missing_table", name, name))
        else:
            out.extend(_diff_table(have, table))
    for name in actual.tables:
        if name not in expected.tables:
            kind = "legacy_table" if name in LEGACY_ONLY_TABLES else "unknown_table"
            out.append(Difference(kind, name, name))
    return out


def blocking(differences: list[Difference]) -> list[Difference]:
    """Differences that revision 0001 must not paper over (anything not additive)."""
    return [d for d in differences if not d.additive and d.kind not in FOREIGN_KINDS]
