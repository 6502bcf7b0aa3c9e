"""Row conservation: every row this run removed or changed is in the archive, or the run rolls back.

PostgreSQL counts, per table and per transaction, the rows *this* transaction
inserted, updated and deleted (``pg_stat_xact_user_tables``), cascades and
triggers included, and nothing of other sessions. So the check needs no scan
and is not fooled by concurrent writers: for every table, rows deleted or
updated by this run must equal the rows the plan moved from it into the
archive. A cascade, a trigger or a rule the plan did not foresee shows up as
a difference and rolls everything back. (Table rewrites by ``ALTER ... TYPE``
and ``SET SCHEMA`` move no rows and count nothing.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, AUDIT_TABLE
from nakamura_misaki_db.connect.errors import Refused


class RowsNotConserved(Refused):
    pass


@dataclass
class Writes:
    """What this transaction did to the rows of one table (by OID: a table moved to the archive stays itself)."""

    table: str  # schema.name now
    inserted: int
    updated: int
    deleted: int


@dataclass
class Counts:
    """Exact row counts before the run, by table OID, and the names they had then."""

    rows: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def by_name(self) -> dict[str, int]:
        return {self.names[oid]: n for oid, n in sorted(self.rows.items(), key=lambda kv: self.names[kv[0]])}


_TABLES = sa.text(
    "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:s)"
    " AND NOT (n.nspname = 'public' AND c.relname = 'alembic_version')"
    " AND NOT (n.nspname = :archive AND c.relname = :audit)"
)


def count_rows(conn: Connection, schemas: tuple[str, ...] = ("public", ARCHIVE_SCHEMA)) -> Counts:
    """Exact counts, taken once, before the run locks anything (a count(*) blocks no writer)."""
    from nakamura_misaki_db.schema.quoting import ident

    counts = Counts()
    for oid, name in conn.execute(_TABLES, {"s": list(schemas), "archive": ARCHIVE_SCHEMA, "audit": AUDIT_TABLE}):
        schema, table = name.split(".", 1)
        counts.names[int(oid)] = name
        counts.rows[int(oid)] = int(conn.scalar(sa.text(f"SELECT count(*) FROM {ident(schema, table)}")) or 0)
    return counts


def _session_writes(conn: Connection) -> dict[int, Writes]:
    rows = conn.execute(sa.text(
        "SELECT relid, schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
        " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
    )).all()
    return {int(r[0]): Writes(str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


class WriteCounter:
    """This transaction's own row writes, per table.

    The counters PostgreSQL keeps per session also hold earlier transactions of
    the session until they are flushed to the shared statistics (which never
    happens inside a transaction): so the counter is read once when the
    transaction starts and the writes are what it grew by.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.start = _session_writes(conn)

    def writes(self) -> dict[int, Writes]:
        out: dict[int, Writes] = {}
        for oid, now in _session_writes(self.conn).items():
            then = self.start.get(oid, Writes(now.table, 0, 0, 0))
            delta = Writes(now.table, now.inserted - then.inserted, now.updated - then.updated,
                           now.deleted - then.deleted)
            if delta.inserted or delta.updated or delta.deleted:
                out[oid] = delta
        return out


def counts_after(conn: Connection, before: Counts, writes: dict[int, Writes],
                 schemas: tuple[str, ...] = ("public", ARCHIVE_SCHEMA)) -> dict[str, int]:
    """Row counts as this run leaves them, derived from ``before`` and this run's own writes (no second scan)."""
    out: dict[str, int] = {}
    for oid, name in conn.execute(_TABLES, {"s": list(schemas), "archive": ARCHIVE_SCHEMA, "audit": AUDIT_TABLE}):
        w = writes.get(int(oid))
        out[str(name)] = before.rows.get(int(oid), 0) + (w.inserted - w.deleted if w else 0)
    return dict(sorted(out.items()))


def check_conservation(writes: dict[int, Writes], moves: dict[str, str]) -> dict[str, int]:
    """Raise unless every row removed or changed by this run was archived as planned.

    ``moves``: source table -> archive table it feeds ("public.conversations" ->
    "legacy_archive.conversations_duplicates"). Returns rows archived per archive table.
    """
    by_name = {w.table: w for w in writes.values()}
    archive_prefix = f"{ARCHIVE_SCHEMA}."
    problems: list[str] = []
    archived: dict[str, int] = {}
    for w in writes.values():
        if w.table.startswith(archive_prefix):
            if w.table != f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}" and w.inserted:
                archived[w.table] = w.inserted
            continue
        removed = w.deleted + w.updated
        if not removed:
            continue
        target = moves.get(w.table)
        kept = by_name[target].inserted if target in by_name else 0
        if target is None:
            problems.append(f"{w.table}: {w.deleted} row(s) deleted and {w.updated} updated by something the plan "
                            "did not foresee (a trigger, a rule or a foreign key action)")
        elif kept != removed:
            problems.append(f"{w.table}: {removed} row(s) removed or changed, but {kept} archived in {target}")
    if problems:
        raise RowsNotConserved(
            "row conservation failed: rows before must equal rows after plus rows archived by this run; "
            "everything was rolled back, nothing was changed:\n" + "\n".join(f"  - {p}" for p in problems))
    return dict(sorted(archived.items()))
