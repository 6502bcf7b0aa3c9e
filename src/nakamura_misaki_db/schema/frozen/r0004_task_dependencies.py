"""FROZEN. Revision ``0004``: which task blocks which.

Mirrors the application's ``003`` (``003_add_task_dependencies.py``), as it
exists in production (app-chain.md section 2), including the CHECK that a task
cannot depend on itself, which the application's ORM lacks (section 3: the
migrations win).
"""

from __future__ import annotations

import sqlalchemy as sa

from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

metadata = sa.MetaData()

# Foreign-key target only.
sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="tasks_pkey"),
)

task_dependencies = sa.Table(
    "task_dependencies",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("blocking_task_id", sa.Uuid(), nullable=False),
    sa.Column("blocked_task_id", sa.Uuid(), nullable=False),
    sa.Column("dependency_type", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("id", name="task_dependencies_pkey"),
    sa.UniqueConstraint("blocking_task_id", "blocked_task_id", name="uq_task_dependency"),
    # As the catalog reader (SQLAlchemy's reflection) reads it back: the inside of the
    # pretty-printed pg_get_constraintdef(oid, true), "CHECK (blocking_task_id <> blocked_task_id)".
    # (The plain pg_get_constraintdef(oid) prints "CHECK ((blocking_task_id <> blocked_task_id))".)
    sa.CheckConstraint("blocking_task_id <> blocked_task_id", name="ck_no_self_dependency"),
    sa.ForeignKeyConstraint(["blocking_task_id"], ["tasks.id"],
                            name="task_dependencies_blocking_task_id_fkey", ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["blocked_task_id"], ["tasks.id"],
                            name="task_dependencies_blocked_task_id_fkey", ondelete="CASCADE"),
)
sa.Index("idx_dependencies_blocking", task_dependencies.c.blocking_task_id)
sa.Index("idx_dependencies_blocked", task_dependencies.c.blocked_task_id)

SCHEMA = RevisionSchema(
    revision="0004",
    metadata=metadata,
    creates=("task_dependencies",),
)
