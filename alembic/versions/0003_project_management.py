"""Add the project management tables: projects and project_tasks.

Revision: 0003
Revises: 0002
Created: 2026-11-28

Mirrors the application's revision ``002`` (002_add_project_management.py) of its second
chain, one of ours per one of theirs, in the same order (app-chain.md).
The application groups tasks into projects since its revision 002; its
latest release reads and writes both tables, so a head without them breaks it.

What it creates is frozen in ``nakamura_misaki_db.schema.frozen.r0003_project_management``
(never the live models). It is guarded and idempotent
(``revision_api.guarded_upgrade``): absent objects are created, identical ones
adopted (a database where the application's own ``002`` already ran), different
ones refused with every difference listed and nothing changed. The downgrade
refuses to drop rows unless run with ``-x allow_data_loss=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import guarded_downgrade, guarded_upgrade

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    guarded_upgrade(op, "0003")


def downgrade(**kw: object) -> None:
    guarded_downgrade(op, "0003", **kw)
