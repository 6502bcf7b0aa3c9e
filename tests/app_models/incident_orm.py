"""Written like the upstream application's ORM at the incident (Column style, ``*Table`` classes),
with its real mistakes on our schema:

- ``Enum(TaskStatus, name="task_status")`` without ``values_callable``: persists member names;
- naive ``DateTime`` on the ``tasks`` columns, which are ``timestamptz`` in our schema;
- ``assignee_user_id`` as ``String(100)`` on our ``varchar(50)``;
- ``creator_user_id`` not mapped (NOT NULL, no default, in our schema);
- a ``reminders`` table and a ``tasks.snoozed_until`` column our schema does not have.
"""

import enum
from datetime import datetime
from uuid import uuid4

from sqlalchemy import Boolean, Column, DateTime, Enum, Integer, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase


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
    assignee_user_id = Column(String(100), nullable=False, index=True)
    status = Column(Enum(TaskStatus, name="task_status"), nullable=False, default=TaskStatus.PENDING)
    due_at = Column(DateTime, index=True)
    completed_at = Column(DateTime)
    snoozed_until = Column(DateTime(timezone=True))
    created_at = Column(DateTime, nullable=False, default=datetime.now)
    updated_at = Column(DateTime, nullable=False, default=datetime.now, onupdate=datetime.now)


class BusinessSkillTable(Base):
    __tablename__ = "business_skills"

    skill_id = Column(UUID(as_uuid=True), primary_key=True, default=uuid4)
    skill_name = Column(String(100), nullable=False, unique=True)
    category = Column(Enum(SkillCategory, name="skill_category"), nullable=False)
    display_order = Column(Integer, nullable=False, default=0)
    is_active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=datetime.now)
    updated_at = Column(DateTime, nullable=False, default=datetime.now)


class ReminderTable(Base):
    __tablename__ = "reminders"

    id = Column(UUID(as_uuid=True), primary_key=True, default=uuid4)
    task_id = Column(UUID(as_uuid=True), nullable=False)
    remind_at = Column(DateTime(timezone=True), nullable=False)
