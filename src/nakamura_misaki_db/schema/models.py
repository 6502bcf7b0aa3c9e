"""Live models: the schema at head, as the application imports it.

Not read by any migration (revision 0001 has its own frozen definition in
``schema.frozen.r0001_baseline``, later revisions theirs in ``nakamura_misaki_db.schema.frozen``).
``alembic check`` proves these models and the migration chain agree, CHECK
constraints included (``autogen_checks``). Enum columns store the *values*
(``pending``, ``顧客対応``), not the member names: that mistake is how
production got uppercase labels.

The tables of revisions 0003-0007 follow what the application's migrations
``002``-``006`` created in production, not the application's ORM, where the two
differ (app-chain.md section 3): server defaults, both CHECKs, ``pk_*``/``fk_*``
names, ``jsonb`` metadata, a single index on ``tasks.priority``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date as date_
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nakamura_misaki_db.schema.pg_enum import PGEnum


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SkillCategory(enum.StrEnum):
    CUSTOMER_SUPPORT = "顧客対応"
    LOGISTICS = "物流"
    APPRAISAL = "査定・修理"
    SALES = "販売"
    MANAGEMENT = "管理"
    STORE_OPERATION = "店舗"


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


def _enum_type(enum_cls: type[enum.Enum], name: str) -> pg.ENUM:
    # create_type=False: the PGEnum entity owns the type (generic sa.Enum ignores it).
    return pg.ENUM(enum_cls, name=name, values_callable=_values, create_type=False)


task_status_enum = PGEnum.from_python_enum(TaskStatus, "task_status")
skill_category_enum = PGEnum.from_python_enum(SkillCategory, "skill_category")
vector_extension = PGExtension(schema="public", signature="vector")

ENTITIES: tuple[Any, ...] = (vector_extension, task_status_enum, skill_category_enum)


class Base(DeclarativeBase):
    metadata = sa.MetaData()


TSTZ = sa.DateTime(timezone=True)
TS = sa.DateTime(timezone=False)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="tasks_pkey"),
        sa.Index("ix_tasks_assignee_user_id", "assignee_user_id"),
        sa.Index("ix_tasks_status", "status"),
        sa.Index("ix_tasks_due_at", "due_at"),
        sa.Index("ix_tasks_assignee_status", "assignee_user_id", "status"),
        # Revision 0007 (the application's 006).
        sa.CheckConstraint("progress_percent >= 0 AND progress_percent <= 100",
                           name="ck_tasks_progress_percent_range"),
        sa.Index("idx_tasks_priority", "priority"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.Text())
    assignee_user_id: Mapped[str] = mapped_column(sa.String(50))
    creator_user_id: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[TaskStatus] = mapped_column(_enum_type(TaskStatus, "task_status"))
    due_at: Mapped[datetime | None] = mapped_column(TSTZ)
    completed_at: Mapped[datetime | None] = mapped_column(TSTZ)
    created_at: Mapped[datetime] = mapped_column(TSTZ)
    updated_at: Mapped[datetime] = mapped_column(TSTZ)
    priority: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("5"))
    progress_percent: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("0"))
    estimated_hours: Mapped[float | None] = mapped_column(sa.Double())


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        sa.PrimaryKeyConstraint("conversation_id", name="conversations_pkey"),
        sa.UniqueConstraint("user_id", "channel_id", name="uq_conversations_user_channel"),
        # Revision 0002 dropped idx_conversations_user_channel (the unique constraint's
        # index covers it) and ix_conversations_last_message_at (same as the one below).
        sa.Index("idx_conversations_last_message", "last_message_at"),
        sa.Index("ix_conversations_channel_id", "channel_id"),
        sa.Index("ix_conversations_user_id", "user_id"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    user_id: Mapped[str] = mapped_column(sa.String(100))
    channel_id: Mapped[str] = mapped_column(sa.String(100))
    messages: Mapped[Any] = mapped_column(sa.JSON())
    created_at: Mapped[datetime] = mapped_column(TSTZ)
    updated_at: Mapped[datetime] = mapped_column(TSTZ)
    last_message_at: Mapped[datetime] = mapped_column(TSTZ)


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        sa.PrimaryKeyConstraint("employee_id", name="employees_pkey"),
        sa.UniqueConstraint("name", name="employees_name_key"),
        sa.Index("idx_employees_active", "is_active"),
    )

    employee_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    name: Mapped[str] = mapped_column(sa.String(100))
    is_active: Mapped[bool] = mapped_column(sa.Boolean(), server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))


class BusinessSkill(Base):
    __tablename__ = "business_skills"
    __table_args__ = (
        sa.PrimaryKeyConstraint("skill_id", name="business_skills_pkey"),
        sa.UniqueConstraint("skill_name", name="business_skills_skill_name_key"),
        sa.Index("idx_skills_active", "is_active"),
        sa.Index("idx_skills_category", "category"),
    )

    skill_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    skill_name: Mapped[str] = mapped_column(sa.String(100))
    category: Mapped[SkillCategory] = mapped_column(_enum_type(SkillCategory, "skill_category"))
    display_order: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("0"))
    is_active: Mapped[bool] = mapped_column(sa.Boolean(), server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))


class EmployeeSkill(Base):
    __tablename__ = "employee_skills"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="employee_skills_pkey"),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.employee_id"],
                                name="employee_skills_employee_id_fkey", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["business_skills.skill_id"],
                                name="employee_skills_skill_id_fkey", ondelete="CASCADE"),
        sa.UniqueConstraint("employee_id", "skill_id", name="uq_employee_skill"),
        sa.Index("idx_employee_skills_employee", "employee_id"),
        sa.Index("idx_employee_skills_skill", "skill_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    employee_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    skill_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    acquired_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=sa.text("now()"))


class SlackUser(Base):
    __tablename__ = "slack_users"
    __table_args__ = (
        sa.PrimaryKeyConstraint("user_id", name="slack_users_pkey"),
        sa.Index("ix_slack_users_name", "name"),
        sa.Index("ix_slack_users_email", "email"),
        sa.Index("ix_slack_users_deleted", "deleted"),
        sa.Index("ix_slack_users_synced_at", "synced_at"),
    )

    user_id: Mapped[str] = mapped_column(sa.String(50))
    name: Mapped[str] = mapped_column(sa.String(255))
    real_name: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    is_admin: Mapped[bool] = mapped_column(sa.Boolean(), server_default=sa.text("false"))
    is_bot: Mapped[bool] = mapped_column(sa.Boolean(), server_default=sa.text("false"))
    deleted: Mapped[bool] = mapped_column(sa.Boolean(), server_default=sa.text("false"))
    slack_created_at: Mapped[datetime] = mapped_column(TSTZ)
    synced_at: Mapped[datetime] = mapped_column(TSTZ)
    created_at: Mapped[datetime] = mapped_column(TSTZ)
    updated_at: Mapped[datetime] = mapped_column(TSTZ)


class Handoff(Base):
    """Deprecated; the application still serves it."""

    __tablename__ = "handoffs"
    __table_args__ = (
        sa.PrimaryKeyConstraint("handoff_id", name="handoffs_pkey"),
        sa.Index("idx_handoffs_from_user", "from_user_id"),
        sa.Index("idx_handoffs_to_user", "to_user_id"),
        sa.Index("idx_handoffs_status", "status"),
    )

    handoff_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    from_user_id: Mapped[str] = mapped_column(sa.String(100))
    to_user_id: Mapped[str] = mapped_column(sa.String(100))
    progress_note: Mapped[str] = mapped_column(sa.Text())
    next_steps: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(20), server_default=sa.text("'pending'::character varying"))
    handoff_at: Mapped[datetime] = mapped_column(TS)
    accepted_at: Mapped[datetime | None] = mapped_column(TS)
    completed_at: Mapped[datetime | None] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS)


class Project(Base):
    """Revision 0003."""

    __tablename__ = "projects"
    __table_args__ = (
        sa.PrimaryKeyConstraint("project_id", name="projects_pkey"),
        sa.Index("idx_projects_owner", "owner_user_id"),
        sa.Index("idx_projects_status", "status"),
        sa.Index("idx_projects_deadline", "deadline"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text())
    owner_user_id: Mapped[str | None] = mapped_column(sa.String(100))
    deadline: Mapped[datetime | None] = mapped_column(TS)
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)


class ProjectTask(Base):
    """Revision 0003: a task's place in a project."""

    __tablename__ = "project_tasks"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="project_tasks_pkey"),
        sa.UniqueConstraint("project_id", "task_id", name="uq_project_task"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.project_id"],
                                name="project_tasks_project_id_fkey", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="project_tasks_task_id_fkey", ondelete="CASCADE"),
        sa.Index("idx_project_tasks_project", "project_id"),
        sa.Index("idx_project_tasks_task", "task_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    project_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    position: Mapped[int] = mapped_column(sa.Integer())
    created_at: Mapped[datetime] = mapped_column(TS)


class TaskDependency(Base):
    """Revision 0004: ``blocking_task_id`` must be done before ``blocked_task_id``."""

    __tablename__ = "task_dependencies"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="task_dependencies_pkey"),
        sa.UniqueConstraint("blocking_task_id", "blocked_task_id", name="uq_task_dependency"),
        sa.CheckConstraint("blocking_task_id <> blocked_task_id", name="ck_no_self_dependency"),
        sa.ForeignKeyConstraint(["blocking_task_id"], ["tasks.id"],
                                name="task_dependencies_blocking_task_id_fkey", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["blocked_task_id"], ["tasks.id"],
                                name="task_dependencies_blocked_task_id_fkey", ondelete="CASCADE"),
        sa.Index("idx_dependencies_blocking", "blocking_task_id"),
        sa.Index("idx_dependencies_blocked", "blocked_task_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    blocking_task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    blocked_task_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    dependency_type: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(TS)


class DailySummary(Base):
    """Revision 0005. ``user_id`` NULL is a team-wide summary; the unique key does not
    stop two of them on one date (plain UNIQUE, as in production)."""

    __tablename__ = "daily_summaries"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="pk_daily_summaries"),
        sa.UniqueConstraint("date", "user_id", name="uq_daily_summaries_date_user"),
        sa.Index("idx_daily_summaries_date", "date"),
        sa.Index("idx_daily_summaries_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    date: Mapped[date_] = mapped_column(sa.Date())
    user_id: Mapped[str | None] = mapped_column(sa.String(100))
    tasks_completed: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("0"))
    tasks_pending: Mapped[int] = mapped_column(sa.Integer(), server_default=sa.text("0"))
    summary_text: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = mapped_column(TS)


class TeamMetric(Base):
    """Revision 0005."""

    __tablename__ = "team_metrics"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="pk_team_metrics"),
        sa.Index("idx_team_metrics_date", "date"),
        sa.Index("idx_team_metrics_type", "metric_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    date: Mapped[date_] = mapped_column(sa.Date())
    metric_type: Mapped[str] = mapped_column(sa.String(50))
    metric_value: Mapped[float] = mapped_column(sa.Double())
    # The column is "metadata", a name DeclarativeBase reserves for the MetaData.
    metric_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", pg.JSONB())
    created_at: Mapped[datetime] = mapped_column(TS)


class Notification(Base):
    """Revision 0006."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_notifications_task_id_tasks", ondelete="CASCADE"),
        sa.Index("idx_notifications_user", "user_id"),
        sa.Index("idx_notifications_sent", "sent_at"),
        sa.Index("idx_notifications_unread", "user_id", "read_at", postgresql_where=sa.text("read_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    user_id: Mapped[str | None] = mapped_column(sa.String(100))
    notification_type: Mapped[str] = mapped_column(sa.String(50))
    task_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid())
    content: Mapped[str] = mapped_column(sa.Text())
    sent_at: Mapped[datetime | None] = mapped_column(TS)
    read_at: Mapped[datetime | None] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS)


metadata = Base.metadata
