"""Add the team analytics tables: daily_summaries and team_metrics.

Revision: 0005
Revises: 0004
Created: 2026-11-28

Mirrors the application's revision ``004`` (004_add_team_analytics.py) of its second
chain, one of ours per one of theirs, in the same order (app-chain.md).
The application's revision 004 added them for its daily reports; production
has them with pk_* primary keys, server defaults 0 and a jsonb metadata
column, and that is the shape created (and required, to adopt) here.

What it creates is frozen in ``nakamura_misaki_db.schema.frozen.r0005_team_analytics``
(never the live models). It is guarded and idempotent
(``revision_api.guarded_upgrade``): absent objects are created, identical ones
adopted (a database where the application's own ``004`` already ran), different
ones refused with every difference listed and nothing changed. The downgrade
refuses to drop rows unless run with ``-x allow_data_loss=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import guarded_downgrade, guarded_upgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    guarded_upgrade(op, "0005")


def downgrade(**kw: object) -> None:
    guarded_downgrade(op, "0005", **kw)
