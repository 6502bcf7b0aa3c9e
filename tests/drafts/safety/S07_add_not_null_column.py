"""Add tasks.team_id, NOT NULL with a constant default

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: tasks belong to a team. A NOT NULL column needs a value for the existing
rows: a constant default gives it without rewriting the table (PostgreSQL 11+,
catalog only). The downgrade refuses (SQLSTATE NM001) while a row holds a team.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    op.execute("ALTER TABLE public.tasks ADD COLUMN IF NOT EXISTS team_id varchar(50) NOT NULL DEFAULT ''")


def downgrade(**kw: object) -> None:
    op.execute("""
    DO $$ DECLARE n bigint; BEGIN
        -- nakamura-db guard: drop-column public.tasks.team_id
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.tasks')
                    AND attname = 'team_id' AND NOT attisdropped) THEN
            SELECT count(*) INTO n FROM public.tasks WHERE team_id <> '';
            IF n > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                    'refused: downgrading 0008 would drop tasks.team_id, set on %s row(s). '
                    'Nothing was changed.', n);
            END IF;
        END IF;
    END $$""")
    op.execute("ALTER TABLE public.tasks DROP COLUMN IF EXISTS team_id")
