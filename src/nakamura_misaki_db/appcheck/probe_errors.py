"""What a failed round trip says, driver by driver: the innermost error, and the column it is about.

psycopg raises its own classes (``psycopg.errors.InvalidTextRepresentation``) with a ``diag``;
SQLAlchemy's asyncpg dialect wraps asyncpg's (``asyncpg.exceptions.InvalidTextRepresentationError``,
the ``__cause__`` of ``.orig``), which carry ``column_name`` and ``constraint_name`` themselves.
An error that says nothing about the application (a lock or statement timeout, a lost connection)
is not a finding: the probe stops and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nakamura_misaki_db.appcheck.probe_values import DbColumn, persisted
from nakamura_misaki_db.appcheck.types import app_type, db_length

__all__ = ["ErrorInfo", "blame", "error_info", "is_infrastructure"]

_ENUM_INPUT = re.compile(r'invalid input value for enum ([^:]+): "(.*)"')
_LOOKUP = re.compile(r"^'(.*)' is not among the defined enum values\. Enum name: (\S+?)\.")
_COLUMN = re.compile(r'column "([^"]+)"')


@dataclass(frozen=True)
class ErrorInfo:
    error_class: str  # "psycopg.errors.InvalidTextRepresentation", "LookupError", ...
    message: str  # one line
    sqlstate: str | None = None
    column: str | None = None  # as the server names it (not-null violations)
    constraint: str | None = None


def _class_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def error_info(exc: BaseException) -> ErrorInfo:
    inner: BaseException = exc
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        inner = orig
        cause = orig.__cause__
        if cause is not None and type(cause).__module__.startswith("asyncpg"):
            inner = cause
    diag = getattr(inner, "diag", None)
    message = getattr(diag, "message_primary", None) or (str(inner).strip().splitlines() or [""])[0]
    if message.startswith("<class '"):  # SQLAlchemy's asyncpg wrapper prefixes the class
        message = message.split(">: ", 1)[-1]
    column = getattr(diag, "column_name", None) or getattr(inner, "column_name", None)
    constraint = getattr(diag, "constraint_name", None) or getattr(inner, "constraint_name", None)
    sqlstate = getattr(inner, "sqlstate", None) or getattr(orig, "sqlstate", None)
    return ErrorInfo(_class_name(inner), message, sqlstate, column, constraint)


def is_infrastructure(info: ErrorInfo) -> bool:
    """A lock or statement timeout, a deadlock, a lost connection: about the run, not the application."""
    state = info.sqlstate or ""
    return state in ("55P03", "57014", "40P01", "40001") or state.startswith(("08", "53", "57P"))


def blame(info: ErrorInfo, table: sa.Table, written: Mapping[str, Any], db: Mapping[str, DbColumn] | None,
          foreign_keys: Mapping[str, tuple[str, ...]] | None = None) -> str | None:
    """The column of ``table`` the error is about, from what was written (column name -> value) and the
    catalog; None when it cannot tell (a CHECK, a trigger, the whole table)."""
    names = {c.name for c in table.columns} | set(db or {})
    if info.column in names:
        return info.column
    found = _COLUMN.search(info.message)
    if found and found[1] in names:
        return found[1]
    enum_input = _ENUM_INPUT.search(info.message)
    if enum_input:
        type_name, value = enum_input[1].strip(), enum_input[2]
        for column in table.columns:
            type_, _ = app_type(column.type)
            if isinstance(type_, sa.Enum) and column.name in written \
                    and persisted(type_, written[column.name]) == value:
                return column.name
        # Not written: a default of the mapping (row 0 leaves those to the application's defaults).
        return next((c for c, d in (db or {}).items() if d.enum == type_name and c not in written), None)
    lookup = _LOOKUP.search(info.message)
    if lookup:
        return next((c.name for c in table.columns
                     if isinstance(app_type(c.type)[0], sa.Enum) and app_type(c.type)[0].name == lookup[2]), None)
    if info.sqlstate == "22001":  # value too long: the string longer than its column
        return next((c for c, v in written.items() if isinstance(v, str) and db and c in db
                     and (db_length(db[c].type) or len(v)) < len(v)), None)
    if info.sqlstate == "23503" and info.constraint and foreign_keys:
        columns = foreign_keys.get(info.constraint) or ()
        return columns[0] if columns else None
    return None
