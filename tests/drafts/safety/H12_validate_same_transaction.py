"""priority between 1 and 10, validated

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: as H11, but the newcomer read section 4 and added NOT VALID, then
VALIDATE right after it: same statement batch, same transaction, so the ADD's
ACCESS EXCLUSIVE lock is held through the whole scan of VALIDATE.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    """Idempotent: check before creating or dropping (see MIGRATION_GUIDE.md)."""
    op.execute("""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_priority_range') THEN
            ALTER TABLE tasks ADD CONSTRAINT ck_tasks_priority_range
                CHECK (priority >= 1 AND priority <= 10) NOT VALID;
        END IF;
    END $$""")
    op.execute("ALTER TABLE tasks VALIDATE CONSTRAINT ck_tasks_priority_range")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE tasks DROP CONSTRAINT IF EXISTS ck_tasks_priority_range")
