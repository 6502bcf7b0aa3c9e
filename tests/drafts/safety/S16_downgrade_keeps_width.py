"""Widen tasks.assignee_user_id to 100 characters

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: Slack Enterprise Grid ids are longer than 50 characters. Widening a
varchar is catalog-only (no rewrite, no scan). The downgrade does not narrow it
back: that would rewrite tasks under ACCESS EXCLUSIVE and fail on the longer ids
the new release has written; the previous release works with the wider column.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


log = logging.getLogger("alembic.runtime.migration")


def upgrade(**kw: object) -> None:
    op.execute("ALTER TABLE public.tasks ALTER COLUMN assignee_user_id TYPE varchar(100)")


def downgrade(**kw: object) -> None:
    log.info("tasks.assignee_user_id stays varchar(100): narrowing it back would rewrite tasks and may not fit")
