"""Slack users, with a third declarative Base. ``src/infra/users/`` has no ``__init__.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SlackUserModel(Base):
    __tablename__ = "slack_users"

    user_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    real_name: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SlackUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sync(self, user_id: str, name: str) -> None:
        now = datetime.now(UTC)
        self.session.add(SlackUserModel(user_id=user_id, name=name, slack_created_at=now, synced_at=now,
                                        created_at=now, updated_at=now))
        await self.session.flush()

    async def names(self) -> list[str]:
        return list(await self.session.scalars(select(SlackUserModel.name)))
