"""The bridge run, top to bottom, in one transaction:

    lock -> classify and plan (again, under the lock) -> check the saved plan -> steps
         -> verify -> record the revision -> audit -> commit

Everything happens in a single transaction: the advisory lock (the same one
env.py takes, so a deploy cannot race the bridge), every step, the
verification against the frozen 0001 definition, the version row and the
audit row. Any failure - a step, the verification, a lock timeout, a crash,
the server going away - rolls all of it back: the database is as it was.

A saved plan is never executed: the plan is derived again from the live
catalog under the lock, and the saved one only has to match it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from .. import ddl
from ..db import run_sql
from ..errors import BadInput, Refused
from ..locking import take_migration_lock
from .apply import StepHook, execute_steps
from .audit import archived_rows, write_audit
from .conserve import check_conservation, count_rows, counts_after, writes_of_this_transaction
from .plan import Plan, PlanStatus, make_plan
from .verify import remaining_differences

# Test-only: pause before step N (1-based; N = steps + 1 is "before verify and record") so a
# test can kill the process at a step boundary. The pause prints a marker line on stderr.
PAUSE_ENV = "NAKAMURA_BRIDGE_PAUSE_BEFORE_STEP"
PAUSE_MARKER = "baseline-bridge: paused before step"


@dataclass
class ApplyResult:
    status: str  # "applied" | "nothing_to_do"
    run_id: str | None = None
    steps_done: int = 0
    tables_rewritten: list[str] = field(default_factory=list)
    rows_archived: dict[str, int] = field(default_factory=dict)
    row_counts_before: dict[str, int] = field(default_factory=dict)
    row_counts_after: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    revision: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VerificationFailed(Refused):
    pass


class PlanMismatch(Refused):
    pass


def _pause_hook() -> tuple[StepHook | None, Callable[[int], None] | None]:
    raw = os.environ.get(PAUSE_ENV)
    if not raw:
        return None, None
    target = int(raw)

    def pause(number: int, what: str) -> None:
        if number == target:
            print(f"{PAUSE_MARKER} {number} ({what})", flush=True, file=sys.stderr)
            time.sleep(3600)

    return (lambda n, step: pause(n, f"{step.action} {step.object}")), (lambda n: pause(n, "verify and record"))


def check_saved_plan(saved: Plan, fresh: Plan, legacy_timezone: str | None) -> None:
    """The saved plan must be exactly what apply would do now; say where it is not."""
    if legacy_timezone is not None and legacy_timezone != saved.legacy_timezone:
        raise BadInput(f"--legacy-timezone {legacy_timezone} differs from the saved plan's "
                       f"{saved.legacy_timezone}; make a new plan instead")
    again = "Nothing was changed. Run `baseline-bridge plan --out FILE` again, review it, then apply that plan."
    if fresh.fingerprint != saved.fingerprint:
        raise PlanMismatch("the database changed since the plan was made (or the plan is for another database): "
                           f"its catalog fingerprint differs. {again}")
    if fresh.status != saved.status or fresh.target_revision != saved.target_revision:
        raise PlanMismatch(f"the saved plan says {saved.status!s}, this database gives {fresh.status!s}. {again}")
    for number, (mine, theirs) in enumerate(zip(fresh.steps, saved.steps, strict=False), start=1):
        for what in ("action", "object", "sql"):
            if getattr(mine, what) != getattr(theirs, what):
                raise PlanMismatch(f"step {number} of the saved plan ({theirs.action} {theirs.object}) differs in "
                                   f"its {what} from what this database needs ({mine.action} {mine.object}). "
                                   f"{again}")
    if len(fresh.steps) != len(saved.steps):
        raise PlanMismatch(f"the saved plan has {len(saved.steps)} step(s); this database needs {len(fresh.steps)}. "
                           f"{again}")


def format_refusal(plan: Plan) -> str:
    lines = [f"refused: {len(plan.refusals)} difference(s) cannot be closed safely; nothing was changed:"]
    lines += [f"  - {r.object}: {r.problem}\n    what to do: {r.remedy}" for r in plan.refusals]
    return "\n".join(lines)


def verify(conn: Connection) -> None:
    left = remaining_differences(conn)
    if left:
        raise VerificationFailed(
            "verification failed: after the planned steps the schema still differs from 0001; "
            "everything was rolled back:\n" + "\n".join(f"  - {d.describe()}" for d in left)
        )


def record_revision(conn: Connection, revision: str) -> None:
    for sql in ddl.record_version(revision):
        run_sql(conn, sql)


def apply_plan(
    conn: Connection,
    *,
    saved: Plan | None = None,
    legacy_timezone: str | None = None,
    lock_timeout: str | None = None,
    lock_wait: str | None = None,
    before_step: StepHook | None = None,
    before_verify: Callable[[], None] | None = None,
    set_database_timezone: bool = False,
) -> ApplyResult:
    """Run the bridge on ``conn`` (which must not be in a transaction). Commits only on success."""
    started = time.monotonic()
    pause_step, pause_finish = _pause_hook()
    before_step = before_step or pause_step
    with conn.begin():
        take_migration_lock(conn, wait=lock_wait, lock_timeout=lock_timeout)
        zone = legacy_timezone if legacy_timezone is not None or saved is None else saved.legacy_timezone
        if saved is not None and set_database_timezone and not saved.set_database_timezone:
            raise BadInput("--set-database-timezone is not in the saved plan; make a new plan with it")
        set_tz = set_database_timezone or (saved.set_database_timezone if saved else False)
        plan = make_plan(conn, legacy_timezone=zone, plan_id=saved.plan_id if saved else None,
                         set_database_timezone=set_tz)
        if plan.status == PlanStatus.NOTHING_TO_DO:  # (a saved plan has nothing left to do either)
            return ApplyResult("nothing_to_do", message="already on 0001 (or later): nothing to do",
                               seconds=time.monotonic() - started)
        if saved is not None:
            check_saved_plan(saved, plan, legacy_timezone)
        if plan.status == PlanStatus.REFUSED:
            raise Refused(format_refusal(plan))

        before = count_rows(conn)
        execute_steps(conn, plan.steps, before_step)
        if pause_finish is not None:
            pause_finish(len(plan.steps) + 1)
        if before_verify is not None:
            before_verify()
        verify(conn)
        writes = writes_of_this_transaction(conn)
        check_conservation(writes, plan.moves)
        counts_before = before.by_name()
        after = counts_after(conn, before, writes)
        archived = archived_rows(counts_before, after)
        record_revision(conn, plan.target_revision)
        write_audit(conn, plan, archived=archived, before=counts_before, after=after)
    return ApplyResult(
        status="applied",
        run_id=plan.plan_id,
        steps_done=len(plan.steps),
        tables_rewritten=plan.rewrites,
        rows_archived=archived,
        row_counts_before=counts_before,
        row_counts_after=after,
        seconds=round(time.monotonic() - started, 3),
        revision=plan.target_revision,
        message=f"applied {len(plan.steps)} step(s); database is at revision {plan.target_revision}",
    )
