"""`alembic revision` numbers new scripts head+1, head+2, ... with no flag to remember.

Runs the real command in a temporary copy of the repository's alembic.ini and
alembic/ directory, so the repository itself is never touched.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.lint import lint_versions
from nakamura_misaki_db.migrations import head_revision

from .helpers import REPO, execute_sql, run, upgrade

# The highest number among the repository's files; the next free number is one more.
NEXT = int(max(p.name[:4] for p in (REPO / "alembic" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1


def rev(n: int) -> str:
    return f"{n:04d}"


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(REPO / "alembic.ini", copy / "alembic.ini")
    shutil.copytree(REPO / "alembic", copy / "alembic", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def revision(copy: Path, *args: str, url: URL | str | None = None, env: dict[str, str] | None = None):
    return run([sys.executable, "-m", "alembic", "-c", str(copy / "alembic.ini"), "revision", *args],
               url, env=env, cwd=copy)


def new_files(copy: Path) -> list[str]:
    existing = {p.name for p in (REPO / "alembic" / "versions").glob("*.py")}
    return sorted(p.name for p in (copy / "alembic" / "versions").glob("*.py") if p.name not in existing)


def module_ids(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text())
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out[node.target.id] = ast.literal_eval(node.value)
    return out


def function_body(path: Path, name: str) -> list[ast.stmt]:
    tree = ast.parse(path.read_text())
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name).body


def test_next_number_is_what_the_repository_implies() -> None:
    # One past the head Alembic's script directory sees (and the head is the newest file).
    assert int(head_revision()) + 1 == NEXT
    assert NEXT >= 3  # at least 0001 baseline and 0002 conversation indexes exist


def test_plain_revision_twice_numbers_consecutively_without_a_database(repo_copy: Path, tmp_path: Path) -> None:
    embedded_dir = tmp_path / "embedded-must-not-start"
    env = {"NAKAMURA_DB_EMBEDDED_DIR": str(embedded_dir)}
    first = revision(repo_copy, "-m", "add widget table", env=env)  # DATABASE_URL unset
    assert first.returncode == 0, first.stderr
    # No database was needed: the embedded server's data dir was never created.
    assert not embedded_dir.exists()
    # ... and an unreachable DATABASE_URL does not matter either.
    second = revision(repo_copy, "-m", "Add gadget: column!", url="postgresql://nobody:x@127.0.0.1:1/none", env=env)
    assert second.returncode == 0, second.stderr

    widget_file, gadget_file = f"{rev(NEXT)}_add_widget_table.py", f"{rev(NEXT + 1)}_add_gadget_column.py"
    assert new_files(repo_copy) == [widget_file, gadget_file]
    versions = repo_copy / "alembic" / "versions"
    widget = versions / widget_file
    gadget = versions / gadget_file
    assert module_ids(widget) == {"revision": rev(NEXT), "down_revision": rev(NEXT - 1), "branch_labels": None,
                                  "depends_on": None}
    assert module_ids(gadget) == {"revision": rev(NEXT + 1), "down_revision": rev(NEXT), "branch_labels": None,
                                  "depends_on": None}

    # The template's shape: docstring naming the ids, typed ids, upgrade and downgrade.
    text = widget.read_text()
    assert text.startswith(f'"""add widget table\n\nRevision: {rev(NEXT)}\nRevises: {rev(NEXT - 1)}\n')
    assert "revision: str = " in text and "down_revision: str | None = " in text
    assert "def upgrade(**kw: object) -> None:" in text and "def downgrade(**kw: object) -> None:" in text

    # The generated downgrade is a bare `pass`: lint refuses it until someone writes one.
    findings = {(Path(f.file).name, f.reason) for f in lint_versions(versions)}
    empty = "downgrade() does nothing (only pass, ... or a docstring); every revision needs a real downgrade"
    assert findings == {(widget_file, empty), (gadget_file, empty)}


def test_autogenerate_against_a_database_at_head(repo_copy: Path, db_url: URL) -> None:
    upgrade(db_url, "head")
    result = revision(repo_copy, "--autogenerate", "-m", "nothing new", url=db_url)
    assert result.returncode == 0, result.stderr
    assert new_files(repo_copy) == [f"{NEXT:04d}_nothing_new.py"]
    path = repo_copy / "alembic" / "versions" / f"{NEXT:04d}_nothing_new.py"
    assert module_ids(path)["revision"] == f"{NEXT:04d}"
    assert module_ids(path)["down_revision"] == f"{NEXT - 1:04d}"
    # Models and migrations agree at head, so there is nothing to do either way.
    for name in ("upgrade", "downgrade"):
        body = [s for s in function_body(path, name)
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert len(body) == 1 and isinstance(body[0], ast.Pass), name


def test_autogenerate_picks_up_a_model_change(repo_copy: Path, db_url: URL) -> None:
    # The same command notices a real difference (so the empty result above means something).
    upgrade(db_url, "head")
    execute_sql(db_url, "CREATE INDEX ix_extra_tasks_title ON tasks (title)")
    result = revision(repo_copy, "--autogenerate", "-m", "drop stray index", url=db_url)
    assert result.returncode == 0, result.stderr
    path = repo_copy / "alembic" / "versions" / f"{NEXT:04d}_drop_stray_index.py"
    assert "ix_extra_tasks_title" in "".join(ast.unparse(s) for s in function_body(path, "upgrade"))
