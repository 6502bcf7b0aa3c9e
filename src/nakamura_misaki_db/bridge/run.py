"""The bridge run, top to bottom:

    lock -> classify and plan (again, under the lock) -> check the saved plan -> preflight
         -> phase 1: move duplicates away (committed), build unique indexes CONCURRENTLY (``phase_one``)
         -> phase 2, one transaction: steps -> verify -> conserve rows -> record the revision -> audit -> commit

The migration advisory lock (the one env.py and every deploy take) is held by
this session for the whole run, so no deploy can slip in between the phases;
it goes with the session if the process dies.

Preflight (``catalog.preflight``, with what the plan needs from ``bridge.needs``)
runs before anything is written: a standby, a read-only session, a missing
privilege, hidden rows, an event trigger, another connected client: each is a
refusal (exit 3) that names the fix, and nothing was changed.

All or nothing across both phases: phase 2 rolls itself back, and when anything
after phase 1 fails the run puts phase 1 back (``bridge.restore``) and says so,
or says exactly what is left when it cannot. A killed run leaves what phase 1
committed: ``status`` and ``plan`` name it (``bridge.leftovers``) and a rerun
finishes it (a valid index is adopted, an invalid one rebuilt, the archived rows
counted in its audit row).

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

from nakamura_misaki_db.bridge.apply import Rows, StepHook, StepObserver, execute_steps
from nakamura_misaki_db.bridge.audit import archived_rows, write_audit
from nakamura_misaki_db.bridge.conserve import WriteCounter, Writes, check_conservation, count_rows, counts_after
from nakamura_misaki_db.bridge.leftovers import interrupted_runs
from nakamura_misaki_db.bridge.needs import plan_needs
from nakamura_misaki_db.bridge.phase_one import IndexBuildFailed, run_phase_one
from nakamura_misaki_db.bridge.plan import Plan, PlanStatus, make_plan
from nakamura_misaki_db.bridge.progress import LockWatcher, Progress, Silent
from nakamura_misaki_db.bridge.restore import Committed, RunFailed, RunRefused, restore, run_failed
from nakamura_misaki_db.bridge.steps import Step
from nakamura_misaki_db.bridge.verify import remaining_differences
from nakamura_misaki_db.catalog.preflight import Preflight, early_problems
from nakamura_misaki_db.catalog.preflight import check as preflight
from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.connect.errors import BadInput, MigrationError, Refused
from nakamura_misaki_db.connect.locking import (
    hold_migration_lock,
    release_migration_lock,
    take_migration_lock,
)
from nakamura_misaki_db.schema import ddl

__all__ = ["ApplyResult", "IndexBuildFailed", "PlanMismatch", "RunFailed", "RunRefused", "VerificationFailed",
           "apply_plan"]

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
    # How long each table was held under ACCESS EXCLUSIVE (writers waited): from the first step that
    # took it to the commit. Phase 1 takes none.
    locks_held: dict[str, float] = field(default_factory=dict)
    step_seconds: list[float] = field(default_factory=list)
    # Runs killed after their first phase that this run finished (their archived rows are in rows_archived).
    finished_runs: list[str] = field(default_factory=list)

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
            # Short naps, not one long sleep: a SIGINT the kernel hands to another thread (the
            # progress reporter's) only sets Python's flag, which the main thread sees when it wakes.
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline:
                time.sleep(0.1)

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
    import sqlalchemy as sa

    # CREATE TABLE IF NOT EXISTS needs CREATE on public even when the table exists: only when it does not.
    exists = conn.execute(sa.text("SELECT to_regclass('public.alembic_version')")).scalar() is not None
    for sql in ddl.record_version(revision)[1 if exists else 0:]:
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
    progress: Progress | None = None,
    allow_connected_clients: bool = False,
    allow_event_triggers: tuple[str, ...] = (),
) -> ApplyResult:
    """Run the bridge on ``conn`` (which must not be in a transaction)."""
    started = time.monotonic()
    pause_step, pause_finish = _pause_hook()
    before_step = before_step or pause_step
    progress = progress or Silent()
    progress.planning("waiting for the migration lock")
    hold_migration_lock(conn, wait=lock_wait)
    committed: Committed | None = None
    watchers: list[LockWatcher] = []
    try:
        with conn.begin():
            # A standby, a read-only session, unreadable tables: said before the plan is even made.
            Preflight(problems=early_problems(conn, writes=True)).refuse("baseline-bridge apply")
            progress.planning("planning again from the live catalog")
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
            progress.planning("preflight: server, privileges, row level security, event triggers, sessions")
            checked = preflight(conn, plan_needs(plan, conn), refuse_clients=not allow_connected_clients,
                                allowed_triggers=allow_event_triggers)
            checked.refuse("baseline-bridge apply")
            for note in checked.notes():
                progress.planning(note)
            # Counted once, before anything is locked: a count(*) blocks no writer.
            before = count_rows(conn)
            finishing = interrupted_runs(conn)
            first = [s for s in plan.steps if s.phase == 1]
            committed = Committed.take(conn, plan.plan_id, first, allow_connected_clients)

        second = [s for s in plan.steps if s.phase == 2]
        observer = _Observer(progress, len(plan.steps))
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0)
        conn.commit()
        with LockWatcher(lambda: conn.engine.connect(), pid, progress) as watcher:
            observer.watcher = watcher
            watchers.append(watcher)
            if first:
                progress.phase(1, "before the transaction (each step commits on its own; writers are not blocked)")
            moved = run_phase_one(conn, first, committed, before_step, lock_timeout, observer)
        with LockWatcher(lambda: conn.engine.connect(), pid, progress) as watcher, conn.begin():
            observer.watcher = watcher
            watchers = [watcher]
            progress.phase(2, "one transaction, all or nothing")
            counter = WriteCounter(conn)
            take_migration_lock(conn, wait=lock_wait, lock_timeout=lock_timeout)  # already ours: instant
            execute_steps(conn, second, before_step, first_number=len(first) + 1, observer=observer)
            if pause_finish is not None:
                pause_finish(len(plan.steps) + 1)
            if before_verify is not None:
                before_verify()
            progress.finishing("verifying: nothing may differ from 0001")
            verify(conn)
            writes = counter.writes()
            progress.finishing("checking that every row is in place or archived")
            check_conservation(writes, {})  # nothing inside the transaction removes rows
            counts_before = before.by_name()
            after = counts_after(conn, before, _merged(moved, writes))
            archived = archived_rows(counts_before, after)
            # Rows an interrupted run moved before this one: finished now, so this run's audit row counts them.
            for run in finishing:
                plan.source.setdefault("finished_runs", {})[run.run_id] = run.rows
                for table, n in run.rows.items():
                    archived[table] = archived.get(table, 0) + n
            progress.finishing(f"recording revision {plan.target_revision} and the audit row; committing")
            record_revision(conn, plan.target_revision)
            write_audit(conn, plan, archived=archived, before=counts_before, after=after)
        committed_at = time.monotonic()
    except BaseException as exc:
        if committed is None:  # failed while planning or in preflight: nothing was written
            raise
        from sqlalchemy.exc import SQLAlchemyError

        from nakamura_misaki_db.connect.locking import is_lock_timeout

        holders = "; ".join(b.describe() for b in (watchers[-1].last_blockers if watchers else []))
        if not committed.anything:
            if isinstance(exc, SQLAlchemyError) and is_lock_timeout(exc):
                raise run_failed(f"{describe_failure(exc, lock_timeout, holders)}; nothing was changed (the "
                                 "transaction was rolled back). Retry when that session is idle, or raise "
                                 "--lock-timeout / MIGRATION_LOCK_TIMEOUT.", exc) from exc
            raise  # the transaction was rolled back and phase 1 had committed nothing: the error says it all
        restored = restore(lambda: conn.engine.connect(), committed, lock_timeout)
        raise run_failed(f"{describe_failure(exc, lock_timeout, holders)}. {restored.text()}", exc,
                         restored) from exc
    finally:
        progress.close()
        release_migration_lock(conn)
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
        locks_held=observer.locks_held(committed_at),
        step_seconds=observer.seconds,
        finished_runs=[run.run_id for run in finishing],
    )


def describe_failure(exc: BaseException, lock_timeout: str | None, holders: str = "") -> str:
    """The cause of a failed run in one sentence, with no claim about what was changed (the caller adds that)."""
    from sqlalchemy.exc import SQLAlchemyError

    from nakamura_misaki_db.connect.connection import describe_sql_error
    from nakamura_misaki_db.connect.locking import is_lock_timeout, lock_timeout_setting

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C); the transaction was rolled back"
    if isinstance(exc, SQLAlchemyError) and is_lock_timeout(exc):
        statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:160]
        held = f", held by {holders}" if holders else " (another session, probably the application, holds it)"
        return (f"a table lock was not granted within lock_timeout={lock_timeout_setting(lock_timeout)} while "
                f"running: {statement}{held}")
    if isinstance(exc, SQLAlchemyError):
        return describe_sql_error(exc).replace(" Nothing was changed.", "").rstrip(".")
    if isinstance(exc, MigrationError):
        text = str(exc)
        for claim in ("; everything was rolled back, nothing was changed", "; everything was rolled back",
                      " Nothing was changed."):
            text = text.replace(claim, "")
        return text.rstrip(".")
    return f"{type(exc).__name__}: {exc}"


class _Observer(StepObserver):
    """Forwards steps to the progress display and the lock watcher; remembers when each lock was taken."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.total = total
        self.watcher: LockWatcher | None = None
        self.first_lock: dict[str, float] = {}
        self.seconds: list[float] = []

    def started(self, number: int, step: Step) -> None:
        if step.phase == 2 and step.table:
            for lock in step.locks:
                if lock.startswith("ACCESS EXCLUSIVE on ") and not lock.startswith("ACCESS EXCLUSIVE on type "):
                    table = lock.removeprefix("ACCESS EXCLUSIVE on ").split(" ")[0]
                    self.first_lock.setdefault(table, time.monotonic())
        if self.watcher is not None:
            self.watcher.current = (number, step)
        self.progress.step_started(number, self.total, step)

    def finished(self, number: int, step: Step, seconds: float, rows: Rows | None) -> None:
        if self.watcher is not None:
            self.watcher.current = None
        self.seconds.append(round(seconds, 3))
        self.progress.step_finished(number, self.total, step, seconds, rows)

    def locks_held(self, committed: float) -> dict[str, float]:
        held = {table: round(committed - taken, 3) for table, taken in self.first_lock.items()}
        return dict(sorted(held.items(), key=lambda kv: -kv[1]))


def _merged(first: dict[int, Writes], second: dict[int, Writes]) -> dict[int, Writes]:
    out = dict(first)
    for oid, w in second.items():
        if oid in out:
            a = out[oid]
            out[oid] = Writes(w.table, a.inserted + w.inserted, a.updated + w.updated, a.deleted + w.deleted)
        else:
            out[oid] = w
    return out
