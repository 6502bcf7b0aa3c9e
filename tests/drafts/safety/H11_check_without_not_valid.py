"""priority between 1 and 10

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application only knows priorities 1-10. Written with the guide's
idempotent constraint pattern (section 1.3).
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
            ALTER TABLE tasks ADD CONSTRAINT ck_tasks_priority_range CHECK (priority >= 1 AND priority <= 10);
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE tasks DROP CONSTRAINT IF EXISTS ck_tasks_priority_range")
