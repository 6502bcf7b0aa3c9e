"""Undefined names and syntax errors in revision files, found by ruff's pyflakes rules.

A maintained checker rather than our own: ``ruff check --isolated --select F821,F822,F823``
(``--isolated``: the repository's style settings do not change what the lint says). Syntax
errors are reported by ruff whatever is selected. ruff is the ``[lint]`` extra (and part of
``[dev]``): lint is a developer / CI command; the deploy never needs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

UNDEFINED = ("F821", "F822", "F823")  # undefined name, undefined name in __all__, local used before assignment


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    code: str  # "undefined-name" or "syntax-error"
    message: str


class RuffMissing(Exception):
    """ruff is not installed where the lint runs."""


def ruff_command() -> list[str]:
    try:
        from ruff.__main__ import find_ruff_bin  # the binary the ruff wheel installs

        return [str(find_ruff_bin())]
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        if found:
            return [found]
    raise RuffMissing("ruff is not installed: pip install 'nakamura-misaki-db[lint]' (or [dev])")


def problems(paths: Sequence[Path]) -> list[Problem]:
    if not paths:
        return []
    result = subprocess.run([*ruff_command(), "check", "--isolated", "--no-cache", "--select", ",".join(UNDEFINED),
                             "--output-format", "json", *map(str, paths)],
                            capture_output=True, text=True, check=False, timeout=120)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed (exit {result.returncode}): {result.stderr.strip()[:500]}")
    out: list[Problem] = []
    for item in json.loads(result.stdout or "[]"):
        # Syntax errors: code "invalid-syntax" (older releases: code null, name "syntax-error"/"E999").
        code = item.get("code") or item.get("name") or ""
        kind = "undefined-name" if code in UNDEFINED else "syntax-error"
        location = item.get("location") or {}
        out.append(Problem(Path(item["filename"]), location.get("row"), kind, item.get("message", "")))
    return out


