"""${message}

Revision: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401  (autogenerate writes sa.* here)
from alembic import op  # noqa: F401
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade(**kw: object) -> None:
    """Idempotent: check before creating or dropping (see MIGRATION_GUIDE.md)."""
    ${upgrades if upgrades else "pass"}


def downgrade(**kw: object) -> None:
    ${downgrades if downgrades else "pass"}
