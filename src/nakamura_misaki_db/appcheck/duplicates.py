"""Two classes that map one table, and how they disagree.

That alone is a bug of the application, whatever the database holds: two spellings of one enum,
two lengths of one column. Each class is still checked on its own; this is a warning beside them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nakamura_misaki_db.appcheck.loader import Mapping
from nakamura_misaki_db.appcheck.types import quoted

__all__ = ["Duplicate", "duplicates"]


@dataclass(frozen=True)
class Duplicate:
    table: str
    mappings: tuple[Mapping, ...]
    differences: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...] = ()  # (qualified name, reason) of the ones --ignore'd

    def __str__(self) -> str:
        names = " and ".join(m.qualified for m in self.mappings)
        what = "; ".join(self.differences) if self.differences else "they agree on every column"
        note = "".join(f" ({name} is ignored: {reason})" for name, reason in self.ignored)
        return f"warning: {self.table} is mapped by {len(self.mappings)} classes, {names}: {what}{note}"

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "mappings": [m.to_dict() for m in self.mappings],
                "differences": list(self.differences),
                "ignored": [{"model": n, "reason": r} for n, r in self.ignored]}


def _spelled(column: sa.Column) -> str:
    type_ = column.type
    if isinstance(type_, sa.Enum):
        return f"persists {quoted(type_.enums)}"
    if isinstance(type_, sa.DateTime):
        return f"DateTime(timezone={bool(type_.timezone)})"
    try:
        from sqlalchemy.dialects import postgresql

        return type_.compile(dialect=postgresql.dialect())
    except Exception:
        return type(type_).__name__


def _differences(mappings: Sequence[Mapping]) -> list[str]:
    names = [m.name for m in mappings]
    out: list[str] = []
    columns = sorted({c.name for m in mappings for c in m.table.columns})
    for name in columns:
        cols = [m.table.columns.get(name) for m in mappings]
        if any(c is None for c in cols):
            having = [n for n, c in zip(names, cols, strict=True) if c is not None]
            out.append(f"{name}: mapped only by {', '.join(having)}")
            continue
        for what, values in (("type", [_spelled(c) for c in cols]),
                             ("nullable", [str(bool(c.nullable)) for c in cols])):
            if len(set(values)) > 1:
                shown = " vs ".join(f"{v} ({n})" for n, v in zip(names, values, strict=True))
                prefix = "two spellings of one enum: " if what == "type" and isinstance(cols[0].type, sa.Enum) \
                    and isinstance(cols[1].type, sa.Enum) else ""
                out.append(f"{name}: {prefix}{shown}" if what == "type" else f"{name} nullable: {shown}")
    return out


def duplicates(mappings: Iterable[Mapping], ignored: dict[str, str] | None = None) -> list[Duplicate]:
    """One ``Duplicate`` per table that two or more classes (of different tables objects) map."""
    groups: dict[str, list[Mapping]] = {}
    for mapping in mappings:
        if mapping.mapper is None:
            continue
        key = f"{mapping.table.schema or 'public'}.{mapping.table.name}"
        group = groups.setdefault(key, [])
        if all(m.table is not mapping.table for m in group):  # the same Table object: inheritance
            group.append(mapping)
    out = []
    for group in groups.values():
        if len(group) > 1:
            skipped = tuple((m.qualified, (ignored or {})[m.qualified]) for m in group
                            if m.qualified in (ignored or {}))
            out.append(Duplicate(table=group[0].table.fullname, mappings=tuple(group),
                                 differences=tuple(_differences(group)), ignored=skipped))
    return out
