"""Types on both sides of check-app: the database's spelling and the application's SQLAlchemy types.

What a bound value of one kind can be assigned to, how to spell a type in a fix,
and how a database type reads back. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from nakamura_misaki_db.appcheck.findings import VALUES_CALLABLE
from nakamura_misaki_db.schema.quoting import printed_literal

# -- database types ---------------------------------------------------------------------------

VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
CHAR = re.compile(r"^(?:character|bpchar)(?:\((\d+)\))?$")
TIMESTAMP = re.compile(r"^timestamp(?:\(\d+\))? (with|without) time zone$")
INT_BYTES = {"smallint": 2, "integer": 4, "bigint": 8}


def enum_type_of(db_type: str, enums: Mapping[str, tuple[str, ...]]) -> str | None:
    for name in (db_type, db_type.split(".")[-1].strip('"')):
        if name in enums:
            return name
    return None


def kind_of_db_type(db_type: str, enums: Mapping[str, tuple[str, ...]]) -> str | None:
    if enum_type_of(db_type, enums):
        return "enum"
    if db_type.endswith("[]"):
        return None
    if db_type in ("text", "citext", "name") or VARCHAR.match(db_type) or CHAR.match(db_type):
        return "string"
    if db_type in INT_BYTES:
        return "int"
    if db_type in ("real", "double precision") or db_type.startswith("numeric"):
        return "number"
    if TIMESTAMP.match(db_type):
        return "timestamp"
    simple = {"uuid": "uuid", "json": "json", "jsonb": "json", "boolean": "bool", "date": "date",
              "bytea": "bytes"}
    if db_type in simple:
        return simple[db_type]
    if db_type.startswith("time"):
        return "time"
    if db_type.startswith("interval"):
        return "interval"
    return None


def db_length(db_type: str) -> int | None:
    match = VARCHAR.match(db_type) or CHAR.match(db_type)
    return int(match.group(1)) if match and match.group(1) else None


def suggest(db_type: str, enums: Mapping[str, tuple[str, ...]]) -> str:
    """The SQLAlchemy type that matches a database type, as the application would write it."""
    enum_name = enum_type_of(db_type, enums)
    if enum_name:
        return f'Enum(<its enum class>, name="{enum_name}", {VALUES_CALLABLE})'
    length = db_length(db_type)
    if VARCHAR.match(db_type):
        return f"String({length})" if length else "String()"
    timestamp = TIMESTAMP.match(db_type)
    if timestamp:
        return "DateTime(timezone=True)" if timestamp.group(1) == "with" else "DateTime()"
    known = {"text": "Text()", "uuid": "Uuid()", "integer": "Integer()", "bigint": "BigInteger()",
             "smallint": "SmallInteger()", "boolean": "Boolean()", "double precision": "Float()",
             "real": "Float()", "date": "Date()", "json": "JSON()", "jsonb": "postgresql.JSONB()",
             "bytea": "LargeBinary()"}
    if db_type in known:
        return known[db_type]
    if db_type.startswith("numeric"):
        return "Numeric()"
    return f"a type that maps to {db_type}"


# -- application types ------------------------------------------------------------------------

# Float is listed apart: SQLAlchemy 2.1 no longer derives it from Numeric (2.0 does).
APP_KINDS: tuple[tuple[type, str], ...] = (
    (sa.Enum, "enum"), (sa.Uuid, "uuid"), (sa.JSON, "json"), (sa.Boolean, "bool"), (sa.Integer, "int"),
    (sa.Float, "number"), (sa.Numeric, "number"), (sa.DateTime, "timestamp"), (sa.Date, "date"), (sa.Time, "time"),
    (sa.Interval, "interval"), (sa.LargeBinary, "bytes"), (sa.String, "string"),
)

# Application kind -> database kinds a bound value of that kind is assigned to without error.
WRITES_TO: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "enum": frozenset({"enum", "string"}),
    "uuid": frozenset({"uuid", "string"}),
    "json": frozenset({"json", "string"}),
    "bool": frozenset({"bool", "string"}),
    "int": frozenset({"int", "number", "string"}),
    "number": frozenset({"number", "int", "string"}),
    "timestamp": frozenset({"timestamp", "date", "time", "string"}),
    "date": frozenset({"date", "timestamp", "string"}),
    "time": frozenset({"time", "string"}),
    "interval": frozenset({"interval", "string"}),
    "bytes": frozenset({"bytes", "string"}),
}


def app_type(type_: sa.types.TypeEngine) -> tuple[sa.types.TypeEngine, str | None]:
    """The type as far as the checks go, and its kind (None: not one we judge)."""
    seen = 0
    while seen < 5:
        for cls, kind in APP_KINDS:
            if isinstance(type_, cls):
                return type_, kind
        if not isinstance(type_, sa.types.TypeDecorator):
            return type_, None
        type_ = type_.impl_instance
        seen += 1
    return type_, None


def spell(type_: sa.types.TypeEngine) -> str:
    """The application's type as its source would write it."""
    name = type(type_).__name__
    if isinstance(type_, sa.Enum):
        shown = ", ".join(repr(e) for e in type_.enums[:3]) + (", ..." if len(type_.enums) > 3 else "")
        inner = type_.enum_class.__name__ if type_.enum_class else shown
        named = f", name={type_.name!r}" if type_.name else ""
        return f"Enum({inner}{named})"
    if isinstance(type_, sa.Text) and not type_.length:
        return name
    if isinstance(type_, sa.String):
        return f"{name}({type_.length})" if type_.length else f"{name}()"
    if isinstance(type_, sa.DateTime):
        return f"{name}(timezone={bool(type_.timezone)})"
    return f"{name}()"


def app_sql(type_: sa.types.TypeEngine) -> str:
    from sqlalchemy.dialects import postgresql

    try:
        return type_.compile(dialect=postgresql.dialect()).lower()
    except Exception:
        return type(type_).__name__.lower()


def quoted(labels: Any) -> str:
    """Labels as they appear in messages: each a SQL string literal, as PostgreSQL prints it."""
    return ", ".join(printed_literal(str(label)) for label in labels)

