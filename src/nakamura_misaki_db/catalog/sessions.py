"""Other sessions of this database: who is connected, and who holds what a run would wait for.

Two things make a migration wait: a lock on a table it locks, in a mode that
conflicts with its own (PostgreSQL's lock table: ``CONFLICTS``), and, for
``CREATE INDEX CONCURRENTLY``, any transaction holding a snapshot older than the
build's (``backend_xmin``), wherever it reads. Both are read from ``pg_locks`` and
``pg_stat_activity``, without taking any lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

# Table lock modes, weakest first, as the documentation spells them and as pg_locks names them.
MODES = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
         "EXCLUSIVE", "ACCESS EXCLUSIVE")
PG_LOCKS_NAMES = {"".join(w.capitalize() for w in m.split()) + "Lock": m for m in MODES}

# Which held modes each requested mode waits for (PostgreSQL's "Conflicting Lock Modes" table).
CONFLICTS: dict[str, frozenset[str]] = {
    "ACCESS SHARE": frozenset({"ACCESS EXCLUSIVE"}),
    "ROW SHARE": frozenset({"EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "ROW EXCLUSIVE": frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "SHARE UPDATE EXCLUSIVE": frozenset({"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE",
                                         "ACCESS EXCLUSIVE"}),
    "SHARE": frozenset({"ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE",
                        "ACCESS EXCLUSIVE"}),
    "SHARE ROW EXCLUSIVE": frozenset({"ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
                                      "EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "EXCLUSIVE": frozenset(MODES[1:]),
    "ACCESS EXCLUSIVE": frozenset(MODES),
}


def stronger(a: str | None, b: str) -> str:
    """The stronger of two table lock modes (``None``: no lock yet)."""
    return b if a is None or MODES.index(b) > MODES.index(a) else a


@dataclass(frozen=True)
class Session:
    pid: int
    application: str
    client: str  # host:port, or "local socket"
    state: str  # pg_stat_activity.state ("" when the role may not see it)
    transaction_seconds: float | None  # how long its transaction has been open (None: not in one)
    query: str  # its current or last statement, shortened
    holds: tuple[str, ...] = field(default_factory=tuple)  # what it holds that the run would wait for

    def describe(self) -> str:
        app = f" ({self.application})" if self.application else ""
        age = (f", transaction open for {self.transaction_seconds:.0f} s" if self.transaction_seconds is not None
               else ", no transaction open")
        state = f", {self.state}" if self.state else ""
        query = f": {self.query}" if self.query else ""
        holds = f"; holds {'; '.join(self.holds)}" if self.holds else ""
        return f"pid {self.pid}{app} from {self.client}{state}{age}{query}{holds}"


_ACTIVITY_SQL = """
SELECT a.pid, coalesce(a.application_name, ''),
       CASE WHEN a.backend_type IS NULL THEN 'a client (details hidden from this role: GRANT pg_read_all_stats '
                                             'TO it to see them)'
            WHEN a.client_addr IS NULL THEN 'local socket' ELSE host(a.client_addr) || ':' || a.client_port END,
       coalesce(a.state, ''), extract(epoch FROM now() - a.xact_start)::float8, a.backend_xmin IS NOT NULL,
       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 120), a.backend_start
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
   -- Another role's session shows NULL for most columns, backend_type included, to a role without
   -- pg_read_all_stats: kept (a role's own background workers do not have one).
   AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL))
 ORDER BY a.pid
"""

_LOCKS_SQL = """
SELECT l.pid, n.nspname || '.' || c.relname, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND n.nspname || '.' || c.relname = ANY(:tables)
"""

# A client that just disconnected shows for a few milliseconds more: seen in every sample, a session is real.
_SETTLE_SAMPLES = 5
_SETTLE_PAUSE_S = 0.05


def other_sessions(conn: Connection, locks: dict[str, str], *, snapshots: bool = False,
                   settle: bool = False) -> list[Session]:
    """Every other client of this database, each with what it holds that the run would wait for.

    ``locks``: table -> the mode the run takes there; ``snapshots``: the run builds an index
    CONCURRENTLY, which waits for every transaction holding an older snapshot. ``settle``: sample
    a few times and keep only sessions present throughout (for a check that refuses on them).
    """
    import sqlalchemy as sa

    def sample() -> dict[tuple[int, object], tuple]:
        return {(int(r[0]), r[7]): tuple(r) for r in conn.execute(sa.text(_ACTIVITY_SQL))}

    seen = sample()
    for _ in range(_SETTLE_SAMPLES if settle and seen else 0):
        time.sleep(_SETTLE_PAUSE_S)
        now = sample()
        seen = {k: now[k] for k in seen if k in now}
        if not seen:
            break
    held: dict[int, list[str]] = {}
    if locks:
        for pid, table, mode in conn.execute(sa.text(_LOCKS_SQL), {"tables": sorted(locks)}):
            have = PG_LOCKS_NAMES.get(str(mode), str(mode))
            if have in CONFLICTS[locks[table]]:
                held.setdefault(int(pid), []).append(f"{have} on {table} (this run needs {locks[table]} there)")
    from nakamura_misaki_db.connect.connection import APPLICATION_NAME

    out = []
    for (pid, _), r in sorted(seen.items()):
        holds = list(held.get(pid, []))
        if snapshots and r[5]:
            holds.append("a snapshot that CREATE INDEX CONCURRENTLY must wait out (a transaction that has read "
                         "since it began: REPEATABLE READ, or a statement still running)")
        if str(r[1]) == APPLICATION_NAME:
            # Another run of these tools: it can hold nothing without the migration lock, which this run
            # holds, and it waits for that lock in short attempts a concurrent build does not deadlock with.
            continue
        age = None if r[4] is None else max(0.0, float(r[4]))
        out.append(Session(pid, str(r[1]), str(r[2]), str(r[3]), age, str(r[6]), tuple(holds)))
    return out
