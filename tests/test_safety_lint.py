"""The safety rules of ``nakamura-db lint`` (MIGRATION_GUIDE.md section 11), each with a draft that fails and one
that passes.

The drafts in ``tests/drafts/safety/`` are revisions written by following the guide as a newcomer would
(most of the hazardous ones are autogenerate output left as generated): ``H*`` must be flagged with the rule
named here, ``S*`` (the safe pattern of the same change) and ``B*`` (benign, catalog-only changes) must not
be stopped. Each runs as the next revision after this release's head, so the tests survive a new revision.
The expected rule per draft is what the issue lists as hazardous, not what the implementation happens to say.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.authoring.lint import lint_versions
from nakamura_misaki_db.authoring.lint_command import run_lint
from nakamura_misaki_db.authoring.rules import RULES
from nakamura_misaki_db.authoring.safety import SAFETY_BASELINE, lint_safety
from nakamura_misaki_db.connect.urls import with_password

from .helpers import (
    REPO,
    Outcome,
    admin_engine,
    alembic_in_process,
    db_cli,
    draft_files,
    execute_sql,
    fingerprint,
    head_revision,
    next_revision_number,
    upgrade,
    version_rows,
    with_drafts,
)

BIN = Path(sys.executable).parent

# draft -> (function, rule) the lint must stop it with (an error, not a warning)
HAZARDS = {
    "H01_rename_table": ("upgrade()", "rename-as-drop-create"),
    "H02_rename_column": ("upgrade()", "rename-as-drop-create"),
    "H03_drop_column": ("upgrade()", "drop-column"),
    "H04_drop_table": ("upgrade()", "drop-table"),
    "H05_narrow_varchar": ("upgrade()", "type-narrow"),
    "H06_int_to_bigint": ("upgrade()", "type-rewrite"),
    "H07_add_not_null_column": ("upgrade()", "not-null-no-default"),
    "H08_set_not_null": ("upgrade()", "set-not-null"),
    "H09_index_not_concurrent": ("upgrade()", "index-not-concurrent"),
    "H10_fk_without_not_valid": ("upgrade()", "fk-not-valid"),
    "H11_check_without_not_valid": ("upgrade()", "check-not-valid"),
    "H12_validate_same_transaction": ("upgrade()", "validate-same-transaction"),
    "H13_sa_not_imported": ("", "undefined-name"),
    "H14_bind_without_offline_branch": ("upgrade()", "online-only"),
    "H15_enum_label_removal": ("upgrade()", "enum-label-removal"),
    "H16_downgrade_narrows": ("downgrade()", "type-narrow"),
}
# the safe pattern of each hazard (S12 is a pair: ADD ... NOT VALID in one revision, VALIDATE in the next)
SAFE_DRAFTS = ["S01_rename_table", "S02_rename_column", "S03_drop_column", "S04_drop_table", "S05_narrow_varchar",
               "S06_int_to_bigint", "S07_add_not_null_column", "S08_set_not_null", "S09_index_concurrently",
               "S10_fk_not_valid", "S11_check_not_valid", "S12_validate_later", "S13_sa_imported",
               "S14_data_fix_offline_safe", "S15_enum_label_removal", "S16_downgrade_keeps_width"]


def _versions(tmp_path: Path, *names: str) -> Path:
    return with_drafts(tmp_path / "copy", *names) / "alembic" / "versions"


def test_every_rule_has_a_draft_that_fails() -> None:
    stopped = {rule for _, rule in HAZARDS.values()}
    meta = {"run-fails", "opaque-sql", "syntax-error", "stale-opt-out", "lint-tool-missing", "enum-rebuild"}
    assert set(RULES) - meta <= stopped, sorted(set(RULES) - meta - stopped)
    assert len(SAFE_DRAFTS) == len(HAZARDS)
    for name in [*HAZARDS, *SAFE_DRAFTS]:
        assert draft_files(name)


@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_a_hazardous_draft_is_stopped_with_its_rule(name: str, tmp_path: Path) -> None:
    versions = _versions(tmp_path, name)
    assert lint_versions(versions) == []  # the checks that existed before said "clean" to all of these
    findings = lint_safety(versions)
    function, rule = HAZARDS[name]
    stopping = [(f.function, f.rule.id) for f in findings if f.blocking]
    assert (function, rule) in stopping, [str(f) for f in findings]
    found = next(f for f in findings if f.blocking and f.rule.id == rule)
    # ... with the revision, the operation, why and the guide's safe pattern
    assert found.revision == next_revision_number(REPO / "alembic") and found.operation
    assert found.rule.why and found.rule.safe.startswith("MIGRATION_GUIDE.md 11.")


def _cli_lint(versions: Path, *args: str) -> Outcome:
    """``nakamura-db lint`` through its entry point, in this process; the installed command's own exit code
    and output are tested once, in test_the_cli_prints_rule_operation_why_and_pattern_and_exits_3."""
    return db_cli("lint", "--versions", str(versions), *args)


@pytest.mark.parametrize("name", sorted(HAZARDS))
def test_the_cli_exits_3_on_each_hazardous_draft(name: str, tmp_path: Path) -> None:
    versions = _versions(tmp_path, name)
    result = _cli_lint(versions)
    assert result.returncode == 3, result.stdout + result.stderr
    function, rule = HAZARDS[name]
    where = f"{versions}/{next_revision_number(REPO / 'alembic')}_{name.lower()}.py: " + (f"{function}: " if function
                                                                                          else "")
    assert any(line.startswith(f"{where}error {rule} ") for line in result.stdout.splitlines()), result.stdout
    assert "migrations are clean" not in result.stdout


@pytest.mark.parametrize("name", [*SAFE_DRAFTS, "B01_widen_varchar", "B02_varchar_to_text", "B03_add_nullable_column"])
def test_the_cli_does_not_stop_a_safe_or_benign_upgrade(name: str, tmp_path: Path) -> None:
    result = _cli_lint(_versions(tmp_path, name), "--json")
    entries = json.loads(result.stdout)
    assert [e["reason"] for e in entries if "rule" not in e] == []  # the structural checks: clean
    # errors stop; a warning or a reviewed opt-out (S03, S04: the contract step) is said and lets it through
    assert [e["reason"] for e in entries if e["function"] == "upgrade()" and e["level"] == "error"] == []
    # B01/B02's downgrade narrows back (values written since may not fit): stopped, as it should be
    narrowing_back = name in ("B01_widen_varchar", "B02_varchar_to_text")
    assert result.returncode == (3 if narrowing_back else 0), result.stdout + result.stderr


@pytest.mark.parametrize("name", SAFE_DRAFTS)
def test_the_safe_pattern_passes(name: str, tmp_path: Path) -> None:
    versions = _versions(tmp_path, name)
    assert lint_versions(versions) == []
    findings = lint_safety(versions)
    assert [str(f) for f in findings if f.blocking] == []


@pytest.mark.parametrize("name", ["B01_widen_varchar", "B02_varchar_to_text", "B03_add_nullable_column"])
def test_catalog_only_changes_pass_and_their_narrowing_downgrade_is_said(name: str, tmp_path: Path) -> None:
    findings = lint_safety(_versions(tmp_path, name))
    assert [str(f) for f in findings if f.function == "upgrade()"] == []
    down = {(f.rule.id, f.level) for f in findings if f.function == "downgrade()"}
    if name == "B03_add_nullable_column":  # dropping the column it added: only what was written since
        assert down == {("drop-column", "warning")}
    else:  # widening back down is narrowing: values written since may not fit
        assert ("type-narrow", "error") in down


def test_the_cli_prints_rule_operation_why_and_pattern_and_exits_3(tmp_path: Path) -> None:
    versions = _versions(tmp_path, "H03_drop_column")
    result = subprocess.run([str(BIN / "nakamura-db"), "lint", "--versions", str(versions)],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    rev = next_revision_number(REPO / "alembic")
    assert (f"{versions}/{rev}_h03_drop_column.py: upgrade(): error drop-column tasks.estimated_hours: "
            "ALTER TABLE tasks DROP COLUMN IF EXISTS estimated_hours") in result.stdout
    assert "    why: DROP COLUMN deletes the column's values for good" in result.stdout
    assert '    safe pattern: MIGRATION_GUIDE.md 11.4 "Dropping a column or a table"' in result.stdout
    as_json = subprocess.run([str(BIN / "nakamura-db"), "lint", "--versions", str(versions), "--json"],
                             capture_output=True, text=True, check=False, timeout=120)
    assert as_json.returncode == 3
    [entry] = json.loads(as_json.stdout)
    assert (entry["rule"], entry["level"], entry["object"]) == ("drop-column", "error", "tasks.estimated_hours")


def test_warnings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_lint(str(_versions(tmp_path, "B03_add_nullable_column"))) == 0
    out = capsys.readouterr().out
    assert "downgrade(): warning drop-column tasks.external_ref" in out and "0 error(s), 1 warning(s)" in out


REVIEWED = '''
SAFETY_REVIEWED = {
    "drop-column tasks.estimated_hours": "nobody has read estimated_hours since release 41; reviewed by A. Sato",
}
'''


def _with_marker(marker: str) -> dict[str, str]:
    text = draft_files("H03_drop_column")[0].read_text(encoding="utf-8")
    return {"H03_drop_column": text.replace("\n\ndef upgrade(", f"\n{marker}\n\ndef upgrade(", 1)}


def test_a_reviewed_opt_out_covers_its_operation_only_and_is_shown(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    copy = with_drafts(tmp_path / "copy", "H03_drop_column", texts=_with_marker(REVIEWED))
    assert run_lint(str(copy / "alembic" / "versions")) == 0
    out = capsys.readouterr().out
    assert "upgrade(): reviewed drop-column tasks.estimated_hours" in out
    assert ("    reviewed (SAFETY_REVIEWED['drop-column tasks.estimated_hours']): nobody has read estimated_hours "
            "since release 41; reviewed by A. Sato") in out


def test_a_stale_opt_out_is_an_error(tmp_path: Path) -> None:
    stale = REVIEWED.replace("tasks.estimated_hours", "tasks.title")
    copy = with_drafts(tmp_path / "copy", "H03_drop_column", texts=_with_marker(stale))
    findings = lint_safety(copy / "alembic" / "versions")
    assert sorted((f.rule.id, f.object) for f in findings if f.blocking) == [
        ("drop-column", "tasks.estimated_hours"), ("stale-opt-out", "drop-column tasks.title")]


def test_an_opt_out_without_a_reason_is_not_one(tmp_path: Path) -> None:
    empty = 'SAFETY_REVIEWED = {"drop-column tasks.estimated_hours": "  "}'
    copy = with_drafts(tmp_path / "copy", "H03_drop_column", texts=_with_marker(empty))
    findings = lint_safety(copy / "alembic" / "versions")
    assert {f.rule.id for f in findings if f.blocking} == {"drop-column", "stale-opt-out"}


def test_the_deployed_revisions_are_not_judged() -> None:
    # 0001-0007 render hazards of their own (0002 drops indexes, 0007 adds a constraint); they are deployed
    # everywhere and cannot change, so the safety rules start after them.
    assert SAFETY_BASELINE == "0007"
    versions = REPO / "alembic" / "versions"
    assert [f for f in lint_safety(versions) if f.revision <= SAFETY_BASELINE] == []
    assert head_revision() >= SAFETY_BASELINE


def test_a_validate_in_a_later_revision_passes_as_each_revision_commits(tmp_path: Path) -> None:
    # S12: ADD ... NOT VALID in one revision, VALIDATE in the next; one deploy runs both, each in its own
    # transaction (transaction_per_migration), so the VALIDATE does not hold the ADD's lock.
    findings = lint_safety(_versions(tmp_path, "S12_validate_later"))
    assert [str(f) for f in findings] == []


# -- the data-aware lint: the facts of one database with rows ---------------------------------------------

# The rows put in the database below, and so the counts its facts must say.
TASKS, CANCELLED, NULL_DUE, ESTIMATED, PRIORITY_20 = 30, 5, 10, 7, 3
HANDOFFS, HANDOFFS_OF_A_TASK, ORPHAN_HANDOFFS = 9, 3, 4  # and 2 with no task_id: not orphans
SLACK_USERS, REAL_NAMES, LONG_NAMES = 6, 4, 2  # LONG_NAMES: 101 and 102 characters, over varchar(100)
ROWS_SQL = f"""
INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, due_at, estimated_hours, priority,
                   created_at, updated_at)
SELECT ('7a5c0000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'task ' || i, 'U' || i, 'U0',
       (CASE WHEN i <= {CANCELLED} THEN 'cancelled' ELSE 'pending' END)::task_status,
       CASE WHEN i > {TASKS - NULL_DUE} THEN NULL ELSE now() END,
       CASE WHEN i <= {ESTIMATED} THEN 1.5 END,
       CASE WHEN i <= {PRIORITY_20} THEN 20 ELSE 5 END, now(), now()
FROM generate_series(1, {TASKS}) i;
INSERT INTO handoffs (handoff_id, task_id, from_user_id, to_user_id, progress_note, next_steps, handoff_at, created_at)
SELECT ('4a5c0000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       CASE WHEN i <= {HANDOFFS_OF_A_TASK} THEN ('7a5c0000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid
            WHEN i <= {HANDOFFS_OF_A_TASK + ORPHAN_HANDOFFS}
            THEN ('0dead000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid END,
       'U1', 'U2', 'note', 'next', now(), now()
FROM generate_series(1, {HANDOFFS}) i;
INSERT INTO slack_users (user_id, name, real_name, slack_created_at, synced_at, created_at, updated_at)
SELECT 'S' || i, CASE WHEN i <= {LONG_NAMES} THEN repeat('n', 100 + i) ELSE 'user ' || i END,
       CASE WHEN i <= {REAL_NAMES} THEN 'Real ' || i END, now(), now(), now(), now()
FROM generate_series(1, {SLACK_USERS}) i;
ANALYZE;
"""
# draft -> (rule, object, the fact the lint must add), each count one of the above
FACTS = {
    "H01_rename_table": ("rename-as-drop-create", "handoffs->task_handoffs", f"{HANDOFFS} row(s) would be lost"),
    "H02_rename_column": ("rename-as-drop-create", "slack_users.real_name->full_name",
                          f"{REAL_NAMES} value(s) in slack_users.real_name would be lost"),
    "H03_drop_column": ("drop-column", "tasks.estimated_hours",
                        f"{ESTIMATED} value(s) in tasks.estimated_hours would be lost"),
    "H04_drop_table": ("drop-table", "handoffs", f"{HANDOFFS} row(s) would be lost"),
    "H05_narrow_varchar": ("type-narrow", "slack_users.name",
                           f"{LONG_NAMES} value(s) in slack_users.name do not fit varchar(100)"),
    "H07_add_not_null_column": ("not-null-no-default", "tasks.team_id",
                                f"{TASKS} row(s) would have no value: the ADD fails on the first"),
    "H08_set_not_null": ("set-not-null", "tasks.due_at", f"{NULL_DUE} NULL(s) in tasks.due_at would be rejected"),
    "H10_fk_without_not_valid": ("fk-not-valid", "fk_handoffs_task_id_tasks",
                                 f"{ORPHAN_HANDOFFS} orphan row(s) in handoffs.(task_id) -> tasks would be rejected"),
    "H11_check_without_not_valid": ("check-not-valid", "ck_tasks_priority_range",
                                    f"{PRIORITY_20} row(s) of tasks violate CHECK (priority >= 1 AND priority <= 10)"),
    "H15_enum_label_removal": ("enum-label-removal", "task_status",
                               f"{CANCELLED} row(s) of tasks.status hold 'cancelled'"),
}


@pytest.fixture(scope="module")
def with_rows(pg_server_url: URL) -> Iterator[URL]:
    """A database at this release's head holding the rows above (the lint only reads it)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_server_url.set(database=name)
    upgrade(url)
    execute_sql(url, ROWS_SQL)
    yield url
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _facts(result: Outcome) -> dict[tuple[str, str, str], list[str]]:
    return {(e["function"], e["rule"], e["object"]): e["facts"] for e in json.loads(result.stdout) if "rule" in e}


def test_the_data_aware_lint_counts_what_each_hazard_would_do_here(tmp_path: Path, with_rows: URL) -> None:
    before = fingerprint(with_rows)
    versions = _versions(tmp_path, *FACTS)
    result = _cli_lint(versions, "--database-url", with_password(with_rows), "--json")
    assert result.returncode == 3, result.stdout + result.stderr
    facts = _facts(result)
    for name, (rule, obj, fact) in FACTS.items():
        assert fact in facts.get(("upgrade()", rule, obj), []), (name, facts.get(("upgrade()", rule, obj)))
    # the lock budget: the table's size and what the operation holds, for a rewrite, a scan, a build
    assert any(f.startswith(f"tasks: ~{TASKS} rows, ") and "scan ~" in f and "under ACCESS EXCLUSIVE" in f
               for f in facts[("upgrade()", "set-not-null", "tasks.due_at")])
    text = _cli_lint(versions, "--database-url", with_password(with_rows))
    assert f"    data: {ESTIMATED} value(s) in tasks.estimated_hours would be lost" in text.stdout
    # read only: the database is as it was
    assert fingerprint(with_rows) == before


def test_for_an_applied_revision_the_data_aware_lint_counts_its_downgrade(
        tmp_path: Path, make_db: Callable[[], URL]) -> None:
    url = make_db()
    upgrade(url)
    copy = with_drafts(tmp_path / "copy", "H16_downgrade_narrows")
    versions = copy / "alembic" / "versions"
    rev = next_revision_number(REPO / "alembic")
    # Not applied, on empty tables: the upgrade widens (nothing to say), the downgrade's narrowing is counted
    # only once the revision is there (what the database holds then is what the downgrade meets).
    pending = _facts(_cli_lint(versions, "--database-url", with_password(url), "--json"))
    assert pending[("downgrade()", "type-narrow", "tasks.assignee_user_id")] == []

    applied = alembic_in_process(copy, url, "upgrade", "head")
    assert applied.returncode == 0, applied.stderr
    assert version_rows(url) == [rev]
    execute_sql(url, """
        INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, created_at, updated_at)
        VALUES ('7a5c0000-0000-4000-8000-000000000001', 'a', repeat('u', 51), 'U0', 'pending', now(), now()),
               ('7a5c0000-0000-4000-8000-000000000002', 'b', repeat('u', 100), 'U0', 'pending', now(), now()),
               ('7a5c0000-0000-4000-8000-000000000003', 'c', repeat('u', 50), 'U0', 'pending', now(), now())""")
    result = _cli_lint(versions, "--database-url", with_password(url), "--json")
    assert result.returncode == 3
    facts = _facts(result)
    assert facts[("downgrade()", "type-narrow", "tasks.assignee_user_id")] == [
        "2 value(s) in tasks.assignee_user_id do not fit varchar(50)"]


# -- the guide says what the rules say ------------------------------------------------------------------

GUIDE = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")


def test_every_rule_is_listed_in_the_guide_and_its_safe_pattern_section_exists() -> None:
    table = GUIDE[GUIDE.index("### 11.1 What lint checks"):GUIDE.index("### 11.2 ")]
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity} |" in table, rule.id
        if rule.safe.startswith("MIGRATION_GUIDE.md "):
            number, _, title = rule.safe.removeprefix("MIGRATION_GUIDE.md ").partition(" ")
            assert f"\n### {number} {title.strip(chr(34))}\n" in GUIDE, rule.safe
            assert f"| {number} |" in table.split(f"| `{rule.id}` |")[1].splitlines()[0], rule.id


def test_the_guides_concurrent_index_pattern_is_the_linted_draft() -> None:
    # section 4 shows S09 (run online and offline by the guide's tests, linted here) word for word
    draft = draft_files("S09_index_concurrently")[0].read_text(encoding="utf-8")
    body = draft[draft.index("INVALID_DROPPED = "):].strip()
    section = GUIDE[GUIDE.index("**Big indexes: `CREATE INDEX CONCURRENTLY`**"):]
    start = section.index("```python\n") + len("```python\n")
    block = section[start:section.index("\n```\n", start)].strip()
    assert block == body
    for name in ["S01_rename_table", "S02_rename_column", "S03_drop_column", "S04_drop_table", "S05_narrow_varchar",
                 "S06_int_to_bigint", "S07_add_not_null_column", "S08_set_not_null", "S10_fk_not_valid",
                 "S11_check_not_valid", "S14_data_fix_offline_safe", "S15_enum_label_removal",
                 "S16_downgrade_keeps_width"]:
        assert f"`{name}.py`" in GUIDE, name  # each pattern names the draft the tests run
