"""The application-style checkout of ``tests/app_fixtures/assistant``, as a release to check or start.

``release(dest, fixed=...)`` copies it (the copy is where Python writes its bytecode, and where
``check-app`` runs, as from a real checkout); ``fixed=True`` applies the one-line fix of each enum
column that the guide prescribes (``values_callable``), exactly as a developer would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from .helpers import libpq_url

FIXTURE = Path(__file__).resolve().parent / "app_fixtures" / "assistant"
MODELS = Path("src/infra/db/models.py")
# The unfixed release persists member names; the fix adds values_callable to both Enum(...) columns.
UNFIXED_ENUMS = ('Enum(TaskStatus, name="task_status")', 'Enum(SkillCategory, name="skill_category")')
TOKEN_ENV = {"ASSISTANT_SLACK_TOKEN": "xoxb-test"}  # the release's settings read it at import


def release(dest: Path, *, fixed: bool) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if fixed:
        models = dest / MODELS
        text = models.read_text(encoding="utf-8")
        for spelled in UNFIXED_ENUMS:
            assert text.count(spelled) == 1, spelled
            text = text.replace(spelled, spelled[:-1] + ", values_callable=enum_values)")
        models.write_text(text, encoding="utf-8")
    return dest


def start(checkout: Path, url: URL, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m src.smoke`` in the checkout: the release starts, every repository writes and reads once."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update({"DATABASE_URL": libpq_url(url), **TOKEN_ENV})
    return subprocess.run([sys.executable, "-m", "src.smoke"], cwd=checkout, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@contextmanager
def imported_from(checkout: Path) -> Iterator[None]:
    """Run in ``checkout`` as ``check-app`` does from a shell, in this process: afterwards the application's
    modules (its ``src``) and the ``sys.path`` entry are gone again, so that the next test imports its own
    release, not this one."""
    before_modules = set(sys.modules)
    before_path = list(sys.path)
    cwd = Path.cwd()
    os.chdir(checkout)
    try:
        yield
    finally:
        os.chdir(cwd)
        sys.path[:] = before_path
        root = str(checkout.resolve())
        # Decide first, delete after: a namespace package recomputes its path through its parent's entry.
        theirs = [name for name in set(sys.modules) - before_modules if _under(sys.modules[name], root)]
        for name in theirs:
            del sys.modules[name]


def _under(module: object, root: str) -> bool:
    """The application's module (its file or directories below ``root``), not a library it loaded."""
    places = [getattr(module, "__file__", None) or "", *list(getattr(module, "__path__", None) or [])]
    return any(str(p).startswith(root) for p in places)
