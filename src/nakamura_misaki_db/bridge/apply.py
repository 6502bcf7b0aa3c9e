"""Apply: run a plan in one transaction under the migration lock, verify, stamp, audit.

Everything happens in a single transaction: the advisory lock (the same one
env.py takes, so a deploy cannot race the bridge), every step, the
verification against the frozen 0001 definition, the version stamp and the
audit row. Any failure - a step, the verification, a lock timeout, a crash,
the server going away - rolls all of it back: the database is as it was.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..catalog import inspect_database, read_version
from ..ddl import quote, run_sql
from ..errors import BadInput, Refused
from ..locking import take_migration_lock
from ..migrations import known_revisions
from .archive import ARCHIVE_SCHEMA, AUDIT_TABLE, CREATE_AUDIT, CREATE_SCHEMA
from .plan import Plan, Step, fingerprint, make_plan
from .verify import remaining_differences

# Test-only: pause before step N (1-based) so a test can kill the process at a
# step boundary. The pause prints a marker line on stderr and sleeps.
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
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VerificationFailed(Refused):
    pass


def _row_counts(conn: Connection, schemas: tuple[str, ...] = ("public", ARCHIVE_SCHEMA)) -> dict[str, int]:
    rows = conn.execute(sa.text(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(:s) ORDER BY 1, 2"
    ), {"s": list(schemas)}).all()
    return {
        f"{s}.{t}": int(conn.scalar(sa.text(f"SELECT count(*) FROM {quote(s)}.{quote(t)}")) or 0)
        for s, t in rows
        if not (s == "public" and t == "alembic_version")
    }


def _archived_rows(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Rows that ended up in the archive schema during this run, per archive table."""
    out: dict[str, int] = {}
    for key, n in after.items():
        if key.startswith(f"{ARCHIVE_SCHEMA}.") and key != f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}":
            gained = n - before.get(key, 0)
            if gained:
                out[key] = gained
    return out


def _pause_hook() -> Callable[[int, Step], None] | None:
    raw = os.environ.get(PAUSE_ENV)
    if not raw:
        return None
    target = int(raw)

    def hook(number: int, step: Step) -> None:
        if number == target:
            print(f"{PAUSE_MARKER} {number} ({step.action} {step.object})", flush=True, file=sys.stderr)
            time.sleep(3600)

    return hook


def _resolve_plan(conn: Connection, saved: Plan | None, legacy_timezone: str | None) -> Plan:
    catalog = inspect_database(conn)
    if saved is None:
        return make_plan(conn, legacy_timezone=legacy_timezone, catalog=catalog)
    if legacy_timezone is not None and legacy_timezone != saved.legacy_timezone:
        raise BadInput(
            f"--legacy-timezone {legacy_timezone} differs from the saved plan's "
            f"{saved.legacy_timezone}; make a new plan instead"
        )
    now = fingerprint(catalog)
    if now != saved.fingerprint:
        raise Refused(
            "the database changed since the plan was made (or the plan is for another database): "
            "its catalog fingerprint differs. Nothing was changed. Run `baseline-bridge plan --out FILE` again, "
            "review it, then apply that plan."
        )
    return saved


def format_refusal(plan: Plan) -> str:
    lines = [f"refused: {len(plan.refusals)} difference(s) cannot be closed safely; nothing was changed:"]
    lines += [f"  - {r.object}: {r.problem}\n    what to do: {r.remedy}" for r in plan.refusals]
    return "\n".join(lines)


def apply_plan(
    conn: Connection,
    *,
    saved: Plan | None = None,
    legacy_timezone: str | None = None,
    lock_timeout: str | None = None,
    lock_wait: str | None = None,
    before_step: Callable[[int, Step], None] | None = None,
) -> ApplyResult:
    """Run the bridge on ``conn`` (which must not be in a transaction). Commits only on success."""
    started = time.monotonic()
    before_step = before_step or _pause_hook()
    with conn.begin():
        take_migration_lock(conn, wait=lock_wait, lock_timeout=lock_timeout)
        version = read_version(conn) or ()
        chain = known_revisions()
        if any(v in chain for v in version):
            return ApplyResult("nothing_to_do", message="already on 0001 (or later): nothing to do",
                               seconds=time.monotonic() - started)
        plan = _resolve_plan(conn, saved, legacy_timezone)
        if plan.status == "refused":
            raise Refused(format_refusal(plan))
        if plan.status == "nothing_to_do":
            return ApplyResult("nothing_to_do", message="already on 0001 (or later): nothing to do",
                               seconds=time.monotonic() - started)

        counts_before = _row_counts(conn)
        for number, step in enumerate(plan.steps, start=1):
            if before_step is not None:
                before_step(number, step)
            if step.action == "stamp":
                left = remaining_differences(conn)
                if left:
                    raise VerificationFailed(
                        "verification failed: after the planned steps the schema still differs from 0001; "
                        "everything was rolled back:\n" + "\n".join(f"  - {d.describe()}" for d in left)
                    )
            for sql in step.sql:
                run_sql(conn, sql)
        counts_after = _row_counts(conn)
        archived = _archived_rows(counts_before, counts_after)
        run_sql(conn, CREATE_SCHEMA)
        run_sql(conn, CREATE_AUDIT)
        conn.execute(
            sa.text(
                f"INSERT INTO {ARCHIVE_SCHEMA}.{AUDIT_TABLE} (run_id, source_state, steps, rows_archived,"
                " row_counts_before, row_counts_after) VALUES (CAST(:id AS uuid), CAST(:src AS jsonb),"
                " CAST(:steps AS jsonb), CAST(:arch AS jsonb), CAST(:before AS jsonb), CAST(:after AS jsonb))"
            ),
            {
                "id": plan.plan_id,
                "src": json.dumps(plan.source, ensure_ascii=False),
                "steps": json.dumps([{"action": s.action, "object": s.object, "summary": s.summary,
                                      "safety": s.safety} for s in plan.steps], ensure_ascii=False),
                "arch": json.dumps(archived),
                "before": json.dumps(counts_before),
                "after": json.dumps(counts_after),
            },
        )
    return ApplyResult(
        status="applied",
        run_id=plan.plan_id,
        steps_done=len(plan.steps),
        tables_rewritten=plan.rewrites,
        rows_archived=archived,
        row_counts_before=counts_before,
        row_counts_after=counts_after,
        seconds=round(time.monotonic() - started, 3),
        message=f"applied {len(plan.steps)} step(s); database is at revision 0001",
    )


