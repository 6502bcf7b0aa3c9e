"""The application's models as the incident had them: ``Enum(PyEnum)`` without ``values_callable``.

SQLAlchemy then persists the member *names* (``PENDING``, ``CUSTOMER_SUPPORT``) while our schema's
enum types hold the *values* (``pending``, ``顧客対応``): every write fails and every read raises
LookupError. Everything else here matches the schema.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class TaskStatus(enum.Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SkillCategory(enum.Enum):
    CUSTOMER_SUPPORT = "顧客対応"
    LOGISTICS = "物流"
    APPRAISAL = "査定・修理"
    SALES = "販売"
    MANAGEMENT = "管理"
    STORE_OPERATION = "店舗"


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.Text())
    assignee_user_id: Mapped[str] = mapped_column(sa.String(50))
    creator_user_id: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[TaskStatus] = mapped_column(sa.Enum(TaskStatus, name="task_status"))
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class BusinessSkill(Base):
    __tablename__ = "business_skills"

    skill_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    skill_name: Mapped[str] = mapped_column(sa.String(100))
    category: Mapped[SkillCategory] = mapped_column(sa.Enum(SkillCategory, name="skill_category"))
    display_order: Mapped[int] = mapped_column(server_default=sa.text("0"))
    is_active: Mapped[bool] = mapped_column(server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=sa.text("now()"))
