"""`alembic revision` numbers new scripts in sequence with no flag to remember, ruff-clean.

Runs alembic's command line (in this process, or a real one where the environment is the point) in
a temporary copy of the repository's alembic.ini and
alembic/ directory, so the repository itself is never touched. The next number
is read from the script directory: these tests hold whatever the head is.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.authoring.lint import lint_versions

from .helpers import (
    REPO,
    alembic_in_process,
    change_models,
    copy_repository,
    execute_sql,
    head_revision,
    next_revision_number,
    revision_chain,
    ruff,
    run,
    upgrade,
    without_write_hooks,
)

# The next free number, from the script directory (never spelled out: a new revision moves it).
NEXT = int(next_revision_number())
HEAD = head_revision()


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "repo")


def revision(copy: Path, *args: str, url: URL | str | None = None, env: dict[str, str] | None = None):
    """``alembic revision ARGS`` in ``copy``: alembic's command line in this process, or a real process where
    the environment matters (no DATABASE_URL at all, or PYTHONPATH at the copy's changed models)."""
    if env is None:
        return alembic_in_process(copy, url, "revision", *args)
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


def test_next_number_is_one_after_the_head() -> None:
    chain = revision_chain()
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert NEXT == int(HEAD) + 1 == len(chain) + 1


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

    first_id, second_id = f"{NEXT:04d}", f"{NEXT + 1:04d}"
    assert new_files(repo_copy) == [f"{first_id}_add_widget_table.py", f"{second_id}_add_gadget_column.py"]
    versions = repo_copy / "alembic" / "versions"
    widget = versions / f"{first_id}_add_widget_table.py"
    gadget = versions / f"{second_id}_add_gadget_column.py"
    assert module_ids(widget) == {"revision": first_id, "down_revision": HEAD, "branch_labels": None,
                                  "depends_on": None}
    assert module_ids(gadget) == {"revision": second_id, "down_revision": first_id, "branch_labels": None,
                                  "depends_on": None}

    # The template's shape: docstring naming the ids, typed ids, upgrade and downgrade.
    text = widget.read_text()
    assert text.startswith(f'"""add widget table\n\nRevision: {first_id}\nRevises: {HEAD}\n')
    assert "revision: str = " in text and "down_revision: str | None = " in text
    assert "def upgrade(**kw: object) -> None:" in text and "def downgrade(**kw: object) -> None:" in text

    # The generated downgrade is a bare `pass`: lint refuses it until someone writes one.
    findings = {(Path(f.file).name, f.reason) for f in lint_versions(versions)}
    empty = "downgrade() does nothing (only pass, ... or a docstring); every revision needs a real downgrade"
    assert findings == {(widget.name, empty), (gadget.name, empty)}


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


# -- --rev-id ------------------------------------------------------------------------


def test_rev_id_equal_to_the_next_number_is_honoured(repo_copy: Path) -> None:
    result = revision(repo_copy, "--rev-id", f"{NEXT:04d}", "-m", "explicit")
    assert result.returncode == 0, result.stderr
    assert new_files(repo_copy) == [f"{NEXT:04d}_explicit.py"]


@pytest.mark.parametrize("wanted", [f"{NEXT + 39:04d}", f"{NEXT - 1:04d}", "ab12cd34ef56", "3"])
def test_any_other_rev_id_is_refused_and_writes_nothing(repo_copy: Path, wanted: str) -> None:
    result = revision(repo_copy, "--rev-id", wanted, "-m", "hand picked")
    assert result.returncode != 0
    assert (f"--rev-id {wanted} refused: revision ids are assigned in sequence and the next one is {NEXT:04d}. "
            f"Leave --rev-id out (the number is assigned for you) or pass --rev-id {NEXT:04d}. "
            "No file was written.") in result.stderr
    assert new_files(repo_copy) == []


# -- ruff-clean output ----------------------------------------------------------------


def test_the_template_alone_writes_a_ruff_clean_file(repo_copy: Path) -> None:
    # Installed use has no post-write hooks: the template itself must be clean.
    without_write_hooks(repo_copy / "alembic.ini")
    assert revision(repo_copy, "-m", "plain one").returncode == 0
    path = repo_copy / "alembic" / "versions" / f"{NEXT:04d}_plain_one.py"
    for args in (["check", "--no-fix"], ["format", "--check"]):
        result = ruff(*args, str(path), cwd=repo_copy)
        assert result.returncode == 0, result.stdout + result.stderr
    # ... and it is the hooks' absence that was tested: the file has no trace of them.
    assert "Running post write hook" not in revision(repo_copy, "-m", "another").stdout


def test_autogenerated_imports_are_clean_from_the_template_alone(tmp_path: Path, db_url: URL) -> None:
    # Imports (sorted into sections, nothing unused, no stale noqa) are the template's job;
    # line wrapping of the rendered operations is the format hook's (see the next test).
    copy = copy_repository(tmp_path / "repo", sources=True)
    change_models(copy)
    without_write_hooks(copy / "alembic.ini")
    upgrade(db_url, "head")
    result = revision(copy, "--autogenerate", "-m", "widgets", url=db_url, env={"PYTHONPATH": str(copy / "src")})
    assert result.returncode == 0, result.stderr
    path = copy / "alembic" / "versions" / f"{NEXT:04d}_widgets.py"
    text = path.read_text()
    assert "from nakamura_misaki_db.revision_api import PGEnum" in text and "op.create_table(" in text
    checked = ruff("check", "--no-fix", "--select", "I001,F401,RUF100", str(path), cwd=copy)
    assert checked.returncode == 0, checked.stdout


def test_post_write_hooks_leave_an_autogenerated_file_ruff_clean(tmp_path: Path, db_url: URL) -> None:
    copy = copy_repository(tmp_path / "repo", sources=True)
    change_models(copy)
    upgrade(db_url, "head")
    result = revision(copy, "--autogenerate", "-m", "widgets", url=db_url, env={"PYTHONPATH": str(copy / "src")})
    assert result.returncode == 0, result.stderr
    assert "Running post write hook 'ruff_format'" in result.stdout
    path = copy / "alembic" / "versions" / f"{NEXT:04d}_widgets.py"
    for args in (["check", "--no-fix"], ["format", "--check"]):
        checked = ruff(*args, str(path), cwd=copy)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # Autogenerate renders table, index and column operations idempotently, so lint is content too.
    text = path.read_text()
    assert "if_not_exists=True" in text and "if_exists=True" in text
    assert lint_versions(copy / "alembic" / "versions") == []


def test_installed_use_runs_no_hook_so_needs_no_ruff(repo_copy: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A deployment builds its Config in code (no alembic.ini): no post-write hook, so a
    # machine without ruff can still write a revision. (And, run in-process, no database.)
    from alembic import command
    from alembic.script import write_hooks

    from nakamura_misaki_db.schema.revisions import alembic_config as installed_config

    def no_hooks_expected(*args: object) -> None:
        raise AssertionError("a post-write hook ran in installed use")

    monkeypatch.setattr(write_hooks, "_run_hooks", no_hooks_expected)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("NAKAMURA_DB_EMBEDDED_DIR", str(tmp_path / "embedded-must-not-start"))
    cfg = installed_config()
    assert cfg.get_section("post_write_hooks") is None
    cfg.set_main_option("script_location", str(repo_copy / "alembic"))
    command.revision(cfg, message="installed use")
    assert new_files(repo_copy) == [f"{NEXT:04d}_installed_use.py"]
    assert not (tmp_path / "embedded-must-not-start").exists()
    # while the repository's alembic.ini does run them
    from alembic.config import Config

    assert Config(str(REPO / "alembic.ini")).get_section_option("post_write_hooks", "hooks") == "ruff_format, ruff_fix"
