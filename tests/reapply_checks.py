"""Idempotency checks for any revision of any versions directory, on a database holding rows.

A revision may run a second time over its own result (a lost version row, a
deploy killed between the DDL and the stamp), so each check seeds realistic
rows first: on empty tables a non-idempotent data change (``UPDATE ... SET n =
n + 1``) changes nothing and would pass. Used by ``test_reapply.py`` for every
real revision, and for the throwaway bad revisions that prove the checks fail.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import URL

from .helpers import alembic_config, fingerprint, row_checksums, schema_dump, script_directory, version_rows

SEED_ROWS = 40  # tasks and conversations; the other tables are sized from it


def steps(script_location: Path | None = None) -> list[tuple[str, str]]:
    """(previous, revision) for every revision that revises another, base first."""
    chain = list(reversed(list(script_directory(script_location).walk_revisions())))
    return [(rev.down_revision, rev.revision) for rev in chain if rev.down_revision is not None]


def seed(url: URL) -> dict[str, int]:
    """Fill every application table the database has (it must be empty) with realistic rows.

    ``populate`` follows the catalog (enum labels, column types, which tables
    exist), so it fits whatever revision the database is at. Its legacy state
    argument only names the generator; the rows do not depend on it.
    """
    from nakamura_misaki_db.legacy.sample_data import populate

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            counts = populate(conn, "S5", rows=SEED_ROWS)
    finally:
        engine.dispose()
    assert counts.get("tasks", 0) > 0, f"seeding inserted no tasks: {counts}"
    return counts


def _config(url: URL, script_location: Path | None, *, allow_data_loss: bool = False):
    cfg = alembic_config(url, script_location)
    if allow_data_loss:
        cfg.cmd_opts = argparse.Namespace(x=["allow_data_loss=true"])  # as `alembic -x allow_data_loss=true`
    return cfg


def _row_counts(url: URL) -> dict[str, int]:
    return {table: count for table, (count, _) in row_checksums(url).items() if table != "public.alembic_version"}


def check_reapply(url: URL, prev: str, rev: str, script_location: Path | None = None) -> None:
    """upgrade to ``rev`` over rows, stamp back to ``prev``, upgrade again: same schema, same rows."""
    cfg = _config(url, script_location)
    command.upgrade(cfg, prev)
    seed(url)
    command.upgrade(cfg, rev)
    first = fingerprint(url)
    command.stamp(cfg, prev)
    assert version_rows(url) == [prev]
    command.upgrade(cfg, rev)  # runs revision `rev` a second time over its own result
    assert version_rows(url) == [rev]
    second = fingerprint(url)
    assert second[0] == first[0], f"revision {rev} run twice leaves a different schema"
    assert second[1] == first[1], f"revision {rev} run twice changes rows: {_changed(first[1], second[1])}"


def check_up_down_up(url: URL, prev: str, rev: str, script_location: Path | None = None) -> None:
    """up, down, up over rows: each schema as before, and the downgrade loses no row of ``prev``'s tables."""
    cfg = _config(url, script_location)
    command.upgrade(cfg, prev)
    seed(url)
    at_prev, counts = schema_dump(url), _row_counts(url)
    command.upgrade(cfg, rev)
    up_once = schema_dump(url)
    command.downgrade(cfg, prev)
    assert version_rows(url) == [prev]
    assert schema_dump(url) == at_prev, f"downgrading {rev} does not give back {prev}'s schema"
    assert _row_counts(url) == counts, f"downgrading {rev} lost rows"
    command.upgrade(cfg, rev)
    assert version_rows(url) == [rev]
    assert schema_dump(url) == up_once, f"upgrading {rev} again gives another schema"


def check_downgrade_reapply(url: URL, prev: str, rev: str, script_location: Path | None = None) -> None:
    """downgrade ``rev`` over rows, stamp back to ``rev``, downgrade again: same schema, same rows."""
    command.upgrade(_config(url, script_location), rev)
    seed(url)
    cfg = _config(url, script_location, allow_data_loss=True)  # the refusal is not what is tested here
    command.downgrade(cfg, prev)
    first = fingerprint(url)
    command.stamp(cfg, rev)
    command.downgrade(cfg, prev)  # runs the downgrade of `rev` a second time over its own result
    assert version_rows(url) == [prev]
    second = fingerprint(url)
    assert second[0] == first[0], f"the downgrade of {rev} run twice leaves a different schema"
    assert second[1] == first[1], f"the downgrade of {rev} run twice changes rows: {_changed(first[1], second[1])}"


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def check_cycle(url: URL, prev: str, rev: str, script_location: Path | None = None) -> None:
    """All three checks on one database (cheaper, for the guide's examples): over seeded rows,
    upgrade twice, downgrade (no rows lost), downgrade twice, upgrade again."""
    cfg = _config(url, script_location)
    command.upgrade(cfg, prev)
    seed(url)
    at_prev, counts = schema_dump(url), _row_counts(url)
    command.upgrade(cfg, rev)
    up_once = fingerprint(url)
    command.stamp(cfg, prev)
    command.upgrade(cfg, rev)
    assert fingerprint(url) == up_once, f"revision {rev} run twice changes the schema or rows"
    command.downgrade(cfg, prev)
    assert schema_dump(url) == at_prev, f"downgrading {rev} does not give back {prev}'s schema"
    assert _row_counts(url) == counts, f"downgrading {rev} lost rows"
    down_once = fingerprint(url)
    command.stamp(cfg, rev)
    command.downgrade(cfg, prev)
    assert fingerprint(url) == down_once, f"the downgrade of {rev} run twice changes the schema or rows"
    command.upgrade(cfg, rev)
    assert fingerprint(url)[0] == up_once[0], f"upgrading {rev} again gives another schema"
