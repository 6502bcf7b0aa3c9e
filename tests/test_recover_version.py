"""`nakamura-db recover-version`: a database that lost its alembic_version row gets head back, but only
when Alembic's own check finds nothing that differs from head; every refusal changes nothing.

Real PostgreSQL throughout. The revision ids come from the scripts (never hard-coded), so these tests
also run in a copy with a newer head (tests/test_new_revision.py proves the motivating case there: a
database at a revision after 0007 that changed 0001's objects, which `nakamura-init-db` alone refuses).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import with_password

from .helpers import (
    LOCK_WAITERS_SQL,
    REPO,
    MigrationLockHolder,
    Outcome,
    app_checksums,
    build_legacy,
    execute_sql,
    fingerprint,
    head_revision,
    revision_chain,
    rows,
    run,
    scalar,
    schema_dump,
    upgrade,
    version_rows,
    wait_until,
)

BIN = Path(sys.executable).parent
NAKAMURA_DB = str(BIN / "nakamura-db")
INIT_DB = str(BIN / "nakamura-init-db")


def recover(url: URL | None, *args: str) -> Outcome:
    """``nakamura-db recover-version ARGS --database-url URL`` in this process (the same entry point)."""
    from nakamura_misaki_db.devtools.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["recover-version", *args, *(["--database-url", with_password(url)] if url else [])])
    return Outcome(code, out.getvalue(), err.getvalue())


def lost_row(url: URL, how: str = "DELETE FROM alembic_version") -> None:
    upgrade(url, "head")
    execute_sql(url, how)


def labels(url: URL) -> list[str]:
    return [r[0] for r in rows(url, "SELECT unnest(enum_range(NULL::task_status))::text")]


# -- recovered -------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["DELETE FROM alembic_version", "DROP TABLE alembic_version"])
def test_a_database_at_head_that_lost_its_row_gets_head_back_and_nothing_else(db_url: URL, how: str) -> None:
    lost_row(db_url, how)
    before = fingerprint(db_url)

    dry = recover(db_url, "--check")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"head {head_revision()} would be recorded: the schema equals head")
    assert "nothing was changed (--check)" in dry.stdout
    assert fingerprint(db_url) == before  # the dry run rolled back, alembic_version included

    done = recover(db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stderr == ""
    assert done.stdout.startswith(f"recorded head {head_revision()}: the schema equals head")
    assert f"/{db_url.database}" in done.stdout and "***" not in done.stdout  # the URL, masked (no password here)
    assert version_rows(db_url) == [head_revision()]
    # The schema as it was (plus alembic_version when it had been dropped), every row as it was.
    assert without_version(schema_dump(db_url)) == without_version(before[0])
    if how.startswith("DELETE"):
        assert schema_dump(db_url) == before[0]
    assert app_checksums(db_url) == {k: v for k, v in before[1].items() if k != "public.alembic_version"}

    deployed = run([INIT_DB], db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.startswith(f"database already at head {head_revision()}, nothing to do")


def without_version(dump: str) -> str:
    """A schema dump minus the statements about alembic_version."""
    return ";".join(b for b in dump.split(";") if "alembic_version" not in b)


def test_json_reports_what_was_recorded(db_url: URL) -> None:
    lost_row(db_url)
    result = recover(db_url, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "recorded" and data["head"] == head_revision() and data["differences"] == []
    assert data["database"].startswith("postgresql+psycopg://")


# -- refused: the schema is not head's --------------------------------------------------------------


@pytest.mark.parametrize(("sql", "named"), [
    pytest.param("ALTER TABLE tasks DROP COLUMN estimated_hours",
                 "column tasks.estimated_hours: missing (head has it)", id="dropped-column"),
    pytest.param("DROP INDEX ix_tasks_status", "index ix_tasks_status on tasks (status): missing (head has it)",
                 id="dropped-index"),
    pytest.param("ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 3",
                 "column tasks.priority: default 3 in the database, 5 at head", id="changed-default"),
    pytest.param("ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL",
                 "column tasks.title: nullable in the database, NOT NULL at head", id="nullable"),
    pytest.param("ALTER TABLE tasks DROP CONSTRAINT ck_tasks_progress_percent_range",
                 "CHECK ck_tasks_progress_percent_range on tasks: missing", id="dropped-check"),
    # A table nobody declared is not a difference from 0001 (the deploy leaves foreign tables alone).
    pytest.param("CREATE TABLE scratch (id int)", "table scratch: in the database, not at head",
                 id="extra-table"),
])
def test_refused_when_the_schema_differs_from_head_changing_nothing(db_url: URL, sql: str, named: str) -> None:
    lost_row(db_url, f"DELETE FROM alembic_version; {sql}")
    before = fingerprint(db_url)
    result = recover(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"nakamura-db: refused: the schema differs from head {head_revision()} in 1 "
                                    "way(s) (alembic check), so no revision was recorded; nothing was changed:")
    assert f"\n  - {named}" in result.stderr, result.stderr
    # What to do: record the older revision by hand, or the command for what the database looks like without
    # its row: the deploy when only later revisions' objects are missing (this chain), the bridge when 0001's
    # objects differ too (a chain whose later revision changed one: the copy in test_new_revision).
    assert "alembic stamp REV" in result.stderr, result.stderr
    assert "run `nakamura-init-db`" in result.stderr or "run `baseline-bridge plan`" in result.stderr
    assert fingerprint(db_url) == before
    assert version_rows(db_url) == []


def test_a_label_head_lacks_is_named_and_the_created_version_table_rolled_back(db_url: URL) -> None:
    lost_row(db_url, "DROP TABLE alembic_version")
    head_labels = labels(db_url)
    execute_sql(db_url, "ALTER TYPE task_status ADD VALUE 'zz_extra'")
    before = fingerprint(db_url)
    result = recover(db_url, "--json")
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["status"] == "refused" and data["exit_code"] == 3 and data["head"] == head_revision()
    assert data["differences"] == [f"enum public.task_status: labels ({', '.join([*head_labels, 'zz_extra'])}) "
                                   f"in the database, ({', '.join(head_labels)}) at head"]
    assert fingerprint(db_url) == before
    assert version_rows(db_url) is None  # the table it created for head went with the rollback


def test_a_database_at_an_older_revision_is_refused_and_pointed_at_the_deploy(db_url: URL) -> None:
    older = revision_chain()[-2]
    upgrade(db_url, older)
    execute_sql(db_url, "DELETE FROM alembic_version")
    before = fingerprint(db_url)
    result = recover(db_url)
    assert result.returncode == 3
    assert "run `nakamura-init-db`" in result.stderr, result.stderr
    assert fingerprint(db_url) == before
    # ... and the advice holds: the deploy verifies, creates what is missing and records head.
    deployed = run([INIT_DB], db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert version_rows(db_url) == [head_revision()]


def _guide_advice() -> list[str]:
    """The two closing advices MIGRATION_GUIDE.md section 5 quotes for a refused recovery, each one line."""
    text = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")
    section = text[text.index("The refusal ends with what to do"):text.index("`alembic stamp head` records head")]
    quotes: list[list[str]] = []
    previous_was_quote = False
    for line in section.splitlines():
        if line.strip().startswith("> "):
            if not previous_was_quote:
                quotes.append([])
            quotes[-1].append(line.strip()[2:])
        previous_was_quote = line.strip().startswith("> ")
    assert len(quotes) == 2, quotes
    return [" ".join(q) for q in quotes]


def test_the_refusal_ends_with_the_guides_advice_for_an_older_revision_and_for_a_legacy_database(
        db_url: URL, make_db) -> None:
    older_revision, legacy = _guide_advice()
    upgrade(db_url, revision_chain()[-2])
    execute_sql(db_url, "DELETE FROM alembic_version")
    refused = recover(db_url)
    assert refused.returncode == 3 and refused.stderr.rstrip("\n").endswith("\n" + older_revision), refused.stderr
    other = make_db()
    build_legacy(other, "S1", rows=5)
    refused = recover(other)
    assert refused.returncode == 3 and refused.stderr.rstrip("\n").endswith("\n" + legacy), refused.stderr


def test_a_legacy_database_is_refused_and_pointed_at_the_bridge(db_url: URL) -> None:
    build_legacy(db_url, "S1", rows=20)  # the incident database: create_all, no alembic_version
    before = fingerprint(db_url)
    result = recover(db_url)
    assert result.returncode == 3
    assert "differs from head" in result.stderr
    assert "it is legacy: run `baseline-bridge plan`, then `baseline-bridge apply`" in result.stderr
    assert "\n  - enum public.task_status: labels (PENDING, IN_PROGRESS, COMPLETED) in the database" in result.stderr
    assert fingerprint(db_url) == before
    assert scalar(db_url, "SELECT to_regclass('public.alembic_version')") is None


# -- refused: nothing to recover --------------------------------------------------------------------


def test_refused_when_alembic_version_holds_a_row(db_url: URL) -> None:
    upgrade(db_url, "head")
    before = fingerprint(db_url)
    result = recover(db_url)
    assert result.returncode == 3
    assert result.stderr == (f"nakamura-db: refused: alembic_version already holds {head_revision()}: there is no "
                             "lost version row to recover. Nothing was changed. See what the database is: "
                             "`baseline-bridge status`.\n")
    assert fingerprint(db_url) == before


def test_refused_when_alembic_version_holds_a_legacy_row(db_url: URL) -> None:
    build_legacy(db_url, "S7", rows=10)
    before = fingerprint(db_url)
    result = recover(db_url)
    assert result.returncode == 3
    assert "alembic_version already holds 006" in result.stderr
    assert fingerprint(db_url) == before


def test_refused_on_an_empty_database(db_url: URL) -> None:
    result = recover(db_url, "--check")
    assert result.returncode == 3
    assert "the database is empty" in result.stderr and "run `nakamura-init-db`" in result.stderr
    assert scalar(db_url, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") == 0


# -- the migration lock -----------------------------------------------------------------------------


def test_gives_up_cleanly_when_another_run_holds_the_lock(db_url: URL, monkeypatch) -> None:
    lost_row(db_url)  # (built before the other run takes the lock: the upgrade would wait for it)
    monkeypatch.setenv("MIGRATION_LOCK_WAIT", "1s")
    with MigrationLockHolder(db_url):  # another migration run
        started = time.monotonic()
        result = recover(db_url)
        waited = time.monotonic() - started
    assert result.returncode == 1
    assert result.stderr == ("nakamura-db: another migration run has held the migration lock for more than 1s; "
                             "nothing was changed (raise MIGRATION_LOCK_WAIT to wait longer)\n")
    assert 1 <= waited < 30
    assert version_rows(db_url) == []


def test_waits_for_another_run_then_records(db_url: URL) -> None:
    lost_row(db_url)
    outcome: list[Outcome] = []
    with MigrationLockHolder(db_url) as another_run:
        worker = threading.Thread(target=lambda: outcome.append(recover(db_url, "--lock-wait", "60s")))
        worker.start()
        try:
            wait_until(lambda: scalar(db_url, LOCK_WAITERS_SQL) >= 1, 30, "recover-version to queue on the lock")
            assert version_rows(db_url) == []  # nothing while it waits
        finally:
            another_run.release()
            worker.join(120)
    assert outcome and outcome[0].returncode == 0, outcome
    assert version_rows(db_url) == [head_revision()]


# -- bad input, no server: one line, no password ----------------------------------------------------

SECRET = "s3cr3t-pw"


@pytest.mark.parametrize(("url", "code", "says"), [
    (f"mysql://app:{SECRET}@db.internal/nakamura_misaki", 2, "only PostgreSQL is supported"),
    (f"postgresql://app:{SECRET}@127.0.0.1:1/nakamura_misaki", 1, "cannot connect to postgresql+psycopg://app:***@"),
])
def test_bad_url_or_no_server_is_one_line_without_the_password(url: str, code: int, says: str) -> None:
    result = subprocess.run([NAKAMURA_DB, "recover-version", "--database-url", url], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == code
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("nakamura-db: "), result.stderr
    assert says in result.stderr
    assert SECRET not in result.stderr and "Traceback" not in result.stderr


def test_a_bad_duration_is_bad_usage_before_connecting() -> None:
    result = run([NAKAMURA_DB, "recover-version", "--database-url", "postgresql://app@127.0.0.1:1/x"], None,
                 env={"MIGRATION_LOCK_WAIT": "forever"})
    assert result.returncode == 2
    assert "lock wait (MIGRATION_LOCK_WAIT) must be a duration" in result.stderr


def test_help_says_what_it_does_with_an_example_and_the_exit_codes() -> None:
    result = run([NAKAMURA_DB, "recover-version", "--help"], None)
    assert result.returncode == 0
    for text in ("alembic_version", "one transaction", "examples:", "nakamura-db recover-version --check",
                 "exit codes:", "3  refused", "--database-url", "--json"):
        assert text in result.stdout, text


def test_the_schema_dump_helper_sees_what_the_refusal_tests_rely_on(db_url: URL) -> None:
    # The refusal tests prove "nothing changed" with fingerprint(); it must see a dropped index at all.
    upgrade(db_url, "head")
    before = schema_dump(db_url)
    execute_sql(db_url, "DROP INDEX ix_tasks_status")
    assert schema_dump(db_url) != before
