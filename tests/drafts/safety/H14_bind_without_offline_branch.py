"""lower-case e-mail addresses

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application compares addresses case-sensitively. The fix counts
first and logs how many it changed, through op.get_bind(): no offline branch,
so `alembic upgrade --sql` and `nakamura-init-db --sql` fail here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade(**kw: object) -> None:
    """Idempotent: check before creating or dropping (see MIGRATION_GUIDE.md)."""
    bind = op.get_bind()
    n = bind.scalar(sa.text("SELECT count(*) FROM slack_users WHERE email <> lower(email)"))
    if n:
        bind.execute(sa.text("UPDATE slack_users SET email = lower(email) WHERE email <> lower(email)"))
    log.info("lower-cased %s e-mail address(es)", n)


def downgrade(**kw: object) -> None:
    log.info("e-mail addresses stay lower case")
