"""A real hot standby (issue 22: "a hot standby got a raw 'cannot execute ... in a read-only transaction'").

A small primary of its own (the session server holds every test's database: too much to copy), a
streaming standby made from it with ``pg_basebackup -R`` (the embedded server's own binaries),
started beside it. ``apply`` and ``nakamura-init-db`` are refused by name (exit 3) with the fix
(the primary); ``status`` and ``plan``, which only read, still answer; nothing changes on the
primary. (A read-only role on a primary is ``test_preflight``'s.)
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import parse_database_url

from .helpers import bridge_cli, build_legacy, fingerprint, init_db_cli, libpq_url, pg_bin, scalar, wait_until

HOT_STANDBY = ("the server: is a hot standby (pg_is_in_recovery() is true): nothing can be written there\n"
               "    fix: point DATABASE_URL (or --database-url) at the primary server, where pg_is_in_recovery() "
               "is false")


@pytest.fixture(scope="module")
def primary_and_standby(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[URL, URL]]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("makes its own embedded primary and standby (pgserver)")
    pgserver = pytest.importorskip("pgserver")
    from pgserver._commands import pg_ctl

    base = tmp_path_factory.mktemp("replication")
    primary = pgserver.get_server(base / "primary", cleanup_mode="delete")
    server = parse_database_url(primary.get_uri(), source="test primary")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql('CREATE DATABASE "legacy"')
        conn.exec_driver_sql('CREATE DATABASE "empty"')
    engine.dispose()
    build_legacy(server.set(database="legacy"), "S1", rows=40)

    standby = base / "standby"
    # -c fast: checkpoint now (the default spreads it over minutes); -R: standby.signal and primary_conninfo.
    subprocess.run([pg_bin("pg_basebackup"), "-d", libpq_url(server), "-D", str(standby), "-R", "-X", "stream",
                    "-c", "fast"], check=True, capture_output=True)
    for leftover in standby.glob(".s.PGSQL.*"):  # the primary's socket files, copied as they were
        leftover.unlink()
    with (standby / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"\nport = 5433\nunix_socket_directories = '{standby}'\nlisten_addresses = ''\nhot_standby = on\n")
    user = primary.system_user
    if user is not None:  # as root, pgserver runs PostgreSQL as its own user: the copy must be that user's
        entry = pwd.getpwnam(user)
        for path in [standby, *standby.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)
    standby.chmod(0o700)
    pg_ctl(["-w", "-l", str(standby / "log"), "start"], pgdata=standby, user=user, timeout=60)
    replica = server.update_query_dict({"host": str(standby), "port": "5433"})
    try:
        wait_until(lambda: scalar(replica.set(database="legacy"), "SELECT pg_is_in_recovery()") is True, 30,
                   "the standby to accept connections")
        yield server, replica
    finally:
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=standby, user=user, timeout=60)
        shutil.rmtree(standby, ignore_errors=True)
        primary.cleanup()


@pytest.mark.slow
def test_a_hot_standby_is_refused_by_name_and_still_answers_what_only_reads(
        primary_and_standby: tuple[URL, URL]) -> None:
    server, replica = primary_and_standby
    legacy, empty = server.set(database="legacy"), server.set(database="empty")
    before = fingerprint(legacy), fingerprint(empty)

    applied = bridge_cli(replica.set(database="legacy"), "apply", "--legacy-timezone", "Asia/Tokyo")
    assert applied.returncode == 3, applied.stderr
    assert "baseline-bridge: refused: baseline-bridge apply: 1 problem(s) found before anything was written; " \
           "nothing was changed:\n  - " + HOT_STANDBY in applied.stderr
    deployed = init_db_cli(replica.set(database="empty"))
    assert deployed.returncode == 3, deployed.stderr
    assert deployed.stderr.startswith("nakamura-init-db: refused: upgrade: 1 problem(s) found before anything was "
                                      "written; nothing was changed: - the server: is a hot standby")
    assert "cannot execute" not in applied.stderr + deployed.stderr

    status = bridge_cli(replica.set(database="legacy"), "status")
    assert status.returncode == 0 and "legacy (no legacy revision recorded" in status.stdout
    plan = bridge_cli(replica.set(database="legacy"), "plan", "--legacy-timezone", "Asia/Tokyo")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert (fingerprint(legacy), fingerprint(empty)) == before


def test_the_standby_copy_is_not_the_primary(primary_and_standby: tuple[URL, URL]) -> None:
    # The premise of the test above, checked on its own: two servers, the second in recovery.
    server, replica = primary_and_standby
    assert scalar(server.set(database="legacy"), "SELECT pg_is_in_recovery()") is False
    assert Path(str(replica.query["host"])).is_dir() and replica.query["host"] != server.query.get("host")
