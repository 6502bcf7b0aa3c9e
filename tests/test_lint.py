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

from nakamura_misaki_db.authoring.lint import Finding, default_versions_dir, lint_versions

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
                 header="from nakamura_misaki_db.revision_api import baseline_downgrade",
                 downgrade='"""Drop it all."""\nbaseline_downgrade(op)')
    assert lint_versions(versions) == []


# -- imports of the live models ----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "downgrade", "line"),
    [
        pytest.param("from nakamura_misaki_db.schema import models", REAL_DOWNGRADE, 4, id="from-package"),
        pytest.param("from nakamura_misaki_db.schema import ddl, models as m", REAL_DOWNGRADE, 4, id="alias"),
        pytest.param("import nakamura_misaki_db.schema.models", REAL_DOWNGRADE, 4, id="import-module"),
        pytest.param("from nakamura_misaki_db.schema.models import Task", REAL_DOWNGRADE, 4, id="from-module"),
        pytest.param("", "from nakamura_misaki_db.schema import models\nmodels.metadata.drop_all(op.get_bind())", 15,
                     id="inside-function"),
        pytest.param("import importlib", 'importlib.import_module("nakamura_misaki_db.schema.models")', 15,
                     id="import_module"),
    ],
)
def test_importing_the_live_models(versions: Path, header: str, downgrade: str, line: int) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_uses_models.py", "0002", "0001", header=header, downgrade=downgrade)
    assert found(versions) == {
        ("0002_uses_models.py",
         f"imports the live models (nakamura_misaki_db.schema.models) at line {line}; "
         "a migration must spell out its own schema"),
    }


def test_the_revision_api_is_the_one_import_of_ours(versions: Path) -> None:
    good_chain(versions, 1)
    write_script(versions, "0002_enum.py", "0002", "0001",
                 header="from nakamura_misaki_db.revision_api import PGEnum, Refused\n"
                        "import nakamura_misaki_db.revision_api\nfrom nakamura_misaki_db import revision_api")
    assert lint_versions(versions) == []


@pytest.mark.parametrize(
    ("header", "module"),
    [
        pytest.param("from nakamura_misaki_db.schema.pg_enum import PGEnum", "nakamura_misaki_db.schema.pg_enum",
                     id="from-internal"),
        pytest.param("import nakamura_misaki_db.schema.revisions", "nakamura_misaki_db.schema.revisions",
                     id="import-internal"),
        pytest.param("from nakamura_misaki_db import deploy", "nakamura_misaki_db.deploy", id="from-package"),
        pytest.param("from nakamura_misaki_db.connect.errors import Refused", "nakamura_misaki_db.connect.errors",
                     id="internal-errors"),
    ],
)
def test_internal_imports_are_findings(versions: Path, header: str, module: str) -> None:
    # Internal modules move (they did once): a revision that imports one stops importing, for good.
    good_chain(versions, 1)
    write_script(versions, "0002_internal.py", "0002", "0001", header=header)
    assert found(versions) == {
        ("0002_internal.py", f"imports {module} at line 4; a revision imports only nakamura_misaki_db.revision_api "
                             "from this package (internal modules move, its names stay)"),
    }


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


# -- can it run twice? ----------------------------------------------------------------


def revision_with(versions: Path, upgrade: str, downgrade: str = REAL_DOWNGRADE, header: str = "") -> set[str]:
    """Reasons lint gives for a 0002 whose upgrade() body is ``upgrade``."""
    good_chain(versions, 1)
    lines = ['"""A test migration."""', "", "import sqlalchemy as sa", "from alembic import op", header, "",
             'revision = "0002"', 'down_revision = "0001"', "", "", "def upgrade():",
             *("    " + ln for ln in upgrade.splitlines()), "", "", "def downgrade():",
             *("    " + ln for ln in downgrade.splitlines()), ""]
    (versions / "0002_step.py").write_text("\n".join(lines))
    return {reason for where, reason in found(versions) if where == "0002_step.py"}


DROP_FIX = "has no IF EXISTS and fails when run a second time: write DROP ... IF EXISTS"
CREATE_FIX = ("has no IF NOT EXISTS and fails (or, for an unnamed index, adds another one) when run a second "
              "time: write CREATE ... IF NOT EXISTS <name>")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param('op.drop_table("widgets")',
                     "line 12: op.drop_table(...) without if_exists=True fails when run a second time "
                     "(the object is gone): pass if_exists=True", id="op.drop_table"),
        pytest.param('op.drop_index("ix_w", table_name="widgets", if_exists=False)',
                     "line 12: op.drop_index(...) without if_exists=True fails when run a second time "
                     "(the object is gone): pass if_exists=True", id="op.drop_index-false"),
        pytest.param('op.drop_column("tasks", "priority")',
                     "line 12: op.drop_column(...) without if_exists=True fails when run a second time "
                     "(the object is gone): pass if_exists=True", id="op.drop_column"),
        pytest.param('op.drop_constraint("uq_x", "tasks")',
                     "line 12: op.drop_constraint(...) without if_exists=True fails when run a second time "
                     "(the object is gone): pass if_exists=True", id="op.drop_constraint"),
        pytest.param('op.create_table("widgets", sa.Column("id", sa.Integer()))',
                     "line 12: op.create_table(...) without if_not_exists=True fails when run a second time "
                     "(the object is there): pass if_not_exists=True, or put it under an `if` that checks the "
                     "catalog", id="op.create_table"),
        pytest.param('op.create_index("ix_w", "tasks", ["title"])',
                     "line 12: op.create_index(...) without if_not_exists=True fails when run a second time "
                     "(the object is there): pass if_not_exists=True, or put it under an `if` that checks the "
                     "catalog", id="op.create_index"),
        pytest.param('op.add_column("tasks", sa.Column("priority", sa.Integer()))',
                     "line 12: op.add_column(...) without if_not_exists=True fails when run a second time "
                     "(the object is there): pass if_not_exists=True, or put it under an `if` that checks the "
                     "catalog", id="op.add_column"),
        pytest.param('op.create_unique_constraint("uq_email", "slack_users", ["email"])',
                     "line 12: op.create_unique_constraint(...) fails when run a second time (PostgreSQL has no "
                     "IF NOT EXISTS for constraints): put it under an `if` that checks pg_constraint "
                     "(MIGRATION_GUIDE.md section 1.3)", id="op.create_unique_constraint"),
        pytest.param('op.execute("DROP TABLE widgets")',
                     f"line 12: `DROP TABLE widgets` {DROP_FIX}", id="raw-drop-table"),
        pytest.param('op.execute(sa.text("drop index concurrently ix_w"))',
                     f"line 12: `drop index concurrently ix_w` {DROP_FIX}", id="raw-drop-index-text"),
        pytest.param('op.execute("ALTER TABLE tasks DROP COLUMN priority")',
                     f"line 12: `ALTER TABLE tasks DROP COLUMN priority` {DROP_FIX}", id="raw-drop-column"),
        pytest.param('op.execute("ALTER TABLE tasks DROP priority")',
                     f"line 12: `ALTER TABLE tasks DROP priority` {DROP_FIX}", id="raw-drop-bare-column"),
        pytest.param('name = "x"\nop.execute(f"DROP TYPE {name}")',
                     f"line 13: `DROP TYPE ...` {DROP_FIX}", id="raw-drop-fstring"),
        pytest.param('op.execute("CREATE TABLE widgets (id int)")',
                     f"line 12: `CREATE TABLE widgets (id int)` {CREATE_FIX}", id="raw-create-table"),
        pytest.param('op.execute("CREATE UNIQUE INDEX ix_w ON tasks (title)")',
                     f"line 12: `CREATE UNIQUE INDEX ix_w ON tasks (title)` {CREATE_FIX}", id="raw-create-index"),
        pytest.param('op.execute("CREATE INDEX ON tasks (title)")',
                     f"line 12: `CREATE INDEX ON tasks (title)` {CREATE_FIX}", id="raw-unnamed-index"),
        pytest.param('op.execute("ALTER TABLE tasks ADD COLUMN priority int")',
                     "line 12: `ALTER TABLE tasks ADD COLUMN priority int` has no IF NOT EXISTS and fails when "
                     "run a second time: write ADD COLUMN IF NOT EXISTS", id="raw-add-column"),
        pytest.param('op.execute("ALTER TABLE t ADD CONSTRAINT c UNIQUE (a)")',
                     "line 12: `ALTER TABLE t ADD CONSTRAINT c UNIQUE (a)` fails when run a second time (no IF "
                     "NOT EXISTS for constraints): wrap it in a DO block that checks pg_constraint first "
                     "(MIGRATION_GUIDE.md section 1.3)", id="raw-add-constraint"),
        pytest.param('op.execute("UPDATE tasks SET title = title || \'!\'")',
                     "line 12: `UPDATE tasks SET title = title || '...'` has no WHERE clause: it changes every row "
                     "on every run; add a WHERE that skips the rows already done (e.g. WHERE email <> "
                     "lower(email))", id="bare-update"),
        pytest.param('op.get_bind().execute(sa.text("DELETE FROM handoffs"))',
                     "line 12: `DELETE FROM handoffs` has no WHERE clause: it deletes every row on every run; "
                     "add a WHERE that skips the rows already done (e.g. WHERE email <> lower(email))",
                     id="bare-delete-on-the-connection"),
    ],
)
def test_a_statement_that_cannot_run_twice(versions: Path, body: str, reason: str) -> None:
    assert revision_with(versions, body) == {reason}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('op.drop_table("widgets", if_exists=True)', id="op-flag"),
        pytest.param('op.create_index("ix_w", "tasks", ["title"], if_not_exists=True)', id="op-flag-create"),
        pytest.param('if not sa.inspect(op.get_bind()).has_table("widgets"):\n'
                     '    op.create_table("widgets", sa.Column("id", sa.Integer()))', id="inspector-guard"),
        pytest.param('bind = op.get_bind()\nexists = bind.scalar(sa.text("SELECT to_regclass(\'public.w\')"))\n'
                     'if exists is None:\n    op.create_index("ix_w", "w", ["a"])', id="guard-through-a-variable"),
        pytest.param('def _has_constraint(name):\n    return False\n\n'
                     'if not _has_constraint("uq_email"):\n'
                     '    op.create_unique_constraint("uq_email", "slack_users", ["email"])', id="helper-guard"),
        pytest.param('op.execute("DROP INDEX IF EXISTS public.ix_w")', id="raw-if-exists"),
        pytest.param('op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_w")', id="raw-concurrently-if-exists"),
        pytest.param('op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_w ON tasks (title)")',
                     id="raw-create-if-not-exists"),
        pytest.param('op.execute("ALTER TABLE tasks ADD COLUMN IF NOT EXISTS p int NOT NULL DEFAULT 0")',
                     id="raw-add-column-if-not-exists"),
        pytest.param('op.execute("ALTER TABLE tasks ALTER COLUMN p DROP DEFAULT, ALTER COLUMN p DROP NOT NULL")',
                     id="drop-default-is-idempotent"),
        pytest.param('op.execute("""\nDO $$ BEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint\n'
                     '                   WHERE conname = \'c\') THEN\n'
                     '        ALTER TABLE t ADD CONSTRAINT c UNIQUE (a);\n    END IF;\nEND $$""")',
                     id="guarded-do-block"),
        pytest.param('op.execute("UPDATE slack_users SET email = lower(email) WHERE email <> lower(email)")',
                     id="update-with-where"),
        pytest.param('op.execute("-- DROP TABLE widgets\\nSELECT \'DROP TABLE x\'")', id="comments-and-strings"),
        pytest.param('if not has_fk:\n    op.execute("ALTER TABLE e ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (a)'
                     ' ON DELETE CASCADE ON UPDATE CASCADE")', id="on-delete-is-not-a-delete"),
        pytest.param('sql = "DROP TABLE widgets"\nop.execute(sql)', id="not-a-literal-is-not-judged"),
    ],
)
def test_statements_that_can_run_twice_are_clean(versions: Path, body: str) -> None:
    assert revision_with(versions, body) == set()


def test_downgrade_statements_are_checked_too(versions: Path) -> None:
    assert revision_with(versions, 'op.execute("CREATE TABLE IF NOT EXISTS w (id int)")',
                         downgrade='op.drop_table("w")') == {
        "line 16: op.drop_table(...) without if_exists=True fails when run a second time "
        "(the object is gone): pass if_exists=True"}


def test_an_unrelated_if_is_not_a_guard(versions: Path) -> None:
    assert revision_with(versions, 'if True:\n    op.create_table("w", sa.Column("id", sa.Integer()))') == {
        "line 13: op.create_table(...) without if_not_exists=True fails when run a second time (the object is "
        "there): pass if_not_exists=True, or put it under an `if` that checks the catalog"}


def test_several_findings_in_one_file_each_with_its_line(versions: Path) -> None:
    assert revision_with(versions, 'op.execute("DROP TABLE a; DROP TABLE IF EXISTS b; DROP VIEW c")\n'
                                   'op.drop_index("ix")') == {
        f"line 12: `DROP TABLE a` {DROP_FIX}",
        f"line 12: `DROP VIEW c` {DROP_FIX}",
        "line 13: op.drop_index(...) without if_exists=True fails when run a second time "
        "(the object is gone): pass if_exists=True",
    }
