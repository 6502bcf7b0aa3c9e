"""Will the application's own ORM work on our schema? ``check_app`` answers, finding by finding.

For the application's test suite::

    from nakamura_misaki_db.appcheck.check import assert_compatible
    from app.models import Base

    def test_models_fit_the_database():
        assert_compatible(Base, head=True)            # this release's head schema, no database
        assert_compatible(Base, database_url=url)     # or a real database

and from a shell: ``baseline-bridge check-app src`` (every mapping of the package), with
``--probe`` on a rehearsal copy to prove each finding by round trips.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.appcheck.compare import compare
from nakamura_misaki_db.appcheck.discover import Discovery, discover
from nakamura_misaki_db.appcheck.duplicates import duplicates
from nakamura_misaki_db.appcheck.findings import ERROR, WARNING, Finding, Schema
from nakamura_misaki_db.appcheck.loader import AppModels, app_models, load_target
from nakamura_misaki_db.appcheck.report import Ignored, Report
from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.connect.connection import connect, describe_sql_error
from nakamura_misaki_db.connect.errors import BadInput, MigrationError, Refused
from nakamura_misaki_db.connect.urls import ENV_VAR, DatabaseUrl, redact, url_from_env
from nakamura_misaki_db.schema.from_definition import catalog_from_definition
from nakamura_misaki_db.schema.shapes import Catalog

__all__ = ["ERROR", "WARNING", "AppIncompatible", "Finding", "Report", "assert_compatible", "check_app",
           "load_target", "run_check"]

Ignore = MappingType[str, str]  # --ignore MODEL REASON: model (module.Class, or a unique suffix) -> reason

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


def _discovered(app: Any) -> Discovery:
    """The mappings of ``app``: target strings are discovered (``discover``), objects taken as given."""
    texts = [app] if isinstance(app, str) else list(app) if isinstance(app, list | tuple) and app \
        and all(isinstance(a, str) for a in app) else None
    if texts is not None:
        return discover(texts)
    if isinstance(app, Discovery):
        return app
    return Discovery(targets=(), models=app_models(app))


def resolve_ignores(models: AppModels, ignore: Ignore | None) -> tuple[AppModels, tuple[Ignored, ...]]:
    """The mappings left to check, and the ignored ones with their reasons. An ignore that names no
    mapping, or more than one, or gives no reason, is bad input: a typo must never hide anything."""
    if not ignore:
        return models, ()
    chosen: dict[int, Ignored] = {}
    names = [m.qualified for m in models.mappings]
    for model, reason in ignore.items():
        if not reason or not reason.strip():
            raise BadInput(f"--ignore {model}: give the reason it is not checked (e.g. \"no repository uses it\")")
        exact = [m for m in models.mappings if m.qualified == model]
        found = exact or [m for m in models.mappings if m.qualified.endswith("." + model)]
        if not found:
            raise BadInput(f"--ignore {model} matches no mapping; the mappings are: {', '.join(names)}")
        if len(found) > 1:
            raise BadInput(f"--ignore {model} matches {len(found)} mappings ({', '.join(m.qualified for m in found)});"
                           f" give the module too")
        chosen[id(found[0])] = Ignored(found[0], reason.strip())
    kept = AppModels(tuple(m for m in models.mappings if id(m) not in chosen))
    if not kept.mappings:
        raise BadInput("every mapping is ignored: nothing is left to check")
    return kept, tuple(chosen.values())


def url_driver(database_url: str | URL | DatabaseUrl | None) -> str:
    """The driver a URL names: ``postgresql+asyncpg://`` is asyncpg (the application's), anything else psycopg."""
    raw = database_url if database_url is not None else os.environ.get(ENV_VAR, "")
    if isinstance(raw, URL):
        raw = raw.drivername
    return "asyncpg" if str(raw).strip().lower().startswith("postgresql+asyncpg") else "psycopg"


def _probe(url: DatabaseUrl, models: AppModels, drivers: Sequence[str]) -> tuple[list[Any], dict[str, float]]:
    from nakamura_misaki_db.appcheck.probe_run import run_probe

    runs, timing = [], {}
    for driver in drivers:
        started = time.perf_counter()
        try:
            runs.append(run_probe(url, models, driver))
        except MigrationError as exc:
            raise type(exc)(_scrub(str(exc), url)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise MigrationError(_scrub(describe_sql_error(exc), url)) from None
        timing[f"probe_{driver}"] = round((time.perf_counter() - started) * 1000, 1)
    return runs, timing


def run_check(app: Any, *, database_url: str | URL | None = None, head: bool = False, probe: bool = False,
              driver: str = "url", ignore: Ignore | None = None, strict: bool = False) -> Report:
    """Like ``check_app``, with what was checked against, what was left out, and the probe's verdicts."""
    started = time.perf_counter()
    found = _discovered(app)
    timing = {"discover": round((time.perf_counter() - started) * 1000, 1)}
    models, ignored = resolve_ignores(found.models, ignore)
    head_catalog = _head_catalog()
    drivers: list[str] = []
    if head:
        if database_url is not None:
            raise BadInput("give a database URL or head=True (--head), not both")
        if probe:
            raise BadInput("--probe needs a database to write to (a rehearsal copy), not --head")
        schema = Schema(catalogs={"public": head_catalog}, head=head_catalog, is_head=True)
        against = HEAD
    else:
        from nakamura_misaki_db.appcheck.probe_run import drivers_for

        drivers = drivers_for(driver, url_driver(database_url)) if probe else []
        url = _resolve_url(database_url)
        schemas = sorted({t.schema or "public" for t in models.tables})
        schema = _read_database(url, schemas, head_catalog)
        against = _shown(url)
    findings = compare(models, schema)
    notes: list[str] = []
    if drivers:
        from nakamura_misaki_db.appcheck.verdict import merge

        runs, probe_timing = _probe(url, models, drivers)
        timing.update(probe_timing)
        findings = merge(findings, models, runs)
        notes = list(dict.fromkeys(n for run in runs for n in run.notes))
    ignored_names = {i.mapping.qualified: i.reason for i in ignored}
    return Report(findings=findings, against=against, timezone=schema.timezone, tables=len(models.tables),
                  columns=sum(len(t.columns) for t in models.tables), mappings=models.mappings,
                  probe=bool(drivers), drivers=tuple(drivers), strict=strict, import_errors=found.import_errors,
                  skipped=found.skipped, ignored=ignored,
                  duplicates=tuple(duplicates([*models.mappings, *(i.mapping for i in ignored)], ignored_names)),
                  unchecked=found.unchecked, notes=tuple(notes), timing_ms=timing)


def check_app(app: Any, *, database_url: str | URL | None = None, head: bool = False, probe: bool = False,
              driver: str = "url", ignore: Ignore | None = None) -> list[Finding]:
    """Every problem the application's models would have on a database (or this release's head).

    ``app``: a ``MetaData``, a declarative ``Base``, a list of them, or target strings as the command
    takes them (the package directory ``"src"``, a module, a file, ``"MODULE:ATTR"``).
    ``database_url``: the database (default ``DATABASE_URL``); ``head=True``: this release's head
    schema instead, no database needed. ``probe=True``: prove each finding by round trips on
    ``driver`` ("url", "psycopg", "asyncpg" or "both"), in a transaction that is rolled back.
    ``ignore``: {"module.Class": "why it is not checked"}. Findings of severity ``"warning"`` break
    the application only for some rows; ``"error"`` ones break it outright; ``status`` says what the
    probe saw ("fails", "would fail", "round-trips", or "predicted").
    """
    return run_check(app, database_url=database_url, head=head, probe=probe, driver=driver, ignore=ignore).findings


def assert_compatible(app: Any, *, database_url: str | URL | None = None, head: bool = False, probe: bool = False,
                      driver: str = "url", ignore: Ignore | None = None) -> list[Finding]:
    """Raise ``AppIncompatible`` (an ``AssertionError``) listing every blocking finding; return the rest."""
    report = run_check(app, database_url=database_url, head=head, probe=probe, driver=driver, ignore=ignore)
    if report.errors:
        raise AppIncompatible(report.errors, report.against)
    return report.findings
