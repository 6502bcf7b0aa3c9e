"""Phase 1: before the transaction, move duplicates away (committed), then build unique indexes CONCURRENTLY.

It exists so that writers barely wait: a unique constraint over a big table
needs an index, and only ``CREATE INDEX CONCURRENTLY``, which cannot run in a
transaction, builds one without blocking writers. It needs the duplicates gone
first, so moving them to the archive commits on its own (rows conserved, tagged
with the run's id). Everything it commits is recorded in ``Committed`` as it
happens, so that ``bridge.restore`` can put it back should a later step fail.

Every wait is bounded by the lock budget (``bridge.bounded``), the build's wait
for older snapshots included; a failed build says why it failed (a duplicate
written meanwhile, a wait that ran out and for whom, a lost session, a
permission), never a guess.
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.apply import StepHook, StepObserver, execute_steps, rows_touched
from nakamura_misaki_db.bridge.bounded import run_bounded, waited_for
from nakamura_misaki_db.bridge.conserve import WriteCounter, Writes, check_conservation
from nakamura_misaki_db.bridge.restore import Committed
from nakamura_misaki_db.bridge.steps import Action, Step
from nakamura_misaki_db.connect.errors import MigrationError
from nakamura_misaki_db.connect.locking import lock_timeout_setting, set_local


class IndexBuildFailed(MigrationError):
    """A concurrent unique index build failed (exit 1); the message says why."""


def run_phase_one(conn: Connection, steps: list[Step], committed: Committed, before_step: StepHook | None,
                  lock_timeout: str | None, observer: StepObserver) -> dict[int, Writes]:
    """Move duplicates (one committed transaction, rows conserved), then build the indexes concurrently."""
    moves = [s for s in steps if s.action == Action.ARCHIVE_DUPLICATES]
    builds = [s for s in steps if s.action == Action.BUILD_UNIQUE_INDEX]
    moved: dict[int, Writes] = {}
    if moves:
        with conn.begin():
            counter = WriteCounter(conn)
            set_local(conn, "lock_timeout", lock_timeout_setting(lock_timeout))
            execute_steps(conn, moves, before_step, observer=observer)
            moved = counter.writes()
            archived = check_conservation(moved, {k: v for s in moves for k, v in s.moves.items()})
        committed.moved = archived
    for number, step in enumerate(builds, start=len(moves) + 1):
        if before_step is not None:
            before_step(number, step)
        observer.started(number, step)
        begun = time.monotonic()
        committed.started.append(step.object)
        try:
            run_bounded(conn, step.sql, lock_timeout)
        except Exception as exc:
            raise IndexBuildFailed(f"building the index {step.object} on {step.table} failed: "
                                   f"{build_failure(exc, step)}") from exc
        observer.finished(number, step, time.monotonic() - begun, rows_touched(step, []))
    return moved


def build_failure(exc: BaseException, step: Step) -> str:
    """Why a concurrent build failed, from what PostgreSQL and the watchdog saw (not a guess)."""
    orig = getattr(exc, "orig", exc)
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or (str(orig).strip().splitlines() or ["?"])[0]
    watch = waited_for(exc)
    holders = f" for {watch.blockers}" if watch is not None and watch.blockers else ""
    if watch is not None and (watch.cancelled or sqlstate == "55P03"):
        return (f"it waited more than the lock budget (lock_timeout={watch.budget}){holders}: a concurrent build "
                "waits for every transaction that writes to the table or holds an older snapshot; end that "
                "transaction or retry when it is idle (--lock-timeout raises the budget)")
    if sqlstate == "23505":
        columns = step.summary.split("(", 1)[1].split(")")[0] if "(" in step.summary else "its columns"
        return (f"{primary}: a row that duplicates ({columns}) was written while it was being built (stop the "
                "application first if it keeps writing duplicates)")
    if sqlstate is None or str(sqlstate).startswith(("08", "57P")):
        return f"its session ended ({primary}): the server terminated it or the connection was lost"
    return primary
