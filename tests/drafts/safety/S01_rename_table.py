"""Rename handoffs to task_handoffs (in place)

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application calls them task handoffs now. A rename, not create-new +
drop-old: the rows stay, ALTER TABLE ... RENAME is catalog-only (a brief
ACCESS EXCLUSIVE lock, bounded by lock_timeout). Renaming an index that backs
a constraint renames the constraint too. One DO block: idempotent, and the same
statement online and under --sql.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RENAMES = (  # (old, new): the table first, then its indexes (the primary key's too)
    ("handoffs", "task_handoffs"),
    ("handoffs_pkey", "task_handoffs_pkey"),
    ("idx_handoffs_from_user", "idx_task_handoffs_from_user"),
    ("idx_handoffs_to_user", "idx_task_handoffs_to_user"),
    ("idx_handoffs_status", "idx_task_handoffs_status"),
)


def _rename(pairs: tuple[tuple[str, str], ...]) -> str:
    (old_table, new_table), *indexes = pairs
    steps = "\n".join(f"            ALTER INDEX IF EXISTS public.{old} RENAME TO {new};" for old, new in indexes)
    return f"""
    DO $$ BEGIN
        IF to_regclass('public.{old_table}') IS NOT NULL AND to_regclass('public.{new_table}') IS NULL THEN
            ALTER TABLE public.{old_table} RENAME TO {new_table};
{steps}
        END IF;
    END $$"""


def upgrade(**kw: object) -> None:
    """Idempotent: renames only while the old name exists and the new one does not."""
    op.execute(_rename(RENAMES))


def downgrade(**kw: object) -> None:
    op.execute(_rename(tuple((new, old) for old, new in RENAMES)))
