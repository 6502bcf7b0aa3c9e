"""handoffs.task_id references tasks

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: handoffs must point at real tasks. Written with the guide's idempotent
constraint pattern (section 1.3), as a newcomer would.
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
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk_handoffs_task_id_tasks') THEN
            ALTER TABLE handoffs ADD CONSTRAINT fk_handoffs_task_id_tasks
                FOREIGN KEY (task_id) REFERENCES tasks (id);
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE handoffs DROP CONSTRAINT IF EXISTS fk_handoffs_task_id_tasks")
