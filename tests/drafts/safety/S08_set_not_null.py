"""tasks.due_at is required: backfill, CHECK NOT VALID, VALIDATE, SET NOT NULL

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: every task gets a due date (30 days after creation when it had none).
SET NOT NULL alone scans tasks under ACCESS EXCLUSIVE and fails on the first
NULL. Here: (1) backfill in committed batches; (2) CHECK (due_at IS NOT NULL)
NOT VALID (catalog only); (3) VALIDATE after a commit (SHARE UPDATE EXCLUSIVE:
writers go on); (4) SET NOT NULL, which uses the validated CHECK instead of a
scan (PostgreSQL 12+), then the CHECK is dropped. Every step is skipped once the
column is NOT NULL. The application must already write due_at.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NOT_NULL_YET = (
    "NOT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.tasks'::regclass AND attname = 'due_at')"
)


def upgrade(**kw: object) -> None:
    with op.get_context().autocommit_block():
        op.execute(f"""
        DO $$ DECLARE n bigint; BEGIN
            IF {NOT_NULL_YET} THEN
                LOOP
                    UPDATE public.tasks SET due_at = created_at + interval '30 days'
                     WHERE id IN (SELECT id FROM public.tasks WHERE due_at IS NULL LIMIT 10000);
                    GET DIAGNOSTICS n = ROW_COUNT;
                    EXIT WHEN n = 0;
                    COMMIT;
                END LOOP;
            END IF;
        END $$""")
    op.execute(f"""
    DO $$ BEGIN
        IF {NOT_NULL_YET} AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_due_at_not_null') THEN
            ALTER TABLE public.tasks ADD CONSTRAINT ck_tasks_due_at_not_null CHECK (due_at IS NOT NULL) NOT VALID;
        END IF;
    END $$""")
    with op.get_context().autocommit_block():
        op.execute("""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'ck_tasks_due_at_not_null' AND NOT convalidated) THEN
                ALTER TABLE public.tasks VALIDATE CONSTRAINT ck_tasks_due_at_not_null;
            END IF;
        END $$""")
    op.execute("ALTER TABLE public.tasks ALTER COLUMN due_at SET NOT NULL")
    op.execute("ALTER TABLE public.tasks DROP CONSTRAINT IF EXISTS ck_tasks_due_at_not_null")


def downgrade(**kw: object) -> None:
    """Catalog only. The backfilled dates stay (they cannot be told from dates set by hand)."""
    op.execute("ALTER TABLE public.tasks ALTER COLUMN due_at DROP NOT NULL")
