"""The advisory lock and lock timeouts shared by Alembic (env.py) and baseline-bridge.

Every writer of the schema takes the same advisory lock first, so two
deploys (or a deploy and the bridge) never interleave. A run holds it for its
session (``hold_migration_lock``, waited for in short attempts) and again for
its transaction (``take_migration_lock``); both end with the connection, so a
crashed or killed process can never leave a stale lock behind.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from nakamura_misaki_db.connect.errors import BadInput, LockTimeout

if TYPE_CHECKING:  # SQLAlchemy is imported only when a lock is taken: the no-op deploy never does
    from sqlalchemy.engine import Connection

# The eight ASCII bytes "nakamisa" read as a big-endian signed 64-bit integer.
MIGRATION_LOCK_KEY = 7953756483104633697

LOCK_TIMEOUT_ENV = "MIGRATION_LOCK_TIMEOUT"
LOCK_WAIT_ENV = "MIGRATION_LOCK_WAIT"
# How long one DDL statement may wait for a lock the application holds.
DEFAULT_LOCK_TIMEOUT = "5s"
# How long to queue behind another migration run holding the advisory lock.
DEFAULT_LOCK_WAIT = "10min"

_DURATION = re.compile(r"^\s*\d+\s*(ms|s|min|h)?\s*$")


def validate_duration(value: str, what: str) -> str:
    if not _DURATION.match(value or ""):
        raise BadInput(f"{what} must be a duration like 500ms, 5s or 2min (got {value!r})")
    return value.replace(" ", "")


def lock_timeout_setting(explicit: str | None = None) -> str:
    value = explicit or os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT
    return validate_duration(value, f"lock timeout ({LOCK_TIMEOUT_ENV})")


def lock_wait_setting(explicit: str | None = None) -> str:
    value = explicit or os.environ.get(LOCK_WAIT_ENV) or DEFAULT_LOCK_WAIT
    return validate_duration(value, f"lock wait ({LOCK_WAIT_ENV})")


def set_local(conn: Connection, name: str, value: str) -> None:
    import sqlalchemy as sa

    conn.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})


def set_session_settings(conn: Connection, *, lock_timeout: str | None = None, search_path: str = "public") -> None:
    """``lock_timeout`` and ``search_path`` for the whole session, committed at once.

    A deploy commits after every revision (``transaction_per_migration``): a ``SET LOCAL``
    would end with the first revision's transaction, and every later revision would wait for
    locks forever. Session settings last until ``reset_session_settings`` or the session ends.
    """
    import sqlalchemy as sa

    with conn.begin():
        conn.execute(sa.text("SELECT set_config('lock_timeout', :v, false)"), {"v": lock_timeout_setting(lock_timeout)})
        conn.execute(sa.text("SELECT set_config('search_path', :v, false)"), {"v": search_path})


def reset_session_settings(conn: Connection) -> None:
    import sqlalchemy as sa

    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            conn.execute(sa.text("RESET lock_timeout"))
            conn.execute(sa.text("RESET search_path"))
    except sa.exc.SQLAlchemyError:
        pass  # the session is gone, and its settings with it


def is_lock_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) == "55P03"  # lock_not_available


def take_migration_lock(conn: Connection, *, wait: str | None = None,
                        lock_timeout: str | None = None) -> None:
    """Serialise with every other migration run, then bound all later lock waits.

    Must run inside the transaction that does the work: the lock lasts exactly
    as long as that transaction.
    """
    import sqlalchemy as sa

    wait_value = lock_wait_setting(wait)
    timeout_value = lock_timeout_setting(lock_timeout)
    set_local(conn, "lock_timeout", wait_value)
    try:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    except sa.exc.OperationalError as exc:
        if is_lock_timeout(exc):
            raise LockTimeout(
                f"another migration run has held the migration lock for more than {wait_value}; "
                f"nothing was changed (raise {LOCK_WAIT_ENV} to wait longer)"
            ) from None
        raise
    set_local(conn, "lock_timeout", timeout_value)


def lock_timeout_message(exc: BaseException, timeout: str | None = None) -> str:
    statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:160]
    value = lock_timeout_setting(timeout)
    where = f" while running: {statement}" if statement else ""
    return (
        f"a table lock was not granted within lock_timeout={value}{where}. "
        "Another session (probably the application) holds a lock on that table; "
        f"nothing was changed. Retry when it is idle, or raise {LOCK_TIMEOUT_ENV}."
    )


def wait_seconds(value: str) -> float | None:
    """A validated duration in seconds; None for 0 (PostgreSQL's "wait forever")."""
    match = re.match(r"^(\d+)(ms|s|min|h)?$", value)
    if match is None:
        raise BadInput(f"not a duration: {value!r}")
    amount = int(match[1]) * {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[match[2] or "ms"]
    return amount or None


# One attempt to take the lock waits at most this long (and less than deadlock_timeout, read once).
_ATTEMPT_MS = 100


def hold_migration_lock(conn: Connection, *, wait: str | None = None) -> None:
    """Take the migration lock for this session (until ``release_migration_lock`` or the session ends).

    For a run that spans more than one transaction (the bridge's two phases, a
    deploy's upgrade): nothing can slip in between them, and a killed process
    still releases it, with its connection.

    The wait is a series of short attempts, each its own transaction, never one
    long blocked statement: ``CREATE INDEX CONCURRENTLY`` (the bridge's phase 1,
    run while it holds this lock) waits for every transaction that holds an
    older snapshot, and a statement blocked on this lock holds one, so a single
    long wait here would deadlock with the index build. A short attempt ends
    its transaction before PostgreSQL's deadlock check would run. Between
    attempts the waiter still shows in ``pg_locks`` most of the time, but
    waiters are not served in arrival order.
    """
    import sqlalchemy as sa

    wait_value = lock_wait_setting(wait)
    limit = wait_seconds(wait_value)
    deadline = None if limit is None else time.monotonic() + limit
    attempt_ms = _ATTEMPT_MS
    first = True
    while True:
        try:
            with conn.begin():
                set_local(conn, "lock_timeout", f"{attempt_ms}ms")
                conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            return
        except sa.exc.OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
        if deadline is not None and time.monotonic() >= deadline:
            raise LockTimeout(
                f"another migration run has held the migration lock for more than {wait_value}; "
                f"nothing was changed (raise {LOCK_WAIT_ENV} to wait longer)"
            )
        if first:
            first = False
            with conn.begin():
                deadlock_ms = int(conn.execute(sa.text(
                    "SELECT setting::int FROM pg_settings WHERE name = 'deadlock_timeout'")).scalar() or 1000)
            attempt_ms = max(1, min(_ATTEMPT_MS, deadlock_ms // 2))


def release_migration_lock(conn: Connection) -> None:
    import sqlalchemy as sa

    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
    except sa.exc.SQLAlchemyError:
        pass  # the session is gone, and the lock with it
