"""The migration checks: the real versions directory is clean, and each rule catches its own mistake.

Every bad directory is written by hand into tmp_path and the expected findings
are spelled out in full: a rule that stops firing, or fires on the wrong file,
fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nakamura_misaki_db.lint import Finding, default_versions_dir, lint_versions

from .helpers import REPO

REAL_DOWNGRADE = 'op.execute("DROP TABLE IF EXISTS widget")'


def write_script(versions: Path, filename: str, revision: str | None, down: object = None, *,
                 downgrade: str | None = REAL_DOWNGRADE, header: str = "") -> Path:
    """A small migration file; ``downgrade=None`` leaves the function out."""
    lines = ['"""A test migration."""', "", "from alembic import op", header, ""]
    if revision is not None:
        lines.append(f"revision = {revision!r}")
    lines.append(f"down_revision = {down!r}")
    lines += ["", "", "def upgrade():", '    op.execute("CREATE TABLE IF NOT EXISTS widget (id int)")', ""]
    if downgrade is not None:
        lines += ["", "def downgrade():", *("    " + ln for ln in downgrade.splitlines()), ""]
    path = versions / filename
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    d = tmp_path / "versions"
    d.mkdir()
    return d


def good_chain(versions: Path, n: int) -> None:
    for i in range(1, n + 1):
        write_script(versions, f"{i:04d}_step_{i}.py", f"{i:04d}", None if i == 1 else f"{i - 1:04d}")


def found(versions: Path) -> set[tuple[str, str]]:
    """Findings as (file name relative to the versions dir, or "." for the dir; reason)."""
    out = set()
    for f in lint_versions(versions):
        p = Path(f.file)
        out.add(("." if p == versions else p.relative_to(versions).as_posix(), f.reason))
    return out


# -- clean ----------------------------------------------------------------------


def test_the_repository_versions_are_clean() -> None:
    assert default_versions_dir() == REPO / "alembic" / "versions"
    assert lint_versions(default_versions_dir()) == []


def test_a_good_chain_is_clean(versions: Path) -> None:
    good_chain(versions, 3)
    assert lint_versions(versions) == []


def test_finding_prints_as_one_line() -> None:
    assert str(Finding("versions/0002_x.py", "downgrade() does nothing")) == \
        "versions/0002_x.py: downgrade() does nothing"


# -- ids ------------------------------------------------------------------------


def test_id_that_is_not_four_digits(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "ab12cd34ef56_add_widget.py", "ab12cd34ef56", "0001")
    assert found(versions) == {
        ("ab12cd34ef56_add_widget.py", "revision id 'ab12cd34ef56' is not four digits (0001, 0002, ...)"),
    }


def test_ids_with_a_gap(versions: Path) -> None:
    good_chain(versions, 2)
    write_script(versions, "0004_skip.py", "0004", "0002")
    assert found(versions) == {(".", "revision ids must be consecutive from 0001: missing 0003")}


def test_ids_that_do_not_start_at_0001(versions: Path) -> None:
    write_script(versions, "0002_first.py", "0002", None)
    write_script(versions, "0003_second.py", "0003", "0002")
    assert found(versions) == {(".", "revision ids must be consecutive from 0001: missing 0001")}


def test_the_same_id_twice(versions: Path) -> None:
    good_chain(versions, 2)
    write_script(versions, "0002_again.py", "0002", "0001")
    assert found(versions) == {
        ("0002_step_2.py", "revision '0002' is also declared by 0002_again.py"),
    }


def test_id_too_long_for_varchar_32(versions: Path) -> None:
    good_chain(versions, 1)
    long_id = "0002_" + "x" * 28  # 33 characters
    write_script(versions, f"{long_id}_widget.py", long_id, "0001")
    assert found(versions) == {
        (f"{long_id}_widget.py", f"revision id '{long_id}' is not four digits (0001, 0002, ...)"),
        (f"{long_id}_widget.py", "revision id is 33 characters; alembic_version.version_num is varchar(32)"),
    }


def test_no_revision_declared(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_nothing.py", None, "0001")
    assert found(versions) == {
        ("0002_nothing.py", 'declares no revision id (expected revision = "NNNN" as a string literal)'),
    }


# -- file names ------------------------------------------------------------------


@pytest.mark.parametrize("filename", ["0003_add_widget.py", "0002.py", "0002-add-widget.py", "add_widget.py"])
def test_file_name_must_match_the_revision(versions: Path, filename: str) -> None:
    good_chain(versions, 1)
    write_script(versions, filename, "0002", "0001")
    assert found(versions) == {(filename, "file name does not match its revision: expected 0002_<slug>.py")}


# -- the chain -------------------------------------------------------------------


def test_two_heads(versions: Path) -> None:
    good_chain(versions, 2)
    write_script(versions, "0003_other_branch.py", "0003", "0001")
    assert found(versions) == {
        ("0003_other_branch.py", "down_revision is '0001'; expected '0002'"),
        (".", "2 heads (0002, 0003); the chain must have exactly one"),
        ("0001_step_1.py", "is a branch point (revised by 0002, 0003); the chain must be linear"),
    }


def test_a_merge(versions: Path) -> None:
    good_chain(versions, 2)
    write_script(versions, "0003_other_branch.py", "0003", "0001")
    write_script(versions, "0004_merge.py", "0004", ("0002", "0003"))
    assert found(versions) == {
        ("0003_other_branch.py", "down_revision is '0001'; expected '0002'"),
        ("0004_merge.py", "is a merge (down_revision ('0002', '0003')); the chain must be linear"),
        ("0001_step_1.py", "is a branch point (revised by 0002, 0003); the chain must be linear"),
    }


def test_revision_that_skips_its_predecessor(versions: Path) -> None:
    good_chain(versions, 3)
    (versions / "0003_step_3.py").unlink()
    write_script(versions, "0003_step_3.py", "0003", "0001")
    assert ("0003_step_3.py", "down_revision is '0001'; expected '0002'") in found(versions)


def test_first_revision_must_revise_nothing(versions: Path) -> None:
    write_script(versions, "0001_first.py", "0001", "0002")
    write_script(versions, "0002_second.py", "0002", "0001")
    result = found(versions)
    assert ("0001_first.py", "down_revision is '0002'; expected None (the first revision revises nothing)") in result
    # Alembic's own loader sees the cycle and says so.
    cycle = [reason for where, reason in result if where == "."]
    assert len(cycle) == 1 and cycle[0].startswith("Alembic cannot load this chain:") and "Cycle" in cycle[0]
    assert len(result) == 2


def test_down_revision_that_does_not_exist(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_orphan.py", "0002", "0009")
    assert found(versions) == {
        ("0002_orphan.py", "down_revision is '0009'; expected '0001'"),
        ("0002_orphan.py", "down_revision '0009' is not a revision in this directory"),
    }


# -- downgrades ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("pass", id="pass"),
        pytest.param("...", id="ellipsis"),
        pytest.param('"""Nothing to undo."""', id="docstring"),
        pytest.param('"""Nothing to undo."""\npass', id="docstring-and-pass"),
        pytest.param('raise NotImplementedError("one way only")', id="not-implemented"),
    ],
)
def test_empty_downgrade(versions: Path, body: str) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_one_way.py", "0002", "0001", downgrade=body)
    assert found(versions) == {
        ("0002_one_way.py",
         "downgrade() does nothing (only pass, ... or a docstring); every revision needs a real downgrade"),
    }


def test_missing_downgrade(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_one_way.py", "0002", "0001", downgrade=None)
    assert found(versions) == {
        ("0002_one_way.py", "has no downgrade() function; every revision needs a real downgrade"),
    }


def test_a_downgrade_that_delegates_is_real(versions: Path) -> None:
    # 0001's shape: the downgrade calls a helper. That is a real downgrade.
    good_chain(versions, 1)
    write_script(versions, "0002_helper.py", "0002", "0001",
                 header="from nakamura_misaki_db import baseline",
                 downgrade='"""Drop it all."""\nbaseline.downgrade(op.get_bind())')
    assert lint_versions(versions) == []


# -- imports of the live models ----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "downgrade", "line"),
    [
        pytest.param("from nakamura_misaki_db import models", REAL_DOWNGRADE, 4, id="from-package"),
        pytest.param("from nakamura_misaki_db import baseline, models as m", REAL_DOWNGRADE, 4, id="alias"),
        pytest.param("import nakamura_misaki_db.models", REAL_DOWNGRADE, 4, id="import-module"),
        pytest.param("from nakamura_misaki_db.models import Task", REAL_DOWNGRADE, 4, id="from-module"),
        pytest.param("", "from nakamura_misaki_db import models\nmodels.metadata.drop_all(op.get_bind())", 15,
                     id="inside-function"),
        pytest.param("import importlib", 'importlib.import_module("nakamura_misaki_db.models")', 15,
                     id="import_module"),
    ],
)
def test_importing_the_live_models(versions: Path, header: str, downgrade: str, line: int) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_uses_models.py", "0002", "0001", header=header, downgrade=downgrade)
    assert found(versions) == {
        ("0002_uses_models.py",
         f"imports the live models (nakamura_misaki_db.models) at line {line}; "
         "a migration must spell out its own schema"),
    }


def test_other_package_imports_are_fine(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_enum.py", "0002", "0001",
                 header="from nakamura_misaki_db.pg_enum import PGEnum\nimport nakamura_misaki_db.migrations\n"
                        "from nakamura_misaki_db import baseline_0001")
    assert lint_versions(versions) == []


# -- robustness ---------------------------------------------------------------------


def test_a_file_that_does_not_parse(versions: Path) -> None:
    good_chain(versions, 1)
    (versions / "0002_broken.py").write_text('revision = "0002"\ndown_revision = "0001"\ndef upgrade(:\n')
    result = found(versions)
    assert len(result) == 1
    (where, reason), = result
    assert where == "0002_broken.py" and reason.startswith("cannot be parsed:") and "(line 3)" in reason


def test_an_empty_directory(versions: Path) -> None:
    assert found(versions) == {(".", "holds no migration scripts (expected 0001_<slug>.py, ...)")}


def test_lint_leaves_no_bytecode_behind(versions: Path) -> None:
    good_chain(versions, 2)
    before = sorted(p.name for p in versions.iterdir())
    assert lint_versions(versions) == []
    assert sorted(p.name for p in versions.iterdir()) == before


def test_init_and_editor_files_are_not_migrations(versions: Path) -> None:
    good_chain(versions, 1)
    (versions / "__init__.py").write_text("")
    (versions / "README").write_text("not a migration")
    assert lint_versions(versions) == []


# -- baseline-bridge lint -------------------------------------------------------------


def bridge_lint(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from nakamura_misaki_db.bridge.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, "lint", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_lint_exit_0_on_the_real_versions() -> None:
    result = bridge_lint()
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_lint_exit_3_one_line_per_finding(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_one_way.py", "0002", "0001", downgrade="pass")
    write_script(versions, "0004_gap.py", "0004", "0003")
    result = bridge_lint("--versions", str(versions))
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert sorted(lines) == sorted([
        f"{versions / '0002_one_way.py'}: downgrade() does nothing (only pass, ... or a docstring); "
        "every revision needs a real downgrade",
        f"{versions}: revision ids must be consecutive from 0001: missing 0003",
        f"{versions / '0004_gap.py'}: down_revision '0003' is not a revision in this directory",
    ])
