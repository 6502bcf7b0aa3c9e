"""Verify: what is still different from the frozen 0001 definition (nothing, after a good apply)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ..catalog import inspect_database
from ..dbstate import differences_from_0001
from ..diff import Difference
from ..target import target_catalog


def remaining_differences(conn: Connection) -> list[Difference]:
    """Differences left against 0001: objects we do not own, and later revisions' objects exactly as
    those revisions define them (they adopt them), are not differences."""
    return differences_from_0001(inspect_database(conn), target_catalog())
