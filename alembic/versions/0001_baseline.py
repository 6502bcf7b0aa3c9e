"""Baseline: the whole nakamura-misaki schema, replacing the seven legacy revisions.

Revision: 0001
Revises:
Created: 2026-11-27

Idempotent and guarded: it reads the database, refuses (changing nothing) if
any existing object differs from the frozen definition, and otherwise creates
only what is missing. The definition is ``nakamura_misaki_db.baseline_0001``,
frozen: it never reads the live models.

Offline (``alembic upgrade head --sql``) there is no catalog to read: the whole
definition is rendered for an empty database (``nakamura_misaki_db.offline``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db import baseline, offline

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    if op.get_context().as_sql:
        offline.render_baseline_upgrade(op)
        return
    baseline.upgrade(op.get_bind())


def downgrade(**kw: object) -> None:
    if op.get_context().as_sql:
        offline.refuse_baseline_downgrade()
    baseline.downgrade(op.get_bind(), allow_data_loss=bool(kw.get("allow_data_loss")))
