"""Skills and projects, through the main Base's classes. ``src/infra/repositories/`` has no ``__init__.py``."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from src.infra.db.models import ProjectRecord, ProjectTaskRecord, SkillRecord
from src.shared.skill_category import SkillCategory


class SkillRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str, category: SkillCategory) -> None:
        self.session.add(SkillRecord(skill_name=name, category=category))
        await self.session.flush()

    async def categories(self) -> list[SkillCategory]:
        return list(await self.session.scalars(select(SkillRecord.category)))


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_with_task(self, name: str, task_id: uuid.UUID) -> None:
        project = ProjectRecord(name=name)
        self.session.add(project)
        await self.session.flush()
        self.session.add(ProjectTaskRecord(project_id=project.project_id, task_id=task_id))
        await self.session.flush()

    async def names(self) -> list[str]:
        return list(await self.session.scalars(select(ProjectRecord.name)))
