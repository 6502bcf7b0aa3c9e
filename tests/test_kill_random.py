"""kill -9 at random moments of a phased apply (issue 22, "What to build" 4), a few runs per suite run.

Each kill leaves the old fingerprint, the new one, or a state that the next ``status`` names and the
next ``apply`` finishes; never anything else (``kill_runs.py`` says exactly what each outcome checks;
run it with ``--runs 200`` for the README's figure).
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from .kill_runs import run_kills


@pytest.mark.slow
def test_every_kill_leaves_old_new_or_a_named_leftover_the_rerun_finishes(pg_server_url: URL) -> None:
    outcomes, _ = run_kills(pg_server_url, runs=8, seed=22, rows=100)
    assert outcomes["mixed"] == 0, outcomes
    assert sum(outcomes.values()) == 8
