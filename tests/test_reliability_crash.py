"""Reliability under faults: a killed bridge, a server that goes away, locks held by the application.

Real PostgreSQL, real console scripts for what is killed, paused or cut off (the plan before a kill,
the rerun and status after it, and the lock timeouts call the entry points in this process), every
wait bounded:

- crash: ``baseline-bridge apply`` is killed with SIGKILL at step boundaries of
  the real S1 plan (the test-only pause hook stops it exactly there): the first,
  one in the middle, the table rewrite, the last before the stamp and the stamp.
  The database must be exactly as before (schema and every row), the migration
  advisory lock must be free again, and a rerun must succeed. Ctrl-C (SIGINT)
  at a boundary must roll back the same way, saying so;
- server gone: a separate embedded PostgreSQL is stopped (``pg_ctl stop -m
  immediate``) under a running apply (paused at a step boundary, or blocked on a
  lock inside a step); the bridge must exit non-zero with one clear line, new
  runs must say they cannot connect, and after a restart the database is
  unchanged and a rerun works;
- lock contention: an application transaction holding a lock on ``tasks`` (or
  ``conversations`` for ``nakamura-init-db`` / ``alembic upgrade``) makes the
  run fail on lock_timeout, quickly, saying so, with nothing changed; so does
  another migration run holding the advisory lock past ``--lock-wait``.

Every command gets a URL whose password is a marker that must never be shown.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import parse_database_url, with_password
from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.schema.revisions import head_revision

from . import servers
from .helpers import (
    ALEMBIC_INI,
    MIGRATION_LOCK_KEY,
    REPO,
    Outcome,
    assert_only_phase_one_happened,
    bridge_cli,
    deploy_in_process,
    fingerprint,
    phase_one_snapshot,
    rows,
    scalar,
    schema_dump,
    upgrade,
    version_rows,
    wait_until,
    without_progress,
)

BIN = Path(sys.executable).parent
INIT_DB = str(BIN / "nakamura-init-db")
BRIDGE = str(BIN / "baseline-bridge")
PAUSE_ENV = "NAKAMURA_BRIDGE_PAUSE_BEFORE_STEP"
PAUSE_MARKER = "baseline-bridge: paused before step"

MARKER = "CrMarkerPw4411"  # the password of every URL handed to a command; must never be shown

LOCK_CLASSID = (MIGRATION_LOCK_KEY >> 32) & 0xFFFFFFFF
LOCK_OBJID = MIGRATION_LOCK_KEY & 0xFFFFFFFF
HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
    f" AND classid = {LOCK_CLASSID} AND objid = {LOCK_OBJID} AND objsubid = 1"
)

HANG_GUARD_S = 30  # lock-timeout runs must end well within this; it only catches hangs


# -- helpers --------------------------------------------------------------------------------


def _env(url: URL, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", PAUSE_ENV)}
    env["DATABASE_URL"] = with_password(url.set(password=MARKER))
    env.update(extra)
    return env


def _run(args: list[str], url: URL, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=_env(url, **extra), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _bridge(url: URL, *args: str) -> Outcome:
    """``baseline-bridge ARGS`` in this process, with the marker password (where a real process is not the
    point: planning before a kill, the rerun and status after one, the lock timeouts)."""
    return bridge_cli(url.set(password=MARKER), *args)


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert MARKER not in text


def _one_error_line(err: str, prefix: str) -> str:
    """stderr (minus the pause hook's marker) is one line starting with ``prefix``, no traceback."""
    assert "Traceback" not in err, err
    lines = [ln for ln in without_progress(err) if not ln.startswith(PAUSE_MARKER)]
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), err
    return lines[0]


def _build_s1(url: URL, n: int = 100) -> None:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            build_state(conn, "S1")
            populate(conn, "S1", rows=n)
    finally:
        eng.dispose()


_wait_until = wait_until


class PausedBridge:
    """``baseline-bridge apply`` stopped by the pause hook before step ``step``."""

    def __init__(self, url: URL, step: int, *extra_args: str) -> None:
        # Through a one-line launcher that resets SIGINT to its default before exec: a test run
        # started in the background of a shell (`pytest ... &`) inherits SIGINT *ignored*, the bridge
        # would inherit that too, and the Ctrl-C these tests send would do nothing.
        launcher = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                    "os.execv(sys.argv[1], sys.argv[1:])")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", launcher, BRIDGE, "apply", "--legacy-timezone", "Asia/Tokyo", *extra_args],
            env=_env(url, **{PAUSE_ENV: str(step)}), cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_paused(self, step: int, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None:  # stderr closed: the process ended without pausing
                self.proc.wait(timeout=10)
                raise AssertionError(f"apply exited ({self.proc.returncode}) before pausing: {''.join(self._err)}")
            if line.startswith(f"{PAUSE_MARKER} {step} "):
                return line
            if time.monotonic() >= deadline:
                self.kill()
                raise AssertionError(f"apply did not pause before step {step} within {timeout}s")

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # SIGKILL: no cleanup, no rollback from the client
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            self.proc.stdout.close()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Wait for it to end by itself; returns (code, stdout, stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"apply did not end within {timeout}s") from None
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        return self.proc.returncode, out, "".join(self._err)


_STEPS: dict[str, list[dict]] = {}  # every S1 built here is the same (fixed seed): plan it once


def _plan_steps(url: URL, *, cached: bool = False) -> list[dict]:
    if cached and "S1" in _STEPS:
        return _STEPS["S1"]
    result = _bridge(url, "plan", "--json", "--legacy-timezone", "Asia/Tokyo")
    assert result.returncode == 0, result.stderr
    _assert_no_secret(result.stdout, result.stderr)
    plan = json.loads(result.stdout)
    assert plan["status"] == "ready"
    _STEPS["S1"] = plan["steps"]
    return plan["steps"]


def _assert_rerun_applies(url: URL, *, finishes: bool = False) -> None:
    """A rerun completes; ``finishes``: it also finishes a killed run, and its audit row counts that run's rows."""
    result = _bridge(url, "apply", "--legacy-timezone", "Asia/Tokyo", "--json")
    assert result.returncode == 0, result.stderr
    _assert_no_secret(result.stdout, result.stderr)
    out = json.loads(result.stdout)
    assert out["status"] == "applied"
    assert version_rows(url) == ["0001"]
    assert scalar(url, "SELECT count(*) FROM legacy_archive.bridge_runs") == 1
    archived = int(scalar(url, "SELECT count(*) FROM legacy_archive.conversations_duplicates"))
    assert len(out["finished_runs"]) == (1 if finishes else 0)
    # Every archived duplicate is counted by the one audit row, whichever run moved it (issue 22: the
    # rerun said "archived rows: none").
    assert out["rows_archived"] == {"legacy_archive.conversations_duplicates": archived}
    assert scalar(url, "SELECT (rows_archived->>'legacy_archive.conversations_duplicates')::int"
                       " FROM legacy_archive.bridge_runs") == archived
    status = _bridge(url, "status")
    assert "left over:" not in status.stdout, status.stdout


def _assert_status_names_the_leftover(url: URL) -> None:
    """What a killed run left is named by `status`: its id, the rows it moved, the index it built."""
    result = _bridge(url, "status")
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("left over: ")]
    moved = int(scalar(url, "SELECT count(*) FROM legacy_archive.conversations_duplicates"))
    run_id = scalar(url, "SELECT DISTINCT bridge_run_id::text FROM legacy_archive.conversations_duplicates")
    assert lines[0].startswith(f"left over: bridge run {run_id} stopped after its first phase (killed?) at ")
    assert f"it moved {moved:,} row(s) in legacy_archive.conversations_duplicates; `baseline-bridge apply` " \
           "finishes it" in lines[0]
    if scalar(url, "SELECT to_regclass('public.uq_conversations_user_channel')") is not None:
        assert lines[1].startswith("left over: index uq_conversations_user_channel on conversations ("), lines


def _migration_lock_free(url: URL) -> bool:
    return scalar(url, HELD_SQL) == 0


# -- crash: SIGKILL at step boundaries --------------------------------------------------------


def _boundary(steps: list[dict], position: str) -> int:
    """1-based step number for a named position in the plan."""
    n = len(steps)
    actions = [s["action"] for s in steps]
    return {
        "first": 1,
        "middle": (n + 1) // 2,
        "table_rewrite": actions.index("alter_columns") + 1,
        # Paused before the step after the rewrite: tasks has been rewritten inside the transaction.
        "after_table_rewrite": actions.index("alter_columns") + 2,
        "archive_duplicates": actions.index("archive_duplicates") + 1,
        "last_before_stamp": n,
        # After the last step apply verifies and records the revision: the pause hook calls that step n + 1.
        "stamp": n + 1,
    }[position]


@pytest.mark.parametrize("position", ["first", "middle", "table_rewrite", "after_table_rewrite",
                                      "last_before_stamp", "stamp"])
def test_kill_at_step_boundary_changes_nothing(db_url: URL, position: str) -> None:
    _build_s1(db_url)
    steps = _plan_steps(db_url, cached=True)
    assert all(s["action"] != "stamp" for s in steps)  # recording the revision is apply's own last act
    step = _boundary(steps, position)
    before = phase_one_snapshot(db_url)

    bridge = PausedBridge(db_url, step)
    try:
        bridge.wait_paused(step)
        assert scalar(db_url, HELD_SQL) == 1  # the paused run does hold the migration lock
    finally:
        bridge.kill()
    _assert_no_secret(bridge.stderr)

    # The server notices the dead client on its own; give it a bounded moment.
    _wait_until(lambda: _migration_lock_free(db_url), 15, "the advisory lock of the killed run to go")
    assert scalar(db_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    # Killed inside the first phase's transaction: nothing. Later: only what the first phase
    # committed on its own (duplicates archived, the index it built): a killed run cannot put it back,
    # so `status` names it, and the rerun finishes it.
    assert_only_phase_one_happened(db_url, before)
    if step == 1:
        assert scalar(db_url, "SELECT to_regnamespace('legacy_archive')") is None
    else:
        _assert_status_names_the_leftover(db_url)
    _assert_rerun_applies(db_url, finishes=step > 1)


def test_interrupt_after_the_table_rewrite_rolls_it_back(db_url: URL) -> None:
    """Ctrl-C (SIGINT) instead of SIGKILL, once tasks has been rewritten inside the transaction:
    the bridge itself rolls back and says so in one line."""
    _build_s1(db_url)
    steps = _plan_steps(db_url, cached=True)
    step = _boundary(steps, "after_table_rewrite")
    assert steps[step - 2]["action"] == "alter_columns" and steps[step - 2]["safety"] == "rewrites table"
    assert step <= len(steps)  # a step of the transaction follows the rewrite
    before = fingerprint(db_url)

    bridge = PausedBridge(db_url, step)
    try:
        bridge.wait_paused(step)
        bridge.proc.send_signal(signal.SIGINT)
        code, out, err = bridge.finish()
    finally:
        bridge.kill()

    assert code == 1, (out, err)
    line = _one_error_line(err, "baseline-bridge: ")
    assert line.startswith("baseline-bridge: interrupted (Ctrl-C); the transaction was rolled back. Phase 1 had "
                           "committed on its own; this run put it back: "), line
    assert line.endswith("Nothing was changed."), line
    _assert_no_secret(out, err)
    assert _migration_lock_free(db_url)
    assert fingerprint(db_url) == before
    # The rewrite is undone: tasks still has the legacy column type the spec gives for S1.
    assert scalar(db_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                          " WHERE attrelid = 'tasks'::regclass AND attname = 'title'") == "character varying(200)"
    _assert_rerun_applies(db_url)


# -- server gone -----------------------------------------------------------------------------


class OwnServer:
    """A separate embedded PostgreSQL that a test may stop and start again."""

    def __init__(self, data_dir: Path) -> None:
        self.server = servers.get_server(data_dir, cleanup_mode="delete")
        self.url = parse_database_url(self.server.get_uri(), source="test server")

    def stop_immediately(self) -> None:
        servers.commands().pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=self.server.pgdata,
                                  user=self.server.system_user, timeout=60)

    def start(self) -> None:
        # What get_server does for a server that is not running (get_server itself
        # returns the cached, stopped handle in this process).
        with self.server._lock:
            self.server.ensure_postgres_running()
        assert parse_database_url(self.server.get_uri()) == self.url

    def is_running(self) -> bool:
        info = servers.utils().PostmasterInfo.read_from_pgdata(self.server.pgdata)
        return info is not None and info.is_running()

    def new_database(self, name: str) -> URL:
        eng = sa.create_engine(self.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            eng.dispose()
        return self.url.set(database=name)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs the embedded PostgreSQL to stop and restart a server")
    server = OwnServer(tmp_path_factory.mktemp("own") / "pg")
    try:
        yield server
    finally:
        if not server.is_running():
            server.start()
        server.server.cleanup()


@pytest.mark.slow
def test_server_stopped_under_a_paused_apply(own_server: OwnServer) -> None:
    url = own_server.new_database("gone_paused")
    _build_s1(url)
    steps = _plan_steps(url)
    step = _boundary(steps, "middle")
    before = phase_one_snapshot(url)

    bridge = PausedBridge(url, step)
    try:
        bridge.wait_paused(step)
        own_server.stop_immediately()
        # The pause hook sleeps; an operator's Ctrl-C (SIGINT) ends it. The bridge must then
        # cope with a connection whose server is gone: one line, no traceback, non-zero.
        bridge.proc.send_signal(signal.SIGINT)
        code, out, err = bridge.finish()
        # While the server is down, a new run cannot connect: one line, exit 1.
        down = [_run(args, url, timeout=60) for args in ([BRIDGE, "status"], [INIT_DB])]
    finally:
        bridge.kill()
        if not own_server.is_running():
            own_server.start()

    assert code != 0
    line = _one_error_line(err, "baseline-bridge: ")
    _assert_no_secret(out, err)
    assert "server closed the connection" in line or "rolled back" in line, line
    # With the server gone, phase 1 cannot be put back, and the message says that, not "nothing changed".
    assert "Phase 1 had committed on its own, and this run could not put all of it back (cannot connect" in line
    assert "`baseline-bridge status` names what is left" in line

    for result, prefix in zip(down, ("baseline-bridge: ", "nakamura-init-db: error: "), strict=True):
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert "cannot connect" in _one_error_line(result.stderr, prefix)
        _assert_no_secret(result.stdout, result.stderr)

    assert_only_phase_one_happened(url, before)
    _assert_status_names_the_leftover(url)
    _assert_rerun_applies(url, finishes=True)


@pytest.mark.slow
def test_server_stopped_while_apply_waits_inside_a_step(own_server: OwnServer) -> None:
    """The bridge itself (not a signal) discovers that the server died in the middle of a step."""
    url = own_server.new_database("gone_waiting")
    _build_s1(url)
    before = phase_one_snapshot(url)

    holder = sa.create_engine(url, poolclass=sa.pool.NullPool)
    conn = holder.connect()
    proc: subprocess.Popen[str] | None = None
    try:
        conn.exec_driver_sql("LOCK TABLE tasks IN ROW EXCLUSIVE MODE")  # an application write in flight
        proc = subprocess.Popen([BRIDGE, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-timeout", "120s",
                                 "--allow-connected-clients"],
                                env=_env(url), cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        waiting = ("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                   " WHERE c.relname = 'tasks' AND NOT l.granted")
        _wait_until(lambda: proc.poll() is not None or scalar(url, waiting) > 0, 60,
                    "apply to block on the lock on tasks")
        assert proc.poll() is None, proc.communicate(timeout=10)
        own_server.stop_immediately()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        with contextlib.suppress(sa.exc.DBAPIError):  # its server was stopped under it
            conn.close()
        holder.dispose()
        if not own_server.is_running():
            own_server.start()

    assert proc.returncode == 1, (out, err)
    line = _one_error_line(err, "baseline-bridge: ")
    _assert_no_secret(out, err)
    assert "lock_timeout" not in line  # it is the server that went away, not a lock timeout
    assert "could not put all of it back" in line, line
    assert_only_phase_one_happened(url, before)
    _assert_status_names_the_leftover(url)
    _assert_rerun_applies(url, finishes=True)


# -- lock contention -------------------------------------------------------------------------


class Holder:
    """An application transaction left open on another connection."""

    def __init__(self, url: URL, *statements: str) -> None:
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.conn = self.engine.connect()
        for sql in statements:
            self.conn.exec_driver_sql(sql)  # autobegin: the transaction stays open

    def release(self) -> None:
        try:
            self.conn.rollback()
            self.conn.close()
        finally:
            self.engine.dispose()


APP_TRANSACTIONS = {
    "lock_row_exclusive": ("LOCK TABLE tasks IN ROW EXCLUSIVE MODE",),
    "updated_a_task": ("UPDATE tasks SET description = 'edited' WHERE id = (SELECT min(id::text)::uuid FROM tasks)",),
}


@pytest.mark.parametrize("app", list(APP_TRANSACTIONS))
def test_bridge_apply_gives_up_on_lock_timeout(db_url: URL, app: str) -> None:
    _build_s1(db_url)
    before = fingerprint(db_url)

    holder = Holder(db_url, *APP_TRANSACTIONS[app])
    try:
        started = time.monotonic()
        refused = _bridge(db_url, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-timeout", "1s")
        result = _bridge(db_url, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-timeout", "1s",
                         "--allow-connected-clients")
        elapsed = time.monotonic() - started
    finally:
        holder.release()

    assert elapsed < HANG_GUARD_S
    assert result.returncode == 1, (result.stdout, result.stderr)
    line = _one_error_line(result.stderr, "baseline-bridge: ")
    assert "lock_timeout=1s" in line and "held by pid " in line
    # Phase 1 (duplicates moved, unique index built) had committed: it was put back, and the message says so
    # once (issue 22: it said both "nothing was changed" and that the rows stayed archived).
    assert "Phase 1 had committed on its own; this run put it back: " in line and "stay" not in line
    assert line.endswith("Nothing was changed.")
    _assert_no_secret(result.stdout, result.stderr)
    assert fingerprint(db_url) == before
    # Without the flag, the application's session alone is a refusal, before anything is written.
    assert refused.returncode == 3, refused.stderr
    assert "1 other session(s) connected to this database" in refused.stderr
    _wait_until(lambda: _migration_lock_free(db_url), 15, "the migration lock to be free")


def test_bridge_apply_gives_up_waiting_for_another_migration_run(db_url: URL) -> None:
    _build_s1(db_url)
    before = fingerprint(db_url)
    holder = Holder(db_url, f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")  # another run in progress
    try:
        started = time.monotonic()
        result = _bridge(db_url, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-wait", "1s")
        elapsed = time.monotonic() - started
    finally:
        holder.release()

    assert elapsed < HANG_GUARD_S
    assert result.returncode == 1, (result.stdout, result.stderr)
    line = _one_error_line(result.stderr, "baseline-bridge: ")
    assert "migration lock" in line and "MIGRATION_LOCK_WAIT" in line
    _assert_no_secret(result.stdout, result.stderr)
    assert fingerprint(db_url) == before


def test_init_db_gives_up_on_lock_timeout(db_url: URL) -> None:
    upgrade(db_url, "0001")
    assert head_revision() != "0001"  # a later migration exists and must take a lock
    dump = schema_dump(db_url)

    # 0002 drops indexes on conversations: ACCESS EXCLUSIVE, which waits for any reader.
    holder = Holder(db_url, "LOCK TABLE conversations IN ACCESS SHARE MODE")
    try:
        started = time.monotonic()
        result = deploy_in_process(db_url.set(password=MARKER), env={"MIGRATION_LOCK_TIMEOUT": "1s"})
        elapsed = time.monotonic() - started
        alembic_run = _run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "head"], db_url,
                           timeout=HANG_GUARD_S + 30, MIGRATION_LOCK_TIMEOUT="1s")
    finally:
        holder.release()

    assert elapsed < HANG_GUARD_S
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    line = _one_error_line(result.stderr, "nakamura-init-db: error: ")
    assert "lock_timeout=1s" in line
    assert "nothing was changed" in line
    _assert_no_secret(result.stdout, result.stderr)

    # The plain alembic CLI goes through the same env.py: same bounded failure, no secret.
    assert alembic_run.returncode != 0
    assert "lock_timeout=1s" in alembic_run.stdout + alembic_run.stderr  # alembic prints FAILED: on stdout
    assert "Traceback" not in alembic_run.stderr
    _assert_no_secret(alembic_run.stdout, alembic_run.stderr)

    assert version_rows(db_url) == ["0001"]
    assert schema_dump(db_url) == dump
    assert rows(db_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]
