"""Human-readable output for plans, status and apply results (JSON is the dataclasses' own)."""

from __future__ import annotations

from collections import Counter

from nakamura_misaki_db.bridge.plan import Plan, PlanStatus
from nakamura_misaki_db.bridge.run import ApplyResult
from nakamura_misaki_db.catalog.state import DatabaseState, DbKind, other_version_note


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render_status(status: DatabaseState, database: str) -> str:
    lines = [
        f"database:  {database}",
        f"state:     {status.describe()}",
    ]
    if status.timezone:
        lines.append(f"TimeZone:  {status.timezone} (naive datetimes the application writes are read in this zone)")
    if status.kind not in (DbKind.NEW_CHAIN, DbKind.SEVERAL):
        blocks = f" ({status.blocking} of them only baseline-bridge can close)" if status.blocking else ""
        lines.append(f"drift:     {status.drift} difference(s) from revision 0001{blocks}")
    for item in status.leftovers:
        lines.append(f"left over: {item}")
    for table in status.rls_hidden:
        lines.append(f"hidden rows: row level security can hide rows of {table} from this role; `plan` and `apply` "
                     "refuse until it cannot (they say how)")
    for name, rows in status.other_version_tables.items():
        lines.append(f"also:      {other_version_note(name, rows)}")
    if status.last_bridge_run:
        run = status.last_bridge_run
        archived = sum(run.get("rows_archived", {}).values())
        lines.append(f"last bridge run: {run['run_id']} at {run['finished_at']}: {run['steps']} step(s), "
                     f"{archived:,} row(s) archived (legacy_archive.bridge_runs)")
    lines.append(f"next:      {status.next_step()}")
    return "\n".join(lines)


PHASE_TITLES = {
    1: "-- phase 1, before the transaction: each step commits on its own, writers are not blocked",
    2: "-- phase 2, one transaction: all or nothing",
}


def render_plan(plan: Plan, database: str, *, show_sql: bool = False, compact: bool = False) -> str:
    out = [f"baseline-bridge plan {plan.plan_id}", f"database: {database}"]
    version = plan.source.get("alembic_version")
    out.append("source:   " + (f"alembic_version = {', '.join(version)}" if version else
                               "no alembic_version" if version is None else "empty alembic_version"))
    if plan.legacy_timezone:
        out.append(f"naive timestamps are read as: {plan.legacy_timezone}")
    if plan.database_timezone:
        out.append(f"database TimeZone: {plan.database_timezone}")
    for note in plan.notes:
        out.append(f"NOTE: {note}")
    if plan.status == PlanStatus.NOTHING_TO_DO:
        out.append("already on 0001 (or later): nothing to do")
        return "\n".join(out)
    out.append("")
    if plan.steps:
        rows = [["#", "SAFETY", "STEP"]]
        for i, s in enumerate(plan.steps, start=1):
            rows.append([str(i), s.safety_text(), s.summary])
        table = _table(rows)
        out.append(table[0])
        phases = {s.phase for s in plan.steps}
        for i, s in enumerate(plan.steps, start=1):
            if len(phases) > 1 and (i == 1 or plan.steps[i - 2].phase != s.phase):
                out.append(PHASE_TITLES[s.phase])
            out.append(table[i])
            if compact:
                continue
            pad = " " * (len(str(len(plan.steps))) + 2)
            out.append(f"{pad}why:   {s.reason}")
            out.append(f"{pad}locks: {', '.join(s.locks) or 'none'}")
            for note in s.dependents:
                out.append(f"{pad}affects: {note}")
            if show_sql:
                for sql in s.sql:
                    out.append(f"{pad}sql:   {sql}")
    counts = Counter(s.safety for s in plan.steps)
    out.append("")
    out.append(f"{len(plan.steps)} step(s): " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if not plan.refusals:
        was = plan.source.get("alembic_version")
        replacing = f" (replacing {', '.join(was)})" if was else " (creating the table)"
        out.append(f"then: verify that nothing differs from {plan.target_revision}, record {plan.target_revision} "
                   f"in alembic_version{replacing}, write the audit row, commit (all in the phase 2 transaction)")
    if plan.rewrites:
        out.append(f"tables rewritten: {', '.join(plan.rewrites)}")
    for item in plan.left_alone:
        out.append(f"left alone: {item}")
    if plan.refusals:
        out.append("")
        out.append(f"REFUSED: {len(plan.refusals)} difference(s) cannot be closed safely:")
        for r in plan.refusals:
            out.append(f"  - {r.object}: {r.problem}")
            out.append(f"    what to do: {r.remedy}")
        out.append("Nothing was written. Fix the above, then run `baseline-bridge plan` again.")
    else:
        out.append("Nothing was written. Review, then: baseline-bridge apply (or apply --plan FILE)")
    return "\n".join(out)


def render_apply(result: ApplyResult, database: str) -> str:
    if result.status == "nothing_to_do":
        return f"{database}: {result.message}"
    lines = [
        f"database: {database}",
        f"applied:  {result.steps_done} step(s) in {result.seconds:.2f}s (run {result.run_id})",
        f"rewritten tables: {', '.join(result.tables_rewritten) or 'none'}",
    ]
    if result.rows_archived:
        lines.append("archived rows: " + ", ".join(f"{k} +{v:,}" for k, v in result.rows_archived.items()))
    else:
        lines.append("archived rows: none")
    for run in result.finished_runs:
        lines.append(f"finished: bridge run {run}, stopped after its first phase; the rows it archived are counted "
                     "above")
    if result.locks_held:
        lines.append("writers waited (ACCESS EXCLUSIVE held until commit): "
                     + ", ".join(f"{table} {seconds:.2f}s" for table, seconds in result.locks_held.items()))
    lines.append(f"verified: no difference from revision {result.revision} is left; "
                 f"alembic_version = {result.revision}")
    lines.append(f"audit: legacy_archive.bridge_runs, run_id {result.run_id} (`baseline-bridge status` shows it)")
    lines.append("next: `nakamura-init-db` (or `alembic upgrade head`) applies the later numbered migrations")
    return "\n".join(lines)
