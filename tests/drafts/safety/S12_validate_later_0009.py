"""Validate ck_tasks_priority_range (added NOT VALID by 0008)

Revision: 0009
Revises: 0008
Created: 2026-12-07

Why: VALIDATE scans tasks under SHARE UPDATE EXCLUSIVE: reads and writes go on.
Idempotent: only while the constraint is not validated.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    op.execute("""
    DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_priority_range' AND NOT convalidated) THEN
            ALTER TABLE public.tasks VALIDATE CONSTRAINT ck_tasks_priority_range;
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    # Validation is not undone (0008's downgrade drops the constraint); say so in the run's log.
    logging.getLogger("alembic.runtime.migration").info("ck_tasks_priority_range stays validated")
