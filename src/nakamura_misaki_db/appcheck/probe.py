"""``--probe``: the round trips the application would make, through each of its mappings.

Per mapping, in savepoints of one transaction that is rolled back at the end (``probe_run``):

1. **load** a sample of the rows that exist, through the mapping;
2. **insert** typical rows through the mapped class and read each back (``session.get``): one row as
   the application writes it (columns with a default left unset), then one per member of the widest
   enum with every column set; each row is rolled back before the next;
3. **read every label** the database's enum type holds through the mapped column type (a label
   rows hold that the application cannot load *fails*; one no row holds *would fail*);
4. **boundaries**: a string at its declared length where the column is narrower, an integer at its
   type's maximum where the column is smaller, ``None`` where the mapping allows it and the column
   does not: these *would fail* for such values.

A value that comes back different (naive where it was aware, another instant) *would fail* too.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nakamura_misaki_db.appcheck.findings import FAILS, WOULD_FAIL
from nakamura_misaki_db.appcheck.loader import Mapping
from nakamura_misaki_db.appcheck.probe_errors import ErrorInfo, blame, error_info, is_infrastructure
from nakamura_misaki_db.appcheck.probe_values import (
    NO_VALUE,
    CannotProbe,
    Catalog,
    Witnesses,
    boundary_value,
    enum_choices,
    persisted,
    typical_value,
)
from nakamura_misaki_db.appcheck.types import app_type
from nakamura_misaki_db.connect.errors import MigrationError

__all__ = ["MappingProbe", "Outcome", "probe_mapping"]

SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Outcome:
    """One round trip that did not work."""

    column: str | None  # the database column it is about (None: the whole mapping)
    experiment: str  # "load", "insert", "label", "boundary", "readback"
    status: str  # FAILS or WOULD_FAIL
    example: str  # what was done: "inserting a row with status='pending'", "reading 'PENDING'"
    error: ErrorInfo
    value: str = ""  # the value it was done with, for "would fail for values like ...": "'cancelled'"


@dataclass
class MappingProbe:
    mapping: Mapping
    outcomes: list[Outcome] = field(default_factory=list)
    passed: set[tuple[str | None, str]] = field(default_factory=set)  # (column, experiment) that worked
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value.isoformat(sep=' ')} ({'aware' if value.tzinfo else 'naive'})"
    return repr(getattr(value, "value", value) if hasattr(value, "name") and hasattr(value, "value") else value)


class _Prober:
    def __init__(self, conn: sa.Connection, session: orm.Session, catalog: Catalog, witnesses: Witnesses,
                 mapping: Mapping) -> None:
        self.conn, self.session, self.catalog, self.witnesses = conn, session, catalog, witnesses
        self.mapping = mapping
        self.table = mapping.table
        self.db = catalog.table(self.table)
        self.result = MappingProbe(mapping)
        self.keys = {k.name: k.columns for k in catalog.foreign_keys(self.table)}

    # -- helpers

    def attempt(self, experiment: str, column: str | None, action: Callable[[], Any], *,
                status: str | Callable[[], str], example: str, written: dict[str, Any] | None = None,
                value: str = "") -> Any:
        """Run ``action`` in a savepoint; record an outcome when it raises, else that it worked."""
        nested = self.session.begin_nested() if self.mapping.mapper is not None else self.conn.begin_nested()
        try:
            value = action()
        except (sa.exc.SQLAlchemyError, LookupError, ValueError, TypeError) as exc:
            nested.rollback()
            self.session.expunge_all()
            info = error_info(exc)
            if is_infrastructure(info):
                raise MigrationError(f"the probe of {self.mapping} stopped: {info.message}") from None
            blamed = column or blame(info, self.table, written or {}, self.db, self.keys)
            verdict = status() if callable(status) else status
            self.result.outcomes.append(Outcome(blamed, experiment, verdict, example, info, value or example))
            return NO_VALUE
        nested.rollback()
        self.session.expunge_all()
        self.result.passed.add((column, experiment))
        return value

    def columns(self) -> list[tuple[str, sa.Column]]:
        """(attribute key, column) of what the mapping writes."""
        mapper = self.mapping.mapper
        if mapper is None:
            return [(c.name, c) for c in self.table.columns]
        out = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            if isinstance(column, sa.Column) and column.table is self.table:
                out.append((prop.key, column))
        return out

    # -- 1. existing rows

    def load(self) -> None:
        if self.mapping.mapper is not None:
            query = sa.select(self.mapping.mapper.class_).limit(SAMPLE_ROWS)
            action: Callable[[], Any] = lambda: self.session.scalars(query).all()  # noqa: E731
        else:
            action = lambda: self.conn.execute(sa.select(self.table).limit(SAMPLE_ROWS)).all()  # noqa: E731
        self.attempt("load", None, action, status=FAILS, example="loading existing rows")

    # -- 2. typical rows

    def row(self, i: int, partial: bool) -> dict[str, Any] | None:
        """Column name -> value of the ``i``-th typical row (``partial``: as the application writes it)."""
        values: dict[str, Any] = {}
        keyed = {c: k for k in self.catalog.foreign_keys(self.table) for c in k.columns}
        for _, column in self.columns():
            db = (self.db or {}).get(column.name)
            generated = column.computed is not None or column.identity is not None or (
                column is self.table.autoincrement_column and column.default is None)
            defaulted = column.default is not None or column.server_default is not None
            if generated or (partial and defaulted):
                continue
            if column.name in keyed:
                key = keyed[column.name]
                parent = self.witnesses.parent_row(key, (self.table.schema or "public", self.table.name))
                values[column.name] = parent[key.parent_columns[key.columns.index(column.name)]]
                continue
            value = typical_value(column, i, db)
            if value is NO_VALUE:
                if column.nullable and not (db and db.not_null):
                    continue
                raise CannotProbe(f"no typical value for {column.name} ({type(column.type).__name__})")
            values[column.name] = value
        return values

    def write_and_read(self, values: dict[str, Any]) -> dict[str, Any]:
        mapper = self.mapping.mapper
        if mapper is None:
            row = self.conn.execute(self.table.insert().values(values).returning(*self.table.c)).mappings().one()
            return {k: row[k] for k in values}
        keys = {column.name: key for key, column in self.columns()}
        obj = mapper.class_manager.new_instance()  # no __init__ of the application's in the way
        for name, value in values.items():
            setattr(obj, keys[name], value)
        self.session.add(obj)
        self.session.flush()
        identity = mapper.primary_key_from_instance(obj)
        self.session.expunge(obj)
        back = self.session.get(mapper.class_, identity, populate_existing=True)
        return {name: getattr(back, keys[name]) for name in values}

    def compare(self, written: dict[str, Any], read: dict[str, Any]) -> None:
        for name, value in written.items():
            got = read.get(name)
            if _same(value, got):
                continue
            if any(o.column == name and o.experiment == "readback" for o in self.result.outcomes):
                continue
            info = ErrorInfo("value changed", f"read back as {_shown(got)}")
            shown = f"{name}={_shown(value)}"
            self.result.outcomes.append(Outcome(name, "readback", WOULD_FAIL, f"writing {shown}", info, shown))

    def inserts(self) -> dict[str, Any] | None:
        """The typical rows; returns the values of one full row that went in (the base for boundaries)."""
        widest = max([len(enum_choices(app_type(c.type)[0])) for _, c in self.columns()
                      if isinstance(app_type(c.type)[0], sa.Enum)] or [1])
        base = None
        for i in range(widest + 1):
            values = self.row(max(i - 1, 0), partial=i == 0)
            example = self.example(values)
            read = self.attempt("insert", None, lambda v=values: self.write_and_read(v), status=FAILS,
                                example=example, written=values)
            if read is NO_VALUE:
                continue
            self.result.passed.update((name, "insert") for name in values)
            if i == 0:  # what row 0 left to the defaults worked too
                self.result.passed.update((c.name, "defaults") for _, c in self.columns() if c.name not in values)
            self.compare(values, read)
            if i > 0 and base is None:
                base = values
        return base

    def example(self, values: dict[str, Any]) -> str:
        enums = {name: persisted(app_type(c.type)[0], values[name]) for _, c in self.columns()
                 if (name := c.name) in values and isinstance(app_type(c.type)[0], sa.Enum)}
        shown = ", ".join(f"{name}={label!r}" for name, label in enums.items())
        return f"inserting a row with {shown}" if shown else "inserting a typical row"

    # -- 3. labels

    def labels(self) -> None:
        for _, column in self.columns():
            type_, _kind = app_type(column.type)
            db = (self.db or {}).get(column.name)
            if not isinstance(type_, sa.Enum) or db is None:
                continue
            if db.enum:
                labels = self.catalog.enums.get(db.enum, [])
                cast = f"CAST(CAST(:label AS text) AS {db.enum.replace(':', chr(92) + ':')})"
            else:  # a string column: the values rows hold that the application cannot load
                where = f"{_quoted(self.table)} WHERE {_ident(column.name)} IS NOT NULL"
                query = sa.text(f"SELECT DISTINCT {_ident(column.name)}::text FROM {where} AND NOT "
                                f"({_ident(column.name)}::text = ANY(:labels)) LIMIT 3")
                labels = [r[0] for r in self.conn.execute(query, {"labels": list(type_.enums)})]
                cast = "CAST(:label AS text)"
            for label in labels:
                read = sa.text(f"SELECT {cast} AS v").columns(sa.column("v", column.type))
                self.attempt("label", column.name, lambda q=read, lb=label: self.conn.execute(q, {"label": lb}).all(),
                             status=lambda c=column, e=db.enum, lb=label: self.held(c, e, lb),
                             example=f"reading {label!r}", value=repr(label))

    def held(self, column: sa.Column, enum: str | None, label: str) -> str:
        if enum is None:
            return FAILS  # found in the rows
        query = sa.text(f"SELECT EXISTS (SELECT 1 FROM {_quoted(self.table)} WHERE {_ident(column.name)}::text = "
                        f":label)")
        return FAILS if self.conn.execute(query, {"label": label}).scalar() else WOULD_FAIL

    # -- 4. boundaries

    def boundaries(self, base: dict[str, Any]) -> None:
        for _, column in self.columns():
            db = (self.db or {}).get(column.name)
            found = boundary_value(column, db) if db is not None and column.name in base else None
            if found is None:
                continue
            value, shown = found
            values = {**base, column.name: value}
            self.attempt("boundary", column.name, lambda v=values: self.write_and_read(v), status=WOULD_FAIL,
                         example=f"writing {column.name}={shown}", written=values, value=shown)

    def run(self) -> MappingProbe:
        started = time.perf_counter()
        self.load()
        if self.db is not None:
            try:
                base = self.inserts()
            except CannotProbe as exc:
                self.result.notes.append(f"{self.mapping}: not probed by inserts: {exc}")
                base = None
            self.labels()
            if base is not None:
                self.boundaries(base)
        self.result.seconds = time.perf_counter() - started
        return self.result


def _same(written: Any, read: Any) -> bool:
    if isinstance(written, dt.datetime) and isinstance(read, dt.datetime):
        if (written.tzinfo is None) != (read.tzinfo is None):
            return False
        return written == read
    if isinstance(written, float) and isinstance(read, float):
        return abs(written - read) < 1e-9
    return written == read or getattr(written, "value", object()) == read


def _ident(name: str) -> str:
    from nakamura_misaki_db.schema.quoting import ident

    return ident(name).replace(":", "\\:")


def _quoted(table: sa.Table) -> str:
    from nakamura_misaki_db.schema.quoting import qualified

    return qualified(table.schema or "public", table.name).replace(":", "\\:")


def probe_mapping(conn: sa.Connection, session: orm.Session, catalog: Catalog, witnesses: Witnesses,
                  mapping: Mapping) -> MappingProbe:
    """Every round trip of ``mapping`` (see the module's doc), each in a savepoint that is rolled back."""
    return _Prober(conn, session, catalog, witnesses, mapping).run()
