"""lower-case e-mail addresses

Revision: 0008
Revises: 0007
Created: 2026-12-07

Why: the application compares addresses case-sensitively. One UPDATE whose
WHERE skips the rows already done: idempotent, no connection needed, the same
statement online and under --sql. The count is logged only online.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


log = logging.getLogger("alembic.runtime.migration")


def upgrade(**kw: object) -> None:
    result = op.execute("UPDATE public.slack_users SET email = lower(email) WHERE email <> lower(email)")
    if not op.get_context().as_sql:
        log.info("lower-cased %s e-mail address(es)", getattr(result, "rowcount", "?"))


def downgrade(**kw: object) -> None:
    log.info("e-mail addresses stay lower case")
