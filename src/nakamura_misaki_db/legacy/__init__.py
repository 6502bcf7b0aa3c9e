"""Databases as the legacy code left them, for demos, benchmarks and tests.

- ``states``: hand-written DDL that rebuilds each legacy state (S0-S7) in an empty database
  (S6/S7: the application's second chain, app-chain.md).
- ``sample_data``: fills a built state with deterministic, realistic rows.
"""

from __future__ import annotations

from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import LEGACY_REVISIONS, STATES, build_state, state_sql

__all__ = ["LEGACY_REVISIONS", "STATES", "build_state", "populate", "state_sql"]
