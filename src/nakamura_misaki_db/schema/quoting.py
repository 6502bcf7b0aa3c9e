"""The one way this project quotes names and values into SQL text: psycopg's ``sql`` module.

Every statement the project writes by hand (bridge steps, probes, PGEnum's
PL/pgSQL, legacy builders) quotes through here, so there is exactly one rule
for a name with a quote, a colon, a ``%`` or a non-ASCII letter in it.
Rendering needs no connection (psycopg 3.2+ renders with its defaults:
UTF-8, standard-conforming strings).
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

__all__ = ["compose", "ident", "literal", "printed_literal", "qualified", "sql"]


def ident(*parts: str) -> str:
    """A quoted identifier; several parts make a dotted name (``"public"."tasks"``)."""
    return sql.Identifier(*parts).as_string(None)


def qualified(schema: str, name: str) -> str:
    return ident(schema, name)


def literal(value: Any) -> str:
    """A SQL literal meaning exactly ``value`` (strings with backslashes become ``E'...'``)."""
    return sql.Literal(value).as_string(None).strip()


def printed_literal(value: str) -> str:
    """``value`` as PostgreSQL prints a string literal back (``pg_get_viewdef``, function bodies, messages):
    quotes doubled, backslashes as they are (``standard_conforming_strings`` is on)."""
    return "'" + value.replace("'", "''") + "'"


def compose(template: str, **parts: Any) -> str:
    """``template`` with ``{name}`` slots filled: ``str`` -> identifier, ``Lit`` -> literal, ``Raw`` -> as is.

    For statements whose shape is fixed and whose names and values vary; a
    template with literal braces must double them (psycopg's format rules).
    """
    values = {k: _part(v) for k, v in parts.items()}
    return sql.SQL(template).format(**values).as_string(None)


class Lit:
    """Mark a value for ``compose`` as a literal."""

    def __init__(self, value: Any) -> None:
        self.value = value


class Raw:
    """Mark trusted SQL text (a type name from the catalog, an expression we built) for ``compose``."""

    def __init__(self, text: str) -> None:
        self.text = text


def _part(value: Any) -> sql.Composable:
    if isinstance(value, sql.Composable):
        return value
    if isinstance(value, Lit):
        return sql.Literal(value.value)
    if isinstance(value, Raw):
        return sql.SQL(value.text)
    if isinstance(value, tuple):
        return sql.Identifier(*value)
    if isinstance(value, str):
        return sql.Identifier(value)
    raise TypeError(f"cannot place {type(value).__name__} in SQL; wrap it in Lit() or Raw()")
