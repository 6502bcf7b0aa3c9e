"""What check-app reports: one ``Finding`` per problem, and the ``Schema`` the models are checked against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from nakamura_misaki_db.schema.shapes import Catalog

__all__ = ["ERROR", "FAILS", "PREDICTED", "ROUND_TRIPS", "WARNING", "WOULD_FAIL", "Finding", "Schema"]

ERROR = "error"
WARNING = "warning"

# What a finding's status says (``--probe`` proves or refutes what the catalog predicts):
PREDICTED = "predicted"  # from the catalog alone (no --probe, or the probe could not reach it)
FAILS = "fails"  # a typical round trip through the mapping failed, or rows that exist cannot be loaded
WOULD_FAIL = "would fail"  # only for some values: a declared length, a label no row holds yet, a value changed
ROUND_TRIPS = "round-trips"  # predicted, but the round trip worked: not a problem on this driver

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
    module: str | None = None  # the module that defines the model class (or where the Table was found)
    status: str = PREDICTED  # PREDICTED, FAILS, WOULD_FAIL or ROUND_TRIPS (with --probe)
    driver: str | None = None  # the driver(s) the status was seen on: "psycopg", "asyncpg, psycopg"
    example: str | None = None  # what was written or read: "status='pending'", "'xxx…' (100 characters)"
    error: str | None = None  # the driver's (or SQLAlchemy's) message, one line
    error_class: str | None = None  # its class: "psycopg.errors.InvalidTextRepresentation", "LookupError"
    sqlstate: str | None = None

    @property
    def where(self) -> str:
        name = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.model} ({name})" if self.model else name

    @property
    def evidence(self) -> str:
        """What the probe saw, as one sentence ("" without --probe)."""
        if self.driver is None:
            return ""
        if self.status == PREDICTED:
            return f"Probe ({self.driver}): not reached (an earlier error stopped the round trip that tests it)"
        what = self.example or "the round trip"
        if self.status == ROUND_TRIPS:
            return f"Probe ({self.driver}): tried, and it works: not a problem on this database"
        verb = "would fail for values like" if self.status == WOULD_FAIL else "fails:"
        error = self.error or ""
        cause = f" ({_short_class(self.error_class)}" + (f", SQLSTATE {self.sqlstate}" if self.sqlstate else "") + ")" \
            if self.error_class else ""
        if self.status == WOULD_FAIL:
            return f"Probe ({self.driver}): {verb} {what}: {error}{cause}"
        return f"Probe ({self.driver}): {what} {verb} {error}{cause}"

    def __str__(self) -> str:
        if self.status == PREDICTED and self.driver is None:
            prefix = "warning: " if self.severity == WARNING else ""
        else:
            prefix = f"{self.status}: "
        line = f"{prefix}{self.where}: {self.problem}. Fix: {self.fix}"
        return f"{line}. {self.evidence}" if self.evidence else line

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "where": self.where, "text": str(self)}


def _short_class(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Schema:
    """What the application is checked against."""

    catalogs: Mapping[str, Catalog]  # schema name -> catalog
    head: Catalog  # this release's head schema (public), to tell "upgrade" from "add a migration"
    timezone: str | None = None  # the database's TimeZone; None when unknown (--head)
    database: str | None = None  # database name, for ALTER DATABASE in fixes
    is_head: bool = False  # the catalogs ARE the head definition (no database)
    generated: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)  # identity columns

