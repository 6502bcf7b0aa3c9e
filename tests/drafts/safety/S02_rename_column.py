"""Rename slack_users.real_name to full_name: expand (new column, backfill, keep the old one)

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application calls it the full name. Expand now, contract later: this
revision adds full_name, keeps the two columns equal for writers that still use
real_name (a trigger), and backfills the existing rows in committed batches of
5,000 (no long row locks). The release after next drops real_name in a revision
of its own (archive + drop, as S03). Nothing is lost in either direction.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    """Idempotent: IF NOT EXISTS / OR REPLACE, and the backfill skips rows already done."""
    op.execute("ALTER TABLE public.slack_users ADD COLUMN IF NOT EXISTS full_name varchar(255)")
    op.execute("""
    CREATE OR REPLACE FUNCTION public.slack_users_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.real_name IS DISTINCT FROM OLD.real_name THEN
            NEW.full_name := COALESCE(NEW.full_name, NEW.real_name);
        END IF;
        IF NEW.real_name IS NULL THEN
            NEW.real_name := NEW.full_name;
        END IF;
        RETURN NEW;
    END $$""")
    op.execute("""
    CREATE OR REPLACE TRIGGER slack_users_sync_full_name BEFORE INSERT OR UPDATE ON public.slack_users
        FOR EACH ROW EXECUTE FUNCTION public.slack_users_sync_full_name()""")
    with op.get_context().autocommit_block():
        # A DO block outside a transaction block may COMMIT: each batch is its own transaction.
        op.execute("""
        DO $$ DECLARE n bigint; BEGIN
            LOOP
                UPDATE public.slack_users SET full_name = real_name
                 WHERE user_id IN (SELECT user_id FROM public.slack_users
                                    WHERE full_name IS NULL AND real_name IS NOT NULL LIMIT 5000);
                GET DIAGNOSTICS n = ROW_COUNT;
                EXIT WHEN n = 0;
                COMMIT;
            END LOOP;
        END $$""")


def downgrade(**kw: object) -> None:
    """Refused (SQLSTATE NM001, nothing changed) while full_name holds what real_name does not."""
    op.execute("""
    DO $$ DECLARE n bigint; BEGIN
        -- nakamura-db guard: drop-column public.slack_users.full_name
        IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.slack_users')
                    AND attname = 'full_name' AND NOT attisdropped) THEN
            SELECT count(*) INTO n FROM public.slack_users WHERE full_name IS DISTINCT FROM real_name;
            IF n > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                    'refused: downgrading 0008 would drop slack_users.full_name, which differs from real_name '
                    'in %s row(s). Copy them to real_name first. Nothing was changed.', n);
            END IF;
        END IF;
    END $$""")
    op.execute("DROP TRIGGER IF EXISTS slack_users_sync_full_name ON public.slack_users")
    op.execute("DROP FUNCTION IF EXISTS public.slack_users_sync_full_name()")
    op.execute("ALTER TABLE public.slack_users DROP COLUMN IF EXISTS full_name")
