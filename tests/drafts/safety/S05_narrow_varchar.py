"""Limit slack_users.name to 100 characters, checked against the rows first

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application's UI cuts names at 100 characters. The narrowing is refused
(SQLSTATE NM001, nothing changed, the count given) while a longer name exists;
fix those rows first. varchar(255) -> varchar(100) rewrites the table and its
indexes under ACCESS EXCLUSIVE: reviewed for slack_users (~20k rows, ~0.1 s).
On a big table keep the type and add CHECK (char_length(name) <= 100) NOT VALID
+ VALIDATE instead (S11).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SAFETY_REVIEWED: dict[str, str] = {
    "type-rewrite public.slack_users.name": "slack_users holds ~20k rows: the rewrite takes ~0.1 s "
    "(reviewed 2026-12-07)",
}


def _refuse_longer_than(limit: int, verb: str) -> str:
    return f"""
    DO $$ DECLARE n bigint; BEGIN
        -- nakamura-db guard: type-narrow public.slack_users.name {limit}
        SELECT count(*) INTO n FROM public.slack_users WHERE char_length(name) > {limit};
        IF n > 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'NM001', MESSAGE = format(
                'refused: {verb} would narrow slack_users.name to varchar({limit}), but %s row(s) hold a longer '
                'name. Shorten them first. Nothing was changed.', n);
        END IF;
    END $$"""


def upgrade(**kw: object) -> None:
    """Idempotent: ALTER ... TYPE to the type it already has is a no-op (no rewrite)."""
    op.execute(_refuse_longer_than(100, "upgrading to 0008"))
    op.execute("ALTER TABLE public.slack_users ALTER COLUMN name TYPE varchar(100)")


def downgrade(**kw: object) -> None:
    """Widening is catalog-only (no rewrite, no scan)."""
    op.execute("ALTER TABLE public.slack_users ALTER COLUMN name TYPE varchar(255)")
