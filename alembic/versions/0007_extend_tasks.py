"""Extend tasks with priority, progress_percent and estimated_hours.

Revision: 0007
Revises: 0006
Created: 2026-11-28

Mirrors the application's revision ``006`` (006_extend_tasks_table.py) of its second
chain, one of ours per one of theirs, in the same order (app-chain.md).
The application's revision 006 added the three columns (defaults 5 and 0),
the CHECK ck_tasks_progress_percent_range and idx_tasks_priority; its latest
release reads and writes them. Adding a NOT NULL column with a constant
default is catalog-only in PostgreSQL 11+; the CHECK scans tasks once.

What it creates is frozen in ``nakamura_misaki_db.schema.frozen.r0007_extend_tasks``
(never the live models). It is guarded and idempotent
(``revision_api.guarded_upgrade``): absent objects are created, identical ones
adopted (a database where the application's own ``006`` already ran), different
ones refused with every difference listed and nothing changed. The downgrade
refuses to drop rows unless run with ``-x allow_data_loss=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import guarded_downgrade, guarded_upgrade

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    guarded_upgrade(op, "0007")


def downgrade(**kw: object) -> None:
    guarded_downgrade(op, "0007", **kw)
