"""`nakamura-init-db`, the deploy's oneshot, through its entry point against real PostgreSQL.

Exit 0 at head, 3 (one line naming baseline-bridge, nothing changed) for a
database that needs the bridge, 1 on errors, 2 on bad input. stdout carries
one line on success and nothing else; no password is ever printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import with_password
from nakamura_misaki_db.legacy.states import build_state

from .helpers import (
    LOCK_WAITERS_SQL,
    MIGRATION_LOCK_KEY,
    Outcome,
    bridge_cli,
    deploy_in_process,
    execute_sql,
    fingerprint,
    head_revision,
    revision_chain,
    rows,
    run,
    scalar,
    upgrade,
    version_rows,
    wait_until,
)

INIT_DB = str(Path(sys.executable).parent / "nakamura-init-db")
# Every revision, base first: 0001, 0002, ...
CHAIN = revision_chain()  # read from the scripts by Alembic, not by this package
PASSWORD_MARKER = "pw-Marker-8c1f"


def init_db(url: URL | str | None, *args: str, env: dict[str, str] | None = None) -> Outcome:
    # The entry point in this process (what is tested is what the command decides and prints); the
    # concurrency test below starts real processes, and test_package runs the installed script.
    return deploy_in_process(url, *args, env=env)


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def conversation_index_names(url: URL) -> set[str]:
    return {r[0] for r in rows(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'conversations'")}


def test_head_is_0002_or_later() -> None:
    assert int(head_revision()) >= 2
    assert CHAIN[:2] == ["0001", "0002"] and CHAIN[-1] == head_revision()


def test_empty_database_goes_to_head(db_url: URL) -> None:
    result = init_db(db_url)
    assert result.returncode == 0, result.stderr
    assert version_rows(db_url) == [head_revision()]
    line = one_line(result.stdout)
    assert line.startswith(f"database at head {head_revision()} (was empty; applied {', '.join(CHAIN)}): ")
    assert result.stderr == ""  # alembic's INFO logging stays out of the journal
    # 0002 ran: the redundant indexes are gone.
    assert "idx_conversations_user_channel" not in conversation_index_names(db_url)


def test_second_run_changes_nothing(db_url: URL) -> None:
    assert init_db(db_url).returncode == 0
    before = fingerprint(db_url)
    again = init_db(db_url)
    assert again.returncode == 0, again.stderr
    assert one_line(again.stdout).startswith(f"database already at head {head_revision()}, nothing to do")
    assert fingerprint(db_url) == before


def test_database_at_0001_is_brought_forward(db_url: URL) -> None:
    upgrade(db_url, "0001")
    result = init_db(db_url)
    assert result.returncode == 0, result.stderr
    assert one_line(result.stdout).startswith(
        f"database at head {head_revision()} (was 0001; applied {', '.join(CHAIN[1:])}): ")
    assert version_rows(db_url) == [head_revision()]
    assert not {"idx_conversations_user_channel", "ix_conversations_last_message_at"} & conversation_index_names(db_url)
    # What the runbook's operator reads next (MIGRATION_GUIDE 5.3): status names the head it reached.
    status = bridge_cli(db_url, "status")
    assert status.returncode == 0, status.stderr
    assert f"on the new migration chain at revision {head_revision()} (at head)" in status.stdout, status.stdout


def test_asyncpg_url_of_the_application_works(db_url: URL) -> None:
    asyncpg = with_password(db_url.set(drivername="postgresql+asyncpg"))
    assert asyncpg.startswith("postgresql+asyncpg://")
    result = init_db(asyncpg)
    assert result.returncode == 0, result.stderr
    assert version_rows(db_url) == [head_revision()]


def test_database_url_option_works_without_the_environment(db_url: URL) -> None:
    result = init_db(None, "--database-url", with_password(db_url))
    assert result.returncode == 0, result.stderr
    assert version_rows(db_url) == [head_revision()]


def test_legacy_schema_is_refused_with_exit_3(db_url: URL) -> None:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        build_state(conn, "S1")
    engine.dispose()
    before = fingerprint(db_url)
    result = init_db(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith("nakamura-init-db: refused: the database differs from revision 0001")
    assert "baseline-bridge plan" in line and "Nothing was changed" in line
    assert fingerprint(db_url) == before
    assert version_rows(db_url) is None


@pytest.mark.parametrize(
    ("state", "legacy_id"),
    [
        pytest.param("S2", "003_add_slack_users_table", id="S2-schema-and-stamp"),
        pytest.param(None, "79bb97c4352b", id="stamp-only"),
    ],
)
def test_legacy_revision_id_is_refused_with_exit_3(db_url: URL, state: str | None, legacy_id: str) -> None:
    if state is None:
        execute_sql(db_url, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
                            f"INSERT INTO alembic_version VALUES ('{legacy_id}')")
    else:
        engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
        with engine.begin() as conn:
            build_state(conn, state)
        engine.dispose()
    assert version_rows(db_url) == [legacy_id]
    before = fingerprint(db_url)
    result = init_db(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith(f"nakamura-init-db: refused: alembic_version holds '{legacy_id}', a revision of the "
                           "retired legacy chain")
    assert "baseline-bridge plan" in line and "Nothing was changed" in line
    assert fingerprint(db_url) == before


def test_revision_of_a_newer_release_is_refused(db_url: URL) -> None:
    # Refused (3), as the bridge refuses it: one classifier, one exit code for one state.
    upgrade(db_url, "head")
    execute_sql(db_url, "UPDATE alembic_version SET version_num = '0999'")
    before = fingerprint(db_url)
    result = init_db(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert "revision 0999, which this release does not know" in line
    assert fingerprint(db_url) == before


def test_unreachable_server_is_exit_1_without_the_password() -> None:
    url = f"postgresql://deploy:{PASSWORD_MARKER}@127.0.0.1:1/nakamura_misaki"
    result = init_db(url)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("nakamura-init-db: error: cannot connect to postgresql+psycopg://deploy:***@127.0.0.1:1/")
    assert "Traceback" not in result.stderr
    assert PASSWORD_MARKER not in result.stdout + result.stderr


def test_wrong_password_is_exit_1_without_the_password(db_url: URL, password_role) -> None:
    # A role the server makes log in with scram-sha-256 (the embedded server trusts every other one):
    # the exit 1 comes from the wrong password itself, said as such, and the password is never shown.
    url = with_password(db_url.set(username=password_role.name, password=PASSWORD_MARKER))
    result = init_db(url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "password authentication failed" in one_line(result.stderr)
    assert PASSWORD_MARKER not in result.stdout + result.stderr


def test_sqlite_url_is_bad_input_exit_2(tmp_path: Path) -> None:
    result = init_db(f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "nakamura-init-db: error: DATABASE_URL uses 'sqlite', but only PostgreSQL is supported; "
        "expected a URL like postgresql://USER:PASSWORD@HOST:5432/DBNAME"
    )
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--lock-timeout", "soon"], {}, id="option"),
        pytest.param([], {"MIGRATION_LOCK_TIMEOUT": "forever"}, id="env-timeout"),
        pytest.param([], {"MIGRATION_LOCK_WAIT": "1 week"}, id="env-wait"),
    ],
)
def test_bad_durations_are_exit_2_before_connecting(db_url: URL, args: list[str], env: dict[str, str]) -> None:
    result = init_db(db_url, *args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "must be a duration like 500ms, 5s or 2min" in one_line(result.stderr)
    assert version_rows(db_url) is None


def test_the_lock_key_is_the_documented_one() -> None:
    from nakamura_misaki_db.connect.locking import MIGRATION_LOCK_KEY as product_key

    # MIGRATION_GUIDE.md section 4: the eight ASCII bytes "nakamisa" as a signed 64-bit integer.
    assert product_key == 7953756483104633697 == MIGRATION_LOCK_KEY


def test_waits_for_the_advisory_lock_then_gives_up_with_exit_1(db_url: URL) -> None:
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    conn = holder.connect()
    try:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        result = init_db(db_url, env={"MIGRATION_LOCK_WAIT": "1s"})
    finally:
        conn.close()
        holder.dispose()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "another migration run has held the migration lock for more than 1s" in one_line(result.stderr)
    assert version_rows(db_url) is None


def test_two_concurrent_runs_both_succeed_and_exactly_one_migrates(db_url: URL) -> None:
    # The test holds the migration lock until both runs wait for it, so they really overlap.
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    conn = holder.connect()
    procs: list[subprocess.Popen[str]] = []
    try:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        env = {**os.environ, "DATABASE_URL": with_password(db_url)}
        procs = [subprocess.Popen([INIT_DB], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]

        def both_wait() -> bool:
            assert all(p.poll() is None for p in procs), "a run ended before the lock was released"
            return scalar(db_url, LOCK_WAITERS_SQL) == 2

        wait_until(both_wait, 60, "both runs to wait for the migration lock")
    finally:
        conn.close()  # releases the lock
        holder.dispose()
        outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    head = head_revision()
    lines = sorted(out.strip() for out, _ in outputs)
    migrated = [ln for ln in lines if ln.startswith(f"database at head {head} (was empty; applied 0001, ")]
    idle = [ln for ln in lines if ln.startswith(f"database already at head {head}, nothing to do")]
    assert len(migrated) == 1 and len(idle) == 1, lines
    assert version_rows(db_url) == [head]


def test_statement_lock_timeout_is_exit_1(db_url: URL) -> None:
    upgrade(db_url, "0001")
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    conn = holder.connect()
    try:
        conn.execute(sa.text("BEGIN"))
        conn.execute(sa.text("LOCK TABLE conversations IN ACCESS SHARE MODE"))  # what a reader holds
        result = init_db(db_url, "--lock-timeout", "300ms")
    finally:
        conn.close()
        holder.dispose()
    assert result.returncode == 1, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert "a table lock was not granted within lock_timeout=300ms" in line
    assert version_rows(db_url) == ["0001"]


def test_debug_logs_to_stderr_and_keeps_stdout_one_line(db_url: URL) -> None:
    # A real process: where --debug's log lines go is set up by the process (pytest owns this one's logging).
    result = run([INIT_DB, "--debug"], db_url)
    assert result.returncode == 0, result.stderr
    one_line(result.stdout)
    assert "Running upgrade  -> 0001" in result.stderr


def test_help_names_the_environment_and_exit_codes() -> None:
    result = init_db(None, "--help")
    assert result.returncode == 0
    for text in ("DATABASE_URL", "MIGRATION_LOCK_TIMEOUT", "MIGRATION_LOCK_WAIT", "postgresql+asyncpg://",
                 "--database-url", "--lock-timeout", "--debug", "exit status:", "baseline-bridge"):
        assert text in result.stdout, text
