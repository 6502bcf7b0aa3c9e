"""Status: what this database is, read from the catalog (never from alembic_version alone)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from nakamura_misaki_db.catalog.state import DatabaseState, read_state

__all__ = ["DatabaseState", "database_status"]


def database_status(conn: Connection) -> DatabaseState:
    import dataclasses

    import sqlalchemy as sa

    from nakamura_misaki_db.bridge.leftovers import leftovers

    state = read_state(conn)
    return dataclasses.replace(state, timezone=str(conn.scalar(sa.text("SELECT current_setting('TimeZone')"))),
                               last_bridge_run=last_bridge_run(conn), leftovers=leftovers(conn))


def last_bridge_run(conn: Connection) -> dict | None:
    import sqlalchemy as sa

    from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, AUDIT_TABLE

    if conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}"}) is None:
        return None
    row = conn.execute(sa.text(
        f"SELECT run_id::text, to_char(finished_at, 'YYYY-MM-DD HH24:MI:SSOF'), jsonb_array_length(steps),"
        f" rows_archived FROM {ARCHIVE_SCHEMA}.{AUDIT_TABLE} ORDER BY finished_at DESC LIMIT 1")).first()
    if row is None:
        return None
    return {"run_id": row[0], "finished_at": row[1], "steps": int(row[2]), "rows_archived": dict(row[3] or {})}


def read_only_status(conn: Connection) -> DatabaseState:
    """``database_status`` in a READ ONLY transaction that is rolled back, its lock waits bounded."""
    from nakamura_misaki_db.connect.locking import lock_wait_setting, set_local

    transaction = conn.begin()
    try:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        set_local(conn, "lock_timeout", lock_wait_setting())
        return database_status(conn)
    finally:
        transaction.rollback()
