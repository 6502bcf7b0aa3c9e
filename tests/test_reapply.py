"""Every revision after 0001 is idempotent and reversible, on real PostgreSQL, over real rows.

Re-apply: upgrade to N over seeded rows, stamp N-1 (as if the version row had
been lost, or a deploy died between the DDL and the stamp), upgrade to N again:
it must run cleanly and leave the same catalog and the same rows. The same for
the downgrade. Round trip: up, down, up, each catalog checked, no row lost. The
revisions are discovered from the script directory, so a new migration is
covered the day it is added; the checks live in ``reapply_checks.py`` and are
proven to fail on throwaway bad revisions below.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import URL

from nakamura_misaki_db.authoring.lint import lint_versions

from .helpers import (
    REPO,
    alembic_config,
    execute_sql,
    head_revision,
    next_revision_number,
    rows,
    schema_dump,
    upgrade,
    version_rows,
)
from .reapply_checks import check_downgrade_reapply, check_reapply, check_up_down_up, seed, steps

STEPS = steps()


def stamp(url: URL, target: str) -> None:
    command.stamp(alembic_config(url), target)


def downgrade(url: URL, target: str) -> None:
    command.downgrade(alembic_config(url), target)


def conversation_indexes(url: URL) -> dict[str, str]:
    return dict(rows(url, "SELECT indexname, indexdef FROM pg_indexes"
                          " WHERE schemaname = 'public' AND tablename = 'conversations'"))


def test_every_revision_after_0001_is_covered() -> None:
    # The discovery itself: a chain of at least 0001 -> 0002, each step one apart, up to the head.
    assert STEPS[0] == ("0001", "0002")
    assert STEPS[-1][1] == head_revision()
    for prev, rev in STEPS:
        assert int(rev) == int(prev) + 1


@pytest.mark.parametrize(("prev", "rev"), STEPS, ids=[rev for _, rev in STEPS])
def test_reapply_after_stamping_back(db_url: URL, prev: str, rev: str) -> None:
    check_reapply(db_url, prev, rev)


@pytest.mark.parametrize(("prev", "rev"), STEPS, ids=[rev for _, rev in STEPS])
def test_downgrade_reapply_after_stamping_forward(db_url: URL, prev: str, rev: str) -> None:
    check_downgrade_reapply(db_url, prev, rev)


@pytest.mark.parametrize(("prev", "rev"), STEPS, ids=[rev for _, rev in STEPS])
def test_up_down_up(db_url: URL, prev: str, rev: str) -> None:
    check_up_down_up(db_url, prev, rev)


# -- the checks catch what they claim to catch ----------------------------------------


def with_extra_revision(tmp_path: Path, upgrade_body: str, downgrade_body: str) -> tuple[Path, str, str]:
    """A copy of alembic/ plus one revision after the head; (script location, its parent, its id)."""
    location = tmp_path / "alembic"
    shutil.copytree(REPO / "alembic", location, ignore=shutil.ignore_patterns("__pycache__"))
    prev, rev = head_revision(), next_revision_number()
    (location / "versions" / f"{rev}_throwaway.py").write_text(textwrap.dedent(f'''\
        """A throwaway revision that a test expects to fail."""

        from alembic import op

        revision = "{rev}"
        down_revision = "{prev}"


        def upgrade(**kw):
            {upgrade_body}


        def downgrade(**kw):
            {downgrade_body}
        '''))
    return location, prev, rev


def test_a_data_change_that_is_not_idempotent_fails_only_because_there_are_rows(tmp_path: Path, make_db) -> None:
    # Has a WHERE clause (lint is content), yet adds one more on every run.
    location, prev, rev = with_extra_revision(
        tmp_path,
        "op.execute(\"UPDATE business_skills SET display_order = display_order + 1 WHERE is_active\")",
        "op.execute(\"UPDATE business_skills SET display_order = display_order - 1 WHERE is_active\")")
    assert lint_versions(location / "versions") == []
    # What the test did before it seeded rows: on empty tables the second run changes nothing.
    empty = make_db()
    cfg = alembic_config(empty, location)
    command.upgrade(cfg, rev)
    once = schema_dump(empty)
    command.stamp(cfg, prev)
    command.upgrade(cfg, rev)
    assert schema_dump(empty) == once
    # With rows, the re-apply check sees the second increment.
    with pytest.raises(AssertionError, match=f"revision {rev} run twice changes rows: .*business_skills"):
        check_reapply(make_db(), prev, rev, location)


def test_an_unguarded_drop_in_upgrade_fails_the_reapply_check(tmp_path: Path, db_url: URL) -> None:
    location, prev, rev = with_extra_revision(
        tmp_path, "op.execute(\"DROP INDEX ix_tasks_due_at\")",
        "op.execute(\"CREATE INDEX IF NOT EXISTS ix_tasks_due_at ON tasks (due_at)\")")
    with pytest.raises(Exception, match="ix_tasks_due_at\" does not exist"):
        check_reapply(db_url, prev, rev, location)
    # lint says so before any database does.
    assert [f.reason for f in lint_versions(location / "versions")] == [
        "line 10: `DROP INDEX ix_tasks_due_at` has no IF EXISTS and fails when run a second time: "
        "write DROP ... IF EXISTS"]


def test_an_unguarded_drop_in_downgrade_fails_the_downgrade_reapply_check(tmp_path: Path, db_url: URL) -> None:
    location, prev, rev = with_extra_revision(
        tmp_path, "op.create_index(\"ix_tasks_title\", \"tasks\", [\"title\"], if_not_exists=True)",
        "op.drop_index(\"ix_tasks_title\", table_name=\"tasks\")")
    with pytest.raises(Exception, match="ix_tasks_title\" does not exist"):
        check_downgrade_reapply(db_url, prev, rev, location)
    assert [f.reason for f in lint_versions(location / "versions")] == [
        "line 14: op.drop_index(...) without if_exists=True fails when run a second time "
        "(the object is gone): pass if_exists=True"]


def test_a_downgrade_that_loses_rows_fails_the_round_trip(tmp_path: Path, db_url: URL) -> None:
    location, prev, rev = with_extra_revision(
        tmp_path, "op.execute(\"ALTER TABLE handoffs ADD COLUMN IF NOT EXISTS note text\")",
        "op.execute(\"ALTER TABLE handoffs DROP COLUMN IF EXISTS note\")\n"
        "            op.execute(\"DELETE FROM handoffs WHERE status = 'pending'\")")
    with pytest.raises(AssertionError, match=f"downgrading {rev} lost rows"):
        check_up_down_up(db_url, prev, rev, location)


def test_seed_fills_every_application_table(db_url: URL) -> None:
    upgrade(db_url, "head")
    counts = seed(db_url)
    assert {"tasks", "conversations", "employees", "business_skills", "employee_skills", "slack_users",
            "handoffs"} <= {table for table, n in counts.items() if n > 0}


# -- 0002 specifically --------------------------------------------------------------

# Written by hand from the target schema: five indexes at 0001, two of them redundant.
INDEXES_0001 = {
    "conversations_pkey":
        "CREATE UNIQUE INDEX conversations_pkey ON public.conversations USING btree (conversation_id)",
    "uq_conversations_user_channel":
        "CREATE UNIQUE INDEX uq_conversations_user_channel ON public.conversations USING btree (user_id, channel_id)",
    "idx_conversations_last_message":
        "CREATE INDEX idx_conversations_last_message ON public.conversations USING btree (last_message_at)",
    "idx_conversations_user_channel":
        "CREATE INDEX idx_conversations_user_channel ON public.conversations USING btree (user_id, channel_id)",
    "ix_conversations_channel_id":
        "CREATE INDEX ix_conversations_channel_id ON public.conversations USING btree (channel_id)",
    "ix_conversations_last_message_at":
        "CREATE INDEX ix_conversations_last_message_at ON public.conversations USING btree (last_message_at)",
    "ix_conversations_user_id":
        "CREATE INDEX ix_conversations_user_id ON public.conversations USING btree (user_id)",
}
DROPPED_BY_0002 = {"idx_conversations_user_channel", "ix_conversations_last_message_at"}


def test_0001_has_the_five_conversation_indexes(db_url: URL) -> None:
    upgrade(db_url, "0001")
    assert conversation_indexes(db_url) == INDEXES_0001


def test_head_has_three_conversation_indexes_besides_the_constraints(db_url: URL) -> None:
    upgrade(db_url, "head")
    assert conversation_indexes(db_url) == {
        "conversations_pkey":
            "CREATE UNIQUE INDEX conversations_pkey ON public.conversations USING btree (conversation_id)",
        "uq_conversations_user_channel":
            "CREATE UNIQUE INDEX uq_conversations_user_channel ON public.conversations "
            "USING btree (user_id, channel_id)",
        "idx_conversations_last_message":
            "CREATE INDEX idx_conversations_last_message ON public.conversations USING btree (last_message_at)",
        "ix_conversations_channel_id":
            "CREATE INDEX ix_conversations_channel_id ON public.conversations USING btree (channel_id)",
        "ix_conversations_user_id":
            "CREATE INDEX ix_conversations_user_id ON public.conversations USING btree (user_id)",
    }


def test_0002_downgrade_recreates_both_indexes_as_0001_had_them(db_url: URL) -> None:
    upgrade(db_url, "0002")
    assert DROPPED_BY_0002.isdisjoint(conversation_indexes(db_url))
    downgrade(db_url, "0001")
    assert conversation_indexes(db_url) == INDEXES_0001


def test_0002_when_one_index_was_already_dropped_by_hand(db_url: URL) -> None:
    upgrade(db_url, "0001")
    execute_sql(db_url, "DROP INDEX ix_conversations_last_message_at")
    upgrade(db_url, "0002")
    assert version_rows(db_url) == ["0002"]
    assert set(conversation_indexes(db_url)) == set(INDEXES_0001) - DROPPED_BY_0002
    # and the downgrade, run over a database where one index is back already
    execute_sql(db_url, "CREATE INDEX idx_conversations_user_channel ON conversations (user_id, channel_id)")
    downgrade(db_url, "0001")
    assert conversation_indexes(db_url) == INDEXES_0001


def test_0002_keeps_the_rows(db_url: URL) -> None:
    upgrade(db_url, "0001")
    execute_sql(db_url, """
        INSERT INTO conversations (conversation_id, user_id, channel_id, messages, created_at, updated_at,
                                   last_message_at)
        VALUES ('5b0c5d1e-0000-4000-8000-000000000001', 'U1', 'C1', '[]', now(), now(), now()),
               ('5b0c5d1e-0000-4000-8000-000000000002', 'U2', 'C1', '[{"text": "hi"}]', now(), now(), now())
    """)
    upgrade(db_url, "0002")
    downgrade(db_url, "0001")
    upgrade(db_url, "0002")
    assert rows(db_url, "SELECT user_id, messages::text FROM conversations ORDER BY user_id") == [
        ("U1", "[]"), ("U2", '[{"text": "hi"}]'),
    ]
