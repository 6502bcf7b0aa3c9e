"""``check-app``'s rules, table by table: the application's SQLAlchemy types against database types.

Pure tests (no PostgreSQL): ``app_compat.compare`` on small ``MetaData`` tables written here and on
hand-built catalogs that spell column types the way ``format_type()`` prints them. The real
databases, the CLI and the incident models are in ``tests/test_check_app.py``. Every expected line
below is written by hand from what the rule means (README "Check your application",
MIGRATION_GUIDE section 10): which write fails, and the type or migration that fixes it.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import sqlalchemy as sa

from nakamura_misaki_db.appcheck.compare import compare
from nakamura_misaki_db.appcheck.findings import ERROR, WARNING, Finding, Schema
from nakamura_misaki_db.appcheck.loader import app_models
from nakamura_misaki_db.schema.shapes import Catalog, Column, Table

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

VALUES_CALLABLE = "values_callable=lambda e: [m.value for m in e]"
TO_HEAD = ("bring the database to this release's head (nakamura-init-db; a legacy database needs "
           "baseline-bridge first)")


# -- building blocks ------------------------------------------------------------------------------


def db_col(name: str, type_: str, *, nullable: bool = True, default: str | None = None) -> Column:
    return Column(name=name, type=type_, nullable=nullable, default=default)


def db_table(name: str, *columns: Column) -> Table:
    return Table(name=name, columns=columns, primary_key=None)


def catalog(*tables: Table, enums: dict[str, tuple[str, ...]] | None = None, schema: str = "public") -> Catalog:
    return Catalog(schema=schema, extensions={}, enums=dict(enums or {}), tables={t.name: t for t in tables})


def findings(app: sa.MetaData, *catalogs: Catalog, head: Catalog | None = None, is_head: bool = False,
             timezone: str | None = None, database: str | None = None,
             generated: frozenset[tuple[str, str, str]] = frozenset()) -> list[Finding]:
    schema = Schema(catalogs={c.schema: c for c in catalogs}, head=head or catalog(), timezone=timezone,
                    database=database, is_head=is_head, generated=generated)
    return compare(app_models(app), schema)


def one_column(app_type: Any, db_type: str, *, enums: dict[str, tuple[str, ...]] | None = None,
               schema: str | None = None, **column: Any) -> list[Finding]:
    """``items.value`` of ``app_type`` in the application, of ``db_type`` (nullable) in the database."""
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("value", app_type, **column), schema=schema)
    return findings(metadata, catalog(db_table("items", db_col("value", db_type)), enums=enums,
                                      schema=schema or "public"))


def lines(found: list[Finding]) -> list[str]:
    return [str(f) for f in found]


STATUS = {"task_status": ("todo", "done")}


# -- type mismatches and the type each database type asks for ---------------------------------------


@pytest.mark.parametrize(("db_type", "enums", "declare"), [
    ("uuid", None, "Uuid()"),
    ("integer", None, "Integer()"),
    ("bigint", None, "BigInteger()"),
    ("smallint", None, "SmallInteger()"),
    ("boolean", None, "Boolean()"),
    ("double precision", None, "Float()"),
    ("real", None, "Float()"),
    ("numeric", None, "Numeric()"),
    ("numeric(12,2)", None, "Numeric()"),
    ("date", None, "Date()"),
    ("json", None, "JSON()"),
    ("jsonb", None, "postgresql.JSONB()"),
    ("bytea", None, "LargeBinary()"),
    ("timestamp with time zone", None, "DateTime(timezone=True)"),
    ("timestamp without time zone", None, "DateTime()"),
    ("timestamp(3) with time zone", None, "DateTime(timezone=True)"),
    ("timestamp(3) without time zone", None, "DateTime()"),
    ("time without time zone", None, "a type that maps to time without time zone"),
    ("time(0) with time zone", None, "a type that maps to time(0) with time zone"),
    ("interval", None, "a type that maps to interval"),
    ("interval day to second", None, "a type that maps to interval day to second"),
    ("task_status", STATUS, f'Enum(<its enum class>, name="task_status", {VALUES_CALLABLE})'),
])
def test_a_string_bound_to_a_column_it_cannot_be_assigned_to_is_a_type_mismatch_with_the_type_to_declare(
        db_type: str, enums: dict[str, tuple[str, ...]] | None, declare: str) -> None:
    # SQLAlchemy casts the parameter to VARCHAR; PostgreSQL has no assignment cast from varchar to any of these.
    found = one_column(sa.String(36), db_type, enums=enums)
    assert [(f.where, f.kind, f.severity, f.fix) for f in found] == [
        ("items.value", "type-mismatch", ERROR, f"declare it as {declare}")]
    assert f"but the column is {db_type}:" in found[0].problem


def test_type_mismatch_line_names_the_bound_type_the_sql_cast_and_the_server_error() -> None:
    assert lines(one_column(sa.String(36), "uuid")) == [
        "items.value: the application binds String(36) (varchar(36)) but the column is uuid: PostgreSQL has no "
        "assignment cast from one to the other, so every write fails (column \"value\" is of type uuid but "
        "expression is of type varchar(36)). Fix: declare it as Uuid()"]
    # The cast is PostgreSQL's spelling of the type, not SQLAlchemy's generic one (DATETIME).
    assert lines(one_column(sa.DateTime(timezone=True), "integer")) == [
        "items.value: the application binds DateTime(timezone=True) (timestamp with time zone) but the column "
        "is integer: PostgreSQL has no assignment cast from one to the other, so every write fails (column "
        "\"value\" is of type integer but expression is of type timestamp with time zone). Fix: declare it as "
        "Integer()"]
    # An Enum without a name cannot be compiled for PostgreSQL at all: its class name stands in for the cast.
    assert lines(one_column(sa.Enum("a", "b"), "integer"))[0].startswith(
        "items.value: the application binds Enum('a', 'b') (enum) but the column is integer: ")


@pytest.mark.parametrize(("app_type", "spelled"), [
    (sa.String(36), "String(36)"),
    (sa.String(), "String()"),
    (sa.Text(), "Text"),
    (sa.DateTime(timezone=True), "DateTime(timezone=True)"),
    (sa.DateTime(), "DateTime(timezone=False)"),
    (sa.Integer(), "Integer()"),
    (sa.Enum("a", "b", "c", name="abc"), "Enum('a', 'b', 'c', name='abc')"),
    (sa.Enum("a", "b", "c", "d", name="letters"), "Enum('a', 'b', 'c', ..., name='letters')"),
    (sa.Enum("a", "b", native_enum=False), "Enum('a', 'b')"),
])
def test_the_application_type_is_spelled_as_its_source_writes_it(app_type: Any, spelled: str) -> None:
    found = one_column(app_type, "uuid")
    assert [f.kind for f in found] == ["type-mismatch"]
    assert found[0].problem.startswith(f"the application binds {spelled} (")


def test_an_enum_class_is_spelled_by_its_class_name() -> None:
    class Color(enum.Enum):
        RED = "red"
        GREEN = "green"

    found = one_column(sa.Enum(Color, name="color"), "uuid")
    assert found[0].problem.startswith("the application binds Enum(Color, name='color') (color) but ")


@pytest.mark.parametrize(("app_type", "db_type"), [
    (sa.Integer(), "numeric(10,2)"),  # an int parameter is assigned to numeric
    (sa.Integer(), "real"),
    (sa.Numeric(), "integer"),
    (sa.Numeric(), "smallint"),  # numeric -> smallint is an assignment cast; no range check for numbers
    (sa.LargeBinary(), "bytea"),
    (sa.Time(), "time without time zone"),
    (sa.Interval(), "interval"),
    (sa.Date(), "timestamp with time zone"),
    (sa.Boolean(), "boolean"),
    (sa.JSON(), "jsonb"),
    (sa.Uuid(), "uuid"),
    (sa.Integer(), "text"),  # anything is assigned to a string column
    (sa.String(10), "time without time zone[]"),  # arrays are not judged
    (sa.String(10), "interval[]"),
    (sa.String(10), "point"),  # nor types the rules do not know
])
def test_types_postgresql_assigns_without_error_are_not_reported(app_type: Any, db_type: str) -> None:
    assert one_column(app_type, db_type) == []


@pytest.mark.parametrize("db_type", ["real", "double precision", "numeric", "json", "jsonb", "boolean", "date",
                                     "bytea", "time without time zone", "interval"])
def test_every_known_non_string_type_refuses_a_string(db_type: str) -> None:
    assert [f.kind for f in one_column(sa.Text(), db_type)] == ["type-mismatch"]


@pytest.mark.parametrize(("db_type", "schema", "enums"), [
    ("crm.stage", "crm", {"stage": ("lead", "won")}),  # format_type qualifies a type outside search_path
    ('crm."Deal Stage"', "crm", {"Deal Stage": ("lead", "won")}),
    ('mail."INBOX"', "mail", {"INBOX": ("lead", "won")}),
])
def test_a_schema_qualified_enum_column_is_recognised_by_its_type_name(
        db_type: str, schema: str, enums: dict[str, tuple[str, ...]]) -> None:
    (name,) = enums
    found = one_column(sa.Integer(), db_type, enums=enums, schema=schema)
    assert [(f.where, f.kind, f.fix) for f in found] == [
        (f"{schema}.items.value", "type-mismatch",
         f'declare it as Enum(<its enum class>, name="{name}", {VALUES_CALLABLE})')]
    # ...and an Enum of the same name and labels fits it
    assert one_column(sa.Enum("lead", "won", name=name), db_type, enums=enums, schema=schema) == []


# -- TypeDecorator ---------------------------------------------------------------------------------


class Wrapped(sa.types.TypeDecorator):  # type: ignore[type-arg]
    """An application's own type around another one (as ``impl``)."""

    impl = sa.types.NullType
    cache_ok = True

    def __init__(self, inner: sa.types.TypeEngine) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.impl = inner


def wrapped(levels: int) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    type_: sa.types.TypeEngine = sa.String(36)  # type: ignore[type-arg]
    for _ in range(levels):
        type_ = Wrapped(type_)
    return type_


@pytest.mark.parametrize("levels", [1, 2, 4])
def test_type_decorators_are_judged_by_the_type_they_wrap(levels: int) -> None:
    found = one_column(wrapped(levels), "uuid")
    assert [(f.kind, f.fix) for f in found] == [("type-mismatch", "declare it as Uuid()")]
    assert found[0].problem.startswith("the application binds String(36) (varchar(36)) ")


def test_type_decorators_nested_deeper_than_four_levels_are_not_judged() -> None:
    assert one_column(wrapped(5), "uuid") == []
    assert one_column(wrapped(7), "uuid") == []


# -- lengths and integer ranges --------------------------------------------------------------------


def test_strings_longer_than_a_varchar_column() -> None:
    assert lines(one_column(sa.String(100), "character varying(50)")) == [
        "items.value: String(100) lets the application write up to 100 characters, but the column is "
        "character varying(50): longer values fail (value too long for type character varying(50)). "
        "Fix: declare String(50) and check lengths before writing, or widen the column with a migration"]
    assert lines(one_column(sa.String(), "character varying(50)")) == [
        "items.value: String() lets the application write any length, but the column is character varying(50): "
        "longer values fail (value too long for type character varying(50)). "
        "Fix: declare String(50) and check lengths before writing, or widen the column with a migration"]
    assert [f.kind for f in one_column(sa.String(3), "character(2)")] == ["too-long"]
    assert one_column(sa.String(50), "character varying(50)") == []
    assert one_column(sa.String(20), "character varying(50)") == []
    assert one_column(sa.String(), "character varying") == []  # varchar without a limit


def test_enum_labels_longer_than_a_varchar_column() -> None:
    non_native = sa.Enum("open", "closed", "on_hold", native_enum=False)
    assert lines(one_column(non_native, "character varying(4)")) == [
        "items.value: may write 'closed', 'on_hold', longer than the column's character varying(4): those writes "
        "fail (value too long for type character varying(4)). Fix: widen the column with a migration, or shorten "
        "the label(s) of Enum('open', 'closed', 'on_hold')"]
    # a label exactly as long as the column fits
    assert one_column(non_native, "character varying(7)") == []


@pytest.mark.parametrize(("app_type", "db_type", "declare"), [
    (sa.Integer(), "smallint", "SmallInteger()"),
    (sa.BigInteger(), "smallint", "SmallInteger()"),
    (sa.BigInteger(), "integer", "Integer()"),
])
def test_integers_wider_than_the_column(app_type: Any, db_type: str, declare: str) -> None:
    spelled = type(app_type).__name__ + "()"
    assert lines(one_column(app_type, db_type)) == [
        f"items.value: {spelled} may write values beyond the column's {db_type} range: those writes fail "
        f"({db_type} out of range). Fix: declare it as {declare}, or widen the column with a migration"]


@pytest.mark.parametrize(("app_type", "db_type"), [
    (sa.SmallInteger(), "smallint"),
    (sa.SmallInteger(), "integer"),
    (sa.Integer(), "integer"),
    (sa.Integer(), "bigint"),
    (sa.BigInteger(), "bigint"),
])
def test_integers_that_fit_the_column(app_type: Any, db_type: str) -> None:
    assert one_column(app_type, db_type) == []


# -- time zones ------------------------------------------------------------------------------------


def test_naive_and_aware_datetimes_on_the_other_kind_of_timestamp_column() -> None:
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("naive", sa.DateTime()), sa.Column("aware", sa.DateTime(timezone=True)),
             sa.Column("fine", sa.DateTime(timezone=True)))
    db = db_table("items", db_col("naive", "timestamp with time zone"),
                  db_col("aware", "timestamp without time zone"), db_col("fine", "timestamp(3) with time zone"))
    assert lines(findings(metadata, catalog(db), timezone="Europe/Lisbon", database="shop")) == [
        "items.naive: DateTime(timezone=False) (naive) is mapped onto timestamp with time zone: naive datetimes "
        "are written and read as local time in the database's TimeZone 'Europe/Lisbon', values come back "
        "timezone-aware, and asyncpg rejects aware datetimes bound as naive. Fix: DateTime(timezone=True) and "
        "write aware datetimes (datetime.now(timezone.utc)); or, if the application means naive local time, "
        "ALTER DATABASE shop SET TimeZone = '<zone the application uses>'",
        "items.aware: DateTime(timezone=True) (aware) is mapped onto timestamp without time zone: aware datetimes "
        "are converted to local time in the database's TimeZone 'Europe/Lisbon' and stored without their offset; "
        "they come back naive. Fix: DateTime() (naive) and write naive datetimes in one agreed zone, or migrate "
        "the column to timestamp with time zone",
    ]


# -- enums -----------------------------------------------------------------------------------------


def test_an_enum_without_a_name_cannot_be_cast() -> None:
    unnamed = sa.Enum("todo", "done")
    assert lines(one_column(unnamed, "task_status", enums=STATUS)) == [
        "items.value: Enum('todo', 'done') declares a PostgreSQL enum without a name: SQLAlchemy cannot cast the "
        "parameter, so every write fails with asyncpg (CompileError: ... type requires a name). "
        "Fix: name=\"task_status\" in its Enum(...)"]
    # on a string column there is no type to name: store it as a string
    found = one_column(unnamed, "character varying(20)")
    assert [(f.kind, f.fix) for f in found] == [("enum-unnamed", "native_enum=False in its Enum(...)")]
    assert one_column(sa.Enum("todo", "done", native_enum=False), "character varying(20)") == []


def test_an_enum_named_after_another_type_than_the_column() -> None:
    class Color(enum.Enum):
        RED = "red"

    assert lines(one_column(sa.Enum(Color, name="colour"), "color", enums={"color": ("RED",)})) == [
        "items.value: Enum(Color, name='colour') names the enum type colour but the column is of type color: "
        "SQLAlchemy casts the parameter to colour, so every write fails with asyncpg (type \"colour\" does not "
        "exist, or cannot be assigned to color). Fix: name=\"color\" in its Enum(...)"]


def test_a_native_enum_on_a_string_column_needs_its_type_in_the_database() -> None:
    status = sa.Enum("todo", "done", name="task_status")
    assert [f.kind for f in one_column(status, "character varying(20)")] == ["enum-type-name"]
    assert lines(one_column(status, "character varying(20)")) == [
        "items.value: Enum('todo', 'done', name='task_status') casts the parameter to the enum type task_status, "
        "which the database does not have (the column is character varying(20)): every write fails with asyncpg "
        "(type \"task_status\" does not exist). Fix: native_enum=False in its Enum(...)"]
    # when the type exists, the cast works and the value is assigned to the string column
    assert one_column(status, "character varying(20)", enums=STATUS) == []


def test_labels_an_enum_without_a_class_may_write_but_the_type_lacks() -> None:
    found = one_column(sa.Enum("todo", "done", "archived", "deleted", name="task_status"), "task_status",
                       enums=STATUS)
    assert lines(found) == [
        "items.value: may write 'archived', 'deleted', which the database type task_status lacks (it has 'todo', "
        "'done'): those writes fail (invalid input value for enum task_status). Fix: add the label(s) to "
        "task_status with a migration (ALTER TYPE task_status ADD VALUE '...'; MIGRATION_GUIDE section 3), or "
        "remove them from the Enum"]


def test_labels_an_enum_class_may_write_name_the_member() -> None:
    class Status(enum.Enum):
        TODO = "todo"
        DONE = "done"
        ARCHIVED = "archived"
        DELETED = "deleted"

    found = one_column(sa.Enum(Status, name="task_status", values_callable=lambda e: [m.value for m in e]),
                       "task_status", enums=STATUS)
    assert found[0].problem.startswith(
        "may write 'archived' (Status.ARCHIVED), 'deleted' (Status.DELETED), which the database type task_status "
        "lacks (it has 'todo', 'done')")
    assert found[0].fix.endswith("or remove them from Status")


def test_an_enum_class_with_an_alias_does_not_pair_members_with_labels_by_position() -> None:
    class Status(enum.Enum):
        TODO = "todo"
        OPEN = "todo"  # an alias: a member name, but no label of its own
        DONE = "done"
        ARCHIVED = "archived"

    found = one_column(sa.Enum(Status, name="task_status", values_callable=lambda e: [m.value for m in e]),
                       "task_status", enums=STATUS)
    assert [f.kind for f in found] == ["enum-labels"]
    assert found[0].problem.startswith("may write 'archived', which the database type task_status lacks")


def test_values_persisted_where_the_database_holds_member_names() -> None:
    class Status(enum.Enum):
        OPEN = "open"
        DONE = "done"

    found = one_column(sa.Enum(Status, name="status", values_callable=lambda e: [m.value for m in e]),
                       "status", enums={"status": ("OPEN", "DONE")})
    assert lines(found) == [
        "items.value: persists the values of Status ('open', 'done') but the database type status holds the member "
        "names ('OPEN', 'DONE'): every write fails (invalid input value for enum status: \"open\") and every read "
        "raises LookupError. Fix: bring the database to this release's schema (baseline-bridge renames the legacy "
        "labels to the values), or remove values_callable from its Enum(...) to persist names"]


def test_labels_of_the_type_an_enum_without_a_class_cannot_load_are_a_warning() -> None:
    found = one_column(sa.Enum("todo", name="task_status"), "task_status", enums=STATUS)
    assert [f.severity for f in found] == [WARNING]
    assert lines(found) == [
        "warning: items.value: the database type task_status also holds 'done', which the Enum cannot load: "
        "reading a row that holds one raises LookupError. Fix: add the label(s) to its Enum(...)"]


# -- missing tables and columns --------------------------------------------------------------------


def test_missing_table_and_column_in_a_database_and_in_the_head_definition() -> None:
    metadata = sa.MetaData()
    sa.Table("reminders", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("tasks", metadata, sa.Column("id", sa.Integer), sa.Column("snoozed", sa.DateTime(timezone=True)))
    sa.Table("tasks", metadata, sa.Column("id", sa.Integer), schema="app")
    head = catalog(db_table("tasks", db_col("id", "integer"), db_col("snoozed", "timestamp with time zone")),
                   db_table("reminders", db_col("id", "integer")))
    live = catalog(db_table("tasks", db_col("id", "integer")))
    # A legacy database lacks what head has: upgrade it. app.tasks is not ours: a new migration, or drop the model.
    assert lines(findings(metadata, live, catalog(schema="app"), head=head)) == [
        "app.tasks: the application maps table app.tasks, which the database does not have: every query on it "
        "fails (relation \"app.tasks\" does not exist). Fix: create app.tasks with a new migration in "
        "nakamura-misaki-db, or remove the model",
        f"reminders: the application maps table reminders, which the database does not have: every query on it "
        f"fails (relation \"reminders\" does not exist). Fix: {TO_HEAD}",
        f"tasks.snoozed: the database has no column tasks.snoozed: every query that loads tasks fails (column "
        f"tasks.snoozed does not exist). Fix: {TO_HEAD}",
    ]
    # Against the head definition itself, nothing can be upgraded to: a new migration, or drop the model.
    assert lines(findings(metadata, live, catalog(schema="app"), head=live, is_head=True)) == [
        "app.tasks: the application maps table app.tasks, which this release's schema does not have: every query "
        "on it fails (relation \"app.tasks\" does not exist). Fix: create app.tasks with a new migration in "
        "nakamura-misaki-db, or remove the model",
        "reminders: the application maps table reminders, which this release's schema does not have: every query "
        "on it fails (relation \"reminders\" does not exist). Fix: create reminders with a new migration in "
        "nakamura-misaki-db, or remove the model",
        "tasks.snoozed: this release's schema has no column tasks.snoozed: every query that loads tasks fails "
        "(column tasks.snoozed does not exist). Fix: add the column with a new migration in nakamura-misaki-db, "
        "or remove the attribute from tasks",
    ]


# -- NOT NULL and defaults -------------------------------------------------------------------------


def test_nullable_in_the_application_but_not_null_without_default_in_the_database() -> None:
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("owner", sa.String(50), nullable=True))
    db = db_table("items", db_col("id", "integer", nullable=False), db_col("owner", "character varying(50)",
                                                                         nullable=False))
    assert lines(findings(metadata, catalog(db))) == [
        "items.owner: is nullable in the application but NOT NULL without a default in the database: writing None "
        "fails (null value in column \"owner\" violates not-null constraint). Fix: nullable=False (Mapped[X], not "
        "Mapped[X | None]) and always set it"]


def test_a_server_default_the_database_column_does_not_have() -> None:
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
             sa.Column("note", sa.Text, nullable=False, server_default=""))
    db = db_table("items", db_col("id", "integer", nullable=False), db_col("note", "text", nullable=False))
    assert lines(findings(metadata, catalog(db))) == [
        "items.note: relies on a server default (server_default=...) that the database column does not have: "
        "INSERTs that leave it unset fail (null value in column \"note\" violates not-null constraint). Fix: set a "
        "client-side default=... in the application, or add the default with a migration (ALTER TABLE items ALTER "
        "COLUMN note SET DEFAULT ...)"]


def test_an_autoincrement_key_the_database_does_not_generate() -> None:
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True))
    no_default = catalog(db_table("items", db_col("id", "integer", nullable=False)))
    assert lines(findings(metadata, no_default)) == [
        "items.id: is an autoincrement primary key in the application (SQLAlchemy leaves it out of INSERTs for the "
        "database to generate), but the database column has no default or identity: INSERTs that do not set it "
        "fail (null value in column \"id\" violates not-null constraint). Fix: set it in the application "
        "(default=..., e.g. uuid.uuid4 for a uuid), or autoincrement=False and always set it"]
    # an identity column (public.items.id) or a default is generated by the database
    assert findings(metadata, no_default, generated=frozenset({("public", "items", "id")})) == []
    with_default = catalog(db_table("items", db_col("id", "integer", nullable=False,
                                                   default="nextval('items_id_seq'::regclass)")))
    assert findings(metadata, with_default) == []


@pytest.mark.parametrize(("db_type", "enums", "suggested"), [
    ("character varying(20)", None, "String(20)"),
    ("character varying", None, "String()"),
    ("text", None, "Text()"),
    ("uuid", None, "Uuid()"),
    ("integer", None, "Integer()"),
    ("bigint", None, "BigInteger()"),
    ("smallint", None, "SmallInteger()"),
    ("boolean", None, "Boolean()"),
    ("double precision", None, "Float()"),
    ("real", None, "Float()"),
    ("numeric", None, "Numeric()"),
    ("numeric(12,2)", None, "Numeric()"),
    ("date", None, "Date()"),
    ("json", None, "JSON()"),
    ("jsonb", None, "postgresql.JSONB()"),
    ("bytea", None, "LargeBinary()"),
    ("timestamp with time zone", None, "DateTime(timezone=True)"),
    ("timestamp without time zone", None, "DateTime()"),
    ("timestamp(6) without time zone", None, "DateTime()"),
    ("point", None, "a type that maps to point"),
    ("task_status", STATUS, f'Enum(<its enum class>, name="task_status", {VALUES_CALLABLE})'),
])
def test_an_unmapped_required_column_is_suggested_with_the_type_that_maps_to_it(
        db_type: str, enums: dict[str, tuple[str, ...]] | None, suggested: str) -> None:
    metadata = sa.MetaData()
    sa.Table("items", metadata, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
    db = db_table("items", db_col("id", "integer", nullable=False), db_col("extra", db_type, nullable=False))
    assert lines(findings(metadata, catalog(db, enums=enums))) == [
        f"items.extra: the column items.extra is NOT NULL without a default and items does not map it: every "
        f"INSERT through items fails (null value in column \"extra\" violates not-null constraint). Fix: map it "
        f"on items ({suggested}, nullable=False) and set it on every insert, or give the column a server default "
        f"with a migration"]


# -- a finding as data -----------------------------------------------------------------------------


def test_finding_to_dict_has_every_field_the_location_and_the_line() -> None:
    finding = Finding(table="tasks", column="status", problem="it breaks", fix="mend it", kind="enum-names",
                      model="TaskTable.status", severity=WARNING)
    assert finding.to_dict() == {
        "table": "tasks", "column": "status", "problem": "it breaks", "fix": "mend it", "kind": "enum-names",
        "model": "TaskTable.status", "severity": "warning", "where": "TaskTable.status (tasks.status)",
        "module": None, "status": "predicted", "driver": None, "example": None, "error": None,
        "error_class": None, "sqlstate": None,
        "text": "warning: TaskTable.status (tasks.status): it breaks. Fix: mend it"}


def test_a_probed_finding_says_what_the_round_trip_did_on_which_driver() -> None:
    fails = Finding(table="tasks", column="status", problem="persists names", fix="values_callable",
                    kind="enum-names", model="TaskModel.status", module="src.repo", status="fails",
                    driver="asyncpg, psycopg", example="inserting a row with status='PENDING'",
                    error='invalid input value for enum task_status: "PENDING"',
                    error_class="psycopg.errors.InvalidTextRepresentation", sqlstate="22P02")
    assert str(fails) == (
        "fails: TaskModel.status (tasks.status): persists names. Fix: values_callable. Probe (asyncpg, psycopg): "
        "inserting a row with status='PENDING' fails: invalid input value for enum task_status: \"PENDING\" "
        "(InvalidTextRepresentation, SQLSTATE 22P02)")
    would = Finding(table="tasks", column="title", problem="too long", fix="String(50)", kind="too-long",
                    status="would fail", driver="psycopg", example="'xxxxxxxx…' (100 characters)",
                    error="value too long for type character varying(50)",
                    error_class="psycopg.errors.StringDataRightTruncation", sqlstate="22001")
    assert str(would) == (
        "would fail: tasks.title: too long. Fix: String(50). Probe (psycopg): would fail for values like "
        "'xxxxxxxx…' (100 characters): value too long for type character varying(50) "
        "(StringDataRightTruncation, SQLSTATE 22001)")
    lookup = Finding(table="tasks", column="status", problem="p", fix="f", status="fails", driver="asyncpg",
                     example="reading 'PENDING'", error="'PENDING' is not among the defined enum values",
                     error_class="LookupError")
    assert str(lookup).endswith("Probe (asyncpg): reading 'PENDING' fails: 'PENDING' is not among the defined "
                                "enum values (LookupError)")
    refuted = Finding(table="t", column="c", problem="p", fix="f", status="round-trips", driver="psycopg")
    assert str(refuted) == ("round-trips: t.c: p. Fix: f. Probe (psycopg): tried, and it works: not a problem "
                            "on this database")
    unreached = Finding(table="t", column="c", problem="p", fix="f", status="predicted", driver="psycopg")
    assert str(unreached) == ("predicted: t.c: p. Fix: f. Probe (psycopg): not reached (an earlier error stopped "
                              "the round trip that tests it)")


def test_report_to_dict_is_the_json_check_app_prints() -> None:
    from nakamura_misaki_db.appcheck.report import Report

    warning = Finding(table="tasks", column="due_at", problem="naive", fix="aware", kind="naive-datetime",
                      model="Task.due_at", severity=WARNING)
    error = Finding(table="tasks", column="status", problem="names", fix="values", kind="enum-names",
                    model="Task.status", severity=ERROR)
    empty = {"mode": "predicted", "drivers": [], "strict": False, "mappings": [], "import_errors": [],
             "skipped": [], "ignored": [], "duplicates": [], "unchecked": [], "notes": [], "timing_ms": {}}
    only_warned = Report(findings=[warning], against="HEAD", timezone="Asia/Tokyo", tables=3, columns=17)
    assert only_warned.to_dict() == {"status": "compatible", "against": "HEAD", "timezone": "Asia/Tokyo",
                                     "tables": 3, "columns": 17, **empty, "findings": [warning.to_dict()]}
    failed = Report(findings=[warning, error], against="postgresql://app:***@db/app", timezone=None, tables=1,
                    columns=2)
    assert failed.to_dict() == {"status": "incompatible", "against": "postgresql://app:***@db/app", "timezone": None,
                                "tables": 1, "columns": 2, **empty, "findings": [warning.to_dict(), error.to_dict()]}
