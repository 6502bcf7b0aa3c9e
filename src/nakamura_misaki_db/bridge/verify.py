"""Verify: what is still different from the frozen 0001 definition (nothing, after a good apply)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ..catalog import inspect_database
from ..diff import Difference, diff
from ..target import target_catalog


def remaining_differences(conn: Connection) -> list[Difference]:
    """Differences left against 0001, ignoring objects the target does not own."""
    return [d for d in diff(inspect_database(conn), target_catalog()) if not d.foreign]
