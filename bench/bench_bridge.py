"""Benchmarks for the migration layer. Prints one table of figures; asserts nothing.

    python bench/bench_bridge.py                 # S1 at 100k rows, enum fix at 1M rows
    python bench/bench_bridge.py --rows 100000 --rows 1000000
    python bench/bench_bridge.py --quick         # 10k rows, for a smoke run

The server is an embedded PostgreSQL 16 (pgserver) in a temp dir, or the
server of BENCH_DATABASE_URL (a role that may create databases).

What it measures, all on the same server in one run:
- fixed costs: `alembic upgrade head` on an empty database vs `alembic current`
  on it (the price of starting Python + Alembic), and the no-op deploy
  (`nakamura-init-db` at head) vs a bare Alembic no-op upgrade with a minimal
  env.py;
- on state S1 with N rows in tasks and conversations: inspection (catalog
  only), `plan`, `apply` (UTC and Asia/Tokyo), and the worst latency a
  concurrent writer inserting into `conversations` every 10 ms sees during
  `apply`;
- the enum fix on a 1M-row table: `RENAME VALUE` + `ADD VALUE` vs the legacy
  type swap of revision ca1f08e0bc8a, and whether either rewrote the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import make_plan
from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.catalog import inspect_database
from nakamura_misaki_db.db import run_sql
from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.urls import parse_database_url, with_password

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
ROWS: list[tuple[str, str, str]] = []


def report(what: str, value: str, note: str = "") -> None:
    ROWS.append((what, value, note))
    print(f"  {what}: {value} {note}".rstrip(), file=sys.stderr, flush=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(n: int, fn: Callable[[], object]) -> float:
    return statistics.median(timed(fn) for _ in range(n))


@contextmanager
def server() -> Iterator[URL]:
    external = os.environ.get("BENCH_DATABASE_URL")
    if external:
        yield parse_database_url(external, source="BENCH_DATABASE_URL")
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="nakamura-bench-") as tmp:
        srv = pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        try:
            yield parse_database_url(srv.get_uri(), source="embedded")
        finally:
            srv.cleanup()


class Databases:
    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
        self.admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    def create(self, template: str | None = None) -> URL:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.server_url.set(database=name)

    def drop(self, url: URL) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def run_cmd(args: list[str], url: URL, cwd: Path | None = None) -> None:
    env = {**os.environ, "DATABASE_URL": with_password(url)}
    result = subprocess.run(args, env=env, cwd=cwd or REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def alembic(*args: str) -> list[str]:
    return [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), *args]


MINIMAL_ENV = textwrap.dedent(
    """\
    import os
    from alembic import context
    from sqlalchemy import create_engine

    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    with create_engine(url).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    """
)
MINIMAL_REVISION = textwrap.dedent(
    """\
    revision = "b1"
    down_revision = None
    branch_labels = None
    depends_on = None

    def upgrade():
        pass

    def downgrade():
        pass
    """
)


def bench_fixed_costs(dbs: Databases) -> None:
    print("fixed costs ...", file=sys.stderr)
    ups, currents = [], []
    for _ in range(3):
        url = dbs.create()
        ups.append(timed(lambda u=url: run_cmd(alembic("upgrade", "head"), u)))
        currents.append(timed(lambda u=url: run_cmd(alembic("current"), u)))
        dbs.drop(url)
    up, cur = statistics.median(ups), statistics.median(currents)
    report("`alembic upgrade head`, empty database", f"{up:.2f} s", "(median of 3)")
    report("`alembic current`, same database", f"{cur:.2f} s", "(median of 3)")
    report("upgrade head / current", f"{up / cur:.2f}x", "(the rest is Python + Alembic start-up)")

    url = dbs.create()
    run_cmd([str(VENV_BIN / "nakamura-init-db")], url)
    ours = median_of(5, lambda: run_cmd([str(VENV_BIN / "nakamura-init-db")], url))
    with tempfile.TemporaryDirectory(prefix="bare-alembic-") as tmp:
        root = Path(tmp)
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(MINIMAL_ENV)
        (root / "migrations" / "versions" / "b1_noop.py").write_text(MINIMAL_REVISION)
        (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
        bare_db = dbs.create()
        bare = [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), "upgrade", "head"]
        run_cmd(bare, bare_db, cwd=root)
        base = median_of(5, lambda: run_cmd(bare, bare_db, cwd=root))
        dbs.drop(bare_db)
    dbs.drop(url)
    report("no-op deploy: `nakamura-init-db` at head", f"{ours:.2f} s", "(median of 5)")
    report("bare Alembic no-op upgrade, minimal env.py", f"{base:.2f} s", "(median of 5)")
    report("no-op deploy / bare Alembic", f"{ours / base:.2f}x", "(target <= 1.2)")


class Writer(threading.Thread):
    """Inserts into conversations every 10 ms and records each insert's latency."""

    def __init__(self, url: URL) -> None:
        super().__init__(daemon=True)
        self.dsn = with_password(url.set(drivername="postgresql"))
        self.stop = threading.Event()
        self.samples: list[tuple[float, float]] = []  # (start, latency)

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            n = 0
            while not self.stop.is_set():
                n += 1
                start = time.perf_counter()
                conn.execute(
                    "INSERT INTO conversations (conversation_id, user_id, channel_id, messages, created_at,"
                    " updated_at, last_message_at) VALUES (gen_random_uuid(), %s, 'C-bench', '[]', now(), now(),"
                    " now())",
                    (f"bench-{n}",),
                )
                self.samples.append((start, time.perf_counter() - start))
                time.sleep(0.01)

    def worst_between(self, t0: float, t1: float) -> float:
        return max((lat for start, lat in self.samples if start + lat >= t0 and start <= t1), default=0.0)


def bench_bridge(dbs: Databases, rows: int) -> None:
    print(f"S1 with {rows:,} rows ...", file=sys.stderr)
    template = dbs.create()
    engine = sa.create_engine(template, poolclass=sa.pool.NullPool)
    build_time = timed(lambda: _build(engine, rows))
    engine.dispose()
    report(f"[{rows:,}] build S1 + sample data", f"{build_time:.1f} s", "(setup, not the tool)")
    label = f"[{rows:,}]"

    work = dbs.create(template=template.database)
    eng = sa.create_engine(work, poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        t_inspect = median_of(3, lambda: (inspect_database(conn), conn.rollback()))
        t_plan = median_of(3, lambda: (make_plan(conn, legacy_timezone="UTC"), conn.rollback()))
    eng.dispose()
    report(f"{label} inspect (catalog only)", f"{t_inspect * 1000:.0f} ms", "(median of 3)")
    report(f"{label} plan", f"{t_plan * 1000:.0f} ms", "(median of 3; includes the data checks)")
    dbs.drop(work)

    for zone in ("UTC", "Asia/Tokyo"):
        work = dbs.create(template=template.database)
        writer = Writer(work)
        writer.start()
        time.sleep(0.3)
        eng = sa.create_engine(work, poolclass=sa.pool.NullPool)
        with eng.connect() as conn:
            t0 = time.perf_counter()
            result = apply_plan(conn, legacy_timezone=zone)
            t1 = time.perf_counter()
        eng.dispose()
        time.sleep(0.3)
        writer.stop.set()
        writer.join()
        assert result.status == "applied", result
        report(f"{label} apply, --legacy-timezone {zone}", f"{t1 - t0:.2f} s",
               f"(rewrote: {', '.join(result.tables_rewritten) or 'nothing'})")
        report(f"{label} worst writer stall during apply ({zone})", f"{writer.worst_between(t0, t1) * 1000:.0f} ms",
               f"({len(writer.samples)} inserts into conversations)")
        dbs.drop(work)
    dbs.drop(template)


def _build(engine: sa.Engine, rows: int) -> None:
    with engine.begin() as conn:
        build_state(conn, "S1")
        populate(conn, "S1", rows=rows)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


ENUM_TABLE = """
CREATE TYPE task_status AS ENUM ('PENDING', 'IN_PROGRESS', 'COMPLETED');
CREATE TABLE tasks (id bigint PRIMARY KEY, status task_status NOT NULL, title text NOT NULL);
INSERT INTO tasks SELECT g, (ARRAY['PENDING', 'IN_PROGRESS', 'COMPLETED'])[1 + g % 3]::task_status, 'task ' || g
FROM generate_series(1, {rows}) AS g;
CREATE INDEX ix_tasks_status ON tasks (status);
"""

RENAME_FIX = """
ALTER TYPE task_status RENAME VALUE 'PENDING' TO 'pending';
ALTER TYPE task_status RENAME VALUE 'IN_PROGRESS' TO 'in_progress';
ALTER TYPE task_status RENAME VALUE 'COMPLETED' TO 'completed';
ALTER TYPE task_status ADD VALUE 'cancelled' AFTER 'completed';
"""

# What legacy revision ca1f08e0bc8a did: a new type, a full rewrite, a swap.
TYPE_SWAP_FIX = """
CREATE TYPE task_status_new AS ENUM ('pending', 'in_progress', 'completed', 'cancelled');
ALTER TABLE tasks ALTER COLUMN status TYPE task_status_new USING lower(status::text)::task_status_new;
DROP TYPE task_status;
ALTER TYPE task_status_new RENAME TO task_status;
"""


def bench_enum_fix(dbs: Databases, rows: int) -> None:
    print(f"enum fix on {rows:,} rows ...", file=sys.stderr)
    template = dbs.create()
    eng = sa.create_engine(template, poolclass=sa.pool.NullPool)
    with eng.begin() as conn:
        run_sql(conn, ENUM_TABLE.format(rows=rows))
    eng.dispose()
    results = {}
    for name, sql in (("RENAME VALUE + ADD VALUE", RENAME_FIX), ("legacy type swap (ca1f08e0bc8a)", TYPE_SWAP_FIX)):
        url = dbs.create(template=template.database)
        eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with eng.begin() as conn:
            before = conn.exec_driver_sql("SELECT relfilenode FROM pg_class WHERE relname = 'tasks'").scalar()
            start = time.perf_counter()
            run_sql(conn, sql)
            elapsed = time.perf_counter() - start
            after = conn.exec_driver_sql("SELECT relfilenode FROM pg_class WHERE relname = 'tasks'").scalar()
            labels = conn.exec_driver_sql(
                "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum"
                " WHERE enumtypid = 'task_status'::regtype").scalar()
        eng.dispose()
        dbs.drop(url)
        assert labels == "pending,in_progress,completed,cancelled", labels
        results[name] = elapsed
        report(f"[{rows:,}] enum fix: {name}", f"{elapsed * 1000:.1f} ms",
               "(table rewritten)" if before != after else "(no table rewrite)")
    dbs.drop(template)
    fast, slow = results["RENAME VALUE + ADD VALUE"], results["legacy type swap (ca1f08e0bc8a)"]
    report(f"[{rows:,}] enum fix speed-up", f"{slow / fast:,.0f}x", "(type swap time / RENAME VALUE time)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="S1 row counts (repeatable; default 100000)")
    parser.add_argument("--enum-rows", type=int, default=1_000_000, help="rows for the enum fix (default 1M)")
    parser.add_argument("--quick", action="store_true", help="10k rows everywhere (smoke run)")
    parser.add_argument("--skip-fixed", action="store_true", help="skip the start-up cost figures")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else (args.rows or [100_000])
    enum_rows = 10_000 if args.quick else args.enum_rows
    with server() as server_url:
        dbs = Databases(server_url)
        if not args.skip_fixed:
            bench_fixed_costs(dbs)
        for n in sizes:
            bench_bridge(dbs, n)
        bench_enum_fix(dbs, enum_rows)
        dbs.admin.dispose()
    width = max(len(r[0]) for r in ROWS)
    vwidth = max(len(r[1]) for r in ROWS)
    print(f"{'measure':<{width}}  {'value':>{vwidth}}  note")
    print(f"{'-' * width}  {'-' * vwidth}  ----")
    for what, value, note in ROWS:
        print(f"{what:<{width}}  {value:>{vwidth}}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
