"""Drop the two redundant indexes on conversations.

Revision: 0002
Revises: 0001
Created: 2026-11-27

Why: both indexes duplicate another index on the same columns, so every
insert and update of a conversation paid for maintaining them and no query
plan gained anything:

- ``idx_conversations_user_channel (user_id, channel_id)`` duplicates the
  index behind the unique constraint ``uq_conversations_user_channel``;
- ``ix_conversations_last_message_at (last_message_at)`` duplicates
  ``idx_conversations_last_message``.

Idempotent both ways: ``DROP INDEX IF EXISTS`` / ``CREATE INDEX IF NOT EXISTS``,
so re-running it (after a stamp, or on a database where someone already
dropped them by hand) is harmless. The downgrade recreates them exactly as the
frozen ``0001`` definition has them. Like every migration, it spells out its
own DDL and never imports the live models.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> columns, as in baseline_0001 (written out here: migrations are frozen too).
REDUNDANT_INDEXES: dict[str, tuple[str, ...]] = {
    "idx_conversations_user_channel": ("user_id", "channel_id"),
    "ix_conversations_last_message_at": ("last_message_at",),
}


def upgrade(**kw: object) -> None:
    """Idempotent: drops each index only if it is there."""
    for name in REDUNDANT_INDEXES:
        op.execute(f'DROP INDEX IF EXISTS public."{name}"')


def downgrade(**kw: object) -> None:
    """Recreate both indexes (only those missing)."""
    for name, columns in REDUNDANT_INDEXES.items():
        cols = ", ".join(f'"{c}"' for c in columns)
        op.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON public.conversations ({cols})')
