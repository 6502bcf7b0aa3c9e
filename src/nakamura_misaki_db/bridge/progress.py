"""What a running bridge tells its operator, as it happens (on stderr; stdout keeps the result).

Every line of ``Lines`` starts with ``[`` (a step) or ``-- `` (anything else), so
the one error line a failed run ends with (``baseline-bridge: ...``) stands out.

Three ways to say it, picked by the CLI:

- ``Lines``: one line per step with its lock and how long it took. On a terminal
  the running step's line shows a spinner and the seconds so far, and is
  replaced by the final line; on a pipe (the systemd journal) only the final
  line is written, without control characters.
- ``JsonLines``: one JSON object per event, for machines (``--json``).
- ``Silent``: nothing (``--quiet``; the library's default).

While a step waits for a lock, ``LockWatcher`` (its own connection) names the
session that holds it: pid, application_name, state, and since when.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from nakamura_misaki_db.bridge.apply import Rows
from nakamura_misaki_db.bridge.steps import Step
from nakamura_misaki_db.bridge.watcher import SessionWatcher

SPINNER = "|/-\\"


@dataclass(frozen=True)
class Blocker:
    pid: int
    application_name: str
    state: str
    since: str  # query_start / xact_start, ISO
    query: str

    def describe(self) -> str:
        name = f" ({self.application_name})" if self.application_name else ""
        return f"pid {self.pid}{name}, {self.state}, since {self.since}: {self.query}"


class Progress:
    """The events; a subclass says them somewhere. Every method may be called from the run's thread only,
    except ``waiting`` (the lock watcher's thread)."""

    def planning(self, what: str) -> None: ...

    def phase(self, number: int, title: str) -> None: ...

    def step_started(self, number: int, total: int, step: Step) -> None: ...

    def step_finished(self, number: int, total: int, step: Step, seconds: float, rows: Rows | None) -> None: ...

    def waiting(self, number: int, step: Step, waited: float, blockers: list[Blocker]) -> None: ...

    def finishing(self, what: str) -> None: ...

    def close(self) -> None: ...


class Silent(Progress):
    pass


def _lock_of(step: Step) -> str:
    strong = [lock for lock in step.locks if lock.startswith(("ACCESS EXCLUSIVE", "SHARE"))]
    return f" ({strong[0]})" if strong else ""


def _rows(rows: Rows | None) -> str:
    if rows is None:
        return ""
    return f", ~{rows.count:,} row(s) (estimate)" if rows.estimated else f", {rows.count:,} row(s)"


class Lines(Progress):
    def __init__(self, stream: TextIO, *, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self._lock = threading.Lock()
        self._live: tuple[str, float] | None = None  # the running step's line and when it started
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

    def planning(self, what: str) -> None:
        self._write(f"-- {what}\n")

    def phase(self, number: int, title: str) -> None:
        self._write(f"-- phase {number}: {title}\n")

    def step_started(self, number: int, total: int, step: Step) -> None:
        line = f"[{number}/{total}] {step.summary}{_lock_of(step)}"
        if not self.tty:
            return  # the journal gets one line per step, when it ends
        self._live = (line, time.monotonic())
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        i = 0
        while not self._stop.wait(0.2):
            live = self._live
            if live is None:
                return
            line, started = live
            self._write(f"\r{line} {SPINNER[i % len(SPINNER)]} {time.monotonic() - started:.1f} s\x1b[K")
            i += 1

    def _end_live(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._live is not None and self.tty:
            self._write("\r\x1b[K")
        self._live = None

    def step_finished(self, number: int, total: int, step: Step, seconds: float, rows: Rows | None) -> None:
        self._end_live()
        self._write(f"[{number}/{total}] {step.summary}{_lock_of(step)} ... {seconds:.2f} s{_rows(rows)}\n")

    def waiting(self, number: int, step: Step, waited: float, blockers: list[Blocker]) -> None:
        who = "; ".join(b.describe() for b in blockers) or "a session that has already gone"
        line = f"[{number}] waiting {waited:.0f} s for a lock ({step.summary}), held by {who}"
        if self.tty and self._live is not None:
            self._write(f"\r\x1b[K{line}\n")
        else:
            self._write(f"{line}\n")

    def finishing(self, what: str) -> None:
        self._write(f"-- {what}\n")

    def close(self) -> None:
        self._end_live()


class JsonLines(Progress):
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def _emit(self, event: str, **data: Any) -> None:
        with self._lock:
            self.stream.write(json.dumps({"event": event, **data}, ensure_ascii=False, default=str) + "\n")
            self.stream.flush()

    def planning(self, what: str) -> None:
        self._emit("planning", message=what)

    def phase(self, number: int, title: str) -> None:
        self._emit("phase", phase=number, title=title)

    def step_started(self, number: int, total: int, step: Step) -> None:
        self._emit("step_started", step=number, of=total, action=str(step.action), object=step.object,
                   locks=step.locks)

    def step_finished(self, number: int, total: int, step: Step, seconds: float, rows: Rows | None) -> None:
        self._emit("step_finished", step=number, of=total, action=str(step.action), object=step.object,
                   seconds=round(seconds, 3), rows=None if rows is None else rows.count,
                   rows_estimated=None if rows is None else rows.estimated)

    def waiting(self, number: int, step: Step, waited: float, blockers: list[Blocker]) -> None:
        self._emit("waiting_for_lock", step=number, object=step.object, waited=round(waited, 1),
                   blockers=[asdict(b) for b in blockers])

    def finishing(self, what: str) -> None:
        self._emit("finishing", message=what)


# -- who holds the lock we wait for -------------------------------------------------------------

_WAITING_SQL = """
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = :pid AND NOT granted)
"""

_BLOCKERS_SQL = """
SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''),
       to_char(coalesce(a.query_start, a.xact_start, a.backend_start), 'YYYY-MM-DD"T"HH24:MI:SSOF'),
       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 120)
  FROM pg_stat_activity a WHERE a.pid = ANY(pg_blocking_pids(:pid)) ORDER BY a.pid
"""


class LockWatcher(SessionWatcher):
    """Polls, on its own connection, whether the run's session waits for a lock, and who holds it."""

    def __init__(self, connect: Callable[[], Any], backend_pid: int, progress: Progress,
                 interval: float = 0.5) -> None:
        super().__init__(connect, backend_pid, interval)
        self.progress = progress
        self.current: tuple[int, Step] | None = None
        self.last_blockers: list[Blocker] = []  # who held the last lock the run waited for (for error messages)

    def watch(self, conn: Any) -> None:
        import sqlalchemy as sa

        reported: tuple[int, ...] = ()
        since: float | None = None
        for _ in self.polls():
            current = self.current
            if current is None:
                continue
            waiting = conn.execute(sa.text(_WAITING_SQL), {"pid": self.pid}).scalar()
            rows = conn.execute(sa.text(_BLOCKERS_SQL), {"pid": self.pid}).all() if waiting else []
            conn.rollback()  # no snapshot held between polls
            if not waiting:
                since, reported = None, ()
                continue
            since = since or time.monotonic()
            blockers = [Blocker(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]
            if blockers:
                self.last_blockers = blockers
            key = tuple(b.pid for b in blockers)
            if key != reported:
                reported = key
                self.progress.waiting(current[0], current[1], time.monotonic() - since, blockers)
