"""Drop tasks.estimated_hours, its values archived first

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application stopped reading estimated_hours two releases ago. The
values are copied to legacy_archive.tasks_estimated_hours_0008 in the same DO
block that drops the column (one statement: both or neither); the downgrade
puts them back. DROP COLUMN itself is catalog-only (brief ACCESS EXCLUSIVE).
The drop is a reviewed decision, named in SAFETY_REVIEWED for lint and the deploy.
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
    "drop-column public.tasks.estimated_hours": "values archived in legacy_archive.tasks_estimated_hours_0008 "
    "by the same statement; the downgrade restores them (reviewed 2026-12-07)",
}


def upgrade(**kw: object) -> None:
    """Idempotent: does nothing once the column is gone."""
    op.execute("""
    DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.tasks')
                    AND attname = 'estimated_hours' AND NOT attisdropped) THEN
            CREATE SCHEMA IF NOT EXISTS legacy_archive;
            CREATE TABLE IF NOT EXISTS legacy_archive.tasks_estimated_hours_0008 (
                id uuid PRIMARY KEY, estimated_hours double precision NOT NULL);
            INSERT INTO legacy_archive.tasks_estimated_hours_0008 (id, estimated_hours)
                SELECT id, estimated_hours FROM public.tasks WHERE estimated_hours IS NOT NULL
                ON CONFLICT (id) DO UPDATE SET estimated_hours = EXCLUDED.estimated_hours;
            ALTER TABLE public.tasks DROP COLUMN estimated_hours;
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    """Idempotent: the column back, then the archived values (only into rows still empty)."""
    op.execute("ALTER TABLE public.tasks ADD COLUMN IF NOT EXISTS estimated_hours double precision")
    op.execute("""
    DO $$ BEGIN
        IF to_regclass('legacy_archive.tasks_estimated_hours_0008') IS NOT NULL THEN
            UPDATE public.tasks t SET estimated_hours = a.estimated_hours
              FROM legacy_archive.tasks_estimated_hours_0008 a
             WHERE a.id = t.id AND t.estimated_hours IS NULL;
        END IF;
    END $$""")
