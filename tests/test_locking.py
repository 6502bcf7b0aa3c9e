"""The migration lock and lock timeouts, in-process on real PostgreSQL (and the pure parsing).

Expected values come from the docs (MIGRATION_GUIDE.md section 4): the key is
the ASCII bytes "nakamisa", defaults 5s per statement and 10min to queue,
durations like 500ms, 5s, 2min, 1h.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.errors import BadInput, LockTimeout
from nakamura_misaki_db.connect.locking import (
    hold_migration_lock,
    is_lock_timeout,
    lock_timeout_message,
    lock_timeout_setting,
    lock_wait_setting,
    release_migration_lock,
    take_migration_lock,
    validate_duration,
    wait_seconds,
)

from .helpers import LOCK_WAITERS_SQL, MIGRATION_LOCK_KEY, scalar, wait_until

HELD_BY_SQL = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    f" AND classid = {MIGRATION_LOCK_KEY >> 32} AND objid = {MIGRATION_LOCK_KEY & 0xFFFFFFFF} AND objsubid = 1"
)


# -- durations and settings (no database) --------------------------------------------------------

@pytest.mark.parametrize(("given", "accepted"), [
    ("500ms", "500ms"), ("5s", "5s"), ("2min", "2min"), ("1h", "1h"), ("250", "250"), (" 5 s ", "5s"),
])
def test_durations_in_the_documented_forms_are_accepted(given: str, accepted: str) -> None:
    assert validate_duration(given, "--lock-timeout") == accepted


@pytest.mark.parametrize("given", ["", "5 seconds", "-1s", "1.5s", "5d", "s", "5s;DROP TABLE tasks"])
def test_other_durations_are_bad_input_naming_the_option(given: str) -> None:
    with pytest.raises(BadInput) as err:
        validate_duration(given, "--lock-timeout")
    assert str(err.value).startswith("--lock-timeout must be a duration like 500ms, 5s or 2min")
    assert repr(given) in str(err.value)


@pytest.mark.parametrize(("value", "seconds"), [
    ("500ms", 0.5), ("5s", 5), ("2min", 120), ("1h", 3600), ("250", 0.25), ("0", None), ("0s", None),
])
def test_wait_seconds(value: str, seconds: float | None) -> None:
    assert wait_seconds(value) == seconds


@pytest.mark.parametrize("value", ["ten", "5 s", "-1s", "1.5s", ""])
def test_wait_seconds_refuses_what_is_not_a_duration(value: str) -> None:
    with pytest.raises(BadInput) as err:
        wait_seconds(value)
    assert str(err.value) == f"not a duration: {value!r}"


def test_settings_come_from_the_option_then_the_environment_then_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRATION_LOCK_TIMEOUT", raising=False)
    monkeypatch.delenv("MIGRATION_LOCK_WAIT", raising=False)
    assert (lock_timeout_setting(), lock_wait_setting()) == ("5s", "10min")
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "30s")
    monkeypatch.setenv("MIGRATION_LOCK_WAIT", "1min")
    assert (lock_timeout_setting(), lock_wait_setting()) == ("30s", "1min")
    assert (lock_timeout_setting("2s"), lock_wait_setting("3s")) == ("2s", "3s")
    monkeypatch.setenv("MIGRATION_LOCK_WAIT", "forever")
    with pytest.raises(BadInput) as err:
        lock_wait_setting()
    assert str(err.value) == ("lock wait (MIGRATION_LOCK_WAIT) must be a duration like 500ms, 5s or 2min "
                              "(got 'forever')")
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "soon")
    with pytest.raises(BadInput) as err:
        lock_timeout_setting()
    assert str(err.value) == ("lock timeout (MIGRATION_LOCK_TIMEOUT) must be a duration like 500ms, 5s or 2min "
                              "(got 'soon')")


# -- the lock itself ---------------------------------------------------------------------------

@pytest.fixture
def engine(db_url: URL):
    eng = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    yield eng
    eng.dispose()


def test_take_holds_the_documented_key_for_the_transaction_and_sets_lock_timeout(engine, db_url: URL) -> None:
    with engine.connect() as conn, conn.begin():
        take_migration_lock(conn, lock_timeout="3s")
        me = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert scalar(db_url, HELD_BY_SQL) == me
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "3s"
    assert scalar(db_url, HELD_BY_SQL) is None  # gone with the transaction


def test_hold_keeps_the_key_across_transactions_until_released(engine, db_url: URL) -> None:
    with engine.connect() as conn:
        hold_migration_lock(conn)
        me = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.commit()
        assert scalar(db_url, HELD_BY_SQL) == me
        with conn.begin():
            take_migration_lock(conn, wait="1s")  # its own session holds it: no wait
        assert scalar(db_url, HELD_BY_SQL) == me
        release_migration_lock(conn)
        assert scalar(db_url, HELD_BY_SQL) is None
        assert not conn.in_transaction()


def test_a_second_holder_waits_in_pg_locks_then_gives_up_with_the_documented_message(engine, db_url: URL) -> None:
    with engine.connect() as first, engine.connect() as second:
        hold_migration_lock(first)
        started = time.monotonic()
        with pytest.raises(LockTimeout) as err:
            hold_migration_lock(second, wait="1s")
        waited = time.monotonic() - started
        assert 1 <= waited < 10
        assert str(err.value) == ("another migration run has held the migration lock for more than 1s; "
                                  "nothing was changed (raise MIGRATION_LOCK_WAIT to wait longer)")
        assert not second.in_transaction()
        release_migration_lock(first)
        hold_migration_lock(second, wait="1s")  # free again: granted at once
        release_migration_lock(second)


def test_a_waiter_gets_the_lock_when_it_is_released(engine, db_url: URL) -> None:
    got: list[float] = []
    with engine.connect() as first:
        hold_migration_lock(first)

        def wait_for_it() -> None:
            with engine.connect() as second:
                hold_migration_lock(second, wait="30s")
                got.append(time.monotonic())
                release_migration_lock(second)

        waiter = threading.Thread(target=wait_for_it)
        waiter.start()
        wait_until(lambda: scalar(db_url, LOCK_WAITERS_SQL) == 1, 30, "the waiter to queue")
        released = time.monotonic()
        release_migration_lock(first)
        waiter.join(30)
    assert got and got[0] >= released


def test_take_gives_up_waiting_for_another_run(engine) -> None:
    with engine.connect() as first, engine.connect() as second:
        hold_migration_lock(first)
        with pytest.raises(LockTimeout, match="for more than 500ms"), second.begin():
            take_migration_lock(second, wait="500ms")
        release_migration_lock(first)


def test_a_statement_blocked_past_lock_timeout_is_recognised_and_described(engine, db_url: URL) -> None:
    with engine.connect() as holder, engine.connect() as runner:
        holder.exec_driver_sql("CREATE TABLE tasks (id int)")
        holder.commit()
        holder.exec_driver_sql("LOCK TABLE tasks IN ACCESS SHARE MODE")  # as a reader would
        with pytest.raises(sa.exc.OperationalError) as err, runner.begin():
            take_migration_lock(runner, lock_timeout="200ms")
            runner.exec_driver_sql("ALTER TABLE tasks ADD COLUMN colour text")
        holder.rollback()
    assert is_lock_timeout(err.value)
    assert is_lock_timeout(err.value.orig)  # psycopg's own error, as the fast no-op path sees it
    assert not is_lock_timeout(ValueError("lock timeout"))
    message = lock_timeout_message(err.value, "200ms")
    assert message.startswith("a table lock was not granted within lock_timeout=200ms while running: "
                              "ALTER TABLE tasks ADD COLUMN colour text.")
    assert message.endswith("Retry when it is idle, or raise MIGRATION_LOCK_TIMEOUT.")


class _Failed(Exception):
    """What SQLAlchemy raises carries the statement it ran as ``.statement``; a plain error does not."""

    def __init__(self, statement: str | None) -> None:
        super().__init__("canceling statement due to lock timeout")
        self.statement = statement


def test_the_lock_timeout_message_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIGRATION_LOCK_TIMEOUT", raising=False)
    tail = ("Another session (probably the application) holds a lock on that table; nothing was changed. "
            "Retry when it is idle, or raise MIGRATION_LOCK_TIMEOUT.")
    statement = "ALTER TABLE tasks\n    ALTER COLUMN title TYPE varchar(50)"
    assert lock_timeout_message(_Failed(statement), "2s") == (
        "a table lock was not granted within lock_timeout=2s while running: "
        f"ALTER TABLE tasks ALTER COLUMN title TYPE varchar(50). {tail}")
    # No statement known: the sentence ends after the setting, which comes from the environment or 5s.
    assert lock_timeout_message(ValueError("x")) == f"a table lock was not granted within lock_timeout=5s. {tail}"
    assert lock_timeout_message(_Failed(None)) == f"a table lock was not granted within lock_timeout=5s. {tail}"
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "750ms")
    assert lock_timeout_message(_Failed("")).startswith("a table lock was not granted within lock_timeout=750ms. ")
    # A long statement is cut at 160 characters (a COPY of a whole table would flood the journal).
    long = "UPDATE tasks SET title = " + "x" * 300
    assert f"while running: {long[:160]}. Another" in lock_timeout_message(_Failed(long), "1s")
