"""priority between 1 and 10, NOT VALID (validated by 0009)

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: as S11, split in two revisions: this one adds the CHECK NOT VALID (catalog
only), 0009 validates it. Safe because 0009 runs in a transaction of its own:
env.py commits each revision after 0007 (MIGRATION_GUIDE.md 11.12), so a deploy
that applies both does not hold this ADD's lock through 0009's scan.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    op.execute("""
    DO $$ DECLARE n bigint; BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_priority_range') THEN
            SELECT count(*) INTO n FROM public.tasks WHERE NOT (priority >= 1 AND priority <= 10);
            IF n > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                    'refused: %s task(s) have a priority outside 1-10. Correct them first. Nothing was changed.', n);
            END IF;
            ALTER TABLE public.tasks ADD CONSTRAINT ck_tasks_priority_range
                CHECK (priority >= 1 AND priority <= 10) NOT VALID;
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE public.tasks DROP CONSTRAINT IF EXISTS ck_tasks_priority_range")
