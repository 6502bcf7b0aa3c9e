"""priority between 1 and 10: CHECK NOT VALID, validated after a commit

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application only knows priorities 1-10. ADD CHECK scans tasks under
ACCESS EXCLUSIVE (no reads, no writes). NOT VALID is catalog only; VALIDATE
scans under SHARE UPDATE EXCLUSIVE after a commit. Rows outside the range are
counted first and refused (NM001).
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
        -- nakamura-db guard: check public.tasks ck_tasks_priority_range
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_priority_range') THEN
            SELECT count(*) INTO n FROM public.tasks WHERE NOT (priority >= 1 AND priority <= 10);
            IF n > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                    'refused: %s task(s) have a priority outside 1-10, which ck_tasks_priority_range would '
                    'reject. Correct them first. Nothing was changed.', n);
            END IF;
            ALTER TABLE public.tasks ADD CONSTRAINT ck_tasks_priority_range
                CHECK (priority >= 1 AND priority <= 10) NOT VALID;
        END IF;
    END $$""")
    with op.get_context().autocommit_block():
        op.execute("""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_priority_range' AND NOT convalidated) THEN
                ALTER TABLE public.tasks VALIDATE CONSTRAINT ck_tasks_priority_range;
            END IF;
        END $$""")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE public.tasks DROP CONSTRAINT IF EXISTS ck_tasks_priority_range")
