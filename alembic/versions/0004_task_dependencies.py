"""Add task_dependencies: which task blocks which.

Revision: 0004
Revises: 0003
Created: 2026-11-28

Mirrors the application's revision ``003`` (003_add_task_dependencies.py) of its second
chain, one of ours per one of theirs, in the same order (app-chain.md).
The application records task dependencies since its revision 003 (with a
CHECK that no task depends on itself); its latest release uses the table.

What it creates is frozen in ``nakamura_misaki_db.schema.frozen.r0004_task_dependencies``
(never the live models). It is guarded and idempotent
(``revision_api.guarded_upgrade``): absent objects are created, identical ones
adopted (a database where the application's own ``003`` already ran), different
ones refused with every difference listed and nothing changed. The downgrade
refuses to drop rows unless run with ``-x allow_data_loss=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import guarded_downgrade, guarded_upgrade

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    guarded_upgrade(op, "0004")


def downgrade(**kw: object) -> None:
    guarded_downgrade(op, "0004", **kw)
