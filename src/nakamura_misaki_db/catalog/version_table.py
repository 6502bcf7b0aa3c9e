"""Reading ``alembic_version`` and the newest revision, with nothing heavier than psycopg.

Kept apart so the no-op deploy (database already at head) answers without
importing Alembic, alembic-utils or the models.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nakamura_misaki_db.schema.quoting import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

VERSION_TABLE = "alembic_version"
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


def read_version(conn: Connection, schema: str = "public") -> tuple[str, ...] | None:
    """Rows of ``alembic_version``, or None when the table does not exist."""
    import sqlalchemy as sa

    table = ident(schema, VERSION_TABLE)
    exists = conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": table})
    if exists is None:
        return None
    rows = conn.execute(sa.text(f"SELECT version_num FROM {table}"))
    return tuple(sorted(str(r[0]) for r in rows))


def read_version_psycopg(conn: Any, schema: str = "public") -> tuple[str, ...] | None:
    """The same, on a plain psycopg connection (the no-op deploy path: no SQLAlchemy)."""
    table = ident(schema, VERSION_TABLE)
    if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
        return None
    return tuple(sorted(str(r[0]) for r in conn.execute(f"SELECT version_num FROM {table}")))


def numbered_head(versions_dir: Path) -> str | None:
    """The highest ``NNNN_<slug>.py`` id: the head, because the chain is linear and numbered.

    ``baseline-bridge lint`` and the tests enforce that; callers still fall back
    to Alembic whenever this answer does not match the database.
    """
    ids = [m.group(1) for p in versions_dir.iterdir() if (m := _NUMBERED.match(p.name))]
    return max(ids, default=None)
