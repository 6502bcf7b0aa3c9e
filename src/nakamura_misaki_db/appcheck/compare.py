"""Rules: would the application's SQLAlchemy models work on this schema? One finding per problem.

Plain comparison of the application's ``Table`` objects with a ``Catalog`` (a live
database's or this release's head definition); no I/O here. Each finding is said
in the application's terms (``TaskTable.status (tasks.status)``) with its fix.

What the rules rely on (SQLAlchemy 2 on PostgreSQL, checked with asyncpg, the
application's driver, and psycopg 3):

- SQLAlchemy casts every bound parameter to the column type *the application
  declares* (``$1::VARCHAR``, ``$1::task_status``, ``$1::TIMESTAMP WITHOUT TIME
  ZONE``); PostgreSQL then needs an implicit or assignment cast to the real column
  type. Any type converts to a string column; a string does not convert to uuid,
  an enum, json/jsonb, a number or a timestamp, and so on: those writes fail.
- ``Enum(PyEnum)`` persists member *names* unless ``values_callable`` is given.
- A naive ``DateTime`` parameter on a ``timestamptz`` column is read in the
  session's ``TimeZone``; values come back aware, and asyncpg rejects aware
  values bound as ``TIMESTAMP WITHOUT TIME ZONE``.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from nakamura_misaki_db.appcheck.findings import ERROR, TO_HEAD, VALUES_CALLABLE, WARNING, Finding, Schema
from nakamura_misaki_db.appcheck.loader import AppModels
from nakamura_misaki_db.appcheck.types import (
    INT_BYTES,
    WRITES_TO,
    app_sql,
    app_type,
    db_length,
    enum_type_of,
    kind_of_db_type,
    quoted,
    spell,
    suggest,
)
from nakamura_misaki_db.schema.shapes import Column as DbColumn
from nakamura_misaki_db.schema.shapes import Table as DbTable

# -- the rules --------------------------------------------------------------------------------


class _Checker:
    def __init__(self, app: AppModels, schema: Schema) -> None:
        self.app = app
        self.schema = schema
        self.findings: list[Finding] = []

    # reporting helpers

    def add(self, table: sa.Table, column: str | None, kind: str, problem: str, fix: str,
            severity: str = ERROR) -> None:
        mapping = self.app.mapping(table)
        model = self.app.model(table)
        if model and column is not None and any(c.name == column for c in table.columns):
            model = f"{model}.{self.app.attribute(table, column)}"
        self.findings.append(Finding(table=table.fullname, column=column, problem=problem, fix=fix, kind=kind,
                                     model=model, severity=severity,
                                     module=(mapping.module or None) if mapping is not None else None))

    def _in_head(self, table: sa.Table, column: str | None = None) -> bool:
        if self.schema.is_head or (table.schema or "public") != "public":
            return False
        head_table = self.schema.head.tables.get(table.name)
        return head_table is not None and (column is None or head_table.column(column) is not None)

    @property
    def zone(self) -> str:
        tz = self.schema.timezone
        return f"the database's TimeZone '{tz}'" if tz else "the database's TimeZone (SHOW TimeZone)"

    # entry point

    def run(self) -> list[Finding]:
        for mapping in self.app.mappings:
            table = mapping.table
            catalog = self.schema.catalogs.get(table.schema or "public")
            db_table = catalog.tables.get(table.name) if catalog is not None else None
            if db_table is None:
                self.missing_table(table)
                continue
            enums = catalog.enums
            for column in table.columns:
                db_col = db_table.column(column.name)
                if db_col is None:
                    self.missing_column(table, column)
                    continue
                self.column(table, column, db_col, enums)
            self.unmapped_required(table, db_table, enums)
        return self.findings

    def missing_table(self, table: sa.Table) -> None:
        name = table.fullname
        fix = TO_HEAD if self._in_head(table) else (
            f"create {name} with a new migration in nakamura-misaki-db, or remove the model")
        where = "this release's schema" if self.schema.is_head else "the database"
        self.add(table, None, "missing-table",
                 f"the application maps table {name}, which {where} does not have: every query on it fails "
                 f'(relation "{table.fullname}" does not exist)', fix)

    def missing_column(self, table: sa.Table, column: sa.Column) -> None:
        where = "this release's schema" if self.schema.is_head else "the database"
        model = self.app.model(table) or table.fullname
        fix = TO_HEAD if self._in_head(table, column.name) else (
            f"add the column with a new migration in nakamura-misaki-db, or remove the attribute from {model}")
        self.add(table, column.name, "missing-column",
                 f"{where} has no column {table.fullname}.{column.name}: every query that loads {model} fails "
                 f"(column {table.fullname}.{column.name} does not exist)", fix)

    def column(self, table: sa.Table, column: sa.Column, db: DbColumn, enums: Mapping[str, tuple[str, ...]]) -> None:
        type_, kind = app_type(column.type)
        db_kind = kind_of_db_type(db.type, enums)
        if kind is not None and db_kind is not None and db_kind not in WRITES_TO[kind]:
            self.add(table, column.name, "type-mismatch",
                     f"the application binds {spell(type_)} ({app_sql(type_)}) but the column is {db.type}: "
                     f"PostgreSQL has no assignment cast from one to the other, so every write fails "
                     f'(column "{column.name}" is of type {db.type} but expression is of type {app_sql(type_)})',
                     f"declare it as {suggest(db.type, enums)}")
        else:
            if isinstance(type_, sa.Enum):
                self.enum(table, column, type_, db, enums)
            self.length(table, column, type_, kind, db, db_kind)
            if kind == "timestamp" and db_kind == "timestamp":
                self.timestamp(table, column, type_, db)
        self.nullability(table, column, db)

    # enums

    def enum(self, table: sa.Table, column: sa.Column, type_: sa.Enum, db: DbColumn,
             enums: Mapping[str, tuple[str, ...]]) -> None:
        db_enum = enum_type_of(db.type, enums)
        native = bool(type_.native_enum)
        if native and not type_.name:
            self.add(table, column.name, "enum-unnamed",
                     f"{spell(type_)} declares a PostgreSQL enum without a name: SQLAlchemy cannot cast the "
                     f"parameter, so every write fails with asyncpg (CompileError: ... type requires a name)",
                     f'name="{db_enum}" in its Enum(...)' if db_enum else "native_enum=False in its Enum(...)")
        elif native and db_enum and type_.name != db_enum:
            self.add(table, column.name, "enum-type-name",
                     f"{spell(type_)} names the enum type {type_.name} but the column is of type {db_enum}: "
                     f"SQLAlchemy casts the parameter to {type_.name}, so every write fails with asyncpg "
                     f'(type "{type_.name}" does not exist, or cannot be assigned to {db_enum})',
                     f'name="{db_enum}" in its Enum(...)')
        elif native and not db_enum and type_.name not in enums:
            self.add(table, column.name, "enum-type-name",
                     f"{spell(type_)} casts the parameter to the enum type {type_.name}, which the database does "
                     f"not have (the column is {db.type}): every write fails with asyncpg "
                     f'(type "{type_.name}" does not exist)', "native_enum=False in its Enum(...)")
        if db_enum:
            self.enum_labels(table, column, type_, db_enum, enums[db_enum])

    def enum_labels(self, table: sa.Table, column: sa.Column, type_: sa.Enum, db_enum: str,
                    labels: tuple[str, ...]) -> None:
        writes = list(type_.enums)  # what SQLAlchemy persists, in order
        cls = type_.enum_class
        members = list(cls.__members__.items()) if cls is not None else []
        paired = len(members) == len(writes)
        names_bad: list[tuple[str, str]] = []  # (written name, value the database has)
        values_bad: list[tuple[str, str]] = []  # (written value, name the database has)
        lacking: list[str] = []
        for i, written in enumerate(writes):
            if written in labels:
                continue
            if cls is not None and paired:
                name, member = members[i]
                value = str(member.value)
                if written == name and value in labels:
                    names_bad.append((written, value))
                    continue
                if written == value and name in labels:
                    values_bad.append((written, name))
                    continue
                lacking.append(f"'{written}' ({cls.__name__}.{name})")
            else:
                lacking.append(f"'{written}'")
        owner = cls.__name__ if cls is not None else "the Enum"
        if names_bad:
            self.add(table, column.name, "enum-names",
                     f"persists the member names of {owner} ({quoted(w for w, _ in names_bad)}) but the database "
                     f"type {db_enum} holds their values ({quoted(v for _, v in names_bad)}): every write fails "
                     f'(invalid input value for enum {db_enum}: "{names_bad[0][0]}") and every read raises '
                     f"LookupError", f'add values_callable: Enum({owner}, name="{db_enum}", {VALUES_CALLABLE})')
        if values_bad:
            self.add(table, column.name, "enum-values",
                     f"persists the values of {owner} ({quoted(w for w, _ in values_bad)}) but the database type "
                     f"{db_enum} holds the member names ({quoted(n for _, n in values_bad)}): every write fails "
                     f'(invalid input value for enum {db_enum}: "{values_bad[0][0]}") and every read raises '
                     f"LookupError",
                     "bring the database to this release's schema (baseline-bridge renames the legacy labels to "
                     "the values), or remove values_callable from its Enum(...) to persist names")
        if lacking:
            self.add(table, column.name, "enum-labels",
                     f"may write {', '.join(lacking)}, which the database type {db_enum} lacks (it has "
                     f"{quoted(labels)}): those writes fail (invalid input value for enum {db_enum})",
                     f"add the label(s) to {db_enum} with a migration (ALTER TYPE {db_enum} ADD VALUE '...'; "
                     f"MIGRATION_GUIDE section 3), or remove them from {owner}")
        if not (names_bad or values_bad):
            unreadable = [label for label in labels if label not in writes]
            if unreadable:
                self.add(table, column.name, "enum-unreadable",
                         f"the database type {db_enum} also holds {quoted(unreadable)}, which {owner} cannot load: "
                         f"reading a row that holds one raises LookupError",
                         f"add the member(s) to {owner}" if cls is not None else "add the label(s) to its Enum(...)",
                         severity=WARNING)

    # lengths and ranges

    def length(self, table: sa.Table, column: sa.Column, type_: sa.types.TypeEngine, kind: str | None,
               db: DbColumn, db_kind: str | None) -> None:
        db_len = db_length(db.type)
        if db_kind == "string" and db_len is not None:
            if kind == "enum":
                long = [label for label in type_.enums if len(label) > db_len]
                if long:
                    self.add(table, column.name, "too-long",
                             f"may write {quoted(long)}, longer than the column's {db.type}: those writes fail "
                             f"(value too long for type {db.type})",
                             f"widen the column with a migration, or shorten the label(s) of {spell(type_)}")
            elif kind == "string":
                app_len = getattr(type_, "length", None)
                if app_len is None or app_len > db_len:
                    size = "any length" if app_len is None else f"up to {app_len} characters"
                    self.add(table, column.name, "too-long",
                             f"{spell(type_)} lets the application write {size}, but the column is {db.type}: "
                             f"longer values fail (value too long for type {db.type})",
                             f"declare String({db_len}) and check lengths before writing, or widen the column "
                             f"with a migration")
        if kind == "int" and db_kind == "int":
            app_bytes = 8 if isinstance(type_, sa.BigInteger) else 2 if isinstance(type_, sa.SmallInteger) else 4
            if app_bytes > INT_BYTES[db.type]:
                self.add(table, column.name, "too-long",
                         f"{spell(type_)} may write values beyond the column's {db.type} range: those writes fail "
                         f"({db.type} out of range)", f"declare it as {suggest(db.type, {})}, or widen the column "
                         f"with a migration")

    # time zones

    def timestamp(self, table: sa.Table, column: sa.Column, type_: sa.DateTime, db: DbColumn) -> None:
        db_aware = "with time zone" in db.type
        app_aware = bool(type_.timezone)
        database = self.schema.database or "<database>"
        if db_aware and not app_aware:
            self.add(table, column.name, "naive-timestamp",
                     f"{spell(type_)} (naive) is mapped onto timestamp with time zone: naive datetimes are "
                     f"written and read as local time in {self.zone}, values come back timezone-aware, and "
                     f"asyncpg rejects aware datetimes bound as naive",
                     f"DateTime(timezone=True) and write aware datetimes (datetime.now(timezone.utc)); or, if the "
                     f"application means naive local time, ALTER DATABASE {database} SET TimeZone = "
                     f"'<zone the application uses>'")
        elif app_aware and not db_aware:
            self.add(table, column.name, "aware-timestamp",
                     f"{spell(type_)} (aware) is mapped onto timestamp without time zone: aware datetimes are "
                     f"converted to local time in {self.zone} and stored without their offset; they come back "
                     f"naive", "DateTime() (naive) and write naive datetimes in one agreed zone, or migrate the "
                     "column to timestamp with time zone")

    # NULLs and defaults

    def _required(self, table: sa.Table, db: DbColumn) -> bool:
        """NOT NULL with nothing in the database to fill it."""
        key = (table.schema or "public", table.name, db.name)
        return not db.nullable and db.default is None and key not in self.schema.generated

    def nullability(self, table: sa.Table, column: sa.Column, db: DbColumn) -> None:
        if not self._required(table, db):
            return
        if column.nullable and not column.primary_key:
            self.add(table, column.name, "nullable",
                     f"is nullable in the application but NOT NULL without a default in the database: writing "
                     f'None fails (null value in column "{column.name}" violates not-null constraint)',
                     "nullable=False (Mapped[X], not Mapped[X | None]) and always set it")
        if column.server_default is not None and column.default is None:
            self.add(table, column.name, "missing-server-default",
                     "relies on a server default (server_default=...) that the database column does not have: "
                     f'INSERTs that leave it unset fail (null value in column "{column.name}" violates not-null '
                     f"constraint)", f"set a client-side default=... in the application, or add the default with "
                     f"a migration (ALTER TABLE {table.fullname} ALTER COLUMN {column.name} SET DEFAULT ...)")
        elif column is table.autoincrement_column and column.default is None:
            self.add(table, column.name, "missing-server-default",
                     "is an autoincrement primary key in the application (SQLAlchemy leaves it out of INSERTs for "
                     "the database to generate), but the database column has no default or identity: INSERTs "
                     f'that do not set it fail (null value in column "{column.name}" violates not-null constraint)',
                     "set it in the application (default=..., e.g. uuid.uuid4 for a uuid), or autoincrement=False "
                     "and always set it")

    def unmapped_required(self, table: sa.Table, db_table: DbTable, enums: Mapping[str, tuple[str, ...]]) -> None:
        mapped = {c.name for c in table.columns}
        model = self.app.model(table) or table.fullname
        for db in db_table.columns:
            if db.name in mapped or not self._required(table, db):
                continue
            self.add(table, db.name, "unmapped-required",
                     f"the column {table.fullname}.{db.name} is NOT NULL without a default and {model} does "
                     f'not map it: every INSERT through {model} fails (null value in column "{db.name}" violates '
                     f"not-null constraint)",
                     f"map it on {model} ({suggest(db.type, enums)}, nullable=False) and set it on every insert, "
                     f"or give the column a server default with a migration")


def compare(app: AppModels, schema: Schema) -> list[Finding]:
    """Every problem of ``app`` on ``schema``: missing tables first within a table, then column by column."""
    return _Checker(app, schema).run()
