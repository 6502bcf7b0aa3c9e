"""The alembic CLI itself: read-only commands need no database, runs log their steps, -x goes first.

Read-only commands (`history`, `heads`, `show <rev>`) are run with DATABASE_URL
at a closed port and an embedded data dir that must never appear: they read the
scripts only. Revision ids come from the script directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from .helpers import alembic, execute_sql, head_revision, revision_chain, version_rows

PASSWORD_MARKER = "pw-Marker-0c77"
CLOSED_PORT = f"postgresql://deploy:{PASSWORD_MARKER}@127.0.0.1:1/nakamura_misaki"
CHAIN = revision_chain()
HEAD = head_revision()


@pytest.fixture
def no_server(tmp_path: Path) -> dict[str, str]:
    return {"NAKAMURA_DB_EMBEDDED_DIR": str(tmp_path / "embedded-must-not-start")}


def test_history_lists_every_revision_without_a_database(no_server: dict[str, str]) -> None:
    result = alembic(CLOSED_PORT, "history", env=no_server)
    assert result.returncode == 0, result.stderr
    listed = [line.split(",")[0].split(" -> ")[1].split()[0] for line in result.stdout.splitlines()]
    assert listed == list(reversed(CHAIN))  # newest first, every one of them
    assert "(head)" in result.stdout.splitlines()[0]
    assert not Path(no_server["NAKAMURA_DB_EMBEDDED_DIR"]).exists()
    assert PASSWORD_MARKER not in result.stdout + result.stderr


def test_history_without_database_url_starts_no_server(no_server: dict[str, str]) -> None:
    result = alembic(None, "history", "--verbose", env=no_server)
    assert result.returncode == 0, result.stderr
    for rev in CHAIN:
        assert f"Rev: {rev}" in result.stdout
    assert "DATABASE_URL is not set" not in result.stderr
    assert not Path(no_server["NAKAMURA_DB_EMBEDDED_DIR"]).exists()


@pytest.mark.parametrize("args", [["heads"], ["show", "0001"], ["show", "head"], ["history", "-r", "0001:head"]])
def test_read_only_commands_need_no_database(no_server: dict[str, str], args: list[str]) -> None:
    result = alembic(CLOSED_PORT, *args, env=no_server)
    assert result.returncode == 0, result.stderr
    expected = {"heads": HEAD, "show": "0001" if args[-1] == "0001" else HEAD, "history": HEAD}[args[0]]
    assert expected in result.stdout
    assert not Path(no_server["NAKAMURA_DB_EMBEDDED_DIR"]).exists()


def test_history_marking_current_does_need_the_database(no_server: dict[str, str]) -> None:
    # Only the plain listing skips the database; "current" is a question for the server.
    result = alembic(CLOSED_PORT, "history", "--indicate-current", env=no_server)
    assert result.returncode != 0
    assert "cannot connect to postgresql+psycopg://deploy:***@127.0.0.1:1/" in result.stderr
    assert PASSWORD_MARKER not in result.stdout + result.stderr


def test_upgrade_logs_each_step_and_takes_x_before_the_subcommand(db_url: URL) -> None:
    result = alembic(db_url, "-x", "lock_timeout=30s", "upgrade", "head")
    assert result.returncode == 0, result.stderr
    steps = [line.split("Running upgrade ", 1)[1].split(",")[0] for line in result.stderr.splitlines()
             if "Running upgrade " in line]
    assert steps == [f"{prev} -> {rev}" for prev, rev in zip(["", *CHAIN], CHAIN, strict=False)]
    assert version_rows(db_url) == [HEAD]


def test_x_after_the_subcommand_is_a_usage_error(db_url: URL) -> None:
    # What the guide used to say; argparse rejects it before anything runs.
    result = alembic(db_url, "upgrade", "head", "-x", "lock_timeout=30s")
    assert result.returncode == 2
    assert "unrecognized arguments: -x" in result.stderr
    assert version_rows(db_url) is None


def test_a_bad_lock_timeout_changes_nothing(db_url: URL) -> None:
    result = alembic(db_url, "-x", "lock_timeout=soon", "upgrade", "head")
    assert result.returncode != 0
    assert "must be a duration like 500ms, 5s or 2min" in result.stderr
    assert version_rows(db_url) is None


def test_downgrade_logs_each_step_and_allow_data_loss_goes_first(db_url: URL) -> None:
    assert alembic(db_url, "upgrade", "head").returncode == 0
    execute_sql(db_url, "INSERT INTO employees (employee_id, name) VALUES (gen_random_uuid(), '中村')")
    refused = alembic(db_url, "downgrade", "base")
    assert refused.returncode != 0
    assert "downgrading 0001 would drop tables that hold rows: employees" in refused.stderr
    result = alembic(db_url, "-x", "allow_data_loss=true", "downgrade", "base")
    assert result.returncode == 0, result.stderr
    steps = [line.split("Running downgrade ", 1)[1].split(",")[0] for line in result.stderr.splitlines()
             if "Running downgrade " in line]
    assert steps == [f"{rev} -> {prev}" for prev, rev in zip(["", *CHAIN], CHAIN, strict=False)][::-1]
    assert version_rows(db_url) == []
