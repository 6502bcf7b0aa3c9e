"""The shape of a schema as plain, comparable data: what a database has, or what a definition says.

Both readers (``catalog.inspect`` from a live database, ``schema.from_definition``
from SQLAlchemy metadata) produce these values, so comparing a database with
the frozen ``0001`` definition is a comparison of two values (see ``diff``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL's own spelling, as format_type() prints it
    nullable: bool
    default: str | None  # as pg_get_expr() prints it
    collation: str | None = None  # only when it differs from the type's default


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    method: str = "btree"
    where: str | None = None  # partial index predicate
    options: tuple[str, ...] = ()  # per-column sort order / INCLUDE columns
    # False for an index PostgreSQL does not use or keep complete: INVALID (indisvalid) or not ready
    # (indisready), as an interrupted CREATE INDEX CONCURRENTLY leaves it. A definition is always valid.
    valid: bool = True


@dataclass(frozen=True)
class Check:
    name: str
    sqltext: str


@dataclass(frozen=True)
class Unique:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None  # "CASCADE", "SET NULL", ... or None for NO ACTION


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: Unique | None
    uniques: tuple[Unique, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()  # excluding the indexes that back PK/unique constraints
    checks: tuple[Check, ...] = ()
    # Facts about data, only for a live table; estimates from the statistics.
    estimated_rows: int | None = None
    size_bytes: int | None = None
    has_rows: bool | None = None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    schema: str
    extensions: dict[str, str]  # extension name -> schema it lives in
    enums: dict[str, tuple[str, ...]]  # type name -> labels in sort order
    tables: dict[str, Table]
    # None: there is no alembic_version table; otherwise its rows.
    alembic_version: tuple[str, ...] | None = None
    other_schemas: tuple[str, ...] = field(default_factory=tuple)
    # Tables whose rows row level security hides (some or all) from this role: their rows cannot be
    # counted or read, so nothing that depends on their rows may be decided (live catalogs only).
    rls_hidden: tuple[str, ...] = field(default_factory=tuple)
    # Other tables named alembic_version (schema-qualified) and their rows: what a session whose
    # search_path puts that schema first reads instead of ours (live catalogs only).
    other_version_tables: dict[str, tuple[str, ...] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def by_name(items: Iterable[Any]) -> tuple[Any, ...]:
    """Constraints and indexes in name order, so two catalogs of the same schema compare equal."""
    return tuple(sorted(items, key=lambda item: item.name))


def on_delete_action(value: str | None) -> str | None:
    """A foreign key's ON DELETE action as both readers record it: upper case, None for NO ACTION."""
    if value is None or value.upper() == "NO ACTION":
        return None
    return value.upper()


@dataclass(frozen=True)
class LaterObjects:
    """What revisions after 0001 create, by name, with the revision that creates each."""

    tables: dict[str, tuple[str, Table]] = field(default_factory=dict)
    columns: dict[tuple[str, str], tuple[str, Column]] = field(default_factory=dict)
    checks: dict[tuple[str, str], tuple[str, Check]] = field(default_factory=dict)
    indexes: dict[tuple[str, str], tuple[str, Index]] = field(default_factory=dict)
