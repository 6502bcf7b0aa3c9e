"""Reliability under concurrency, on real PostgreSQL, with the real console scripts.

Eight deploys running ``nakamura-init-db`` at once on an empty database, and
four operators running ``baseline-bridge apply`` at once on the incident
database (S1 with data). To make the race real rather than lucky, the test
holds the migration advisory lock itself until every process is queued behind
it (visible in pg_locks as an ungranted advisory lock on the migration key;
each process waits in short attempts, so the test polls until it sees all of
them waiting at once), then lets go: all of them contend for the same lock at
the same moment. A deploy that starts while the bridge builds its index and
waits for a table must queue behind it without deadlocking.

Every process and every wait is bounded; the URLs carry a marker password that
must never be printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import with_password
from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.schema.revisions import head_revision

from .helpers import (
    LOCK_WAITERS_SQL,
    REPO,
    MigrationLockHolder,
    admin_engine,
    rows,
    scalar,
    schema_dump,
    upgrade,
    version_rows,
    wait_until,
)

BIN = Path(sys.executable).parent
INIT_DB = str(BIN / "nakamura-init-db")
BRIDGE = str(BIN / "baseline-bridge")

MARKER = "CcMarkerPw7319"  # the password of every URL handed to a command; must never be shown

WAITERS_SQL = LOCK_WAITERS_SQL

PROCESS_TIMEOUT_S = 180


def _env(url: URL, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "NAKAMURA_BRIDGE_PAUSE_BEFORE_STEP")}
    env["DATABASE_URL"] = with_password(url.set(password=MARKER))
    env.update(extra)
    return env


def _spawn(args: list[str], url: URL, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(args, env=_env(url, **extra), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish_all(procs: list[subprocess.Popen[str]], timeout: float = PROCESS_TIMEOUT_S) -> list[tuple[int, str, str]]:
    """Wait for every process (one shared deadline); kill the stragglers and fail."""
    deadline = time.monotonic() + timeout
    results: list[tuple[int, str, str]] = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append((p.returncode, out, err))
    except subprocess.TimeoutExpired:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=10)
        raise AssertionError(f"a process did not finish within {timeout}s") from None
    return results


_wait_until = wait_until


def _queue_behind_gate(url: URL, procs: list[subprocess.Popen[str]], gate: MigrationLockHolder | None) -> None:
    """Wait until every process waits for the lock; fail (with their output) if one exits first."""
    def all_waiting() -> bool:
        exited = [p.returncode for p in procs if p.poll() is not None]
        if exited:
            raise AssertionError(f"a process exited (codes {exited}) before the gate opened")
        return scalar(url, WAITERS_SQL) == len(procs)

    _wait_until(all_waiting, 120, f"{len(procs)} processes queued on the migration lock")


def _waits_for_table(url: URL, proc: subprocess.Popen[str]) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"the bridge exited (code {proc.returncode}) before it waited: {proc.communicate()}")
    return bool(scalar(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                            "WHERE NOT l.granted AND c.relname = 'tasks'"))


def _assert_clean(out: str, err: str) -> None:
    assert MARKER not in out and MARKER not in err
    assert "Traceback" not in err


def _build_s1(url: URL, n: int = 100) -> None:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            build_state(conn, "S1")
            populate(conn, "S1", rows=n)
    finally:
        eng.dispose()


@dataclass
class InitRuns:
    url: URL
    results: list[tuple[int, str, str]]


@pytest.fixture(scope="module")
def eight_init_runs(pg_server_url: URL) -> Iterator[InitRuns]:
    """Eight ``nakamura-init-db`` released at once on one empty database (run once for two tests)."""
    name = f"t_conc_{uuid.uuid4().hex[:12]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_server_url.set(database=name)
    try:
        gate = MigrationLockHolder(url)
        procs: list[subprocess.Popen[str]] = []
        try:
            procs = [_spawn([INIT_DB], url) for _ in range(8)]
            _queue_behind_gate(url, procs, gate)
        finally:
            gate.release()
            results = _finish_all(procs)
        yield InitRuns(url, results)
    finally:
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_eight_parallel_init_db_build_the_schema_once(eight_init_runs: InitRuns, db_url: URL) -> None:
    url = eight_init_runs.url
    for code, out, err in eight_init_runs.results:
        assert code == 0, (code, out, err)
        _assert_clean(out, err)
        assert len(out.strip().splitlines()) == 1, out  # exactly one line on success
        assert f"head {head_revision()}" in out
    assert version_rows(url) == [head_revision()]  # one row, at head

    upgrade(db_url)  # the same schema, built once by a single upgrade
    assert schema_dump(url) == schema_dump(db_url)


def test_eight_parallel_init_db_report_what_each_did(eight_init_runs: InitRuns) -> None:
    # The journal must tell the truth: one run migrated, the seven others found nothing to do.
    # Each run reads the version before it has the lock; reporting against that stale read
    # makes every run claim it migrated the empty database.
    outs = [out.strip() for _, out, _ in eight_init_runs.results]
    migrated = [out for out in outs if "nothing to do" not in out]
    assert len(migrated) == 1, "runs that claim to have migrated the database:\n" + "\n".join(migrated)


def test_four_parallel_bridge_applies_bridge_once(db_url: URL) -> None:
    _build_s1(db_url)
    total, distinct = rows(db_url, "SELECT count(*), count(DISTINCT (user_id, channel_id)) FROM conversations")[0]
    duplicates = total - distinct
    assert duplicates > 0  # the sample data has some, or "archived once" proves nothing

    gate = MigrationLockHolder(db_url)
    procs: list[subprocess.Popen[str]] = []
    try:
        procs = [_spawn([BRIDGE, "apply", "--json", "--legacy-timezone", "Asia/Tokyo"], db_url) for _ in range(4)]
        _queue_behind_gate(db_url, procs, gate)
    finally:
        gate.release()
        results = _finish_all(procs)

    statuses = []
    for code, out, err in results:
        assert code == 0, (code, out, err)
        _assert_clean(out, err)
        statuses.append(json.loads(out))
    applied = [s for s in statuses if s["status"] == "applied"]
    assert len(applied) == 1, statuses
    assert sorted(s["status"] for s in statuses) == ["applied", *["nothing_to_do"] * 3]
    for s in statuses:
        if s["status"] == "nothing_to_do":
            assert "nothing to do" in s["message"]

    assert version_rows(db_url) == ["0001"]
    assert scalar(db_url, "SELECT count(*) FROM legacy_archive.bridge_runs") == 1
    assert str(scalar(db_url, "SELECT run_id FROM legacy_archive.bridge_runs")) == applied[0]["run_id"]
    assert scalar(db_url, "SELECT count(*) FROM legacy_archive.conversations_duplicates") == duplicates
    assert applied[0]["rows_archived"] == {"legacy_archive.conversations_duplicates": duplicates}
    assert scalar(db_url, "SELECT count(*) FROM conversations") == distinct
    audit = scalar(db_url, "SELECT string_agg(b::text, '|') FROM legacy_archive.bridge_runs b")
    assert MARKER not in audit


def test_init_db_queued_behind_the_bridge_upgrades_after_it(db_url: URL) -> None:
    """A deploy that starts while the bridge runs waits for it, then finds 0001 and goes on to head.

    The bridge is held inside its run (phase 1 done, its index built CONCURRENTLY, phase 2 waiting
    for a table lock this test holds) while the deploy queues on the migration lock: the order is
    certain, and the deploy's wait must not deadlock with the bridge. ``nakamura-init-db`` looks at
    the database before it has the lock (a legacy S1 then); it must not act on that stale look.
    """
    _build_s1(db_url)
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    table_lock = holder.connect()
    procs: list[subprocess.Popen[str]] = []
    try:
        table_lock.exec_driver_sql("BEGIN")
        table_lock.exec_driver_sql("LOCK TABLE tasks IN ACCESS SHARE MODE")
        procs.append(_spawn([BRIDGE, "apply", "--json", "--legacy-timezone", "Asia/Tokyo",
                             "--lock-timeout", "2min", "--allow-connected-clients"], db_url))
        _wait_until(lambda: _waits_for_table(db_url, procs[0]), 120, "the bridge to wait for the lock on tasks")
        procs.append(_spawn([INIT_DB], db_url))
        _queue_behind_gate(db_url, procs[1:], None)
        time.sleep(2)  # longer than deadlock_timeout: a wait that could deadlock would have by now
        assert procs[0].poll() is None and procs[1].poll() is None
    finally:
        table_lock.exec_driver_sql("ROLLBACK")
        table_lock.close()
        holder.dispose()
        (bridge_code, bridge_out, bridge_err), (init_code, init_out, init_err) = _finish_all(procs)

    assert bridge_code == 0, bridge_err
    assert json.loads(bridge_out)["status"] == "applied"
    assert init_code == 0, init_err
    assert f"head {head_revision()}" in init_out
    for out, err in ((bridge_out, bridge_err), (init_out, init_err)):
        _assert_clean(out, err)
    assert version_rows(db_url) == [head_revision()]
    assert scalar(db_url, "SELECT count(*) FROM legacy_archive.bridge_runs") == 1


def test_a_deploy_waiting_while_the_bridge_builds_its_index_does_not_deadlock(db_url: URL) -> None:
    """CREATE INDEX CONCURRENTLY waits for every transaction with an older snapshot, and a deploy
    blocked on the migration lock (held by the bridge) would be one: a wait that cycles. Here the
    deploy starts while the index build itself waits (for a lock this test holds on the table),
    so it is among the transactions the build checks once the test lets go."""
    _build_s1(db_url)
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    table_lock = holder.connect()
    procs: list[subprocess.Popen[str]] = []
    try:
        table_lock.exec_driver_sql("BEGIN")
        table_lock.exec_driver_sql("LOCK TABLE conversations IN ROW EXCLUSIVE MODE")  # as a writer would
        procs.append(_spawn([BRIDGE, "apply", "--json", "--legacy-timezone", "Asia/Tokyo",
                             "--lock-timeout", "2min", "--allow-connected-clients"], db_url))

        def building() -> bool:
            if procs[0].poll() is not None:
                raise AssertionError(f"the bridge exited early: {procs[0].communicate()}")
            return bool(scalar(db_url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%'"))

        _wait_until(building, 120, "the bridge's index build to wait for the table")
        procs.append(_spawn([INIT_DB], db_url))
        _queue_behind_gate(db_url, procs[1:], None)
    finally:
        table_lock.exec_driver_sql("ROLLBACK")
        table_lock.close()
        holder.dispose()
        (bridge_code, bridge_out, bridge_err), (init_code, _init_out, init_err) = _finish_all(procs)

    assert bridge_code == 0, bridge_err
    assert json.loads(bridge_out)["status"] == "applied"
    assert init_code == 0, init_err
    assert "deadlock" not in bridge_err + init_err
    assert version_rows(db_url) == [head_revision()]
