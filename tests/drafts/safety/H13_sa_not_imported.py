"""add tasks.external_ref

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application links tasks to tickets. The file was made by a plain
`alembic revision` (which imports only what it uses: `op`), then the column
was typed in by hand: `sa` is used and never imported (NameError at deploy).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    """Idempotent: check before creating or dropping (see MIGRATION_GUIDE.md)."""
    op.add_column("tasks", sa.Column("external_ref", sa.String(100), nullable=True), if_not_exists=True)


def downgrade(**kw: object) -> None:
    op.drop_column("tasks", "external_ref", if_exists=True)
