"""FROZEN. Revision ``0003``: projects and the tasks they group.

Mirrors the application's ``002`` (``002_add_project_management.py``): the same
two tables, names, types, nullability, foreign keys and indexes as that
revision creates in production (app-chain.md section 2). No server defaults:
the application fills every column itself.
"""

from __future__ import annotations

import sqlalchemy as sa

from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

metadata = sa.MetaData()

# Foreign-key target only: 0001 created tasks; this revision only needs tasks.id.
sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="tasks_pkey"),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("project_id", sa.Uuid(), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("owner_user_id", sa.String(100), nullable=True),
    sa.Column("deadline", sa.DateTime(timezone=False), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("project_id", name="projects_pkey"),
)
sa.Index("idx_projects_owner", projects.c.owner_user_id)
sa.Index("idx_projects_status", projects.c.status)
sa.Index("idx_projects_deadline", projects.c.deadline)

project_tasks = sa.Table(
    "project_tasks",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("project_id", sa.Uuid(), nullable=False),
    sa.Column("task_id", sa.Uuid(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("id", name="project_tasks_pkey"),
    sa.UniqueConstraint("project_id", "task_id", name="uq_project_task"),
    sa.ForeignKeyConstraint(["project_id"], ["projects.project_id"],
                            name="project_tasks_project_id_fkey", ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                            name="project_tasks_task_id_fkey", ondelete="CASCADE"),
)
sa.Index("idx_project_tasks_project", project_tasks.c.project_id)
sa.Index("idx_project_tasks_task", project_tasks.c.task_id)

SCHEMA = RevisionSchema(
    revision="0003",
    metadata=metadata,
    creates=("projects", "project_tasks"),
)
