"""What a plan needs from the role and the server, read from its own steps (never a fixed list).

Each step says what it locks (``Step.locks``: "ACCESS EXCLUSIVE on tasks", "ACCESS
EXCLUSIVE on type task_status", "ROW EXCLUSIVE on conversations", "new table
slack_users"), which rows it moves (``Step.moves``) and the statements it runs.
From those: a table it locks for DDL must be the role's own, a type likewise; rows
it moves need SELECT and DELETE (or UPDATE where a foreign key changes them); a new
table or type needs CREATE on ``public``; the archive needs CREATE on the database
(or on ``legacy_archive`` once it exists); the stamp needs INSERT and DELETE on
``alembic_version``; the audit row INSERT on ``legacy_archive.bridge_runs``.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA, AUDIT_TABLE
from nakamura_misaki_db.bridge.plan import Plan
from nakamura_misaki_db.bridge.steps import Action, Step
from nakamura_misaki_db.catalog.commands import command_tags
from nakamura_misaki_db.catalog.needs import Needs
from nakamura_misaki_db.catalog.sessions import MODES

_LOCK = re.compile(r"^(" + "|".join(sorted(MODES, key=len, reverse=True)) + r") on (type )?(\S+)")
# Locks a table's owner alone may take through DDL (LOCK TABLE aside, which the plan uses only on children).
_DDL_MODES = {"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def step_needs(step: Step, needs: Needs) -> None:
    """Add what one step needs to ``needs``."""
    for sql in step.sql:
        tags = command_tags(sql)
        needs.commands |= tags
        if "CREATE SCHEMA" in tags:
            # CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
            needs.create_schemas.add(ARCHIVE_SCHEMA)
    moved = {_qualified(source) for source in step.moves}
    for lock in step.locks:
        if lock.startswith("new table "):
            needs.create_in.add("public")
            continue
        match = _LOCK.match(lock)
        if match is None:
            continue
        mode, is_type, name = match[1], match[2], _qualified(match[3])
        if is_type:
            needs.own_types.add(name)
            continue
        needs.lock(name, mode)
        if step.action == Action.ADD_FOREIGN_KEY and name != _qualified(step.table or ""):
            needs.references.add(name)  # the referenced table: REFERENCES, not ownership
        elif mode in _DDL_MODES and name not in moved:
            needs.own_tables.add(name)
    if step.action in (Action.ARCHIVE_DUPLICATES, Action.ARCHIVE_TABLE):
        needs.create_in.add(ARCHIVE_SCHEMA)
    if step.action == Action.ARCHIVE_DUPLICATES:
        main = _qualified(step.table or "")
        for source in moved:
            # The duplicates are deleted; rows of other tables a foreign key changes are copied, then their
            # writers are held off (LOCK ... IN SHARE MODE needs UPDATE, DELETE or TRUNCATE).
            needs.grant(source, "SELECT", "DELETE" if source == main else "UPDATE")
            needs.reads.add(source)
        if step.table:
            needs.lock(main, "ROW EXCLUSIVE")
    if step.action == Action.BUILD_UNIQUE_INDEX:
        needs.snapshots = True
        if step.table:
            # CREATE INDEX CONCURRENTLY waits for every transaction holding a lock that conflicts with SHARE.
            needs.lock(_qualified(step.table), "SHARE")
    if step.action in (Action.CREATE_ENUM, Action.REBUILD_ENUM, Action.CREATE_TABLE, Action.CREATE_INDEX):
        needs.create_in.add("public")
    if step.action == Action.CREATE_EXTENSION:
        needs.extensions.add(step.object)
    if step.action == Action.SET_DATABASE_TIMEZONE:
        needs.own_database = True


def plan_needs(plan: Plan, conn: Connection) -> Needs:
    """Everything ``plan`` needs, its own last acts included (the stamp and the audit row)."""
    import sqlalchemy as sa

    needs = Needs()
    for step in plan.steps:
        step_needs(step, needs)
    # Every table's rows are counted before and after (the audit's row counts): all must be readable.
    needs.reads |= {f"public.{name}" for name in plan.source.get("tables", {})}
    for name in needs.reads:
        needs.grant(name, "SELECT")
    if plan.source.get("alembic_version") is None:
        needs.create_in.add("public")
    else:
        needs.grant("public.alembic_version", "SELECT", "INSERT", "DELETE")
    audit = f"{ARCHIVE_SCHEMA}.{AUDIT_TABLE}"
    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": audit}).scalar() is None:
        # The audit table is created with the first audit row (and its schema, if missing).
        needs.commands |= {"CREATE TABLE", "CREATE SCHEMA"}
        needs.create_in.add(ARCHIVE_SCHEMA)
        needs.create_schemas.add(ARCHIVE_SCHEMA)  # IF NOT EXISTS: CREATE on the database, present or not
    else:
        needs.grant(audit, "INSERT")
    if plan.source.get("alembic_version") is None:
        needs.commands.add("CREATE TABLE")
    return needs
