"""Plan: inspect -> classify -> diff -> gather facts -> planners -> a ``Plan`` you can read before anything runs.

A plan is data: every step carries what it does, the SQL it will run, why,
its safety class and the locks it takes, so it can be printed, saved as JSON,
reviewed, and compared with what apply derives again under its lock. A
difference that cannot be closed safely makes the plan a refusal that names
what blocks it and what the user can do. Nothing here writes: the only
queries are the catalog and the data probes of ``catalog.facts``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.planners import assemble
from nakamura_misaki_db.bridge.planners.archive import tables_to_archive
from nakamura_misaki_db.bridge.planners.dependents import touched_by, victims_sql
from nakamura_misaki_db.bridge.planners.enums import labels_to_probe
from nakamura_misaki_db.bridge.steps import Refusal, Step
from nakamura_misaki_db.catalog.dependents import inspect_dependents
from nakamura_misaki_db.catalog.facts import gather
from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.catalog.state import DatabaseState, DbKind, compare_with_0001, other_version_note, read_state
from nakamura_misaki_db.connect.errors import BadInput
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema.shapes import Catalog
from nakamura_misaki_db.schema.target import REVISION, target_catalog

PLAN_FORMAT = 2
TARGET_REVISION = REVISION


class PlanStatus(StrEnum):
    READY = "ready"
    REFUSED = "refused"
    NOTHING_TO_DO = "nothing_to_do"


@dataclass
class Plan:
    plan_id: str
    created_at: str
    status: PlanStatus
    source: dict[str, Any]
    legacy_timezone: str | None
    fingerprint: str
    steps: list[Step] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    # What apply records in alembic_version once the steps ran and verification passed.
    target_revision: str = TARGET_REVISION
    format: int = PLAN_FORMAT
    database_timezone: str | None = None  # the TimeZone new sessions of this database get
    set_database_timezone: bool = False  # asked to make it the legacy time zone (a step does it)
    notes: list[str] = field(default_factory=list)  # what the operator should know, one line each

    def __post_init__(self) -> None:
        self.status = PlanStatus(self.status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Read a saved plan. It is data to compare with a fresh plan, never SQL to run."""
        if data.get("format") != PLAN_FORMAT or data.get("target_revision") != TARGET_REVISION:
            raise BadInput("the plan file was not written by this version of baseline-bridge")
        return cls(
            plan_id=str(uuid.UUID(str(data["plan_id"]))),
            created_at=str(data["created_at"]),
            status=PlanStatus(data["status"]),
            source=dict(data["source"]),
            legacy_timezone=data.get("legacy_timezone"),
            fingerprint=str(data["fingerprint"]),
            steps=[Step(**s) for s in data.get("steps", [])],
            refusals=[Refusal(**r) for r in data.get("refusals", [])],
            left_alone=list(data.get("left_alone", [])),
            differences=[Difference(**d) for d in data.get("differences", [])],
            database_timezone=data.get("database_timezone"),
            set_database_timezone=bool(data.get("set_database_timezone", False)),
            notes=[str(n) for n in data.get("notes", [])],
        )

    @property
    def moves(self) -> dict[str, str]:
        """Every table the plan removes rows from -> the archive table that receives them."""
        return {source: archive for step in self.steps for source, archive in step.moves.items()}

    @property
    def rewrites(self) -> list[str]:
        from nakamura_misaki_db.bridge.steps import Safety

        return sorted({s.table for s in self.steps if s.safety == Safety.REWRITES and s.table})


def fingerprint(catalog: Catalog) -> str:
    """A hash of everything the plan depends on (catalog shape and which tables have rows)."""
    data = catalog.to_dict()
    for table in data["tables"].values():
        table.pop("estimated_rows", None)
        table.pop("size_bytes", None)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def validate_timezone(conn: Connection, zone: str | None) -> str | None:
    import sqlalchemy as sa

    if zone is None:
        return None
    ok = conn.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :z)"), {"z": zone})
    if not ok:
        raise BadInput(f"--legacy-timezone {zone!r} is not a time zone PostgreSQL knows (e.g. Asia/Tokyo, UTC)")
    return zone


def source_summary(catalog: Catalog, state: DatabaseState) -> dict[str, Any]:
    version = catalog.alembic_version
    return {
        "alembic_version": list(version) if version is not None else None,
        "legacy_ids": list(state.legacy_ids),
        "new_chain_ids": [state.revision] if state.revision else [],
        "state": str(state.kind),
        "tables": {n: {"rows_estimate": t.estimated_rows, "size_bytes": t.size_bytes}
                   for n, t in catalog.tables.items()},
    }


@dataclass(frozen=True)
class DatabaseClock:
    database: str
    timezone: str  # what a new session of this database reads naive times in

    def same_zone(self, conn: Connection, zone: str) -> bool:
        """Do ``zone`` and the database's zone give the same offsets (winter and summer)?"""
        import sqlalchemy as sa

        return bool(conn.scalar(sa.text(
            "SELECT bool_and((t AT TIME ZONE :a) = (t AT TIME ZONE :b)) FROM (VALUES"
            " (TIMESTAMP '2025-01-15 12:00'), (TIMESTAMP '2025-07-15 12:00')) AS v(t)"),
            {"a": zone, "b": self.timezone}))


def database_clock(conn: Connection) -> DatabaseClock:
    import sqlalchemy as sa

    row = conn.execute(sa.text("SELECT current_database(), current_setting('TimeZone')")).one()
    return DatabaseClock(str(row[0]), str(row[1]))


def timezone_note(zone: str, clock: DatabaseClock, fixing: bool) -> str:
    if fixing:
        return (f"naive times are read as {zone}; the database's TimeZone ({clock.timezone}) becomes {zone} in the "
                f"same transaction, so the application's new naive datetimes are read as {zone} too")
    return (f"naive times are converted as {zone}, but this database's TimeZone is {clock.timezone}: the "
            f"application's new naive datetimes would be read as {clock.timezone}. Fix: rerun with "
            f"--set-database-timezone (ALTER DATABASE {clock.database} SET TimeZone = '{zone}'), or make the "
            "application write aware datetimes (DateTime(timezone=True))")


def set_timezone_step(database: str, zone: str) -> Step:
    from nakamura_misaki_db.bridge.steps import Action, Safety
    from nakamura_misaki_db.schema import ddl

    return Step(Action.SET_DATABASE_TIMEZONE, database, f"set the TimeZone of database {database} to {zone}",
                [ddl.set_database_timezone(database, zone)],
                f"the application writes naive datetimes in {zone}: new sessions must read them in that zone",
                Safety.CATALOG_ONLY, locks=["none (new sessions see it; running ones keep theirs)"])


def plan_notes(conn: Connection, state: DatabaseState) -> list[str]:
    """What the operator should know before applying: an interrupted run's leftovers, other version tables."""
    from nakamura_misaki_db.bridge.leftovers import leftovers

    notes = [f"{item} (this plan finishes it)" for item in leftovers(conn)]
    notes += [other_version_note(name, rows) for name, rows in state.other_version_tables.items()]
    return notes


def read_only_plan(conn: Connection, **options: Any) -> Plan:
    """``make_plan`` inside a READ ONLY transaction that is always rolled back (what ``plan`` and demo run)."""
    from nakamura_misaki_db.connect.locking import lock_wait_setting, set_local

    transaction = conn.begin()
    try:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        # Reading the catalog waits behind a running migration's locks: bounded.
        set_local(conn, "lock_timeout", lock_wait_setting())
        return make_plan(conn, **options)
    finally:
        transaction.rollback()


def make_plan(conn: Connection, *, legacy_timezone: str | None = None, chain: list[str] | None = None,
              catalog: Catalog | None = None, plan_id: str | None = None,
              set_database_timezone: bool = False, progress: Any = None) -> Plan:
    """Inspect, classify, diff and plan. Reads only; writes nothing."""
    say = progress.planning if progress is not None else (lambda _: None)
    say("reading the catalog")
    zone = validate_timezone(conn, legacy_timezone)
    if set_database_timezone and zone is None:
        raise BadInput("--set-database-timezone makes the database's TimeZone the --legacy-timezone: give that too")
    actual = catalog or inspect_database(conn)
    target = target_catalog()
    state = read_state(conn, chain=chain, catalog=actual)
    plan_id = plan_id or str(uuid.uuid4())
    created = datetime.now(UTC).isoformat(timespec="seconds")
    source = source_summary(actual, state)
    if state.kind == DbKind.NEW_CHAIN:
        return Plan(plan_id, created, PlanStatus.NOTHING_TO_DO, source, zone, fingerprint(actual))
    if not state.bridgeable:
        # Reconciling a newer schema "back" to 0001 would archive what a newer release added.
        return Plan(plan_id, created, PlanStatus.REFUSED, source, zone, fingerprint(actual), refusals=[
            Refusal("alembic_version", state.describe(), state.next_step())])

    if actual.rls_hidden:
        # Every session runs with row_security = off: a hidden row would make the probes below fail (rather
        # than read as absent). Refuse first, with the fix that fits this role.
        from nakamura_misaki_db.catalog.preflight import hidden_row_problems

        hidden = hidden_row_problems(conn, [f"public.{t}" for t in actual.rls_hidden])
        return Plan(plan_id, created, PlanStatus.REFUSED, source, zone, fingerprint(actual),
                    refusals=[Refusal(p.object, p.problem, p.fix) for p in hidden])
    differences, kept = compare_with_0001(actual, target)
    moving = tables_to_archive(actual, target, differences)
    say(f"{len(differences)} difference(s) from {REVISION}; checking the rows they concern "
        "(duplicates, lengths, NULLs, labels in use, orphans)")
    facts = gather(conn, actual, target, differences, skip_tables=moving, enum_probe=labels_to_probe(differences))
    touched = touched_by(actual, differences, moving, facts)
    say("reading what depends on what the plan touches (views, triggers, policies, functions, foreign keys)")
    facts.dependents = inspect_dependents(conn, touched, victims_sql=victims_sql(actual, touched))
    planned = assemble(actual, target, differences, facts, moving, zone, plan_id)
    clock = database_clock(conn)
    notes = plan_notes(conn, state)
    if zone is not None and not clock.same_zone(conn, zone):
        notes.append(timezone_note(zone, clock, set_database_timezone))
    if set_database_timezone and zone is not None:
        planned.add(set_timezone_step(clock.database, zone))
    left_alone = [
        f"{'table' if d.kind == DiffKind.UNKNOWN_TABLE else 'enum type'} {d.object} "
        "(not part of the target; left as it is)"
        for d in differences if d.foreign
    ] + kept
    return Plan(
        plan_id=plan_id,
        created_at=created,
        status=PlanStatus.REFUSED if planned.refusals else PlanStatus.READY,
        source=source,
        legacy_timezone=zone,
        fingerprint=fingerprint(actual),
        steps=planned.steps,
        refusals=planned.refusals,
        left_alone=left_alone,
        differences=differences,
        database_timezone=clock.timezone,
        set_database_timezone=set_database_timezone,
        notes=notes,
    )
