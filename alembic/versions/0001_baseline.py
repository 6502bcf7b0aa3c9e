"""Baseline: the whole nakamura-misaki schema, replacing the seven legacy revisions.

Revision: 0001
Revises:
Created: 2026-11-27

Idempotent and guarded: it reads the database, refuses (changing nothing) if
any existing object differs from the frozen definition, and otherwise creates
only what is missing. The definition is ``nakamura_misaki_db.schema.frozen.r0001_baseline``,
frozen: it never reads the live models.

Offline (``alembic upgrade head --sql``) there is no catalog to read: the whole
definition is rendered for an empty database (``deploy.offline``).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from nakamura_misaki_db.revision_api import baseline_downgrade, baseline_upgrade

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade(**kw: object) -> None:
    baseline_upgrade(op)


def downgrade(**kw: object) -> None:
    baseline_downgrade(op, **kw)
