"""FROZEN. Revision ``0002``: the two redundant indexes on ``conversations`` are dropped.

It creates nothing, so it has no ``RevisionSchema``; what it removes is written
out here (as its script does) so that "what must revision R have built" can be
answered for every revision, from the frozen definitions alone.
"""

from __future__ import annotations

REVISION = "0002"

# table -> indexes this revision drops (both duplicate another index on the same columns).
DROPS: dict[str, tuple[str, ...]] = {
    "conversations": ("idx_conversations_user_channel", "ix_conversations_last_message_at"),
}
