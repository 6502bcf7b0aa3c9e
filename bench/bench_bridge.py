"""Benchmarks for the migration layer: one table, each figure next to its floor measured in the same run.

    python bench/bench_bridge.py --rows 1000000   # the incident database at 1M tasks + 1M conversations
    python bench/bench_bridge.py --quick          # 10k rows, a smoke run

The server is an embedded PostgreSQL 16 (pgserver) in a temp dir, or the
server of BENCH_DATABASE_URL (a role that may create databases).

What it measures, all on the same server in one run:

1. Writer stall per table during `baseline-bridge apply` (legacy state S1 +
   sample data, `--legacy-timezone UTC`): one process inserts into
   `conversations` every 10 ms, another into `tasks`, during the whole apply;
   the figure is the worst single insert, median of --runs fresh copies.
   Floors, on other copies of the same database under the same two writers:
   `conversations` during a bare `CREATE UNIQUE INDEX CONCURRENTLY` + `ALTER
   TABLE ... ADD CONSTRAINT ... USING INDEX` (duplicates deleted first, not
   timed); `tasks` during one bare `ALTER TABLE tasks ALTER COLUMN
   assignee_user_id TYPE varchar(50)` (narrowing rewrites the table).
   The bridge's own clock says where the time of each lock goes: its
   before_step hook, plus the statements, verify and COMMIT timed by wrapping
   module-level names from outside (nothing under src/ changes).
2. No-op deploy: `nakamura-init-db` on a database at head vs a bare
   `python -c` that connects with psycopg and reads alembic_version.
3. Enum changes stay catalog-only: on the 1M-row `tasks` (status uses the
   enum), the bridge's RENAME VALUE / ADD VALUE statements vs revision
   ca1f08e0bc8a's type swap; checks (PASS/FAIL) that the bridge path keeps
   `tasks`' relfilenode, holds no lock on `tasks` or its indexes, and completes
   while another session holds ROW EXCLUSIVE on `tasks`, which the type swap
   must wait for.
4. Fixed costs (`alembic upgrade head` on an empty database vs `alembic
   current`), and `inspect` / `plan` at the given size.

It asserts nothing and exits 0, unless a PASS/FAIL check fails (exit 1).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from bench_server import libpq, server  # bench/ is the script's own folder, first on sys.path
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import make_plan
from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.bridge.steps import Action, Step
from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.legacy.first_chain_sql import TASK_STATUS_REBUILD_CA1F08E0BC8A
from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WRITE_EVERY = 0.010  # seconds between a writer's inserts
CONVERSATIONS_GOAL_MS = 100.0
TASKS_GOAL_RATIO = 1.1
NOOP_GOAL_RATIO = 1.3


# -- the table ---------------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    value: str
    floor: str = ""
    ratio: str = ""
    goal: str = ""
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    checks: list[tuple[bool, str]] = field(default_factory=list)

    def add(self, measure: str, value: str, floor: str = "", ratio: str = "", goal: str = "", note: str = "") -> None:
        self.rows.append(Row(measure, value, floor, ratio, goal, note))
        say(f"  {measure}: {value}" + (f"  (floor {floor}, {ratio})" if floor else "") + (f"  {note}" if note else ""))

    def check(self, ok: bool, what: str) -> None:
        self.checks.append((ok, what))
        say(f"  {'PASS' if ok else 'FAIL'}: {what}")

    def print(self) -> None:
        heads = Row("measure", "value", "floor (same run)", "ratio", "goal", "note")
        cols = ("measure", "value", "floor", "ratio", "goal")
        width = {c: max(len(getattr(r, c)) for r in [heads, *self.rows]) for c in cols}
        right = {"value", "ratio"}

        def line(r: Row) -> str:
            cells = [getattr(r, c).rjust(width[c]) if c in right else getattr(r, c).ljust(width[c]) for c in cols]
            return ("  ".join(cells) + "  " + r.note).rstrip()

        print(line(heads))
        print(line(Row(*("-" * width[c] for c in cols), "----")))
        for r in self.rows:
            print(line(r))
        if self.checks:
            print()
            for ok, what in self.checks:
                print(f"{'PASS' if ok else 'FAIL'}  {what}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def ms(seconds: float) -> str:
    """A stall or a lock: tenths of a millisecond below a second (the 100 ms goal is read exactly), then seconds."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def secs(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- server and databases ----------------------------------------------------------------------


class Databases:
    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
        self.made: list[URL] = []

    def _admin(self, sql: str) -> None:
        with psycopg.connect(libpq(self.server_url), autocommit=True) as conn:
            conn.execute(sql)

    def create(self, template: URL | None = None) -> URL:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template.database}"' if template else ""))
        url = self.server_url.set(database=name)
        self.made.append(url)
        return url

    def copy(self, template: URL) -> URL:
        """A fresh copy of ``template``, warmed and checkpointed (see ``warm``)."""
        url = self.create(template)
        warm(url)
        return url

    def drop(self, url: URL) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        self.made = [u for u in self.made if u.database != url.database]

    def drop_all(self) -> None:
        for url in list(self.made):
            self.drop(url)


def warm(url: URL) -> None:
    """Read the two big tables once, then checkpoint: every copy starts alike, with no pending flush."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for table in ("tasks", "conversations"):
            conn.execute(f"SELECT count(*) FROM {table}")
        with suppress(psycopg.Error):  # CHECKPOINT is not allowed for every role on an external server
            conn.execute("CHECKPOINT")


def run_cmd(args: list[str], url: URL, cwd: Path | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": libpq(url)}
    result = subprocess.run(args, env=env, cwd=cwd or REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} ... failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def alembic(*args: str) -> list[str]:
    return [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), *args]


# -- 4. fixed costs ------------------------------------------------------------------------------


def bench_fixed_costs(dbs: Databases, report: Report) -> None:
    say("fixed costs: alembic upgrade head vs alembic current ...")
    ups, currents = [], []
    for _ in range(3):
        url = dbs.create()
        ups.append(timed(lambda u=url: run_cmd(alembic("upgrade", "head"), u)))
        currents.append(timed(lambda u=url: run_cmd(alembic("current"), u)))
        dbs.drop(url)
    up, cur = statistics.median(ups), statistics.median(currents)
    report.add("`alembic upgrade head`, empty database", secs(up), f"{secs(cur)} `alembic current`",
               f"{up / cur:.2f}x", "", "median of 3; the floor is Python + Alembic start-up")


# -- 2. no-op deploy -----------------------------------------------------------------------------

NOOP_FLOOR = ("import os, psycopg; c = psycopg.connect(os.environ['DATABASE_URL']); "
              "c.execute('SELECT version_num FROM alembic_version').fetchall()")


def bench_noop_deploy(dbs: Databases, report: Report, runs: int) -> None:
    say(f"no-op deploy: nakamura-init-db at head vs psycopg alone, {runs} runs each ...")
    url = dbs.create()
    init_db = [str(VENV_BIN / "nakamura-init-db")]
    floor = [sys.executable, "-c", NOOP_FLOOR]
    run_cmd(init_db, url)  # to head
    out = run_cmd(init_db, url)  # and once more, untimed: warm caches
    run_cmd(floor, url)
    ours, base = [], []
    for _ in range(runs):  # interleaved, so a burst of load on the machine hits both alike
        ours.append(timed(lambda: run_cmd(init_db, url)))
        base.append(timed(lambda: run_cmd(floor, url)))
    dbs.drop(url)
    a, b = statistics.median(ours), statistics.median(base)
    fast_path = "already at head" in out
    report.add("no-op deploy: `nakamura-init-db` at head", secs(a), f"{secs(b)} `python -c` psycopg SELECT",
               f"{a / b:.2f}x", f"<= {NOOP_GOAL_RATIO}x: {met(a / b <= NOOP_GOAL_RATIO)}",
               f"median of {runs} each, interleaved" + ("" if fast_path else "; did NOT take the no-op path"))


# -- the incident database -------------------------------------------------------------------------


def build_template(dbs: Databases, rows: int, report: Report) -> URL:
    say(f"building S1 with {rows:,} tasks and {rows:,} conversations ...")
    url = dbs.create()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    start = time.perf_counter()
    with engine.begin() as conn:
        build_state(conn, "S1")
        populate(conn, "S1", rows=rows)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    say(f"  built in {time.perf_counter() - start:.1f} s (setup, not measured)")
    return url


def bench_inspect_plan(dbs: Databases, template: URL, label: str, report: Report) -> None:
    say("inspect and plan ...")
    url = dbs.copy(template)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        t_inspect = statistics.median(timed(lambda: (inspect_database(conn), conn.rollback())) for _ in range(3))
        t_plan = statistics.median(
            timed(lambda: (make_plan(conn, legacy_timezone="UTC"), conn.rollback())) for _ in range(3))
    engine.dispose()
    dbs.drop(url)
    report.add(f"{label} inspect", secs(t_inspect), note="median of 3; reads the catalog only")
    report.add(f"{label} plan --legacy-timezone UTC", secs(t_plan),
               note="median of 3; scans the data (duplicate keys, lengths to narrow, labels in use)")


# -- 1. writer stalls ----------------------------------------------------------------------------

WRITES = {
    "conversations": (
        "INSERT INTO conversations (conversation_id, user_id, channel_id, messages, created_at, updated_at,"
        " last_message_at) VALUES (gen_random_uuid(), %s, 'C-BENCH', '[]', now(), now(), now())"
    ),
    # enum_first(NULL::task_status) is the first label as the catalog says now: 'PENDING' before
    # the bridge renames it, 'pending' after. now() suits timestamp and timestamptz alike.
    "tasks": (
        "INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, created_at, updated_at)"
        " VALUES (gen_random_uuid(), %s, 'UBENCHWRITER', 'UBENCHWRITER', enum_first(NULL::task_status),"
        " now(), now())"
    ),
}


def _writer_main(dsn: str, table: str, ready: object, stop: object, out: object) -> None:
    """A writer process: one insert into ``table``, sleep 10 ms, again; sends (start, latency) samples back."""
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    sql = WRITES[table]
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        conn.execute(sql, ("bench-writer-warmup",))
        ready.set()  # type: ignore[attr-defined]
        n = 0
        while not stop.is_set():  # type: ignore[attr-defined]
            n += 1
            start = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            try:
                conn.execute(sql, (f"bench-writer-{os.getpid()}-{n}",))
            except psycopg.Error as exc:
                errors.append(str(exc).strip().splitlines()[0])
            samples.append((start, time.monotonic() - start))
            time.sleep(WRITE_EVERY)
    out.send((samples, errors))  # type: ignore[attr-defined]
    out.close()  # type: ignore[attr-defined]


class Writers:
    """Two writer processes (one per table, each its own connection) for the length of a ``with`` block."""

    def __init__(self, url: URL) -> None:
        self.dsn = libpq(url)
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.errors: dict[str, list[str]] = {}

    def __enter__(self) -> Writers:
        ctx = mp.get_context("spawn")
        self.stop = ctx.Event()
        self.procs = []
        for table in WRITES:
            ready = ctx.Event()
            mine, theirs = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_writer_main, args=(self.dsn, table, ready, self.stop, theirs), daemon=True)
            proc.start()
            self.procs.append((table, proc, ready, mine))
        for table, proc, ready, _ in self.procs:
            if not ready.wait(60):
                raise SystemExit(f"the {table} writer did not start (exit code {proc.exitcode})")
        time.sleep(0.3)  # a steady state before the measured work
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)
        self.stop.set()
        for table, proc, _, pipe in self.procs:
            self.samples[table], self.errors[table] = pipe.recv()
            proc.join(30)

    def worst(self, table: str, t0: float, t1: float) -> float:
        """The longest insert into ``table`` that overlapped [t0, t1]."""
        return max((lat for start, lat in self.samples[table] if start <= t1 and start + lat >= t0), default=0.0)

    def count(self, table: str, t0: float, t1: float) -> int:
        return sum(1 for start, lat in self.samples[table] if start <= t1 and start + lat >= t0)


@dataclass
class BridgeRun:
    seconds: float
    stall: dict[str, float]
    inserts: dict[str, int]
    errors: dict[str, list[str]]
    rewrote: list[str]
    phase1: float  # start of apply -> first step of the transaction
    # Lock holds as seen by the bridge, up to the COMMIT being sent (the server releases the
    # locks once the commit record is flushed, before it unlinks the old files of a rewritten table).
    tasks_lock: float  # first phase-2 step on tasks (DROP INDEX: ACCESS EXCLUSIVE) -> COMMIT sent
    tasks_before_alter: float  # of which: steps before the ALTER step
    tasks_guards: float  # the ALTER step's length guards (a scan of tasks each, under the lock)
    tasks_rewrite: float  # the ALTER TABLE that rewrites
    tasks_after: float  # the rest: later steps, verify, version and audit rows
    conversations_lock: float  # ADD CONSTRAINT ... USING INDEX -> COMMIT sent
    later_steps: float  # of which: ADD CONSTRAINT and the steps after it
    verify: float  # verify (the catalog inspected and diffed again)
    record_audit: float  # conservation, version row, audit row
    commit: float  # COMMIT sent -> returned


Mark = tuple[float, str, object]  # (time.monotonic(), kind, Step or SQL text or None)


@contextmanager
def bridge_timeline(engine: sa.Engine, marks: list[Mark]) -> Iterator[None]:
    """Marks from outside the bridge (src untouched), by wrapping the module-level names apply_plan calls:
    each statement a step runs (start, end), verify (start, end), each COMMIT sent, and the unlock after the last."""
    from nakamura_misaki_db.bridge import apply as bridge_apply
    from nakamura_misaki_db.bridge import run as bridge_run

    originals = {"verify": bridge_run.verify, "release_migration_lock": bridge_run.release_migration_lock,
                 "run_sql": bridge_apply.run_sql}

    def verify(conn: object) -> None:
        marks.append((time.monotonic(), "verify", None))
        originals["verify"](conn)
        marks.append((time.monotonic(), "verified", None))

    def release(conn: object) -> None:
        marks.append((time.monotonic(), "committed", None))
        originals["release_migration_lock"](conn)

    def run_sql(conn: object, statement: str) -> int:
        marks.append((time.monotonic(), "sql", statement))
        try:
            return originals["run_sql"](conn, statement)
        finally:
            marks.append((time.monotonic(), "sql_end", statement))

    def on_commit(_conn: object) -> None:
        marks.append((time.monotonic(), "commit", None))

    bridge_run.verify = verify  # type: ignore[assignment]
    bridge_run.release_migration_lock = release  # type: ignore[assignment]
    bridge_apply.run_sql = run_sql  # type: ignore[assignment]
    sa.event.listen(engine, "commit", on_commit)
    try:
        yield
    finally:
        sa.event.remove(engine, "commit", on_commit)
        bridge_run.verify = originals["verify"]  # type: ignore[assignment]
        bridge_run.release_migration_lock = originals["release_migration_lock"]  # type: ignore[assignment]
        bridge_apply.run_sql = originals["run_sql"]  # type: ignore[assignment]


def run_bridge(dbs: Databases, template: URL) -> BridgeRun:
    url = dbs.copy(template)
    marks: list[Mark] = []
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with Writers(url) as writers, bridge_timeline(engine, marks), engine.connect() as conn:
        t0 = time.monotonic()
        # The writers are other clients by design (the stall is what they see): allowed, as an operator would.
        result = apply_plan(conn, legacy_timezone="UTC", allow_connected_clients=True,
                            before_step=lambda _n, step: marks.append((time.monotonic(), "step", step)))
        t1 = time.monotonic()
    engine.dispose()
    dbs.drop(url)

    def at(pred: Callable[[str, object], bool], after: int = 0) -> int:
        return next(i for i, (_, kind, what) in enumerate(marks) if i >= after and pred(kind, what))

    def step(pred: Callable[[Step], bool]) -> int:
        return at(lambda kind, s: kind == "step" and isinstance(s, Step) and pred(s))

    def sql_time(first: int, last: int, pred: Callable[[str], bool]) -> float:
        """Seconds spent in the statements between marks ``first`` and ``last`` that ``pred`` picks."""
        total = 0.0
        for i in range(first, last):
            when, kind, what = marks[i]
            if kind == "sql" and pred(str(what)):
                total += marks[at(lambda k, _w: k == "sql_end", i)][0] - when
        return total

    t = [m[0] for m in marks]
    on_tasks = step(lambda s: s.phase == 2 and s.table == "tasks")
    alter = step(lambda s: s.action == Action.ALTER_COLUMNS and s.table == "tasks")
    alter_end = at(lambda kind, _: kind in ("step", "verify"), alter + 1)
    attach = step(lambda s: s.action == Action.ADD_UNIQUE and s.table == "conversations")
    phase2 = step(lambda s: s.phase == 2)
    verify, verified = at(lambda kind, _: kind == "verify"), at(lambda kind, _: kind == "verified")
    done = at(lambda kind, _: kind == "committed")
    commit = max(i for i, (_, kind, _w) in enumerate(marks) if kind == "commit" and i < done)
    guards = sql_time(alter, alter_end, lambda sql: sql.startswith("DO $guard$"))
    rewrite = sql_time(alter, alter_end, lambda sql: sql.startswith("ALTER TABLE"))
    return BridgeRun(
        seconds=t1 - t0,
        stall={table: writers.worst(table, t0, t1) for table in WRITES},
        inserts={table: writers.count(table, t0, t1) for table in WRITES},
        errors=writers.errors,
        rewrote=result.tables_rewritten,
        phase1=t[phase2] - t0,
        tasks_lock=t[commit] - t[on_tasks],
        tasks_before_alter=t[alter] - t[on_tasks],
        tasks_guards=guards,
        tasks_rewrite=rewrite,
        tasks_after=t[commit] - t[on_tasks] - (t[alter] - t[on_tasks]) - guards - rewrite,
        conversations_lock=t[commit] - t[attach],
        later_steps=t[verify] - t[attach],
        verify=t[verified] - t[verify],
        record_audit=t[commit] - t[verified],
        commit=t[done] - t[commit],
    )


DELETE_DUPLICATES = """
DELETE FROM conversations c
USING (SELECT ctid, row_number() OVER (PARTITION BY user_id, channel_id
                                      ORDER BY last_message_at DESC, conversation_id DESC) AS rn
       FROM conversations) d
WHERE c.ctid = d.ctid AND d.rn > 1
"""
FLOOR_CONVERSATIONS = (
    "CREATE UNIQUE INDEX CONCURRENTLY uq_conversations_user_channel ON conversations (user_id, channel_id)",
    "ALTER TABLE conversations ADD CONSTRAINT uq_conversations_user_channel"
    " UNIQUE USING INDEX uq_conversations_user_channel",
)
FLOOR_TASKS = "ALTER TABLE tasks ALTER COLUMN assignee_user_id TYPE varchar(50)"


@dataclass
class FloorRun:
    conversations: float
    conversations_attach: float
    tasks: float
    tasks_alter: float
    errors: dict[str, list[str]]


def run_floor(dbs: Databases, template: URL) -> FloorRun:
    url = dbs.create(template)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(DELETE_DUPLICATES)  # what the bridge's phase 1 does first; not measured
    warm(url)
    with psycopg.connect(libpq(url), autocommit=True) as conn, Writers(url) as writers:
        t0 = time.monotonic()
        conn.execute(FLOOR_CONVERSATIONS[0])
        ta = time.monotonic()
        conn.execute(FLOOR_CONVERSATIONS[1])
        t1 = time.monotonic()
        time.sleep(0.3)
        t2 = time.monotonic()
        conn.execute(FLOOR_TASKS)
        t3 = time.monotonic()
    dbs.drop(url)
    return FloorRun(writers.worst("conversations", t0, t1), t1 - ta, writers.worst("tasks", t2, t3), t3 - t2,
                    writers.errors)


def bench_stalls(dbs: Databases, template: URL, label: str, runs: int, report: Report) -> None:
    bridge: list[BridgeRun] = []
    floor: list[FloorRun] = []
    for n in range(1, runs + 1):
        say(f"writer stalls, run {n}/{runs}: apply on a fresh copy ...")
        b = run_bridge(dbs, template)
        say(f"  apply {b.seconds:.2f} s; worst insert: conversations {ms(b.stall['conversations'])}, "
            f"tasks {ms(b.stall['tasks'])}; tasks locked {ms(b.tasks_lock)} (steps before the ALTER "
            f"{ms(b.tasks_before_alter)}, guards {ms(b.tasks_guards)}, rewrite {ms(b.tasks_rewrite)}, after "
            f"{ms(b.tasks_after)}); conversations locked {ms(b.conversations_lock)} (steps {ms(b.later_steps)}, "
            f"verify {ms(b.verify)}, version/audit {ms(b.record_audit)}); COMMIT {ms(b.commit)}")
        bridge.append(b)
        say(f"writer stalls, run {n}/{runs}: floors on a fresh copy ...")
        f = run_floor(dbs, template)
        say(f"  floor: conversations {ms(f.conversations)} (ADD CONSTRAINT USING INDEX {ms(f.conversations_attach)}), "
            f"tasks {ms(f.tasks)} (ALTER {ms(f.tasks_alter)})")
        floor.append(f)

    def med(values: list[float]) -> float:
        return statistics.median(values)

    def each(values: list[float]) -> str:
        return ", ".join(ms(v) for v in values)

    conv = med([b.stall["conversations"] for b in bridge])
    conv_floor = med([f.conversations for f in floor])
    report.add(f"{label} apply (UTC), whole run", secs(med([b.seconds for b in bridge])),
               note=f"median of {runs}; rewrote: {', '.join(bridge[0].rewrote) or 'nothing'}; phase 1 (move "
                    f"duplicates, index CONCURRENTLY) {secs(med([b.phase1 for b in bridge]))}")
    report.add(f"{label} worst stall, writer on conversations", ms(conv),
               f"{ms(conv_floor)} bare CIC + ADD CONSTRAINT USING INDEX", f"{conv / conv_floor:.2f}x",
               f"<= {CONVERSATIONS_GOAL_MS:.0f} ms: {met(conv * 1000 <= CONVERSATIONS_GOAL_MS)}",
               f"median of {runs} (runs: {each([b.stall['conversations'] for b in bridge])}; "
               f"floors: {each([f.conversations for f in floor])})")
    report.add(f"{label}   conversations locked, bridge's own clock", ms(med([b.conversations_lock for b in bridge])),
               note=f"ADD CONSTRAINT ... USING INDEX to COMMIT = that step and the later ones "
                    f"{ms(med([b.later_steps for b in bridge]))} + verify {ms(med([b.verify for b in bridge]))} + "
                    f"version and audit rows {ms(med([b.record_audit for b in bridge]))}; then the COMMIT's WAL flush")
    tasks = med([b.stall["tasks"] for b in bridge])
    tasks_floor = med([f.tasks for f in floor])
    report.add(f"{label} worst stall, writer on tasks", ms(tasks),
               f"{ms(tasks_floor)} bare ALTER assignee_user_id varchar(50)", f"{tasks / tasks_floor:.2f}x",
               f"<= {TASKS_GOAL_RATIO}x floor: {met(tasks / tasks_floor <= TASKS_GOAL_RATIO)}",
               f"median of {runs} (runs: {each([b.stall['tasks'] for b in bridge])}; "
               f"floors: {each([f.tasks for f in floor])})")
    report.add(f"{label}   tasks locked, bridge's own clock", ms(med([b.tasks_lock for b in bridge])),
               note=f"DROP INDEX (takes the lock) to COMMIT = steps before the ALTER "
                    f"{ms(med([b.tasks_before_alter for b in bridge]))} + 2 length guards (a scan each) "
                    f"{ms(med([b.tasks_guards for b in bridge]))} + the rewriting ALTER "
                    f"{ms(med([b.tasks_rewrite for b in bridge]))} + later steps, verify, version and audit rows "
                    f"{ms(med([b.tasks_after for b in bridge]))}")
    report.add(f"{label}   COMMIT of the bridge's transaction", ms(med([b.commit for b in bridge])),
               note="the locks go once its WAL is flushed; most of it unlinks the old files of tasks, "
                    "blocking no one")
    errors = {t: sum(len(r.errors[t]) for r in [*bridge, *floor]) for t in WRITES}
    if any(errors.values()):
        first = next(e for r in [*bridge, *floor] for t in WRITES for e in r.errors[t])
        report.add(f"{label} writer errors", ", ".join(f"{t} {n}" for t, n in errors.items()), note=f"first: {first}")


# -- 3. enum changes -----------------------------------------------------------------------------

LOCKS_ON_TASKS = """
SELECT c.relname || ' ' || l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (c.oid = 'tasks'::regclass OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'tasks'::regclass))
ORDER BY 1
"""
RELFILENODE = "SELECT relfilenode FROM pg_class WHERE oid = 'tasks'::regclass"
LABELS = ("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum"
          " WHERE enumtypid = 'task_status'::regtype")
BLOCKER = WRITES["tasks"]


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def bench_enum(dbs: Databases, template: URL, label: str, report: Report) -> None:
    say("enum change: the bridge's RENAME VALUE / ADD VALUE vs the legacy type swap ...")
    bridge_url = dbs.copy(template)
    engine = sa.create_engine(bridge_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        plan = make_plan(conn, legacy_timezone="UTC")
        conn.rollback()
    engine.dispose()
    bridge_sql = [sql for s in plan.steps if s.action in (Action.RENAME_ENUM_LABEL, Action.ADD_ENUM_LABEL)
                  and s.object.startswith("task_status.") for sql in s.sql]
    swap_sql = _statements(TASK_STATUS_REBUILD_CA1F08E0BC8A)

    def blocked_attempt(url: URL, statements: list[str], lock_timeout: str) -> tuple[bool, float, str]:
        """Run ``statements`` while another session's uncommitted INSERT holds ROW EXCLUSIVE on tasks (rolled back)."""
        with psycopg.connect(libpq(url)) as blocker, psycopg.connect(libpq(url)) as conn:
            blocker.execute(BLOCKER, ("uncommitted",))
            held = blocker.execute("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = "
                                   "'tasks'::regclass").fetchall()
            assert ("RowExclusiveLock",) in held, held
            conn.execute(f"SET lock_timeout = '{lock_timeout}'")
            start = time.perf_counter()
            try:
                for sql in statements:
                    conn.execute(sql)
                done, what = True, "completed"
            except psycopg.errors.LockNotAvailable:
                done, what = False, "lock timeout"
            elapsed = time.perf_counter() - start
            conn.rollback()
            blocker.rollback()
        return done, elapsed, what

    def timed_run(url: URL, statements: list[str]) -> tuple[float, bool, list[str], str]:
        with psycopg.connect(libpq(url)) as conn:
            before = conn.execute(RELFILENODE).fetchone()[0]
            conn.commit()
            start = time.perf_counter()
            for sql in statements:
                conn.execute(sql)
            locks = [r[0] for r in conn.execute(LOCKS_ON_TASKS)]
            conn.commit()
            elapsed = time.perf_counter() - start
            after = conn.execute(RELFILENODE).fetchone()[0]
            labels = conn.execute(LABELS).fetchone()[0]
            conn.rollback()
        return elapsed, before == after, locks, labels

    # The bridge's statements: with a writer's transaction open (rolled back), then for real.
    done, waited, what = blocked_attempt(bridge_url, bridge_sql, "5s")
    t_bridge, kept, locks, labels = timed_run(bridge_url, bridge_sql)
    dbs.drop(bridge_url)
    # The legacy swap, the same two ways, on another copy.
    swap_url = dbs.copy(template)
    swap_done, swap_waited, swap_what = blocked_attempt(swap_url, swap_sql, "1s")
    t_swap, swap_kept, swap_locks, swap_labels = timed_run(swap_url, swap_sql)
    dbs.drop(swap_url)

    report.add(f"{label} enum change: bridge RENAME VALUE x3 + ADD VALUE", f"{t_bridge * 1000:.1f} ms",
               f"{secs(t_swap)} legacy type swap (ca1f08e0bc8a)", f"{t_swap / t_bridge:,.0f}x faster",
               "catalog-only", f"labels after: {labels}; the swap left {swap_labels}")
    report.check(kept, f"{label} bridge enum change keeps tasks' relfilenode (no rewrite)"
                 + ("" if kept else ": it changed"))
    report.check(not locks, f"{label} bridge enum change holds no lock on tasks or its indexes"
                 + (f": it holds {', '.join(locks)}" if locks else " (pg_locks, before commit)"))
    report.check(done and waited < 1.0,
                 f"{label} bridge enum change completes while another session holds ROW EXCLUSIVE on tasks "
                 f"(uncommitted INSERT): {what} in {waited * 1000:.1f} ms (lock_timeout 5s)")
    report.check(not swap_done,
                 f"{label} the legacy type swap waits for that session: {swap_what} after {secs(swap_waited)} "
                 f"(lock_timeout 1s)")
    report.check(not swap_kept, f"{label} the legacy type swap rewrites tasks (relfilenode "
                 + ("changed" if not swap_kept else "unchanged") + f"; it holds {', '.join(swap_locks)})")


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="tasks and conversations in the incident database (default 1000000)")
    parser.add_argument("--quick", action="store_true", help="10k rows (smoke run)")
    parser.add_argument("--runs", type=int, default=3, help="apply runs (and floor runs) for the stalls (default 3)")
    parser.add_argument("--deploy-runs", type=int, default=11, help="runs of each no-op deploy command (default 11)")
    parser.add_argument("--skip-fixed", action="store_true", help="skip alembic upgrade head vs alembic current")
    args = parser.parse_args(argv)
    rows = 10_000 if args.quick else args.rows
    label = f"[{rows // 1_000_000}M]" if rows % 1_000_000 == 0 else f"[{rows // 1000}k]" if rows % 1000 == 0 \
        else f"[{rows:,}]"
    report = Report()
    started = time.perf_counter()
    with server() as server_url:
        dbs = Databases(server_url)
        try:
            template = build_template(dbs, rows, report)
            bench_stalls(dbs, template, label, args.runs, report)
            bench_enum(dbs, template, label, report)
            bench_inspect_plan(dbs, template, label, report)
            bench_noop_deploy(dbs, report, args.deploy_runs)
            if not args.skip_fixed:
                bench_fixed_costs(dbs, report)
        finally:
            dbs.drop_all()
    say(f"done in {time.perf_counter() - started:.0f} s")
    report.print()
    return 0 if all(ok for ok, _ in report.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
