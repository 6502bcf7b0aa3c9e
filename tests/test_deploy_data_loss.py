"""The deploy refuses what loses data (issue 23, part 3): ``alembic upgrade``/``downgrade`` and
``nakamura-init-db`` on a database with rows, with a hazardous draft as the next revision.

A refusal exits 3 with "refused:" wording, names the revision, the operation and the rows, and
changes nothing (a fingerprint of schema and rows, taken before and after). The same revision
passes once it names the operation in its reviewed ``SAFETY_REVIEWED``, or when there is nothing
to lose. The drafts are the ones of ``tests/drafts/safety/`` (see test_safety_lint.py), run as the
next revisions after this release's head.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from .helpers import (
    REPO,
    Outcome,
    alembic_in_process,
    draft_files,
    execute_sql,
    fingerprint,
    head_revision,
    init_db_cli,
    init_db_in_copy,
    next_revision_number,
    rows,
    scalar,
    upgrade,
    version_rows,
    with_drafts,
)

TASKS, ESTIMATED, CANCELLED = 12, 5, 4
TASK_ROWS = f"""
INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, estimated_hours, created_at, updated_at)
SELECT ('7a5c0000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'task ' || i, 'U' || i, 'U0',
       (CASE WHEN i <= {CANCELLED} THEN 'cancelled' WHEN i <= {CANCELLED + 2} THEN 'completed'
             ELSE 'pending' END)::task_status,
       CASE WHEN i <= {ESTIMATED} THEN 2.5 END, now(), now()
FROM generate_series(1, {TASKS}) i;
"""


def _reviewed(name: str, reviewed: dict[str, str]) -> dict[str, str]:
    """The draft's text with a SAFETY_REVIEWED naming ``reviewed`` (key -> reason) before its upgrade()."""
    text = draft_files(name)[0].read_text(encoding="utf-8")
    marker = "SAFETY_REVIEWED = " + repr(reviewed)
    return {name: text.replace("\n\ndef upgrade(", f"\n{marker}\n\n\ndef upgrade(", 1)}


@pytest.fixture
def with_tasks(make_db: Callable[[], URL]) -> URL:
    """A database at this release's head whose tasks hold rows (some estimated, some cancelled)."""
    url = make_db()
    upgrade(url)
    execute_sql(url, TASK_ROWS)
    return url


# In this process, the commands' own entry points: what is under test is what the deploy refuses and
# changes, not a Python start (the real processes' exit codes and messages are tested in
# test_alembic_cli.py, test_init_db.py and test_reliability_bad_input.py).
def _alembic(copy: Path, url: URL | None, *args: str) -> Outcome:
    return alembic_in_process(copy, url, *args)


def _init_db(copy: Path, url: URL) -> Outcome:
    return init_db_in_copy(copy, url)


NEW = next_revision_number(REPO / "alembic")
LOST = f"{ESTIMATED} value(s) in tasks.estimated_hours would be lost"


# -- upgrade: a dropped column holding data ------------------------------------------------------------

def test_alembic_upgrade_refuses_a_drop_that_loses_data_and_changes_nothing(tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "H03_drop_column")
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "upgrade", "head")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1].startswith("refused: this run would lose data the database holds")
    assert f"upgrade {NEW}: drop-column tasks.estimated_hours ({LOST})" in result.stderr
    assert "reviewed key: 'drop-column tasks.estimated_hours'" in result.stderr
    assert "Nothing was changed." in result.stderr
    assert fingerprint(with_tasks) == before
    assert version_rows(with_tasks) == [head_revision()]


def test_nakamura_init_db_refuses_it_too(tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "H03_drop_column")
    before = fingerprint(with_tasks)
    result = _init_db(copy, with_tasks)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith("nakamura-init-db: refused: this run would lose data the database holds")
    assert f"drop-column tasks.estimated_hours ({LOST})" in result.stderr
    assert fingerprint(with_tasks) == before


REVIEWED_DROP = {"drop-column tasks.estimated_hours": "no release reads estimated_hours; reviewed by A. Sato"}


@pytest.mark.parametrize("entry", ["alembic", "nakamura-init-db"])
def test_the_reviewed_opt_out_lets_the_drop_through(entry: str, tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "H03_drop_column", texts=_reviewed("H03_drop_column", REVIEWED_DROP))
    result = _alembic(copy, with_tasks, "upgrade", "head") if entry == "alembic" else _init_db(copy, with_tasks)
    assert result.returncode == 0, result.stdout + result.stderr
    assert version_rows(with_tasks) == [NEW]
    assert scalar(with_tasks, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'tasks'::regclass "
                              "AND attname = 'estimated_hours' AND NOT attisdropped") == 0
    assert scalar(with_tasks, "SELECT count(*) FROM tasks") == TASKS


def test_an_opt_out_for_another_operation_does_not(tmp_path: Path, with_tasks: URL) -> None:
    other = {"drop-column tasks.description": "reviewed, but not this one"}
    copy = with_drafts(tmp_path / "copy", "H03_drop_column", texts=_reviewed("H03_drop_column", other))
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "upgrade", "head")
    assert result.returncode == 3, result.stdout + result.stderr
    assert fingerprint(with_tasks) == before


def test_a_drop_with_nothing_to_lose_runs(tmp_path: Path, with_tasks: URL) -> None:
    execute_sql(with_tasks, "UPDATE tasks SET estimated_hours = NULL")
    copy = with_drafts(tmp_path / "copy", "H03_drop_column")
    result = _alembic(copy, with_tasks, "upgrade", "head")
    assert result.returncode == 0, result.stdout + result.stderr
    assert version_rows(with_tasks) == [NEW]


def test_every_revision_of_the_run_is_checked_before_the_first_changes_anything(tmp_path: Path,
                                                                                with_tasks: URL) -> None:
    # B03 (harmless) first, then H03: the run is refused before B03 commits, though each revision
    # is its own transaction.
    copy = with_drafts(tmp_path / "copy", "B03_add_nullable_column", "H03_drop_column")
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "upgrade", "head")
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"upgrade {int(NEW) + 1:04d}: drop-column tasks.estimated_hours" in result.stderr
    assert fingerprint(with_tasks) == before


# -- upgrade: a removed enum label in use ---------------------------------------------------------------

def test_removing_a_label_rows_hold_is_refused_and_the_renames_pattern_merges(tmp_path: Path,
                                                                              with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "H15_enum_label_removal")
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "upgrade", "head")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "refused: " in result.stderr
    assert f"enum-label-removal task_status ({CANCELLED} row(s) of tasks.status hold 'cancelled')" in result.stderr
    assert fingerprint(with_tasks) == before

    safe = with_drafts(tmp_path / "safe", "S15_enum_label_removal")
    result = _alembic(safe, with_tasks, "upgrade", "head")
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(with_tasks, "SELECT status::text, count(*) FROM tasks GROUP BY 1 ORDER BY 1") == [
        ("completed", CANCELLED + 2), ("pending", TASKS - CANCELLED - 2)]
    assert rows(with_tasks, "SELECT unnest(enum_range(NULL::task_status))::text") == [
        ("pending",), ("in_progress",), ("completed",)]


# -- downgrade: narrowing below the values written since, and a dropped column ----------------------------

def test_a_downgrade_that_narrows_below_existing_values_is_refused(tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "H16_downgrade_narrows")
    assert _alembic(copy, with_tasks, "upgrade", "head").returncode == 0  # the upgrade widens: nothing lost
    execute_sql(with_tasks, "UPDATE tasks SET assignee_user_id = repeat('u', 60) WHERE title IN ('task 1', 'task 2')")
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "downgrade", "-1")
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1].startswith("refused: ")
    assert (f"downgrade {NEW}: type-narrow tasks.assignee_user_id "
            "(2 value(s) in tasks.assignee_user_id do not fit varchar(50))") in result.stderr
    assert "value too long" not in result.stderr  # not PostgreSQL's raw error half way through
    assert fingerprint(with_tasks) == before
    assert version_rows(with_tasks) == [NEW]

    # once the values fit again, it runs
    execute_sql(with_tasks, "UPDATE tasks SET assignee_user_id = 'U1' WHERE title IN ('task 1', 'task 2')")
    result = _alembic(copy, with_tasks, "downgrade", "-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert version_rows(with_tasks) == [head_revision()]


def test_a_downgrade_dropping_values_is_refused_unless_reviewed(tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", "B03_add_nullable_column")
    assert _alembic(copy, with_tasks, "upgrade", "head").returncode == 0
    execute_sql(with_tasks, "UPDATE tasks SET external_ref = 'EXT-' || title WHERE title IN ('task 1', 'task 2', "
                            "'task 3')")
    before = fingerprint(with_tasks)
    result = _alembic(copy, with_tasks, "downgrade", "-1")
    assert result.returncode == 3, result.stdout + result.stderr
    assert (f"downgrade {NEW}: drop-column tasks.external_ref (3 value(s) in tasks.external_ref would be lost)"
            in result.stderr)
    assert "reviewed key: 'downgrade: drop-column tasks.external_ref'" in result.stderr
    assert fingerprint(with_tasks) == before

    reviewed = {"downgrade: drop-column tasks.external_ref": "external refs are re-imported nightly; reviewed"}
    copy = with_drafts(tmp_path / "reviewed", "B03_add_nullable_column",
                       texts=_reviewed("B03_add_nullable_column", reviewed))
    result = _alembic(copy, with_tasks, "downgrade", "-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert version_rows(with_tasks) == [head_revision()]


# -- transactions: one per later revision, one for a run through the bridged chain -----------------------

def test_later_revisions_commit_one_by_one_so_a_validate_does_not_share_its_adds_lock(tmp_path: Path) -> None:
    copy = with_drafts(tmp_path / "copy", "S12_validate_later")
    sql = _alembic(copy, None, "upgrade", f"{head_revision()}:head", "--sql")
    assert sql.returncode == 0, sql.stderr
    add, validate = sql.stdout.index("NOT VALID"), sql.stdout.index("VALIDATE CONSTRAINT")
    assert sql.stdout.count("BEGIN;") == sql.stdout.count("COMMIT;") == 2
    assert add < sql.stdout.index("COMMIT;") < validate  # the ADD's revision commits before the VALIDATE's
    # A run through the bridged chain stays one transaction (its refusals say "Nothing was changed").
    whole = _alembic(copy, None, "upgrade", "head", "--sql")
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.count("BEGIN;") == whole.stdout.count("COMMIT;") == 1


def test_a_refusal_in_the_bridged_chain_rolls_back_the_revisions_before_it(make_db: Callable[[], URL]) -> None:
    url = make_db()
    upgrade(url, "0002")
    # not 0006's notifications: 0003-0005 run first, and must not stay
    execute_sql(url, "CREATE TABLE notifications (notification_id uuid PRIMARY KEY)")
    before = fingerprint(url)
    result = init_db_cli(url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "notifications" in result.stderr and "Nothing was changed" in result.stderr
    assert "Committed before the failure" not in result.stderr
    assert fingerprint(url) == before


# -- the guide's patterns (MIGRATION_GUIDE.md 11.3-11.11) deploy online and offline ------------------------

SAFE = ["S01_rename_table", "S02_rename_column", "S03_drop_column", "S04_drop_table", "S05_narrow_varchar",
        "S06_int_to_bigint", "S07_add_not_null_column", "S08_set_not_null", "S09_index_concurrently",
        "S10_fk_not_valid", "S11_check_not_valid", "S12_validate_later", "S13_sa_imported",
        "S14_data_fix_offline_safe", "S15_enum_label_removal", "S16_downgrade_keeps_width"]


@pytest.mark.parametrize("name", SAFE)
def test_a_safe_pattern_deploys_over_rows_goes_down_and_up_again_and_renders_offline(
        name: str, tmp_path: Path, with_tasks: URL) -> None:
    copy = with_drafts(tmp_path / "copy", name)
    old = head_revision()
    offline = _alembic(copy, None, "upgrade", f"{old}:head", "--sql")
    assert offline.returncode == 0, offline.stderr
    assert "COMMIT;" in offline.stdout
    for step in (("upgrade", "head"), ("downgrade", old), ("upgrade", "head")):
        result = _alembic(copy, with_tasks, *step)
        assert result.returncode == 0, (step, result.stdout + result.stderr)
    assert version_rows(with_tasks) != [old]
    assert scalar(with_tasks, "SELECT count(*) FROM tasks") == TASKS
