"""Statements that must run outside a transaction (``CREATE``/``DROP INDEX CONCURRENTLY``), their waits bounded.

A concurrent index build waits, in several rounds, for every transaction that
holds a conflicting lock or an older snapshot. ``lock_timeout`` bounds each of
those waits (set here for the session, since there is no transaction to set it
in), and a watchdog on its own connection bounds their sum: once the statement
has spent the lock budget waiting, it is cancelled (``pg_cancel_backend``), and
the sessions it was waiting for are remembered, so the error can name them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.watcher import SessionWatcher
from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.connect.locking import lock_timeout_setting, wait_seconds

_POLL_S = 0.1

_WAIT_SQL = """
SELECT a.wait_event_type = 'Lock', coalesce((
       SELECT string_agg(format('pid %s%s, %s, transaction open for %s s: %s', b.pid,
                                CASE WHEN b.application_name <> '' THEN ' (' || b.application_name || ')' END,
                                coalesce(b.state, '?'),
                                coalesce(round(extract(epoch FROM now() - b.xact_start))::text, '?'),
                                left(regexp_replace(coalesce(b.query, ''), '\\s+', ' ', 'g'), 100)), '; '
                         ORDER BY b.pid)
         FROM pg_stat_activity b WHERE b.pid = ANY(pg_blocking_pids(a.pid))), '')
  FROM pg_stat_activity a WHERE a.pid = :pid
"""


class BoundedWait(SessionWatcher):
    """Watch session ``pid`` while it runs one statement; cancel it once it has waited ``budget_s`` in all."""

    def __init__(self, connect: Callable[[], Any], pid: int, budget_s: float | None) -> None:
        super().__init__(connect, pid, _POLL_S)
        self.budget_s = budget_s
        self.waited = 0.0
        self.cancelled = False
        self.blockers = ""  # the sessions it last waited for, as one line
        self.budget = ""  # the lock budget as given (e.g. "5s"), for messages

    def watch(self, conn: Any) -> None:
        # Could it not connect, the statement's own lock_timeout still bounds each wait.
        import sqlalchemy as sa

        last = time.monotonic()
        for _ in self.polls():
            row = conn.execute(sa.text(_WAIT_SQL), {"pid": self.pid}).first()
            conn.rollback()  # no snapshot held between polls: the build would wait for it
            now = time.monotonic()
            if row is not None and row[0]:
                self.waited += now - last
                self.blockers = str(row[1]) or self.blockers
            last = now
            if self.budget_s is not None and self.waited > self.budget_s and not self.cancelled:
                self.cancelled = True
                conn.execute(sa.text("SELECT pg_cancel_backend(:pid)"), {"pid": self.pid})
                conn.rollback()


def run_bounded(conn: Connection, statements: list[str], lock_timeout: str | None) -> BoundedWait:
    """Run ``statements`` in autocommit mode, every lock wait bounded by the lock budget (raises on failure,
    after which ``conn`` may be unusable: a lost connection is the caller's to handle)."""
    budget = lock_timeout_setting(lock_timeout)
    driver = conn.connection.driver_connection
    pid = int(driver.info.backend_pid)
    watch = BoundedWait(lambda: conn.engine.connect(), pid, wait_seconds(budget))
    watch.budget = budget
    driver.autocommit = True
    try:
        with watch:
            run_sql(conn, f"SET lock_timeout = '{budget}'")  # a validated duration: nothing to quote
            for sql in statements:
                run_sql(conn, sql)
    except BaseException as exc:
        exc.bounded_wait = watch  # type: ignore[attr-defined]  # read back by waited_for()
        raise
    finally:
        with contextlib.suppress(Exception):
            run_sql(conn, "RESET lock_timeout")
        with contextlib.suppress(Exception):
            driver.autocommit = False
    return watch


def waited_for(exc: BaseException) -> BoundedWait | None:
    """How the bounded statement that raised ``exc`` waited (None: it was not one)."""
    return getattr(exc, "bounded_wait", None)
