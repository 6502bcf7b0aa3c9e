"""Less common mistakes, one per column, on tables of our schema (Mapped / mapped_column style)."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Enum, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Status(enum.Enum):
    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"
    archived = "archived"


class SkillKind(enum.Enum):
    CUSTOMER_SUPPORT = "顧客対応"
    LOGISTICS = "物流"


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)  # unbounded on varchar(500)
    description: Mapped[str | None] = mapped_column(Text)
    assignee_user_id: Mapped[str] = mapped_column(String(50))
    creator_user_id: Mapped[str | None] = mapped_column(String(50))  # nullable onto NOT NULL
    state: Mapped[Status] = mapped_column("status", Enum(Status, name="taskstatus"))  # other type name
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Conversation(Base):
    __tablename__ = "conversations"

    conversation_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # Integer onto uuid
    user_id: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str] = mapped_column(String(100))
    messages: Mapped[dict] = mapped_column(JSON)  # JSON onto json: fine
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Skill(Base):
    __tablename__ = "business_skills"

    skill_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    skill_name: Mapped[str] = mapped_column(String(100))
    category: Mapped[SkillKind] = mapped_column(Enum(SkillKind, name="skill_category",
                                                     values_callable=lambda e: [m.value for m in e]))
    display_order: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))  # bigint onto integer
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Handoff(Base):
    __tablename__ = "handoffs"

    handoff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(36))  # String onto uuid
    from_user_id: Mapped[str] = mapped_column(String(100))
    to_user_id: Mapped[str] = mapped_column(String(100))
    progress_note: Mapped[str] = mapped_column(Text)
    next_steps: Mapped[str] = mapped_column(Text, server_default=text("''"))  # the database has no default
    status: Mapped[str] = mapped_column(Enum("pending", "accepted", "completed", "rejected_by_recipient",
                                              native_enum=False, length=30))  # label longer than varchar(20)
    handoff_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
