"""The deployable package: build the wheel, install it into a fresh virtualenv, run it read-only.

What a deploy does (the Nix store is read-only, the unit's working directory is
not the source tree, and there is no alembic.ini): the console scripts must
find the migration scripts inside the installed package and write nothing
next to them.

The virtualenv is a plain ``python -m venv`` (no system site-packages, so a
file missing from the wheel or a missing dependency fails here), and the
wheel is installed with its dependencies by pip's ordinary resolver.
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.revisions import head_revision

from .helpers import MIGRATION_LOCK_KEY, REPO, rows, run, version_rows

pytestmark = pytest.mark.slow

PACKAGE = "nakamura_misaki_db"


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout}\n{result.stderr}"


def _env_without_sources() -> dict[str, str]:
    """No PYTHONPATH pointing back at the checkout, bytecode writing as Python defaults it."""
    return {"PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "", "PYTHONSAFEPATH": ""}


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and directory under ``root`` with size, mtime and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def _set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _install(root: Path) -> dict[str, Path]:
    """Build the wheel into ``root`` and install it (with its dependencies) into a fresh venv there."""
    timings: dict[str, float] = {}

    start = time.monotonic()
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(REPO)],
                           capture_output=True, text=True, timeout=600, check=False)
    _check(build, "python -m build --wheel")
    timings["build"] = time.monotonic() - start
    wheels = list((root / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels

    # Without pip of its own (ensurepip is most of a venv's creation time): this process's pip installs
    # into it (--python), with the same resolver; the venv still sees nothing but what the wheel brings.
    start = time.monotonic()
    venv = root / "venv"
    _check(subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True,
                          text=True, timeout=300, check=False), "python -m venv")
    timings["venv"] = time.monotonic() - start
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg

    start = time.monotonic()
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                          "--quiet", str(wheels[0])], capture_output=True, text=True, timeout=900, check=False)
    _check(pip, "pip install <wheel>")
    timings["install"] = time.monotonic() - start

    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           f"import {PACKAGE}, os; print(os.path.dirname({PACKAGE}.__file__))"],
                          capture_output=True, text=True, cwd=root, timeout=60, check=False)
    _check(site, "import the installed package")
    package_dir = Path(site.stdout.strip())
    assert package_dir.is_relative_to(venv), package_dir  # the wheel, not the checkout

    print("\nwheel test timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()), file=sys.stderr)
    _set_writable(package_dir, writable=False)
    return {"venv": venv, "package": package_dir, "wheel": wheels[0], "root": root}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[dict[str, Path]]:
    """The wheel built and installed once per test session, package dir read-only.

    Under xdist every worker would build its own (the tests here land on both): the first one builds
    it in the session's shared temp dir under a file lock, the others wait and use it. Left read-only
    there; pytest's temp cleanup makes a directory writable before removing it.
    """
    if worker_id == "master":
        made = _install(tmp_path_factory.mktemp("package"))
        try:
            yield made
        finally:
            _set_writable(made["package"], writable=True)  # so tmp cleanup can remove it
        return
    root = tmp_path_factory.getbasetemp().parent / "package"
    with (root.parent / "package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / "installed").is_file():
            made = {k: Path(v) for k, v in (ln.split("=", 1) for ln in (root / "installed").read_text().splitlines())}
        else:
            root.mkdir(exist_ok=True)
            made = _install(root)
            (root / "installed").write_text("".join(f"{k}={v}\n" for k, v in made.items()))
    yield made


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "empty-cwd"
    d.mkdir()
    return d


def venv_run(installed: dict[str, Path], script: str, *args: str, url: URL | None, cwd: Path):
    return run([str(installed["venv"] / "bin" / script), *args], url, cwd=cwd, env=_env_without_sources())


def test_wheel_carries_the_migration_scripts(installed: dict[str, Path]) -> None:
    scripts = installed["package"] / "_alembic"
    assert (scripts / "env.py").is_file()
    assert (scripts / "script.py.mako").is_file()
    shipped = sorted(p.name for p in (scripts / "versions").glob("*.py"))
    in_repo = sorted(p.name for p in (REPO / "alembic" / "versions").glob("*.py"))
    assert shipped == in_repo
    assert "0002_drop_redundant_conversation_indexes.py" in shipped
    for name in shipped:
        assert (scripts / "versions" / name).read_bytes() == (REPO / "alembic" / "versions" / name).read_bytes()
    # and the package directory really is read-only now
    assert not os.stat(installed["package"]).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_installed_package_finds_its_own_scripts(installed: dict[str, Path], workdir: Path) -> None:
    result = run([str(installed["venv"] / "bin" / "python"), "-c",
                  "from nakamura_misaki_db.schema.revisions import script_location; print(script_location())"],
                 None, cwd=workdir, env=_env_without_sources())
    _check(result, "script_location")
    assert Path(result.stdout.strip()) == installed["package"] / "_alembic"


def test_init_db_and_status_from_a_read_only_install(installed: dict[str, Path], workdir: Path,
                                                     db_url: URL) -> None:
    package_before = snapshot(installed["package"])

    # What a deploy would run, rendered offline by the installed scripts (no alembic.ini), reading only.
    sql = venv_run(installed, "nakamura-init-db", "--sql", url=db_url, cwd=workdir)
    assert sql.returncode == 0, sql.stdout + sql.stderr
    assert "(empty)" in sql.stdout.splitlines()[0] and sql.stdout.rstrip().endswith(
        f"COMMIT;\n\nSELECT pg_advisory_unlock({MIGRATION_LOCK_KEY});")  # the lock is the session's
    assert version_rows(db_url) is None

    first = venv_run(installed, "nakamura-init-db", url=db_url, cwd=workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith(f"database at head {head_revision()} (was empty; applied 0001, ")
    assert version_rows(db_url) == [head_revision()]
    assert "idx_conversations_user_channel" not in {
        r[0] for r in rows(db_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'conversations'")}

    again = venv_run(installed, "nakamura-init-db", url=db_url, cwd=workdir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already at head" in again.stdout

    status = venv_run(installed, "baseline-bridge", "status", url=db_url, cwd=workdir)
    assert status.returncode == 0, status.stdout + status.stderr
    assert head_revision() in status.stdout

    lint = venv_run(installed, "baseline-bridge", "lint", url=None, cwd=workdir)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    lint = venv_run(installed, "nakamura-db", "lint", url=None, cwd=workdir)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout == f"{installed['package'] / '_alembic' / 'versions'}: migrations are clean\n"

    # Nothing written next to the code (no __pycache__, no new or changed file), nor in the cwd.
    assert snapshot(installed["package"]) == package_before
    assert list(workdir.iterdir()) == []
