"""Column types as PostgreSQL 16 compares them: which ALTER COLUMN ... TYPE is catalog-only, which narrows.

Measured on PostgreSQL 16 (``pg_class.relfilenode`` of the table and its index before and after,
200,000 rows; MIGRATION_GUIDE.md 11.5): no rewrite for ``varchar(n)`` -> ``varchar(m >= n)`` /
``varchar`` / ``text``, ``text`` -> ``varchar``, ``numeric(p, s)`` -> ``numeric(q >= p, s)`` /
``numeric``, ``timestamp(p)`` / ``timestamptz(p)`` / ``time(p)`` / ``interval(p)`` to a higher
precision, ``varbit(n)`` -> ``varbit(m >= n)``. Everything else rewrites the table and rebuilds
its indexes under ACCESS EXCLUSIVE (``int`` -> ``bigint``, ``varchar(100)`` -> ``varchar(50)``,
``numeric`` scale changes, ``char(n)`` to any length, ``timestamp`` <-> ``timestamptz``, whose
outcome depends on the session's TimeZone, ``json`` -> ``jsonb``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pglast
from pglast import ast

_ALIASES = {"character varying": "varchar", "character": "bpchar", "char": "bpchar", "integer": "int4",
            "int": "int4", "bigint": "int8", "smallint": "int2", "boolean": "bool", "decimal": "numeric",
            "double precision": "float8", "real": "float4", "bit varying": "varbit"}
_TEXTS = {"varchar", "text", "bpchar"}
_INTS = {"int2": 2, "int4": 4, "int8": 8}
_PRECISION = {"timestamp", "timestamptz", "time", "timetz", "interval"}


@dataclass(frozen=True)
class PgType:
    name: str  # canonical: varchar, int4, numeric, timestamptz, ...
    mods: tuple[int, ...] = ()
    array: bool = False

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.mods))})" if self.mods else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


def from_node(node: ast.TypeName) -> PgType:
    names = [n.sval for n in node.names]
    name = names[-1].lower()
    mods = tuple(m.val.ival for m in node.typmods or () if isinstance(m, ast.A_Const) and hasattr(m.val, "ival"))
    if name == "interval":
        mods = mods[1:] if len(mods) > 1 else ()  # the first typmod of interval is its field mask
    return PgType(_ALIASES.get(name, name), mods, bool(node.arrayBounds))


@cache
def parse(text: str) -> PgType | None:
    """A type as written (``VARCHAR(255)``, ``character varying(100)``, ``timestamp(3) with time zone``)."""
    try:
        stmt = pglast.parse_sql(f"SELECT NULL::{text}")[0].stmt
        return from_node(stmt.targetList[0].val.typeName)
    except (pglast.parser.ParseError, AttributeError, IndexError):
        return None


def _at_least(new: tuple[int, ...], old: tuple[int, ...]) -> bool:
    """``new``'s limit is no lower than ``old``'s (no modifier: no limit)."""
    if not new:
        return True
    return bool(old) and new[0] >= old[0]


def catalog_only(old: PgType, new: PgType) -> bool:
    """PostgreSQL 16 changes only the catalog (no rewrite, no index rebuild) from ``old`` to ``new``."""
    if old == new:
        return True
    if old.array or new.array:
        return False  # varchar(50)[] -> text[] rewrites (measured): arrays only when unchanged
    if old.name in ("varchar", "text") and new.name in ("varchar", "text"):
        if new.name == "text" or (old.name == "varchar" and _at_least(new.mods, old.mods)):
            return True
        return old.name == "text" and not new.mods
    if old.name == new.name == "numeric":
        if not new.mods:
            return True
        return len(old.mods) >= 1 and (old.mods[1:] or (0,)) == (new.mods[1:] or (0,)) and new.mods[0] >= old.mods[0]
    if old.name == new.name and old.name in _PRECISION | {"varbit"}:
        return _at_least(new.mods, old.mods) if old.mods else not new.mods
    return False


def narrows(old: PgType, new: PgType) -> str | None:
    """Why some value of ``old`` may not fit ``new`` (a rejected row, or one changed), or None."""
    if old.name in _TEXTS and new.name in _TEXTS:
        if new.mods and (not old.mods or new.mods[0] < old.mods[0]):
            return f"values longer than {new.mods[0]} characters do not fit"
        return None
    if old.name in _INTS and new.name in _INTS:
        return "values outside the smaller integer range do not fit" if _INTS[new.name] < _INTS[old.name] else None
    if old.name == new.name == "numeric":
        if not new.mods:
            return None
        if not old.mods:
            return f"values beyond numeric({', '.join(map(str, new.mods))}) do not fit or are rounded"
        old_scale, new_scale = (old.mods[1:] or (0,))[0], (new.mods[1:] or (0,))[0]
        if new_scale < old_scale:
            return f"values are rounded to {new_scale} decimal place(s)"
        if new.mods[0] - new_scale < old.mods[0] - old_scale:
            return f"values with more than {new.mods[0] - new_scale} digit(s) before the point do not fit"
        return None
    if old.name == new.name and old.name in _PRECISION:
        if new.mods and (not old.mods or new.mods[0] < old.mods[0]):
            return f"fractional seconds are rounded to {new.mods[0]} digit(s)"
        return None
    if old.name in _TEXTS and new.name not in _TEXTS:
        return f"every value must read as {new}"
    if old.name in ("numeric", "float4", "float8") and new.name in _INTS:
        return "fractions are rounded away and large values do not fit"
    if old.name == "float8" and new.name == "float4":
        return "values lose precision"
    return None
