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
    frozen = (REPO / "src" / "nakamura_misaki_db" / "baseline_0001.py").read_text()
    baseline = (REPO / "src" / "nakamura_misaki_db" / "baseline.py").read_text()
    for text in (frozen, baseline):
        assert "models" not in "\n".join(
            line for line in text.splitlines() if line.startswith(("import", "from"))
        )
