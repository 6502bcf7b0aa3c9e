"""The audit trail: one row per applied bridge run in ``legacy_archive.bridge_runs``, and row counts."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, AUDIT_TABLE, CREATE_AUDIT
from nakamura_misaki_db.bridge.plan import Plan
from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.schema.quoting import ident

AUDIT_TABLE_NAME = f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}"


def archived_rows(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Rows that ended up in the archive schema during this run, per archive table."""
    out: dict[str, int] = {}
    for key, n in after.items():
        if key.startswith(f"{ARCHIVE_SCHEMA}."):
            gained = n - before.get(key, 0)
            if gained:
                out[key] = gained
    return out


def write_audit(conn: Connection, plan: Plan, *, archived: dict[str, int], before: dict[str, int],
                after: dict[str, int]) -> None:
    # IF NOT EXISTS still needs the CREATE privilege (on the database, on the schema) when the object is
    # there: a role that may only write rows into an existing audit table must not be asked for it.
    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": AUDIT_TABLE_NAME}).scalar() is None:
        run_sql(conn, f"CREATE SCHEMA IF NOT EXISTS {ident(ARCHIVE_SCHEMA)}")
        run_sql(conn, CREATE_AUDIT)
    conn.execute(
        sa.text(
            f"INSERT INTO {ident(ARCHIVE_SCHEMA, AUDIT_TABLE)} (run_id, source_state, steps, rows_archived,"
            " row_counts_before, row_counts_after) VALUES (CAST(:id AS uuid), CAST(:src AS jsonb),"
            " CAST(:steps AS jsonb), CAST(:arch AS jsonb), CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "id": plan.plan_id,
            "src": json.dumps(plan.source, ensure_ascii=False),
            "steps": json.dumps([_audit_step(s) for s in plan.steps], ensure_ascii=False),
            "arch": json.dumps(archived),
            "before": json.dumps(before),
            "after": json.dumps(after),
        },
    )


def _audit_step(step: Any) -> dict[str, str]:
    return {"action": str(step.action), "object": step.object, "summary": step.summary, "safety": str(step.safety)}
