"""tasks.priority as bigint: expand (priority_big, kept in step, backfilled in batches)

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: priorities will carry sort keys. ALTER ... TYPE bigint rewrites tasks and
its indexes under ACCESS EXCLUSIVE (measured: 1M rows, several seconds: over
lock_timeout for every writer). Expand: a nullable bigint column (catalog
only), a trigger that keeps it equal to priority for every write, and a backfill
in committed batches of 10,000. The contract revision (a later deploy) swaps
the names in one brief transaction, after CHECK (priority_big IS NOT NULL)
NOT VALID + VALIDATE has made SET NOT NULL catalog-only.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reviewed opt-outs: "<rule> <object>" -> why it is safe here (shown by `nakamura-db lint`).
SAFETY_REVIEWED: dict[str, str] = {
    "downgrade: drop-column tasks.priority_big": "a copy of priority, kept equal by the trigger: priority "
    "still holds every value (reviewed 2026-12-07)",
}


def upgrade(**kw: object) -> None:
    """Idempotent: IF NOT EXISTS / OR REPLACE; the backfill skips rows already done."""
    op.execute("ALTER TABLE public.tasks ADD COLUMN IF NOT EXISTS priority_big bigint")
    op.execute("""
    CREATE OR REPLACE FUNCTION public.tasks_sync_priority_big() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.priority_big := NEW.priority;
        RETURN NEW;
    END $$""")
    op.execute("""
    CREATE OR REPLACE TRIGGER tasks_sync_priority_big BEFORE INSERT OR UPDATE OF priority ON public.tasks
        FOR EACH ROW EXECUTE FUNCTION public.tasks_sync_priority_big()""")
    with op.get_context().autocommit_block():
        op.execute("""
        DO $$ DECLARE n bigint; BEGIN
            LOOP
                UPDATE public.tasks SET priority_big = priority
                 WHERE id IN (SELECT id FROM public.tasks WHERE priority_big IS NULL LIMIT 10000);
                GET DIAGNOSTICS n = ROW_COUNT;
                EXIT WHEN n = 0;
                COMMIT;
            END LOOP;
        END $$""")


def downgrade(**kw: object) -> None:
    """priority still holds every value: dropping the copy loses nothing."""
    op.execute("DROP TRIGGER IF EXISTS tasks_sync_priority_big ON public.tasks")
    op.execute("DROP FUNCTION IF EXISTS public.tasks_sync_priority_big()")
    op.execute("ALTER TABLE public.tasks DROP COLUMN IF EXISTS priority_big")
