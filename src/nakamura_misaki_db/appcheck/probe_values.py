"""What ``--probe`` writes: the catalog facts it needs, typical values per type, parent rows for keys.

Typical values are what an application writes (a short unique string, ``1``, ``1.5``, an enum member,
a datetime of the declared awareness); boundary values are what the declared type allows and the
database may not (a string at its declared length, ``None`` in a nullable attribute). Parent rows for
foreign keys ("witnesses") are made from the catalog alone, by SQL, so that a mapping whose parent's
own mapping fails can still be probed; every key gets a parent of its own (two keys to ``tasks`` under
``CHECK (a <> b)``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from nakamura_misaki_db.appcheck.types import app_type, db_length
from nakamura_misaki_db.schema.quoting import ident, qualified

__all__ = ["NO_VALUE", "CannotProbe", "Catalog", "DbColumn", "Witnesses", "boundary_value", "read_catalog",
           "typical_value"]

NO_VALUE = object()  # the type has no typical value we know (e.g. pgvector's Vector)
MOMENT = dt.datetime(2024, 5, 1, 9, 30, 0)  # microsecond 0: both drivers keep it exactly
INT_MAX = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}

_COLUMNS_SQL = sa.text(
    """
    SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''),
           CASE WHEN t.typtype = 'e' THEN format_type(a.atttypid, NULL) END
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    WHERE n.nspname = ANY(:schemas) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY 1, 2, a.attnum
    """
)
_KEYS_SQL = sa.text(
    """
    SELECT n.nspname, c.relname, k.conname, pn.nspname, p.relname,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE k.contype = 'f' AND n.nspname = ANY(:schemas)
    ORDER BY 1, 2, 3
    """
)
_ENUMS_SQL = sa.text(
    """
    SELECT format_type(t.oid, NULL), ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
                                            ORDER BY e.enumsortorder)
    FROM pg_type t WHERE t.typtype = 'e'
    """
)
_TRIGGERS_SQL = sa.text(
    """
    SELECT n.nspname, c.relname, g.tgname FROM pg_trigger g
    JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT g.tgisinternal AND n.nspname = ANY(:schemas) ORDER BY 1, 2, 3
    """
)


class CannotProbe(Exception):
    """A mapping the probe cannot write through (no parent row, no value for a required column)."""


@dataclass(frozen=True)
class DbColumn:
    name: str
    type: str  # as format_type() prints it
    not_null: bool
    has_default: bool  # a default, an identity or a generated expression
    enum: str | None  # the enum type's name, if it is one


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    parent: tuple[str, str]  # (schema, table)
    parent_columns: tuple[str, ...]


@dataclass
class Catalog:
    """What the probe reads of the database once per run."""

    columns: dict[tuple[str, str], dict[str, DbColumn]] = field(default_factory=dict)
    keys: dict[tuple[str, str], list[ForeignKey]] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)
    triggers: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def table(self, table: sa.Table) -> dict[str, DbColumn] | None:
        return self.columns.get((table.schema or "public", table.name))

    def foreign_keys(self, table: sa.Table) -> list[ForeignKey]:
        return self.keys.get((table.schema or "public", table.name), [])


def read_catalog(conn: sa.Connection, schemas: Sequence[str]) -> Catalog:
    catalog = Catalog()
    params = {"schemas": list(schemas)}
    for schema, table, name, type_, not_null, default, enum in conn.execute(_COLUMNS_SQL, params):
        catalog.columns.setdefault((schema, table), {})[name] = DbColumn(name, type_, bool(not_null), bool(default),
                                                                        enum)
    for schema, table, name, pschema, parent, cols, pcols in conn.execute(_KEYS_SQL, params):
        catalog.keys.setdefault((schema, table), []).append(ForeignKey(name, tuple(cols), (pschema, parent),
                                                                       tuple(pcols)))
    catalog.enums = {name: list(labels) for name, labels in conn.execute(_ENUMS_SQL)}
    for schema, table, name in conn.execute(_TRIGGERS_SQL, params):
        catalog.triggers.setdefault((schema, table), []).append(name)
    return catalog


# -- the application's values -------------------------------------------------------------------


def enum_choices(type_: sa.Enum) -> list[Any]:
    """What the application assigns to an Enum attribute: its members, or its strings."""
    return list(type_.enum_class) if type_.enum_class is not None else list(type_.enums)


def persisted(type_: sa.Enum, value: Any) -> str:
    """The label SQLAlchemy writes for ``value`` (a member's name, or its value with values_callable)."""
    if type_.enum_class is not None:
        return dict(zip(list(type_.enum_class), type_.enums, strict=False)).get(value, str(value))
    return str(value)


def token(limit: int | None) -> str:
    text = "p" + uuid.uuid4().hex[:11]
    return text[: limit] if limit else text


def typical_value(column: sa.Column, i: int, db: DbColumn | None) -> Any:
    """The ``i``-th typical value of ``column`` (NO_VALUE: none we know)."""
    type_, kind = app_type(column.type)
    if isinstance(type_, sa.Enum):
        choices = enum_choices(type_)
        return choices[i % len(choices)] if choices else NO_VALUE
    if isinstance(type_, sa.ARRAY):
        return [] if type_.item_type is not None else NO_VALUE
    if kind == "uuid":
        return uuid.uuid4() if getattr(type_, "as_uuid", True) else str(uuid.uuid4())
    if kind == "bool":
        return i % 2 == 1
    if kind == "int":
        return 1 + i
    if kind == "number":
        return 1.5 if isinstance(type_, sa.Float) or not getattr(type_, "asdecimal", True) else decimal.Decimal("1.5")
    if kind == "timestamp":
        return MOMENT.replace(tzinfo=dt.UTC) if type_.timezone else MOMENT
    if kind == "date":
        return MOMENT.date()
    if kind == "time":
        return MOMENT.time()
    if kind == "interval":
        return dt.timedelta(hours=1)
    if kind == "json":
        return {"probe": [1, "x"]}
    if kind == "bytes":
        return b"\x00probe"
    if kind == "string":
        limits = [n for n in (getattr(type_, "length", None), db_length(db.type) if db else None) if n]
        return token(min([12, *limits]))
    return NO_VALUE


def boundary_value(column: sa.Column, db: DbColumn) -> tuple[Any, str] | None:
    """A value the declared type allows but the database column may not, and how to show it; or None."""
    type_, kind = app_type(column.type)
    if column.nullable and not column.primary_key and db.not_null and not db.has_default:
        return None, "None"
    if kind == "string":  # not an Enum: app_type tells those apart
        db_len, app_len = db_length(db.type), getattr(type_, "length", None)
        if db_len is not None and (app_len is None or app_len > db_len):
            size = app_len or db_len + 1
            return "x" * size, f"'{'x' * 8}…' ({size} characters)"
    if kind == "int" and db.type in INT_MAX:
        app_max = 2**63 - 1 if isinstance(type_, sa.BigInteger) else 2**15 - 1 \
            if isinstance(type_, sa.SmallInteger) else 2**31 - 1
        if app_max > INT_MAX[db.type]:
            return app_max, str(app_max)
    return None


# -- parent rows ----------------------------------------------------------------------------------


def _sql_text(db: DbColumn, catalog: Catalog) -> str | None:
    """A typical value for a database column, as text to cast to its type (None: no value we know)."""
    t = db.type
    if db.enum:
        labels = catalog.enums.get(db.enum) or []
        return labels[0] if labels else None
    if t == "uuid":
        return str(uuid.uuid4())
    if t in ("text", "citext", "name") or t.startswith(("character", "bpchar")):
        return token(db_length(t) or 12)
    if t in INT_MAX or t in ("real", "double precision") or t.startswith("numeric"):
        return "1"
    if t.startswith("timestamp"):
        return MOMENT.isoformat(sep=" ")
    simple = {"date": MOMENT.date().isoformat(), "boolean": "false", "json": "{}", "jsonb": "{}",
              "bytea": "\\x00"}
    if t in simple:
        return simple[t]
    if t.startswith("time"):
        return "09:30:00"
    if t.startswith("interval"):
        return "1 hour"
    return None


def _name(*parts: str) -> str:
    """A quoted name for ``sa.text``, whose ``:word`` would otherwise be read as a parameter."""
    return (qualified(*parts) if len(parts) == 2 else ident(*parts)).replace(":", "\\:")


class Witnesses:
    """Parent rows, one per foreign key, made by SQL in the probe's transaction (rolled back with it)."""

    def __init__(self, conn: sa.Connection, catalog: Catalog) -> None:
        self.conn = conn
        self.catalog = catalog
        self.rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    def parent_row(self, key: ForeignKey, owner: tuple[str, str], depth: int = 0) -> dict[str, Any]:
        """A row of ``key``'s parent table (made once per key); raises with the server's error if it cannot."""
        wanted = (owner, key.name)
        if wanted not in self.rows:
            try:
                with self.conn.begin_nested():
                    self.rows[wanted] = self._insert(key.parent, depth)
            except (sa.exc.DBAPIError, CannotProbe) as exc:
                # A CHECK or trigger of the parent we cannot satisfy: an existing parent row will do.
                existing = self._existing(key)
                if existing is None:
                    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
                    raise CannotProbe(f"cannot make a parent row in {'.'.join(key.parent)} for {key.name}: "
                                      f"{first}") from None
                self.rows[wanted] = existing
        return self.rows[wanted]

    def _existing(self, key: ForeignKey) -> dict[str, Any] | None:
        with self.conn.begin_nested():
            row = self.conn.execute(sa.text(f"SELECT * FROM {_name(*key.parent)} LIMIT 1")).mappings().first()
        return dict(row) if row is not None else None

    def _insert(self, parent: tuple[str, str], depth: int) -> dict[str, Any]:
        columns = self.catalog.columns.get(parent, {})
        keyed = {c: k for k in self.catalog.keys.get(parent, []) for c in k.columns}
        names: list[str] = []
        values: list[str] = []
        params: dict[str, Any] = {}
        for name, db in columns.items():
            if not db.not_null or db.has_default:
                continue
            if name in keyed and depth < 4:
                key = keyed[name]
                value = self.parent_row(key, parent, depth + 1)[key.parent_columns[key.columns.index(name)]]
                text = str(value)
            else:
                text = _sql_text(db, self.catalog)
                if text is None:
                    raise CannotProbe(f"no typical value for {name} ({db.type})")
            params[f"p{len(names)}"] = text
            # Bound as text and cast on the server, so both drivers send the same thing.
            values.append(f"CAST(CAST(:p{len(names)} AS text) AS {db.type})")
            names.append(_name(name))
        table = _name(*parent)
        columns_sql = f" ({', '.join(names)}) VALUES ({', '.join(values)})" if names else " DEFAULT VALUES"
        row = self.conn.execute(sa.text(f"INSERT INTO {table}{columns_sql} RETURNING *"), params).mappings().one()
        return dict(row)
