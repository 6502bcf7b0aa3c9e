"""Benchmark of ``check-app --probe``: how long the round trips take for every table the application maps.

    python bench/bench_check_app.py                 # 100k tasks + 100k conversations
    python bench/bench_check_app.py --quick         # 1k rows, a smoke run

The database is production as it most likely is (state S7 with sample rows) after ``baseline-bridge
apply`` and ``nakamura-init-db``, on an embedded PostgreSQL 16 (or the server of BENCH_DATABASE_URL, a
role that may create databases). The mappings are those of the application-style checkout
``tests/app_fixtures/assistant`` (fixed release: eight classes of three Bases) together with this
release's own head models (``nakamura_misaki_db.schema.models:Base``: one class per table, thirteen),
so that every table of the schema is probed, ``tasks`` three times: 21 mappings.

Measured, each the median of --runs runs (max in brackets):

1. the probe itself (``run_probe``: connect, read the catalog, every mapping's round trips, roll back)
   per driver, in this process; the goal is at most 2 s for all the application's tables;
2. the whole command as an operator runs it, ``baseline-bridge check-app src MODELS --probe --driver
   both`` from the checkout (Python start-up, imports, discovery, catalog, both probes), next to its
   floor: the same command without ``--probe`` (start-up, imports, discovery, catalog).

It asserts nothing and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.app_release: the checkout and its fix, as the tests make them

from bench_server import libpq, server  # noqa: E402  (bench/, the script's own folder)

from nakamura_misaki_db.appcheck.discover import discover  # noqa: E402
from nakamura_misaki_db.appcheck.probe_run import run_probe  # noqa: E402
from nakamura_misaki_db.connect.urls import DatabaseUrl  # noqa: E402
from tests.app_release import imported_from, release  # noqa: E402

VENV_BIN = Path(sys.executable).parent
OUR_MODELS = "nakamura_misaki_db.schema.models:Base"
GOAL_S = 2.0


def bridged_database(server_url: URL, rows: int) -> URL:
    """S7 with ``rows`` tasks and conversations, bridged and at head."""
    import sqlalchemy as sa

    from nakamura_misaki_db.legacy.sample_data import populate
    from nakamura_misaki_db.legacy.states import build_state

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        build_state(conn, "S7")
        populate(conn, "S7", rows=rows)
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": libpq(url)}
    for command in ([str(VENV_BIN / "baseline-bridge"), "apply", "--legacy-timezone", "UTC", "--quiet"],
                    [str(VENV_BIN / "nakamura-init-db")]):
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return url


def timed(action: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def shown(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:,.0f} ms [{max(seconds) * 1000:,.0f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="tasks and conversations (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each measure (default 5)")
    parser.add_argument("--quick", action="store_true", help="1k rows, 2 runs (smoke run)")
    args = parser.parse_args(argv)
    rows, runs = (1_000, 2) if args.quick else (args.rows, args.runs)
    with server() as srv, tempfile.TemporaryDirectory(prefix="nakamura-bench-app-") as tmp:
        print(f"building S7 with {rows:,} rows, bridged, at head ...", flush=True)
        url = bridged_database(srv, rows)
        checkout = release(Path(tmp) / "assistant", fixed=True)
        targets = ["src", OUR_MODELS]
        with imported_from(checkout):
            models = discover(targets).models
            tables = {m.table.fullname for m in models.mappings}
            print(f"{len(models.mappings)} mappings over {len(tables)} tables", flush=True)
            target = DatabaseUrl.of(url)
            probes = {d: timed(lambda d=d: run_probe(target, models, d), runs) for d in ("psycopg", "asyncpg")}
        env = {**os.environ, "DATABASE_URL": libpq(url)}
        command = [str(VENV_BIN / "baseline-bridge"), "check-app", *targets]

        def cli(*extra: str) -> None:
            done = subprocess.run([*command, *extra], cwd=checkout, env=env, capture_output=True, text=True)
            assert done.returncode in (0, 3), done.stderr  # 3: our head models meet TaskRecord's table; fine

        whole = timed(lambda: cli("--probe", "--driver", "both"), runs)
        floor = timed(lambda: cli(), runs)
    print()
    size = f"{rows:,} tasks + {rows:,} conversations, {len(models.mappings)} mappings"
    print(f"| measure ({size}) | median [max] | goal |")
    print("|---|---:|---|")
    for driver, seconds in probes.items():
        met = "met" if statistics.median(seconds) <= GOAL_S else "MISSED"
        print(f"| probe on {driver} (connect, catalog, every round trip, rollback) | {shown(seconds)} | "
              f"<= {GOAL_S:.0f} s: **{met}** |")
    print(f"| `check-app src {OUR_MODELS} --probe --driver both`, whole command | {shown(whole)} | |")
    print(f"| the same without `--probe` (start-up, imports, discovery, catalog) | {shown(floor)} | floor |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
