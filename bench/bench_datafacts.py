"""How long `nakamura-db lint --database-url` takes on a big table, and that it blocks no writer.

    python bench/bench_datafacts.py --rows 1000000   # tasks at 1M rows (the README's figure)
    python bench/bench_datafacts.py --rows 10000     # a smoke run

The server is an embedded PostgreSQL 16 (pgserver) in a temp dir, or the server of
BENCH_DATABASE_URL (a role that may create databases). A database at this release's head gets
ROWS tasks (a third with NULL due_at, a quarter with estimated_hours, a tenth 'cancelled'),
then ANALYZE. One revision after head (tests/drafts/safety/: drop estimated_hours, SET NOT
NULL due_at, a CHECK, removing 'cancelled'; four hazards on tasks) is linted with the facts:
the figure is the wall time of `run_lint` in this process (median of --runs), and the
longest single INSERT into tasks by a writer running every 10 ms during the lints.

It asserts nothing and exits 0.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DRAFTS = ["H03_drop_column", "H08_set_not_null", "H11_check_without_not_valid", "H15_enum_label_removal"]


def _fill(url: sa.URL, rows: int) -> None:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with eng.begin() as conn:
        conn.exec_driver_sql(f"""
            INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, due_at, estimated_hours,
                               created_at, updated_at)
            SELECT gen_random_uuid(), 'task ' || i, 'U' || mod(i, 500), 'U0',
                   (CASE WHEN mod(i, 10) = 0 THEN 'cancelled' ELSE 'pending' END)::task_status,
                   CASE WHEN mod(i, 3) = 0 THEN NULL ELSE now() END,
                   CASE WHEN mod(i, 4) = 0 THEN 1.5 END, now(), now()
            FROM generate_series(1, {rows}) i""")
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE tasks")
    eng.dispose()


def _writer(url: str, stop: mp.Event, worst: mp.Value) -> None:  # type: ignore[type-arg]
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        while not stop.is_set():
            start = time.perf_counter()
            conn.exec_driver_sql(
                "INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'w', 'U1', 'U0', 'pending', now(), now())")
            conn.commit()
            worst.value = max(worst.value, time.perf_counter() - start)
            time.sleep(0.01)
    eng.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from nakamura_misaki_db.authoring.lint_command import run_lint
    from nakamura_misaki_db.connect.urls import parse_database_url, with_password
    from tests.helpers import admin_engine, upgrade, with_drafts

    with tempfile.TemporaryDirectory() as tmp:
        external = os.environ.get("BENCH_DATABASE_URL")
        server = None
        if external:
            base = parse_database_url(external, source="BENCH_DATABASE_URL")
        else:
            import pgserver

            server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="delete")
            base = parse_database_url(server.get_uri(), source="embedded bench server")
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with admin_engine(base).connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name)
        try:
            upgrade(url)
            start = time.perf_counter()
            _fill(url, args.rows)
            print(f"tasks: {args.rows:,} rows filled in {time.perf_counter() - start:.1f} s")
            versions = with_drafts(Path(tmp) / "copy", *DRAFTS) / "alembic" / "versions"
            stop, worst = mp.Event(), mp.Value("d", 0.0)
            writer = mp.Process(target=_writer, args=(with_password(url), stop, worst))
            writer.start()
            times = []
            try:
                for _ in range(args.runs):
                    start = time.perf_counter()
                    with redirect_stdout(StringIO()) as out:
                        run_lint(str(versions), database_url=with_password(url))
                    times.append(time.perf_counter() - start)
            finally:
                stop.set()
                writer.join()
            facts = [ln.strip() for ln in out.getvalue().splitlines() if ln.strip().startswith("data:")]
            print(f"lint --database-url, {len(DRAFTS)} revisions on tasks: median {statistics.median(times):.2f} s "
                  f"of {args.runs} runs (each {', '.join(f'{t:.2f}' for t in times)} s)")
            print(f"worst writer INSERT during the lints: {worst.value * 1000:.0f} ms")
            for fact in facts:
                print(f"  {fact}")
        finally:
            with admin_engine(base).connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if server is not None:
                server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
