"""The bridge and the application's second chain: S6 and S7 at every N, with rows in every table.

app-chain.md: a database the application's own migrations 002..00N touched (S7: the incident database
stamped 001 by hand, then migrated; S6: built from empty by that chain) goes through `baseline-bridge
apply` then `nakamura-init-db` and ends with exactly the catalog of a fresh `upgrade head` (columns
compared by name: PostgreSQL cannot reorder them, and the application addresses them by name), every
row accounted for, and `alembic_version` = head. A second apply is a no-op.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.revisions import head_revision

from .helpers import (
    admin_engine,
    alembic,
    bridge_cli,
    build,
    init_db_cli,
    row_checksums,
    rows,
    scalar,
    schema_dump,
    version_rows,
)

TOKYO = "Asia/Tokyo"
INIT_DB = str(Path(sys.executable).parent / "nakamura-init-db")
# app-chain.md section 2: the tables the application's 002..006 create, by revision.
NEW_TABLES = {2: ("projects", "project_tasks"), 3: ("task_dependencies",), 4: ("daily_summaries", "team_metrics"),
              5: ("notifications",), 6: ()}
# legacy-states.md: the label spellings the incident database carries, and their targets.
TASK_STATUS = {"PENDING": "pending", "IN_PROGRESS": "in_progress", "COMPLETED": "completed"}


def normalized(dump: str) -> list[str]:
    """pg_dump statements, sorted, with the column lines of each CREATE TABLE sorted too."""
    out: list[str] = []
    current: list[str] = []
    for line in dump.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            block = "\n".join(current)
            if block.startswith("CREATE TABLE"):
                head, *cols = current[:-1]
                block = "\n".join([head, *sorted(c.rstrip(",") for c in cols), current[-1]])
            out.append(block)
            current = []
    return sorted(out)


@pytest.fixture(scope="module")
def head_dump(pg_server_url: URL) -> Iterator[list[str]]:
    name = f"ref_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = pg_server_url.set(database=name)
        up = alembic(url, "upgrade", "head")
        assert up.returncode == 0, up.stdout + up.stderr
        yield normalized(schema_dump(url, "public"))
    finally:
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


CASES = [pytest.param("S6", n, id=f"S6-{n}") for n in range(1, 7)] + [
    pytest.param("S7", n, id=f"S7-{n}") for n in range(2, 7)]


@pytest.mark.parametrize(("state", "n"), CASES)
def test_bridge_then_deploy_reaches_head_keeping_every_row(db_url: URL, head_dump: list[str], state: str,
                                                          n: int) -> None:
    build(db_url, state, rows=60, n=n)
    new_tables = [t for k in range(2, n + 1) for t in NEW_TABLES[k]]
    before = row_checksums(db_url)
    for table in new_tables:
        assert before[f"public.{table}"][0] > 0, f"sample data fills {table}"
    status_before = rows(db_url, "SELECT status::text, count(*) FROM tasks GROUP BY 1")

    status = bridge_cli(db_url, "status")
    assert "legacy" in status.stdout and f"legacy revision 00{n}" in status.stdout, status.stdout
    applied = bridge_cli(db_url, "apply", "--legacy-timezone", TOKYO, "--json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert version_rows(db_url) == ["0001"]
    deployed = init_db_cli(db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert version_rows(db_url) == [head_revision()]

    assert normalized(schema_dump(db_url, "public")) == head_dump
    after = row_checksums(db_url)
    # The later revisions' tables: every row exactly as it was (adopted, not rebuilt).
    for table in new_tables:
        assert after[f"public.{table}"] == before[f"public.{table}"], table
    # The old tables: every row kept, mapped or archived.
    for table in ("tasks", "employees", "business_skills", "employee_skills", "handoffs"):
        assert after[f"public.{table}"][0] == before[f"public.{table}"][0], table
    archived = after.get("legacy_archive.conversations_duplicates", (0, ""))[0]
    assert after["public.conversations"][0] + archived == before["public.conversations"][0]
    mapped = {TASK_STATUS.get(label, label): count for label, count in status_before}
    assert dict(rows(db_url, "SELECT status::text, count(*) FROM tasks GROUP BY 1")) == mapped
    if n >= 6:  # priority / progress / estimate kept on every task
        assert scalar(db_url, "SELECT count(*) FROM tasks WHERE priority IS NULL") == 0

    again = bridge_cli(db_url, "apply")
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_a_later_table_that_differs_is_refused_up_front(db_url: URL) -> None:
    # As the application's ORM (create_all) would have built it: json, not jsonb (app-chain.md section 3).
    build(db_url, "S7", rows=40, n=6, sql="ALTER TABLE team_metrics ALTER COLUMN metadata TYPE json")
    result = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert result.returncode == 3
    assert re.search(r"team_metrics.*revision 0005", result.stdout), result.stdout
    assert "metadata" in result.stdout


# -- the time zone guard -------------------------------------------------------------------------------

def test_plan_and_status_name_the_database_timezone_and_the_mismatch(db_url: URL) -> None:
    from .helpers import execute_sql

    build(db_url, "S7", rows=30, n=6)
    execute_sql(db_url, f'ALTER DATABASE "{db_url.database}" SET TimeZone = \'UTC\'')
    status = bridge_cli(db_url, "status")
    assert "TimeZone:  UTC" in status.stdout
    plan = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert plan.returncode == 0
    notes = [ln for ln in plan.stdout.splitlines() if ln.startswith("NOTE:")]
    assert len(notes) == 1, plan.stdout
    assert "converted as Asia/Tokyo" in notes[0] and "TimeZone is UTC" in notes[0]
    assert "--set-database-timezone" in notes[0] and "DateTime(timezone=True)" in notes[0]
    # Same zone: nothing to say.
    execute_sql(db_url, f'ALTER DATABASE "{db_url.database}" SET TimeZone = \'Asia/Tokyo\'')
    same = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert not [ln for ln in same.stdout.splitlines() if ln.startswith("NOTE:")], same.stdout


def test_apply_can_set_the_database_timezone_in_the_same_transaction(db_url: URL) -> None:
    from .helpers import execute_sql

    build(db_url, "S1", rows=30)
    execute_sql(db_url, f'ALTER DATABASE "{db_url.database}" SET TimeZone = \'UTC\'')
    assert bridge_cli(db_url, "apply", "--set-database-timezone").returncode == 2  # needs the zone
    applied = bridge_cli(db_url, "apply", "--legacy-timezone", TOKYO, "--set-database-timezone")
    assert applied.returncode == 0, applied.stderr
    # A new session (the application's) now reads naive values in Tokyo time.
    assert scalar(db_url, "SELECT current_setting('TimeZone')") == TOKYO
    assert scalar(db_url, "SELECT CAST(CAST('2025-10-20 09:00' AS timestamp) AS timestamptz) "
                          "= CAST('2025-10-20 00:00Z' AS timestamptz)") is True


def test_the_plan_shows_the_timezone_step_what_it_sets_and_that_it_locks_nothing(db_url: URL) -> None:
    import json

    from .helpers import execute_sql

    build(db_url, "S1", rows=30)
    execute_sql(db_url, f'ALTER DATABASE "{db_url.database}" SET TimeZone = \'UTC\'')
    plan = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO, "--set-database-timezone", "--json")
    assert plan.returncode == 0, plan.stderr
    [step] = [s for s in json.loads(plan.stdout)["steps"] if s["action"] == "set_database_timezone"]
    assert step["object"] == db_url.database
    assert step["summary"] == f"set the TimeZone of database {db_url.database} to {TOKYO}"
    assert step["sql"] == [f"ALTER DATABASE \"{db_url.database}\" SET TimeZone = '{TOKYO}'"]
    assert step["safety"] == "catalog-only" and step["table"] is None
    # An ALTER DATABASE ... SET takes no lock the application would wait for; running sessions keep their zone.
    assert step["locks"] == ["none (new sessions see it; running ones keep theirs)"]
    assert step["reason"] == (f"the application writes naive datetimes in {TOKYO}: new sessions must read them in "
                              "that zone")
