"""The incident ORM with its mistakes fixed: the one-line ``values_callable`` per enum, aware
datetimes on the ``timestamptz`` columns, our lengths, every NOT NULL column mapped, and only
tables and columns our schema has."""

import enum
from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Boolean, Column, DateTime, Enum, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase


def _now() -> datetime:
    return datetime.now(UTC)


class TaskStatus(str, enum.Enum):  # noqa: UP042 - written as upstream writes it
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class SkillCategory(str, enum.Enum):  # noqa: UP042 - written as upstream writes it
    CUSTOMER_SUPPORT = "顧客対応"
    LOGISTICS = "物流"
    APPRAISAL = "査定・修理"
    SALES = "販売"
    MANAGEMENT = "管理"
    STORE_OPERATION = "店舗"


class Base(DeclarativeBase):
    pass


class TaskTable(Base):
    __tablename__ = "tasks"

    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid4)
    title = Column(String(200), nullable=False)
    description = Column(Text)
    assignee_user_id = Column(String(50), nullable=False, index=True)
    creator_user_id = Column(String(50), nullable=False)
    status = Column(Enum(TaskStatus, name="task_status", values_callable=lambda e: [m.value for m in e]),
                    nullable=False, default=TaskStatus.PENDING)
    due_at = Column(DateTime(timezone=True), index=True)
    completed_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=_now)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=_now, onupdate=_now)


class BusinessSkillTable(Base):
    __tablename__ = "business_skills"

    skill_id = Column(UUID(as_uuid=True), primary_key=True, default=uuid4)
    skill_name = Column(String(100), nullable=False, unique=True)
    category = Column(Enum(SkillCategory, name="skill_category", values_callable=lambda e: [m.value for m in e]),
                      nullable=False)
    display_order = Column(Integer, nullable=False, default=0)
    is_active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=datetime.now)
    updated_at = Column(DateTime, nullable=False, default=datetime.now)
