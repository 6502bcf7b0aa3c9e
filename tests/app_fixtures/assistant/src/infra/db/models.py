"""The application's main Base (its migrations' target_metadata). ``src/infra/db/`` has no ``__init__.py``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import Uuid
from src.shared.skill_category import SkillCategory
from src.shared.task_status import TaskStatus


def enum_values(enum_class: type) -> list[str]:
    return [member.value for member in enum_class]


class Base(AsyncAttrs, DeclarativeBase):
    pass


class TaskRecord(Base):
    """``tasks`` as the first schema had it. No repository uses it (the task repository has its own)."""

    __tablename__ = "tasks"

    id = Column(Uuid, primary_key=True, default=uuid.uuid4)
    title = Column(String(200), nullable=False)
    description = Column(Text)
    assignee_user_id = Column(String(100), nullable=False)
    creator_user_id = Column(String(100), nullable=False)
    status = Column(Enum(TaskStatus, name="task_status"), nullable=False, default=TaskStatus.PENDING)
    due_at = Column(DateTime)
    completed_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=datetime.now)
    updated_at = Column(DateTime, nullable=False, default=datetime.now)
    priority = Column(Integer, default=5)
    progress_percent = Column(Integer, default=0)


class SkillRecord(Base):
    __tablename__ = "business_skills"

    skill_id = Column(Uuid, primary_key=True, default=uuid.uuid4)
    skill_name = Column(String(100), nullable=False, unique=True)
    category = Column(Enum(SkillCategory, name="skill_category"), nullable=False)
    display_order = Column(Integer, default=0)
    is_active = Column(Boolean, default=True)
    created_at = Column(DateTime, default=datetime.now)
    updated_at = Column(DateTime, default=datetime.now)


class ProjectRecord(Base):
    __tablename__ = "projects"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_user_id: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)


class ProjectTaskRecord(Base):
    __tablename__ = "project_tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.project_id", ondelete="CASCADE"))
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)


class TaskDependencyRecord(Base):
    """Two foreign keys to ``tasks`` and a CHECK that they differ."""

    __tablename__ = "task_dependencies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    blocking_task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    blocked_task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    dependency_type: Mapped[str] = mapped_column(String(20), default="blocks")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)


class TeamMetricRecord(Base):
    """The attribute is not the column's name: ``metadata`` is reserved on a declarative class."""

    __tablename__ = "team_metrics"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    date: Mapped[date] = mapped_column(Date)
    metric_type: Mapped[str] = mapped_column(String(50))
    metric_value: Mapped[float] = mapped_column(Float)
    metric_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.now)
