"""The frozen definition of revision ``0001``: tables, enum types and extension.

FROZEN. This module is what revision 0001 creates and what ``baseline-bridge``
verifies a database against. It must never import the live models
(``nakamura_misaki_db.schema.models``) and must never change: a later model change is
a new numbered migration, not an edit here. Written from
``target-schema.md``; names are explicit everywhere (no naming convention),
because the bridge compares production name for name.

Server defaults are spelled the way PostgreSQL renders them
(``'pending'::character varying``) so a catalog read back compares equal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg

from nakamura_misaki_db.schema.pg_enum import PGEnum

REVISION = "0001"
SCHEMA = "public"

vector_extension = PGExtension(schema=SCHEMA, signature="vector")

task_status = PGEnum(
    schema=SCHEMA,
    signature="task_status",
    labels=("pending", "in_progress", "completed", "cancelled"),
)
skill_category = PGEnum(
    schema=SCHEMA,
    signature="skill_category",
    labels=("顧客対応", "物流", "査定・修理", "販売", "管理", "店舗"),
)

# Order matters: the extension and the enum types exist before any table uses them.
ENTITIES: tuple[PGExtension | PGEnum, ...] = (vector_extension, task_status, skill_category)
ENUMS: tuple[PGEnum, ...] = (task_status, skill_category)

metadata = sa.MetaData()


def _enum(entity: PGEnum) -> pg.ENUM:
    # The type itself belongs to the PGEnum entity; the column only refers to it.
    return pg.ENUM(*entity.labels, name=entity.signature, create_type=False)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=False)


def _tstz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


NOW = sa.text("now()")
TRUE = sa.text("true")
FALSE = sa.text("false")

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("assignee_user_id", sa.String(50), nullable=False),
    sa.Column("creator_user_id", sa.String(50), nullable=False),
    sa.Column("status", _enum(task_status), nullable=False),
    sa.Column("due_at", _tstz(), nullable=True),
    sa.Column("completed_at", _tstz(), nullable=True),
    sa.Column("created_at", _tstz(), nullable=False),
    sa.Column("updated_at", _tstz(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="tasks_pkey"),
)
sa.Index("ix_tasks_assignee_user_id", tasks.c.assignee_user_id)
sa.Index("ix_tasks_status", tasks.c.status)
sa.Index("ix_tasks_due_at", tasks.c.due_at)
sa.Index("ix_tasks_assignee_status", tasks.c.assignee_user_id, tasks.c.status)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("conversation_id", sa.Uuid(), nullable=False),
    sa.Column("user_id", sa.String(100), nullable=False),
    sa.Column("channel_id", sa.String(100), nullable=False),
    sa.Column("messages", sa.JSON(), nullable=False),
    sa.Column("created_at", _tstz(), nullable=False),
    sa.Column("updated_at", _tstz(), nullable=False),
    sa.Column("last_message_at", _tstz(), nullable=False),
    sa.PrimaryKeyConstraint("conversation_id", name="conversations_pkey"),
    sa.UniqueConstraint("user_id", "channel_id", name="uq_conversations_user_channel"),
)
sa.Index("idx_conversations_last_message", conversations.c.last_message_at)
sa.Index("idx_conversations_user_channel", conversations.c.user_id, conversations.c.channel_id)
sa.Index("ix_conversations_channel_id", conversations.c.channel_id)
sa.Index("ix_conversations_last_message_at", conversations.c.last_message_at)
sa.Index("ix_conversations_user_id", conversations.c.user_id)

employees = sa.Table(
    "employees",
    metadata,
    sa.Column("employee_id", sa.Uuid(), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_active", sa.Boolean(), nullable=False, server_default=TRUE),
    sa.Column("created_at", _ts(), nullable=False, server_default=NOW),
    sa.Column("updated_at", _ts(), nullable=False, server_default=NOW),
    sa.PrimaryKeyConstraint("employee_id", name="employees_pkey"),
    sa.UniqueConstraint("name", name="employees_name_key"),
)
sa.Index("idx_employees_active", employees.c.is_active)

business_skills = sa.Table(
    "business_skills",
    metadata,
    sa.Column("skill_id", sa.Uuid(), nullable=False),
    sa.Column("skill_name", sa.String(100), nullable=False),
    sa.Column("category", _enum(skill_category), nullable=False),
    sa.Column("display_order", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("is_active", sa.Boolean(), nullable=False, server_default=TRUE),
    sa.Column("created_at", _ts(), nullable=False, server_default=NOW),
    sa.Column("updated_at", _ts(), nullable=False, server_default=NOW),
    sa.PrimaryKeyConstraint("skill_id", name="business_skills_pkey"),
    sa.UniqueConstraint("skill_name", name="business_skills_skill_name_key"),
)
sa.Index("idx_skills_active", business_skills.c.is_active)
sa.Index("idx_skills_category", business_skills.c.category)

employee_skills = sa.Table(
    "employee_skills",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("employee_id", sa.Uuid(), nullable=False),
    sa.Column("skill_id", sa.Uuid(), nullable=False),
    sa.Column("acquired_at", _ts(), nullable=False, server_default=NOW),
    sa.Column("created_at", _ts(), nullable=False, server_default=NOW),
    sa.Column("updated_at", _ts(), nullable=False, server_default=NOW),
    sa.PrimaryKeyConstraint("id", name="employee_skills_pkey"),
    sa.ForeignKeyConstraint(
        ["employee_id"], ["employees.employee_id"],
        name="employee_skills_employee_id_fkey", ondelete="CASCADE",
    ),
    sa.ForeignKeyConstraint(
        ["skill_id"], ["business_skills.skill_id"],
        name="employee_skills_skill_id_fkey", ondelete="CASCADE",
    ),
    sa.UniqueConstraint("employee_id", "skill_id", name="uq_employee_skill"),
)
sa.Index("idx_employee_skills_employee", employee_skills.c.employee_id)
sa.Index("idx_employee_skills_skill", employee_skills.c.skill_id)

slack_users = sa.Table(
    "slack_users",
    metadata,
    sa.Column("user_id", sa.String(50), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("real_name", sa.String(255), nullable=True),
    sa.Column("display_name", sa.String(255), nullable=True),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("deleted", sa.Boolean(), nullable=False, server_default=FALSE),
    sa.Column("slack_created_at", _tstz(), nullable=False),
    sa.Column("synced_at", _tstz(), nullable=False),
    sa.Column("created_at", _tstz(), nullable=False),
    sa.Column("updated_at", _tstz(), nullable=False),
    sa.PrimaryKeyConstraint("user_id", name="slack_users_pkey"),
)
sa.Index("ix_slack_users_name", slack_users.c.name)
sa.Index("ix_slack_users_email", slack_users.c.email)
sa.Index("ix_slack_users_deleted", slack_users.c.deleted)
sa.Index("ix_slack_users_synced_at", slack_users.c.synced_at)

# Deprecated; kept because the application still serves it.
handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("handoff_id", sa.Uuid(), nullable=False),
    sa.Column("task_id", sa.Uuid(), nullable=True),
    sa.Column("from_user_id", sa.String(100), nullable=False),
    sa.Column("to_user_id", sa.String(100), nullable=False),
    sa.Column("progress_note", sa.Text(), nullable=False),
    sa.Column("next_steps", sa.Text(), nullable=False),
    sa.Column(
        "status", sa.String(20), nullable=False,
        server_default=sa.text("'pending'::character varying"),
    ),
    sa.Column("handoff_at", _ts(), nullable=False),
    sa.Column("accepted_at", _ts(), nullable=True),
    sa.Column("completed_at", _ts(), nullable=True),
    sa.Column("created_at", _ts(), nullable=False),
    sa.PrimaryKeyConstraint("handoff_id", name="handoffs_pkey"),
)
sa.Index("idx_handoffs_from_user", handoffs.c.from_user_id)
sa.Index("idx_handoffs_to_user", handoffs.c.to_user_id)
sa.Index("idx_handoffs_status", handoffs.c.status)
