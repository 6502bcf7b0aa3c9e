"""`nakamura-db`: a lasting development database, and the same lint as `baseline-bridge lint`."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import REPO, alembic, run, version_rows

BIN = Path(sys.executable).parent
NAKAMURA_DB = str(BIN / "nakamura-db")
BRIDGE = str(BIN / "baseline-bridge")


def nakamura_db(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run([NAKAMURA_DB, *args], None, env=env, timeout=180)


def exported_url(stdout: str) -> str:
    """The value of the one `export DATABASE_URL=...` line, as a shell would read it."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("export DATABASE_URL=")]
    assert len(lines) == 1, stdout
    return shlex.split(lines[0].removeprefix("export "))[0].removeprefix("DATABASE_URL=")


@pytest.fixture
def dev_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"NAKAMURA_DB_EMBEDDED_DIR": str(tmp_path / "dev")}
    yield env
    nakamura_db("dev-db", "stop", env=env)  # whatever the test did, leave no server behind


@pytest.mark.slow
def test_start_gives_a_usable_url_that_outlasts_the_command_then_stop(dev_env: dict[str, str]) -> None:
    data_dir = Path(dev_env["NAKAMURA_DB_EMBEDDED_DIR"])
    down = nakamura_db("dev-db", "status", env=dev_env)
    assert down.returncode == 1
    assert down.stdout.strip() == f"development database not running: {data_dir} (start it: nakamura-db dev-db start)"

    started = nakamura_db("dev-db", "start", env=dev_env)
    assert started.returncode == 0, started.stderr
    url = exported_url(started.stdout)
    assert started.stdout.count("\n") == 1  # stdout is exactly the export line: eval "$(...)" works
    assert url.startswith("postgresql://postgres@/nakamura_misaki?host=")
    assert ":***@" not in url and "postgres:@" not in url  # no password to print: there is none
    assert "development database started (pid " in started.stderr and str(data_dir) in started.stderr

    # The command has exited; the server has not. Use it.
    upgraded = alembic(url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    from nakamura_misaki_db.connect.urls import parse_database_url

    assert version_rows(parse_database_url(url))

    again = nakamura_db("dev-db", "start", env=dev_env)
    assert again.returncode == 0 and exported_url(again.stdout) == url
    assert "already running" in again.stderr
    status = nakamura_db("dev-db", "status", env=dev_env)
    assert status.returncode == 0
    assert status.stdout.startswith("development database running (pid ") and exported_url(status.stdout) == url

    stopped = nakamura_db("dev-db", "stop", env=dev_env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"development database stopped: {data_dir}"
    assert nakamura_db("dev-db", "status", env=dev_env).returncode == 1
    unreachable = alembic(url, "current")
    assert unreachable.returncode != 0 and "cannot connect" in unreachable.stderr
    # Data survives a stop: start again and the database is still at head.
    restarted = nakamura_db("dev-db", "start", env=dev_env)
    assert restarted.returncode == 0
    assert version_rows(parse_database_url(exported_url(restarted.stdout)))


def test_stop_when_not_running_is_fine(dev_env: dict[str, str]) -> None:
    result = nakamura_db("dev-db", "stop", env=dev_env)
    assert result.returncode == 0
    assert "was not running" in result.stdout


@pytest.mark.parametrize("args", [["dev-db"], ["dev-db", "restart"], ["frobnicate"], []])
def test_bad_usage_is_exit_2(args: list[str]) -> None:
    result = nakamura_db(*args)
    assert result.returncode == 2
    assert "usage: nakamura-db" in result.stderr


def test_help_has_examples_and_exit_codes() -> None:
    top = nakamura_db("--help")
    assert top.returncode == 0
    for text in ('eval "$(nakamura-db dev-db start)"', "nakamura-db dev-db stop", "nakamura-db lint",
                 "exit codes:", "3  refused"):
        assert text in top.stdout, text
    for sub in (["dev-db", "--help"], ["lint", "--help"]):
        result = nakamura_db(*sub)
        assert result.returncode == 0 and "examples:" in result.stdout and "exit codes:" in result.stdout


def test_without_the_embedded_extra_the_hint_says_how_to_install_it(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pgserver'] = None; sys.modules['pgserver.utils'] = None\n"
            "from nakamura_misaki_db.devtools.cli import main; sys.exit(main(['dev-db', 'status']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "NAKAMURA_DB_EMBEDDED_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "pip install 'nakamura-misaki-db[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr


# -- lint: the same as baseline-bridge lint ---------------------------------------------


def test_lint_is_clean_on_the_repository_like_the_bridge() -> None:
    ours, theirs = nakamura_db("lint"), run([BRIDGE, "lint"], None)
    assert ours.returncode == theirs.returncode == 0, ours.stdout + theirs.stdout
    assert ours.stdout == theirs.stdout == f"{REPO / 'alembic' / 'versions'}: migrations are clean\n"


def test_lint_findings_are_exit_3_and_match_the_bridge(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_first.py").write_text('revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n'
                                            '    pass\n\n\ndef downgrade():\n    op.drop_table("w")\n')
    ours = nakamura_db("lint", "--versions", str(versions))
    theirs = run([BRIDGE, "lint", "--versions", str(versions)], None)
    assert ours.returncode == theirs.returncode == 3
    assert ours.stdout == theirs.stdout == (
        f"{versions / '0001_first.py'}: line 10: op.drop_table(...) without if_exists=True fails when run "
        "a second time (the object is gone): pass if_exists=True\n")
    as_json = nakamura_db("lint", "--versions", str(versions), "--json")
    assert as_json.returncode == 3 and '"reason": "line 10: op.drop_table(...)' in as_json.stdout


def test_lint_of_a_missing_directory_is_exit_2(tmp_path: Path) -> None:
    result = nakamura_db("lint", "--versions", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"nakamura-db: {tmp_path / 'nowhere'} is not a directory"
