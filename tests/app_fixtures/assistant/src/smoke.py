"""Start the release, briefly: every repository writes and reads once, then everything is rolled back.

``python -m src.smoke`` with ``DATABASE_URL`` and ``ASSISTANT_SLACK_TOKEN`` set: prints ``ok`` and
exits 0, or prints the first error and exits 1.
"""

from __future__ import annotations

import asyncio
import sys

from src.ctx.tasks.repo import TaskRepository
from src.infra.db.session import SessionFactory, engine
from src.infra.repositories.skills import ProjectRepository, SkillRepository
from src.infra.users.repo import SlackUserRepository
from src.shared.skill_category import SkillCategory
from src.shared.task_status import TaskStatus


async def main() -> int:
    try:
        async with SessionFactory() as session, session.begin():
            tasks = TaskRepository(session)
            task_id = await tasks.add("smoke", "U_SMOKE", TaskStatus.IN_PROGRESS)
            assert await tasks.for_assignee("U_SMOKE") == [("smoke", TaskStatus.IN_PROGRESS)]
            await tasks.all()
            skills = SkillRepository(session)
            await skills.add("smoke skill", SkillCategory.SALES)
            assert SkillCategory.SALES in await skills.categories()
            projects = ProjectRepository(session)
            await projects.add_with_task("smoke project", task_id)
            await projects.names()
            users = SlackUserRepository(session)
            await users.sync("U_SMOKE", "smoke")
            await users.names()
            await session.rollback()
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return 1
    finally:
        await engine.dispose()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
