"""Apply: run each step's statements, exactly as planned, in order, on the caller's transaction.

The orchestrator (``run``) owns the transaction, the lock and what comes
after (verify, record, audit); this stage only executes. Statements go to the
driver as written (``db.run_sql``): no placeholder processing can change them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from ..db import run_sql
from .steps import Step

StepHook = Callable[[int, Step], None]


def execute_steps(conn: Connection, steps: list[Step], before_step: StepHook | None = None, *,
                  first_number: int = 1) -> None:
    for number, step in enumerate(steps, start=first_number):
        if before_step is not None:
            before_step(number, step)
        for sql in step.sql:
            run_sql(conn, sql)
