"""The code itself: ruff-clean, and no migration reads the live models."""

from __future__ import annotations

import subprocess
import sys

from .helpers import REPO


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_frozen_baseline_never_imports_the_live_models() -> None:
    frozen = (REPO / "src" / "nakamura_misaki_db" / "schema" / "frozen" / "r0001_baseline.py").read_text()
    baseline = (REPO / "src" / "nakamura_misaki_db" / "deploy" / "baseline.py").read_text()
    for text in (frozen, baseline):
        assert "models" not in "\n".join(
            line for line in text.splitlines() if line.startswith(("import", "from"))
        )


def test_frozen_later_revisions_never_import_the_live_models_nor_each_other() -> None:
    package = REPO / "src" / "nakamura_misaki_db" / "schema" / "frozen"
    modules = sorted(package.glob("r[0-9][0-9][0-9][0-9]_*.py"))
    assert [m.name[:5] for m in modules] == ["r0001", "r0002", "r0003", "r0004", "r0005", "r0006", "r0007"]
    for path in [*modules, package / "__init__.py", package / "revision_schema.py",
                 REPO / "src" / "nakamura_misaki_db" / "deploy" / "guarded.py"]:
        imports = [line for line in path.read_text().splitlines() if line.startswith(("import", "from"))]
        assert not [line for line in imports if "models" in line], path.name
        if path.name.startswith("r0"):
            # only SQLAlchemy and RevisionSchema: a frozen module means the same tomorrow
            assert not [line for line in imports if " r0" in line or ".r0" in line], path.name


def test_property_tests_are_reproducible_by_default(request) -> None:
    # CI passes no --hypothesis-profile: the conftest's "ci" profile must then be the one in force.
    from hypothesis import settings

    if request.config.getoption("hypothesis_profile", None) not in (None, "ci"):
        import pytest

        pytest.skip("exploring on purpose with another hypothesis profile (README, Development)")
    assert settings.default.derandomize is True and settings.default.database is None
