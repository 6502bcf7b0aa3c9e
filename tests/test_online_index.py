"""The unique constraint over a table with rows: its index is built CONCURRENTLY before the transaction
(writers go on) and attached inside it. Every way the build can fail leaves no INVALID index and the
database as it was (what phase 1 committed is put back), and a rerun that completes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.run import IndexBuildFailed, apply_plan
from nakamura_misaki_db.bridge.steps import Step

from .helpers import (
    build,
    connection,
    execute_sql,
    failing_with,
    fingerprint,
    plan_of,
    scalar,
    version_rows,
)

TOKYO = "Asia/Tokyo"
INDEX = "uq_conversations_user_channel"
INVALID = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
A_DUPLICATE = ("INSERT INTO conversations SELECT gen_random_uuid(), user_id, channel_id, messages, created_at,"
               " updated_at, last_message_at FROM conversations ORDER BY conversation_id LIMIT 1")


def test_a_duplicate_written_while_the_index_builds_fails_the_build_cleanly(db_url: URL) -> None:
    build(db_url, "S1", rows=80, duplicate_ratio=0.2)
    before = fingerprint(db_url)
    writer = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    written: list[str] = []

    def the_application_writes_a_duplicate(number: int, step: Step) -> None:
        if step.action == "build_unique_index":  # after the duplicates moved, before the build
            with writer.begin() as conn:
                written.append(str(conn.exec_driver_sql(A_DUPLICATE + " RETURNING conversation_id").scalar()))

    try:
        with connection(db_url) as conn, failing_with(IndexBuildFailed) as failed:
            apply_plan(conn, legacy_timezone=TOKYO, before_step=the_application_writes_a_duplicate)
    finally:
        writer.dispose()
    message = str(failed[0])
    assert message.startswith(f"building the index {INDEX} on conversations failed: could not create unique index")
    assert ("a row that duplicates (user_id, channel_id) was written while it was being built (stop the "
            "application first if it keeps writing duplicates)") in message
    # The comparison shows the application's row, and says whose it is.
    assert "another session wrote to it during the run; every row this run had moved is back." in message
    assert failed[0].exit_code == 1
    assert scalar(db_url, INVALID) == 0
    assert scalar(db_url, f"SELECT to_regclass('public.{INDEX}')") is None
    assert version_rows(db_url) is None
    # Apart from the application's new row, the database is as it was.
    execute_sql(db_url, f"DELETE FROM conversations WHERE conversation_id = '{written[0]}'")
    assert fingerprint(db_url) == before
    execute_sql(db_url, A_DUPLICATE)
    with connection(db_url) as conn:  # the rerun moves the new duplicate too and completes
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
    assert scalar(db_url, f"SELECT count(*) FROM pg_constraint WHERE conname = '{INDEX}'") == 1


def test_an_invalid_index_left_by_a_crashed_build_is_rebuilt(db_url: URL) -> None:
    build(db_url, "S1", rows=80, duplicate_ratio=0.2)
    # What a crash (or a failed build) during CREATE INDEX CONCURRENTLY leaves: an INVALID index.
    crashed = sa.create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with crashed.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX CONCURRENTLY {INDEX} ON conversations (user_id, channel_id)")
    crashed.dispose()
    assert scalar(db_url, INVALID) == 1
    plan = plan_of(db_url, TOKYO)
    [rebuild] = [s for s in plan.steps if s.action == "build_unique_index"]
    assert "invalid" in rebuild.reason and any("DROP INDEX CONCURRENTLY" in sql for sql in rebuild.sql)
    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
    assert scalar(db_url, INVALID) == 0
    assert scalar(db_url, f"SELECT count(*) FROM pg_constraint WHERE conname = '{INDEX}'") == 1


def test_a_valid_index_left_between_the_phases_is_adopted(db_url: URL) -> None:
    build(db_url, "S1", rows=80, duplicate_ratio=0.0)
    execute_sql(db_url, f"CREATE UNIQUE INDEX {INDEX} ON conversations (user_id, channel_id)")
    plan = plan_of(db_url, TOKYO)
    assert not [s for s in plan.steps if s.action == "build_unique_index"]
    [attach] = [s for s in plan.steps if s.action == "add_unique"]
    assert "adopting" in attach.summary
    oid = scalar(db_url, f"SELECT '{INDEX}'::regclass::oid")
    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
    # The very index that was there now backs the constraint.
    assert scalar(db_url, f"SELECT conindid FROM pg_constraint WHERE conname = '{INDEX}'") == oid


def test_a_failure_inside_the_transaction_drops_the_index_built_before_it(db_url: URL) -> None:
    build(db_url, "S1", rows=80, duplicate_ratio=0.0)
    before = fingerprint(db_url)

    def fail_before_attaching(number: int, step: Step) -> None:
        if step.action == "add_unique":
            raise RuntimeError("injected")

    with connection(db_url) as conn, failing_with(RuntimeError):
        apply_plan(conn, legacy_timezone=TOKYO, before_step=fail_before_attaching)
    assert fingerprint(db_url) == before
    assert scalar(db_url, f"SELECT to_regclass('public.{INDEX}')") is None
    assert scalar(db_url, INVALID) == 0
