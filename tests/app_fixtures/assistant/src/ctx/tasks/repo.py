"""The task repository, with a declarative Base of its own (as the real application's has)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, Float, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ...shared.task_status import TaskStatus


class Base(DeclarativeBase):
    pass


class TaskModel(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String)
    assignee_user_id: Mapped[str] = mapped_column(String(50))
    creator_user_id: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(
        Enum("pending", "in_progress", "completed", "cancelled", name="task_status", create_type=False))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    priority: Mapped[int] = mapped_column(Integer, default=5)
    progress_percent: Mapped[int] = mapped_column(Integer, default=0)
    estimated_hours: Mapped[float | None] = mapped_column(Float)


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, title: str, assignee: str, status: TaskStatus = TaskStatus.PENDING) -> uuid.UUID:
        now = datetime.now(UTC)
        task = TaskModel(title=title, assignee_user_id=assignee, creator_user_id=assignee, status=status.value,
                         created_at=now, updated_at=now)
        self.session.add(task)
        await self.session.flush()
        return task.id

    async def for_assignee(self, assignee: str) -> list[tuple[str, TaskStatus]]:
        rows = await self.session.scalars(select(TaskModel).where(TaskModel.assignee_user_id == assignee))
        return [(t.title, TaskStatus(t.status)) for t in rows]

    async def all(self) -> int:
        return len((await self.session.scalars(select(TaskModel))).all())
