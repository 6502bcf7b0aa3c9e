"""Verify: what is still different from the frozen 0001 definition (nothing, after a good apply)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.catalog.state import differences_from_0001
from nakamura_misaki_db.diff import Difference
from nakamura_misaki_db.schema.target import target_catalog


def remaining_differences(conn: Connection) -> list[Difference]:
    """Differences left against 0001: objects we do not own, and later revisions' objects exactly as
    those revisions define them (they adopt them), are not differences."""
    return differences_from_0001(inspect_database(conn), target_catalog())
