"""pytest-alembic's built-in checks, plus `alembic check` at head, on real PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy.engine import URL

from .helpers import ALEMBIC_INI, REPO, alembic_in_process


@pytest.fixture
def alembic_config():
    from pytest_alembic.config import Config

    return Config(config_options={"file": str(ALEMBIC_INI)})


@pytest.fixture
def alembic_engine(db_url: URL):
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def test_alembic_check_is_clean_at_head(db_url: URL) -> None:
    up = alembic_in_process(REPO, db_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    check = alembic_in_process(REPO, db_url, "check")
    assert check.returncode == 0, check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_alembic_check_notices_a_model_the_migrations_lack(db_url: URL) -> None:
    # The check can fail: after dropping an index the migrations created, the
    # live models (which still have it) no longer match.
    assert alembic_in_process(REPO, db_url, "upgrade", "head").returncode == 0
    import sqlalchemy as sa_

    eng = sa_.create_engine(db_url, poolclass=sa_.pool.NullPool)
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_tasks_status")
    eng.dispose()
    check = alembic_in_process(REPO, db_url, "check")
    assert check.returncode != 0
    assert "ix_tasks_status" in check.stdout + check.stderr


def test_alembic_check_lists_enum_differences_one_readable_line_each(db_url: URL) -> None:
    assert alembic_in_process(REPO, db_url, "upgrade", "head").returncode == 0
    from .helpers import execute_sql, rows

    labels = [r[0] for r in rows(db_url, "SELECT unnest(enum_range(NULL::task_status))::text")]
    execute_sql(db_url, "ALTER TYPE task_status ADD VALUE 'zz_extra'; CREATE TYPE zz_kind AS ENUM ('a')")
    check = alembic_in_process(REPO, db_url, "check")
    assert check.returncode != 0
    out = check.stdout + check.stderr
    assert "DO $" not in out and "pg_catalog" not in out and "RAISE" not in out  # words, not PL/pgSQL
    listed = check.stdout.split("change(s) between the models and the migrations:\n", 1)[1].splitlines()
    assert check.stdout.startswith("2 change(s)"), check.stdout
    assert listed[0] == (f"  change enum PGEnum: public.task_status: labels ({', '.join([*labels, 'zz_extra'])})"
                         f" -> ({', '.join(labels)})")
    assert listed[1].startswith("  drop_") and "public.zz_kind" in listed[1]
