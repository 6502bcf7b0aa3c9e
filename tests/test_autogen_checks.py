"""`alembic check` / autogenerate compare CHECK constraints (nakamura_misaki_db.autogen_checks).

Alembic alone ignores CHECK constraints, so without the comparator every test
below except the clean one would pass `alembic check` silently.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.autogen_checks import canonical, normalise, same_definition

from .helpers import REPO, alembic, execute_sql, run

PROGRESS = "ck_tasks_progress_percent_range"
SELF_DEP = "ck_no_self_dependency"


def check_output(url: URL) -> tuple[int, str]:
    result = alembic(url, "check")
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def at_head(db_url: URL) -> URL:
    up = alembic(db_url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    return db_url


def test_clean_at_head_with_both_checks_present(at_head: URL) -> None:
    code, out = check_output(at_head)
    assert code == 0, out
    assert "No new upgrade operations detected" in out


def test_a_model_check_missing_from_the_database_is_reported(at_head: URL) -> None:
    execute_sql(at_head, f"ALTER TABLE tasks DROP CONSTRAINT {PROGRESS}")
    code, out = check_output(at_head)
    assert code != 0
    assert f"('add_check_constraint', 'tasks', '{PROGRESS}', 'progress_percent >= 0 AND progress_percent <= 100')" \
        in out


def test_a_database_check_missing_from_the_models_is_reported(at_head: URL) -> None:
    execute_sql(at_head, "ALTER TABLE projects ADD CONSTRAINT ck_projects_name_not_blank CHECK (name <> '')")
    code, out = check_output(at_head)
    assert code != 0
    assert "('remove_check_constraint', 'projects', 'ck_projects_name_not_blank', " in out
    assert "add_check_constraint" not in out


def test_a_changed_definition_is_dropped_and_added(at_head: URL) -> None:
    execute_sql(at_head, f"ALTER TABLE task_dependencies DROP CONSTRAINT {SELF_DEP};"
                         f" ALTER TABLE task_dependencies ADD CONSTRAINT {SELF_DEP}"
                         " CHECK (blocking_task_id < blocked_task_id)")
    code, out = check_output(at_head)
    assert code != 0
    assert f"('remove_check_constraint', 'task_dependencies', '{SELF_DEP}', 'blocking_task_id < blocked_task_id')" \
        in out
    assert f"('add_check_constraint', 'task_dependencies', '{SELF_DEP}', 'blocking_task_id <> blocked_task_id')" \
        in out
    # The same constraint spelled with the parentheses PostgreSQL adds is not a change.
    execute_sql(at_head, f"ALTER TABLE task_dependencies DROP CONSTRAINT {SELF_DEP};"
                         f" ALTER TABLE task_dependencies ADD CONSTRAINT {SELF_DEP}"
                         " CHECK (((blocking_task_id <> blocked_task_id)))")
    assert check_output(at_head)[0] == 0


def test_autogenerate_renders_the_check_ops(at_head: URL, tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(REPO / "alembic.ini", copy / "alembic.ini")
    shutil.copytree(REPO / "alembic", copy / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    execute_sql(at_head, f"ALTER TABLE tasks DROP CONSTRAINT {PROGRESS};"
                         " ALTER TABLE tasks ADD CONSTRAINT ck_tasks_priority_positive CHECK (priority > 0)")
    result = run([sys.executable, "-m", "alembic", "-c", str(copy / "alembic.ini"), "revision", "--autogenerate",
                  "-m", "checks"], at_head, cwd=copy)
    assert result.returncode == 0, result.stderr
    [path] = [p for p in (copy / "alembic" / "versions").glob("*_checks.py")]
    tree = ast.parse(path.read_text())
    bodies = {n.name: ast.unparse(n) for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert f"op.create_check_constraint('{PROGRESS}', 'tasks', 'progress_percent >= 0 AND progress_percent <= 100')" \
        in bodies["upgrade"]
    assert "op.drop_constraint('ck_tasks_priority_positive', 'tasks', type_='check')" in bodies["upgrade"]
    # The downgrade puts both back as they were.
    assert f"op.drop_constraint('{PROGRESS}', 'tasks', type_='check')" in bodies["downgrade"]
    assert "op.create_check_constraint('ck_tasks_priority_positive', 'tasks', 'priority > 0')" in bodies["downgrade"]


# -- the pieces ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("(a > 1)", "a > 1"),
    ("((a > 1))", "a > 1"),
    ("  a  >\n 1 ", "a > 1"),
    ("(a > 1) AND (b < 2)", "(a > 1) AND (b < 2)"),  # not one pair around everything
    ("(x <> ')(')", "x <> ')('"),  # parentheses inside a literal do not count
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_postgresql_canonicalises_a_model_spelling(at_head: URL) -> None:
    engine = sa.create_engine(at_head, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            printed = canonical(conn, "public", "tasks", "(progress_percent >= 0) AND (progress_percent <= 100)")
            assert printed == "progress_percent >= 0 AND progress_percent <= 100"
            assert same_definition(conn, "public", "tasks", "0 <= progress_percent AND progress_percent <= 100",
                                   "progress_percent >= 0 AND progress_percent <= 100") is False
            assert same_definition(conn, "public", "tasks", "((progress_percent >= 0) AND (progress_percent <= 100))",
                                   "progress_percent >= 0 AND progress_percent <= 100") is True
            # An expression PostgreSQL rejects is "different", and the transaction stays usable.
            assert canonical(conn, "public", "tasks", "no_such_column > 0") is None
            assert conn.scalar(sa.text("SELECT to_regclass('pg_temp.nakamura_check_probe')")) is None
            assert conn.scalar(sa.text("SELECT count(*) FROM tasks")) == 0
    finally:
        engine.dispose()
