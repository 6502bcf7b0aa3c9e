"""Merge task_status 'cancelled' into 'completed'

Revision: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

from nakamura_misaki_db.revision_api import PGEnum

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade(**kw: object) -> None:
    op.replace_entity(PGEnum("public", "task_status", labels=["pending", "in_progress", "completed"],
                             renames={"cancelled": "completed"}))


def downgrade(**kw: object) -> None:
    # The label comes back (in place); the merged rows stay 'completed': which ones were is not recorded.
    op.replace_entity(PGEnum("public", "task_status", labels=["pending", "in_progress", "completed", "cancelled"]))
