"""Index tasks.creator_user_id, built CONCURRENTLY (offline-safe)

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the "tasks I created" view scans tasks. CREATE INDEX takes a SHARE lock
(every writer waits for the whole build); CONCURRENTLY does not. An interrupted
concurrent build leaves an INVALID index that IF NOT EXISTS would keep: the DO
block drops it first (plain DROP INDEX of an invalid index: catalog only, under
a 5 s lock_timeout). Nothing reads the catalog from Python, so the same SQL runs
online and comes out of --sql (MIGRATION_GUIDE.md section 4 shows this revision).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INVALID_DROPPED = """
    DO $$ BEGIN
        PERFORM set_config('lock_timeout', '5s', true);
        IF EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass('public.ix_tasks_creator_user_id')
                    AND NOT indisvalid) THEN
            DROP INDEX public.ix_tasks_creator_user_id;
        END IF;
    END $$"""


def upgrade(**kw: object) -> None:
    with op.get_context().autocommit_block():
        op.execute(INVALID_DROPPED)
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tasks_creator_user_id ON public.tasks (creator_user_id)")


def downgrade(**kw: object) -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS public.ix_tasks_creator_user_id")
