"""What check-app reports: one ``Finding`` per problem, and the ``Schema`` the models are checked against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from nakamura_misaki_db.schema.shapes import Catalog

__all__ = ["ERROR", "WARNING", "Finding", "Schema"]

ERROR = "error"
WARNING = "warning"

VALUES_CALLABLE = "values_callable=lambda e: [m.value for m in e]"
TO_HEAD = "bring the database to this release's head (nakamura-init-db; a legacy database needs baseline-bridge first)"


@dataclass(frozen=True)
class Finding:
    """One problem, in the application's terms, with its fix. ``str()`` is the one-line report."""

    table: str  # the table as the application names it (schema-qualified outside the default schema)
    column: str | None  # the column (database name), or None for the whole table
    problem: str
    fix: str
    kind: str = ""  # stable code: enum-names, missing-column, naive-timestamp, ...
    model: str | None = None  # "TaskTable.status" / "TaskTable" when the model class is known
    severity: str = ERROR  # "error": breaks the application; "warning": breaks it only for some rows

    @property
    def where(self) -> str:
        name = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.model} ({name})" if self.model else name

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{prefix}{self.where}: {self.problem}. Fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "where": self.where, "text": str(self)}


@dataclass(frozen=True)
class Schema:
    """What the application is checked against."""

    catalogs: Mapping[str, Catalog]  # schema name -> catalog
    head: Catalog  # this release's head schema (public), to tell "upgrade" from "add a migration"
    timezone: str | None = None  # the database's TimeZone; None when unknown (--head)
    database: str | None = None  # database name, for ALTER DATABASE in fixes
    is_head: bool = False  # the catalogs ARE the head definition (no database)
    generated: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)  # identity columns

