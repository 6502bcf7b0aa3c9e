"""Add notifications.

Revision: 0006
Revises: 0005
Created: 2026-11-28

Mirrors the application's revision ``005`` (005_add_notifications.py) of its second
chain, one of ours per one of theirs, in the same order (app-chain.md).
The application's revision 005 added the notifications it sends (with a
partial index of unread ones per user); its latest release uses the table.

What it creates is frozen in ``nakamura_misaki_db.schema.frozen.r0006_notifications``
(never the live models). It is guarded and idempotent
(``revision_api.guarded_upgrade``): absent objects are created, identical ones
adopted (a database where the application's own ``005`` already ran), different
ones refused with every difference listed and nothing changed. The downgrade
refuses to drop rows unless run with ``-x allow_data_loss=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import guarded_downgrade, guarded_upgrade

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    guarded_upgrade(op, "0006")


def downgrade(**kw: object) -> None:
    guarded_downgrade(op, "0006", **kw)
