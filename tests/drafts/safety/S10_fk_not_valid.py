"""handoffs.task_id references tasks: NOT VALID now, validated after a commit

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: handoffs must point at real tasks. ADD FOREIGN KEY scans handoffs and
probes tasks while holding SHARE ROW EXCLUSIVE on both (writers wait). NOT
VALID adds it without the scan (new rows are checked from then on); VALIDATE
scans under SHARE UPDATE EXCLUSIVE, writers go on, and runs after a commit so
the ADD's lock is gone. Orphans are counted first and refused (NM001).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ORPHANS_REFUSED = """    DO $$ DECLARE n bigint; BEGIN
        -- nakamura-db guard: orphans public.handoffs.task_id -> public.tasks.id
        SELECT count(*) INTO n FROM public.handoffs h
         WHERE h.task_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM public.tasks t WHERE t.id = h.task_id);
        IF n > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                'refused: %s handoff(s) point at a task that does not exist; fk_handoffs_task_id_tasks would '
                'reject them. Set their task_id to NULL or remove them first. Nothing was changed.', n);
        END IF;
    END $$"""


def upgrade(**kw: object) -> None:
    op.execute(ORPHANS_REFUSED)
    op.execute("""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk_handoffs_task_id_tasks') THEN
            ALTER TABLE public.handoffs ADD CONSTRAINT fk_handoffs_task_id_tasks
                FOREIGN KEY (task_id) REFERENCES public.tasks (id) NOT VALID;
        END IF;
    END $$""")
    with op.get_context().autocommit_block():
        op.execute("""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_constraint
                        WHERE conname = 'fk_handoffs_task_id_tasks' AND NOT convalidated) THEN
                ALTER TABLE public.handoffs VALIDATE CONSTRAINT fk_handoffs_task_id_tasks;
            END IF;
        END $$""")


def downgrade(**kw: object) -> None:
    op.execute("ALTER TABLE public.handoffs DROP CONSTRAINT IF EXISTS fk_handoffs_task_id_tasks")
