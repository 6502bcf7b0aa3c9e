"""Run ``--probe`` on a driver: one connection, one transaction, always rolled back.

The probe is written once, as synchronous Session code; on asyncpg (the application's driver) it
runs inside ``AsyncConnection.run_sync``, which needs ``greenlet`` (the ``check-app`` extra). The
session's statements run with ``compiled_cache=None``: SQLAlchemy keys an ``Enum``'s compiled form
by its longest label's length, so two Enum types of two Bases with the same length would share one
result processor and report LookupErrors that the application never sees.

Meant for the rehearsal copy: rows are rolled back, but sequences advance and triggers fire (the
report names them); nothing waits long for a lock (``lock_timeout`` 2 s, ``statement_timeout``
5 s), and a read-only session is refused before anything is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nakamura_misaki_db.appcheck.loader import AppModels
from nakamura_misaki_db.appcheck.probe import MappingProbe, probe_mapping
from nakamura_misaki_db.appcheck.probe_errors import error_info
from nakamura_misaki_db.appcheck.probe_values import Catalog, Witnesses, read_catalog
from nakamura_misaki_db.appcheck.types import app_type
from nakamura_misaki_db.connect.connection import APPLICATION_NAME, connect
from nakamura_misaki_db.connect.errors import BadInput, ConnectionFailed
from nakamura_misaki_db.connect.urls import DatabaseUrl, redact

__all__ = ["DRIVER_CHOICES", "ProbeRun", "drivers_for", "run_probe"]

DRIVER_CHOICES = ("url", "psycopg", "asyncpg", "both")
EXTRA = "pip install 'nakamura-misaki-db[check-app]'"


@dataclass
class ProbeRun:
    driver: str
    mappings: list[MappingProbe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def drivers_for(choice: str, url_driver: str) -> list[str]:
    """``--driver``: the URL's own (``postgresql+asyncpg://`` is asyncpg, anything else psycopg), one, or both."""
    if choice not in DRIVER_CHOICES:
        raise BadInput(f"--driver must be one of {', '.join(DRIVER_CHOICES)}")
    if choice == "both":
        return ["asyncpg", "psycopg"]
    return [url_driver if choice == "url" else choice]


def _notes(conn: sa.Connection, models: AppModels, catalog: Catalog, driver: str) -> list[str]:
    notes = []
    fired = [f"{t}: {', '.join(names)}" for (schema, t), names in sorted(catalog.triggers.items())
             if any((m.table.schema or "public", m.table.name) == (schema, t) for m in models.mappings)]
    if fired:
        notes.append("triggers fired during the probe (their writes are rolled back, anything they did outside "
                     f"the database is not): {'; '.join(fired)}")
    naive = [f"{m.name}.{m.attribute(c.name)}" for m in models.mappings for c in m.table.columns
             if isinstance(app_type(c.type)[0], sa.DateTime) and not app_type(c.type)[0].timezone]
    if driver == "asyncpg" and naive:
        aware = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
        try:
            with conn.begin_nested():
                conn.execute(sa.select(sa.literal(aware, sa.DateTime()))).all()
        except sa.exc.SQLAlchemyError as exc:
            info = error_info(exc)
            shown = ", ".join(naive[:5]) + (f" and {len(naive) - 5} more" if len(naive) > 5 else "")
            notes.append(f"on asyncpg, writing an aware datetime to a DateTime() (naive) attribute fails "
                         f"({info.message}); {len(naive)} such attribute(s): {shown}. The probe writes naive "
                         f"values there, as the declaration asks; write naive datetimes to them, or declare "
                         f"DateTime(timezone=True)")
    return notes


def _probe(conn: sa.Connection, models: AppModels, driver: str) -> ProbeRun:
    started = time.perf_counter()
    conn.execution_options(compiled_cache=None)
    if str(conn.exec_driver_sql("SHOW transaction_read_only").scalar()) == "on":
        raise BadInput("--probe needs a writable session (this one is read-only: a standby, or "
                       "default_transaction_read_only); run it on the rehearsal copy")
    conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
    conn.exec_driver_sql("SET LOCAL statement_timeout = '5s'")
    catalog = read_catalog(conn, sorted({m.table.schema or "public" for m in models.mappings}))
    witnesses = Witnesses(conn, catalog)
    session = orm.Session(bind=conn, join_transaction_mode="create_savepoint", autoflush=False,
                          expire_on_commit=False)
    run = ProbeRun(driver)
    try:
        for mapping in models.mappings:
            run.mappings.append(probe_mapping(conn, session, catalog, witnesses, mapping))
    finally:
        session.close()
    run.notes = [n for p in run.mappings for n in p.notes] + _notes(conn, models, catalog, driver)
    run.seconds = time.perf_counter() - started
    return run


def _on_psycopg(url: DatabaseUrl, models: AppModels) -> ProbeRun:
    with connect(url) as conn:
        transaction = conn.begin()
        try:
            return _probe(conn, models, "psycopg")
        finally:
            transaction.rollback()


def _asyncpg_arguments(url: DatabaseUrl) -> dict[str, Any]:
    p = url.params
    hosts = (p.get("host") or "localhost").split(",")
    ports = [int(x) if x else 5432 for x in (p.get("port") or "").split(",")] if p.get("port") else [5432]
    args: dict[str, Any] = {
        "host": hosts if len(hosts) > 1 else hosts[0],
        "port": ports if len(ports) > 1 else ports[0],
        "user": p.get("user"), "password": p.get("password"), "database": p.get("dbname"),
        "timeout": float(p.get("connect_timeout") or 10),
        "server_settings": {"search_path": "public", "application_name": p.get("application_name") or APPLICATION_NAME},
    }
    if p.get("sslmode"):
        args["ssl"] = p["sslmode"]
    return {k: v for k, v in args.items() if v is not None}


def _on_asyncpg(url: DatabaseUrl, models: AppModels) -> ProbeRun:
    try:
        import asyncpg
        import greenlet  # noqa: F401  (run_sync needs it; say so before connecting)
        from sqlalchemy.ext.asyncio import create_async_engine
    except ImportError as exc:
        raise BadInput(f"--driver asyncpg needs asyncpg and greenlet ({exc.name} is missing): {EXTRA}") from None
    arguments = _asyncpg_arguments(url)

    async def creator() -> Any:
        return await asyncpg.connect(**arguments)

    async def main() -> ProbeRun:
        engine = create_async_engine("postgresql+asyncpg://", async_creator=creator, poolclass=sa.pool.NullPool)
        try:
            try:
                conn = await engine.connect()
            except (OSError, asyncpg.PostgresError, sa.exc.DBAPIError) as exc:
                reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConnectionFailed(redact(f"cannot connect to {url.masked()} with asyncpg: {reason}", url)) \
                    from None
            try:
                await conn.begin()
                return await conn.run_sync(_probe, models, "asyncpg")
            finally:
                await conn.rollback()
                await conn.close()
        finally:
            await engine.dispose()

    return asyncio.run(main())


def run_probe(url: DatabaseUrl, models: AppModels, driver: str) -> ProbeRun:
    """Every mapping of ``models`` probed on ``driver`` ("psycopg" or "asyncpg"), rolled back."""
    return _on_asyncpg(url, models) if driver == "asyncpg" else _on_psycopg(url, models)
