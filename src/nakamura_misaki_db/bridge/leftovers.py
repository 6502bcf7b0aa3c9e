"""What a bridge run that was killed after its first phase left behind, read from the database alone.

A run that fails puts phase 1 back itself (``bridge.restore``); a run that is
killed cannot. What it committed is then recognisable: rows in the archive
tagged with a ``bridge_run_id`` that has no audit row (and that no later run
finished), and an index named like a unique constraint of the target that is
not attached to it. ``status`` and ``plan`` name them; ``apply`` finishes such a
run (the rows stay archived, and its audit row counts them), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, AUDIT_TABLE
from nakamura_misaki_db.schema.quoting import ident


@dataclass(frozen=True)
class Interrupted:
    run_id: str
    rows: dict[str, int]  # archive table (schema-qualified) -> rows this run moved there
    since: str  # when its first row was archived

    def describe(self) -> str:
        rows = ", ".join(f"{n:,} row(s) in {table}" for table, n in self.rows.items())
        return (f"bridge run {self.run_id} stopped after its first phase (killed?) at {self.since}: it moved {rows}; "
                "`baseline-bridge apply` finishes it (the rows stay archived and its audit row counts them)")


def _finished(conn: Connection) -> set[str]:
    audit = f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}"
    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": audit}).scalar() is None:
        return set()
    done = {str(r[0]) for r in conn.execute(sa.text(
        f"SELECT run_id::text FROM {ident(ARCHIVE_SCHEMA, AUDIT_TABLE)} UNION "
        f"SELECT jsonb_object_keys(coalesce(source_state->'finished_runs', '{{}}'::jsonb))"
        f" FROM {ident(ARCHIVE_SCHEMA, AUDIT_TABLE)}"))}
    return done


def interrupted_runs(conn: Connection) -> list[Interrupted]:
    """Runs whose archived rows no audit row accounts for (oldest first)."""
    tables = [str(r[0]) for r in conn.execute(sa.text(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND a.attname = 'bridge_run_id'"
        " AND c.relkind = 'r' ORDER BY 1"), {"s": ARCHIVE_SCHEMA})]
    if not tables:
        return []
    finished = _finished(conn)
    runs: dict[str, dict[str, int]] = {}
    since: dict[str, str] = {}
    for table in tables:
        for run, n, first in conn.execute(sa.text(
                f"SELECT bridge_run_id::text, count(*), to_char(min(archived_at), 'YYYY-MM-DD HH24:MI:SSOF')"
                f" FROM {ident(ARCHIVE_SCHEMA, table)} GROUP BY 1")):
            if str(run) in finished:
                continue
            runs.setdefault(str(run), {})[f"{ARCHIVE_SCHEMA}.{table}"] = int(n)
            since[str(run)] = min(since.get(str(run), str(first)), str(first))
    return sorted((Interrupted(run, rows, since[run]) for run, rows in runs.items()), key=lambda i: i.since)


def unattached_indexes(conn: Connection, constraints: dict[str, str]) -> list[str]:
    """Indexes named like a unique constraint of the target (``constraints``: name -> table) but not one."""
    out = []
    for name, table, valid in conn.execute(sa.text(
            "SELECT ic.relname, t.relname, i.indisvalid AND i.indisready FROM pg_index i"
            " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
            " WHERE ic.relnamespace = 'public'::regnamespace AND ic.relname = ANY(:names)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1"),
            {"names": sorted(constraints)}):
        state = "valid" if valid else "INVALID"
        out.append(f"index {name} on {table} ({state}), built by a bridge run's first phase but not yet its unique "
                   "constraint: `baseline-bridge apply` " + ("adopts it" if valid else "rebuilds it"))
    return out


def leftovers(conn: Connection) -> list[str]:
    """One line per thing an interrupted run left (empty when none)."""
    from nakamura_misaki_db.schema.target import target_catalog

    uniques = {u.name: t.name for t in target_catalog().tables.values() for u in t.uniques}
    return [i.describe() for i in interrupted_runs(conn)] + unattached_indexes(conn, uniques)
