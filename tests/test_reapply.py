"""Every revision after 0001 is idempotent and reversible, on real PostgreSQL.

Re-apply: upgrade to N, stamp N-1 (as if the version row had been lost, or a
deploy died between the DDL and the stamp), upgrade to N again: it must run
cleanly and leave the same catalog. Round trip: up, down, up, each catalog
checked. The revisions are discovered from the script directory, so a new
migration is covered the day it is added.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from nakamura_misaki_db.migrations import alembic_config as packaged_config

from .helpers import alembic_config, execute_sql, rows, schema_dump, upgrade, version_rows


def _steps() -> list[tuple[str, str]]:
    script = ScriptDirectory.from_config(packaged_config())
    chain = list(reversed(list(script.walk_revisions())))  # base first
    return [(rev.down_revision, rev.revision) for rev in chain if rev.down_revision is not None]


STEPS = _steps()


def stamp(url: URL, target: str) -> None:
    command.stamp(alembic_config(url), target)


def downgrade(url: URL, target: str) -> None:
    command.downgrade(alembic_config(url), target)


def conversation_indexes(url: URL) -> dict[str, str]:
    return dict(rows(url, "SELECT indexname, indexdef FROM pg_indexes"
                          " WHERE schemaname = 'public' AND tablename = 'conversations'"))


def test_every_revision_after_0001_is_covered() -> None:
    # The discovery itself: a chain of at least 0001 -> 0002, each step one apart.
    assert STEPS[0] == ("0001", "0002")
    for prev, rev in STEPS:
        assert int(rev) == int(prev) + 1


@pytest.mark.parametrize(("prev", "rev"), STEPS, ids=[rev for _, rev in STEPS])
def test_reapply_after_stamping_back(db_url: URL, prev: str, rev: str) -> None:
    upgrade(db_url, rev)
    first = schema_dump(db_url)
    stamp(db_url, prev)
    assert version_rows(db_url) == [prev]
    upgrade(db_url, rev)  # runs revision `rev` a second time over its own result
    assert version_rows(db_url) == [rev]
    assert schema_dump(db_url) == first


@pytest.mark.parametrize(("prev", "rev"), STEPS, ids=[rev for _, rev in STEPS])
def test_up_down_up(db_url: URL, prev: str, rev: str) -> None:
    upgrade(db_url, prev)
    at_prev = schema_dump(db_url)
    upgrade(db_url, rev)
    up_once = schema_dump(db_url)
    downgrade(db_url, prev)
    assert version_rows(db_url) == [prev]
    assert schema_dump(db_url) == at_prev
    upgrade(db_url, rev)
    assert version_rows(db_url) == [rev]
    assert schema_dump(db_url) == up_once


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
