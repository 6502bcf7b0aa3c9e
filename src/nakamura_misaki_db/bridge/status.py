"""Status: what this database is, read from the catalog (never from alembic_version alone)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ..catalog import inspect_database
from ..dbstate import DatabaseState, classify
from ..migrations import chain_revisions
from ..target import target_catalog

__all__ = ["DatabaseState", "database_status"]


def database_status(conn: Connection) -> DatabaseState:
    import dataclasses

    import sqlalchemy as sa

    state = classify(inspect_database(conn), target_catalog(), chain_revisions())
    return dataclasses.replace(state, timezone=str(conn.scalar(sa.text("SELECT current_setting('TimeZone')"))))


def read_only_status(conn: Connection) -> DatabaseState:
    """``database_status`` in a READ ONLY transaction that is rolled back, its lock waits bounded."""
    from ..locking import lock_wait_setting, set_local

    transaction = conn.begin()
    try:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        set_local(conn, "lock_timeout", lock_wait_setting())
        return database_status(conn)
    finally:
        transaction.rollback()
