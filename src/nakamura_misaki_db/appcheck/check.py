"""Will the application's own ORM work on our schema? ``check_app`` answers, finding by finding.

For the application's test suite::

    from nakamura_misaki_db.appcheck.check import assert_compatible
    from app.models import Base

    def test_models_fit_the_database():
        assert_compatible(Base, head=True)            # this release's head schema, no database
        assert_compatible(Base, database_url=url)     # or a real database

and from a shell: ``baseline-bridge check-app app.models:Base``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.appcheck.compare import compare
from nakamura_misaki_db.appcheck.findings import ERROR, WARNING, Finding, Schema
from nakamura_misaki_db.appcheck.loader import AppModels, app_models, load_target
from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.connect.connection import connect, describe_sql_error
from nakamura_misaki_db.connect.errors import BadInput, MigrationError, Refused
from nakamura_misaki_db.connect.urls import DatabaseUrl, redact, url_from_env
from nakamura_misaki_db.schema.from_definition import catalog_from_definition
from nakamura_misaki_db.schema.shapes import Catalog

__all__ = ["ERROR", "WARNING", "AppIncompatible", "Finding", "Report", "assert_compatible", "check_app",
           "load_target", "run_check"]

NO_DATABASE = ("no database to check against: give --database-url URL (database_url=...), set DATABASE_URL, "
               "or use --head (head=True) for this release's head schema")
HEAD = "this release's head schema"

_GENERATED_SQL = sa.text(
    """
    SELECT n.nspname, c.relname, a.attname
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE a.attidentity <> '' AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ANY(:schemas)
    """
)


class AppIncompatible(Refused, AssertionError):
    """The application's models do not fit the schema; ``findings`` lists why (errors only)."""

    def __init__(self, findings: list[Finding], against: str) -> None:
        lines = "\n".join(f"  {f}" for f in findings)
        super().__init__(f"the application's models do not fit {against} ({len(findings)} problem(s)):\n{lines}")
        self.findings = findings
        self.against = against


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    against: str  # masked URL, or HEAD
    timezone: str | None
    tables: int
    columns: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def compatible(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"status": "compatible" if self.compatible else "incompatible", "against": self.against,
                "timezone": self.timezone, "tables": self.tables, "columns": self.columns,
                "findings": [f.to_dict() for f in self.findings]}


def _head_catalog() -> Catalog:
    from nakamura_misaki_db.schema import models

    return catalog_from_definition(models.metadata, models.ENTITIES)


def _resolve_url(database_url: str | URL | DatabaseUrl | None) -> DatabaseUrl:
    if isinstance(database_url, str):
        return DatabaseUrl.parse(database_url, source="--database-url")
    if database_url is not None:
        return DatabaseUrl.of(database_url)
    url = url_from_env()
    if url is None:
        raise BadInput(NO_DATABASE)
    return url


def _shown(url: DatabaseUrl) -> str:
    """The URL as it may be printed: no password, wherever it was given."""
    return url.masked()


def _scrub(text: str, url: DatabaseUrl) -> str:
    return redact(text, url)


def _read_database(url: DatabaseUrl, schemas: list[str], head: Catalog) -> Schema:
    try:
        return _read_catalogs(url, schemas, head)
    except MigrationError as exc:
        raise type(exc)(_scrub(str(exc), url)) from None
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(_scrub(describe_sql_error(exc), url)) from None


def _read_catalogs(url: DatabaseUrl, schemas: list[str], head: Catalog) -> Schema:
    with connect(url) as conn:
        transaction = conn.begin()
        try:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            # First query of a fresh session: the TimeZone every new connection of the application gets
            # (server default, ALTER DATABASE / ALTER ROLE settings).
            timezone = str(conn.exec_driver_sql("SHOW TimeZone").scalar())
            database = str(conn.exec_driver_sql("SELECT current_database()").scalar())
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            catalogs = {schema: inspect_database(conn, schema) for schema in schemas}
            generated = frozenset(tuple(row) for row in conn.execute(_GENERATED_SQL, {"schemas": schemas}))
        finally:
            transaction.rollback()
    return Schema(catalogs=catalogs, head=head, timezone=timezone, database=database, generated=generated)


def run_check(app: Any, *, database_url: str | URL | None = None, head: bool = False) -> Report:
    """Like ``check_app``, with what was checked against (for reports)."""
    models: AppModels = app_models(load_target(app) if isinstance(app, str) else app)
    head_catalog = _head_catalog()
    if head:
        if database_url is not None:
            raise BadInput("give a database URL or head=True (--head), not both")
        schema = Schema(catalogs={"public": head_catalog}, head=head_catalog, is_head=True)
        against = HEAD
    else:
        url = _resolve_url(database_url)
        schemas = sorted({t.schema or "public" for t in models.tables})
        schema = _read_database(url, schemas, head_catalog)
        against = _shown(url)
    findings = compare(models, schema)
    return Report(findings=findings, against=against, timezone=schema.timezone, tables=len(models.tables),
                  columns=sum(len(t.columns) for t in models.tables))


def check_app(app: Any, *, database_url: str | URL | None = None, head: bool = False) -> list[Finding]:
    """Every problem the application's models would have on a database (or this release's head).

    ``app``: a ``MetaData``, a declarative ``Base``, a list of them, or a ``"MODULE:ATTR"`` string.
    ``database_url``: the database (default ``DATABASE_URL``); ``head=True``: this release's head
    schema instead, no database needed. Findings of severity ``"warning"`` break the application only
    for some rows; ``"error"`` ones break it outright.
    """
    return run_check(app, database_url=database_url, head=head).findings


def assert_compatible(app: Any, *, database_url: str | URL | None = None, head: bool = False) -> list[Finding]:
    """Raise ``AppIncompatible`` (an ``AssertionError``) listing every error; return the warnings."""
    report = run_check(app, database_url=database_url, head=head)
    if report.errors:
        raise AppIncompatible(report.errors, report.against)
    return report.findings
