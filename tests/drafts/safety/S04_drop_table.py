"""Retire the deprecated handoffs table: moved to legacy_archive, not dropped

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application no longer serves handoffs. The table, its rows and its
indexes move to the legacy_archive schema (ALTER TABLE ... SET SCHEMA: catalog
only, brief ACCESS EXCLUSIVE), where nothing reads them; dropping them for good
is a later, separate decision. The downgrade moves it back.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    """Idempotent: moves the table only while it is in public and not yet in the archive."""
    op.execute("""
    DO $$ BEGIN
        IF to_regclass('public.handoffs') IS NOT NULL AND to_regclass('legacy_archive.handoffs') IS NULL THEN
            CREATE SCHEMA IF NOT EXISTS legacy_archive;
            ALTER TABLE public.handoffs SET SCHEMA legacy_archive;
        END IF;
    END $$""")


def downgrade(**kw: object) -> None:
    op.execute("""
    DO $$ BEGIN
        IF to_regclass('legacy_archive.handoffs') IS NOT NULL AND to_regclass('public.handoffs') IS NULL THEN
            ALTER TABLE legacy_archive.handoffs SET SCHEMA public;
        END IF;
    END $$""")
