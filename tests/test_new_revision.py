"""The proof that a new revision needs no test edits: add one to a copy, run the tests there.

A copy of the repository (alembic.ini, alembic/, src/, tests/, pyproject.toml)
gets a model change (a new table, a new enum label); `alembic revision
--autogenerate` against a database at head writes the next number, ruff-clean
and lint-clean, and it upgrades. Then the tests that depend on the chain
(numbering, re-apply, offline SQL, the alembic CLI, nakamura-init-db's head
handling, the NixOS journal lines, the rollout, the demo, the
spec of 0003-0007) run in that copy, against the same PostgreSQL server, and
pass: none of them hard-codes the head, the next number or a label set.

The lost version row (MIGRATION_GUIDE.md section 5.4) is the case that shows
why `nakamura-db recover-version` exists: the new revision adds a task_status
label, so once a database at the new head loses its alembic_version row,
`nakamura-init-db` refuses it (0001's guard sees a label 0001 does not have);
`recover-version` proves the schema equals the new head with Alembic's own
check and records it, and the deploy then has nothing to do
(``test_a_lost_version_row_at_the_new_head_is_recovered``; its refusals and the
other recovery cases run in the copy too, with the chain tests).

Not here: the guide's own enum examples (MIGRATION_GUIDE.md section 3 spells
task_status's labels, so a revision that changes them must update the guide).
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.authoring.lint import lint_versions
from nakamura_misaki_db.connect.urls import with_password

from .helpers import (
    REPO,
    app_checksums,
    change_models,
    copy_repository,
    execute_sql,
    fingerprint,
    head_revision,
    next_revision_number,
    rows,
    ruff,
    run,
    schema_dump,
    upgrade,
    version_rows,
)

pytestmark = pytest.mark.slow

# The tests whose expectations follow the chain (they read the head, the chain, the next number or
# head's labels), each by its node id; "{new}" is the new revision's id. What the nested run alone
# proves is that these accept one more revision: the rest of the suite, and these tests on the
# revisions the outer run already covers (test_reapply's 0002-0007), are not run again. Nor is the
# runbook's rollout rehearsal (test_runbook.py, 19 s, the longest of them): what it reads of the head
# is the deploy's summary line after the bridge's 0001 and `status` at head, both of which
# test_database_at_0001_is_brought_forward checks on the new chain.
REVISION_DEPENDENT = [
    "tests/test_numbering.py::test_next_number_is_one_after_the_head",
    "tests/test_numbering.py::test_autogenerate_against_a_database_at_head",
    "tests/test_numbering.py::test_rev_id_equal_to_the_next_number_is_honoured",
    "tests/test_reapply.py::test_every_revision_after_0001_is_covered",
    "tests/test_reapply.py::test_reapply_after_stamping_back[{new}]",
    "tests/test_reapply.py::test_downgrade_reapply_after_stamping_forward[{new}]",
    "tests/test_reapply.py::test_up_down_up[{new}]",
    "tests/test_offline_sql.py::test_upgrade_head_sql_needs_no_database",
    "tests/test_offline_sql.py::test_offline_script_builds_the_same_schema_as_online_upgrade",
    "tests/test_offline_sql.py::test_offline_range_renders_only_the_later_revisions",
    "tests/test_offline_sql.py::test_init_db_sql_at_head_has_nothing_to_run",
    "tests/test_offline_sql.py::test_enum_changes_render_as_static_sql_offline_and_build_the_same_schema",
    "tests/test_alembic_cli.py::test_history_lists_every_revision_without_a_database",
    "tests/test_alembic_cli.py::test_upgrade_logs_each_step_and_takes_x_before_the_subcommand",
    "tests/test_alembic_cli.py::test_downgrade_logs_each_step_and_allow_data_loss_goes_first",
    "tests/test_init_db.py::test_head_is_0002_or_later",
    "tests/test_init_db.py::test_empty_database_goes_to_head",
    "tests/test_init_db.py::test_second_run_changes_nothing",
    "tests/test_init_db.py::test_database_at_0001_is_brought_forward",
    "tests/test_nixos_unit.py::test_journal_no_op_and_migrated",
    "tests/test_embedded.py::test_demo_tells_the_whole_story",
    "tests/test_recover_version.py::test_a_database_at_head_that_lost_its_row_gets_head_back_and_nothing_else"
    "[DELETE FROM alembic_version]",
    "tests/test_recover_version.py::test_json_reports_what_was_recorded",
    "tests/test_recover_version.py::test_a_label_head_lacks_is_named_and_the_created_version_table_rolled_back",
    "tests/test_recover_version.py::test_a_database_at_an_older_revision_is_refused_and_pointed_at_the_deploy",
]
BIN = Path(sys.executable).parent


def module_ids(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.target.id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None}


def autogenerated_revision_in_a_copy(tmp_path: Path, db_url: URL) -> tuple[Path, dict[str, str], str, str, str]:
    """A copy whose models gained widgets{n} and the label on_hold{n}, and the revision autogenerate wrote
    for them against ``db_url`` (left at the old head). Returns (copy, env, n, old head, new id)."""
    copy = copy_repository(tmp_path / "repo", sources=True, tests=True)
    for document in ("README.md", "MIGRATION_GUIDE.md"):  # read by the NixOS unit test
        shutil.copy(REPO / document, copy / document)
    n = change_models(copy)
    env = {"PYTHONPATH": str(copy / "src")}  # env.py (and every command run with it) imports the copy's code
    old_head, new_id = head_revision(), next_revision_number()

    upgrade(db_url, "head")
    made = run([sys.executable, "-m", "alembic", "revision", "--autogenerate", "-m", "add widgets and on hold"],
               db_url, env=env, cwd=copy)
    assert made.returncode == 0, made.stderr
    return copy, env, n, old_head, new_id


def test_an_autogenerated_revision_fits_and_the_chain_tests_pass_in_a_copy(
        tmp_path: Path, db_url: URL, pg_server_url: URL) -> None:
    copy, env, n, old_head, new_id = autogenerated_revision_in_a_copy(tmp_path, db_url)
    versions = copy / "alembic" / "versions"
    path = versions / f"{new_id}_add_widgets_and_on_hold.py"
    assert path.is_file(), sorted(p.name for p in versions.iterdir())
    assert module_ids(path)["revision"] == new_id and module_ids(path)["down_revision"] == old_head

    for args in (["check", "--no-fix"], ["format", "--check"]):
        checked = ruff(*args, str(path), cwd=copy)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert lint_versions(versions) == []

    upgraded = run([sys.executable, "-m", "alembic", "upgrade", "head"], db_url, env=env, cwd=copy)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"Running upgrade {old_head} -> {new_id}" in upgraded.stderr
    assert version_rows(db_url) == [new_id]
    assert rows(db_url, f"SELECT to_regclass('public.widgets{n}')::text") == [(f"widgets{n}",)]
    assert (f"on_hold{n}",) in rows(db_url, "SELECT unnest(enum_range(NULL::task_status))::text")
    # models and migrations agree again in the copy
    checked = run([sys.executable, "-m", "alembic", "check"], db_url, env=env, cwd=copy)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The copy's own helpers see the new head (so the run below tests the new chain, not the old one).
    seen = run([sys.executable, "-c", "from tests.helpers import head_revision; print(head_revision())"],
               None, env=env, cwd=copy)
    assert seen.stdout.strip() == new_id, seen.stderr

    # --basetemp of its own: a nested session would otherwise prune the numbered temp dirs it shares
    # with this one. -n 0: one process is enough for these few tests, on the outer run's server.
    selected = [node.format(new=new_id) for node in REVISION_DEPENDENT]
    report = tmp_path / "nested.xml"
    tests = run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "--basetemp",
                 str(tmp_path / "nested-tmp"), f"--junitxml={report}", *selected],
                None, env={**env, "TEST_DATABASE_URL": with_password(pg_server_url)}, cwd=copy, timeout=900)
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-2000:]
    # Exactly the selected tests ran, each passed: none skipped, none missing (a renamed test, a
    # parametrization that no longer has the new revision), none extra.
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        verdict = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        outcomes[f"{path}::{case.get('name')}"] = verdict
    assert outcomes == dict.fromkeys(selected, "passed"), tests.stdout[-3000:]


def test_a_lost_version_row_at_the_new_head_is_recovered(tmp_path: Path, db_url: URL) -> None:
    copy, env, n, _, new_id = autogenerated_revision_in_a_copy(tmp_path, db_url)
    upgraded = run([sys.executable, "-m", "alembic", "upgrade", "head"], db_url, env=env, cwd=copy)
    assert upgraded.returncode == 0, upgraded.stderr
    assert version_rows(db_url) == [new_id]
    execute_sql(db_url, "DELETE FROM alembic_version")
    before = fingerprint(db_url)

    # The deploy alone cannot: 0001's guard sees the new label, and the database has no revision to go by.
    deploy = run([str(BIN / "nakamura-init-db")], db_url, env=env, cwd=copy)
    assert deploy.returncode == 3, deploy.stdout + deploy.stderr
    assert "differs from revision 0001" in deploy.stderr and f"on_hold{n}" in deploy.stderr
    assert "nakamura-db recover-version" in deploy.stderr  # ... and it says what to run
    assert fingerprint(db_url) == before

    recovered = run([str(BIN / "nakamura-db"), "recover-version"], db_url, env=env, cwd=copy)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert recovered.stdout.startswith(f"recorded head {new_id}: the schema equals head"), recovered.stdout
    assert version_rows(db_url) == [new_id]
    assert schema_dump(db_url) == before[0]
    assert app_checksums(db_url) == {k: v for k, v in before[1].items() if k != "public.alembic_version"}

    deploy = run([str(BIN / "nakamura-init-db")], db_url, env=env, cwd=copy)
    assert deploy.returncode == 0, deploy.stderr
    assert deploy.stdout.startswith(f"database already at head {new_id}, nothing to do"), deploy.stdout

    # The same database, its row lost again and an index of the new revision gone: refused, nothing changed.
    execute_sql(db_url, f"DELETE FROM alembic_version; DROP INDEX ix_widgets{n}_name")
    before = fingerprint(db_url)
    refused = run([str(BIN / "nakamura-db"), "recover-version"], db_url, env=env, cwd=copy)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert f"differs from head {new_id} in 1 way(s)" in refused.stderr
    assert f"  - index ix_widgets{n}_name on widgets{n} (name): missing (head has it)" in refused.stderr
    assert fingerprint(db_url) == before


def test_an_autogenerated_rename_is_stopped_by_lint_with_the_rename_pattern(tmp_path: Path, db_url: URL) -> None:
    # Autogenerate writes a renamed model as create-new + drop-old (the rows of the old table lost on
    # deploy). The file as generated must not pass: lint names it a rename and points at the pattern.
    copy = copy_repository(tmp_path / "repo", sources=True)
    models = copy / "src" / "nakamura_misaki_db" / "schema" / "models.py"
    text = models.read_text(encoding="utf-8")
    assert text.count('__tablename__ = "daily_summaries"') == 1
    models.write_text(text.replace('__tablename__ = "daily_summaries"', '__tablename__ = "day_summaries"'),
                      encoding="utf-8")
    env = {"PYTHONPATH": str(copy / "src")}
    upgrade(db_url, "head")
    made = run([sys.executable, "-m", "alembic", "revision", "--autogenerate", "-m", "rename summaries"],
               db_url, env=env, cwd=copy)
    assert made.returncode == 0, made.stderr
    written = (copy / "alembic" / "versions" / f"{next_revision_number()}_rename_summaries.py").read_text()
    assert "create_table(" in written and "drop_table(" in written  # autogenerate's shape of a rename

    linted = run([str(BIN / "nakamura-db"), "lint", "--versions", str(copy / "alembic" / "versions")], None,
                 env=env, cwd=copy)
    assert linted.returncode == 3, linted.stdout + linted.stderr
    found = [ln for ln in linted.stdout.splitlines() if "rename-as-drop-create" in ln]
    assert found and "daily_summaries" in found[0] and "day_summaries" in found[0], linted.stdout
    assert "11.3" in linted.stdout  # the guide's rename pattern
