"""Apply: run each step's statements, exactly as planned, in order, on the caller's transaction.

The orchestrator (``run``) owns the transaction, the lock and what comes
after (verify, record, audit); this stage only executes, and tells an
observer when each step starts and ends (how long, how many rows).
Statements go to the driver as written (``connect.connection.run_sql``): no placeholder
processing can change them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.steps import Safety, Step
from nakamura_misaki_db.connect.connection import run_sql

StepHook = Callable[[int, Step], None]


class StepObserver:
    """Told about every step; ``run`` forwards to the operator's progress display and keeps the timings."""

    def started(self, number: int, step: Step) -> None: ...

    def finished(self, number: int, step: Step, seconds: float, rows: Rows | None) -> None: ...


@dataclass(frozen=True)
class Rows:
    count: int
    # ALTER TABLE reports no row count; counting after a rewrite would keep writers waiting longer,
    # so a rewrite shows the planner's estimate (pg_class.reltuples) and says so.
    estimated: bool


def rows_touched(step: Step, rowcounts: list[int]) -> Rows | None:
    """Rows a step moved (its statements' row count) or read/rewrote (the table's estimate), if known."""
    moved = [n for n in rowcounts if n >= 0]
    if moved and step.safety == Safety.ARCHIVES:
        return Rows(moved[-1], estimated=False)
    if step.safety in (Safety.REWRITES, Safety.BUILDS_INDEX, Safety.VALIDATES) and step.rows >= 0:
        return Rows(step.rows, estimated=True)
    return None


def execute_steps(conn: Connection, steps: list[Step], before_step: StepHook | None = None, *,
                  first_number: int = 1, observer: StepObserver | None = None) -> None:
    for number, step in enumerate(steps, start=first_number):
        if before_step is not None:
            before_step(number, step)
        if observer is not None:
            observer.started(number, step)
        started = time.monotonic()
        counts = [run_sql(conn, sql) for sql in step.sql]
        if observer is not None:
            observer.finished(number, step, time.monotonic() - started, rows_touched(step, counts))
