"""Import the application the way it imports itself: its import root and dotted names, from a path.

An application checkout is typically ``checkout/src/...`` with ``from src.infra.db.models import
Base`` inside, and directories without ``__init__.py`` (namespace packages) inside the regular
package ``src``. Walking up "while ``__init__.py`` exists" stops at the first namespace directory
and imports ``models`` instead of ``src.infra.db.models`` ("No module named 'src'"). The rule here,
for a file or a directory, within the project (never above the nearest ``pyproject.toml``,
``setup.cfg``, ``setup.py`` or ``.git``):

1. the application names itself: the highest enclosing directory whose name the code imports
   absolutely (``from src.x import ...`` inside ``checkout/src/...``) is the top package;
2. else the highest enclosing directory with an ``__init__.py`` is the top package;
3. else the file (or directory) is a top-level module (or namespace package) of its own.

The import root, put first on ``sys.path``, is the top package's parent.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from nakamura_misaki_db.connect.errors import BadInput

__all__ = ["ImportFailure", "import_module", "import_root", "module_name", "try_import"]

PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")


@dataclass(frozen=True)
class ImportFailure:
    """A module of the application that could not be imported, and why (one line)."""

    module: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"module": self.module, "error": self.error}


def _boundary(directory: Path) -> Path | None:
    return next((d for d in (directory, *directory.parents) if any((d / m).exists() for m in PROJECT_MARKERS)),
                None)


def absolute_tops(files: Iterable[Path]) -> set[str]:
    """The first component of every absolute import in ``files`` (read with ``ast``; nothing runs)."""
    tops: set[str] = set()
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
    return tops


def import_root(path: Path, files: Iterable[Path] | None = None) -> Path:
    """The directory to put on ``sys.path`` so that ``path`` imports under the application's own name.

    ``files``: the source files whose absolute imports tell the application's name (default: ``path``
    itself when it is a file).
    """
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    boundary = _boundary(start)
    chain = [start, *start.parents]
    within = chain[: chain.index(boundary)] if boundary is not None else chain[:-1]  # never "/" itself
    tops = absolute_tops(files if files is not None else ([path] if path.is_file() else []))
    named = [d for d in within if d.name in tops and d.name.isidentifier()]
    if named:
        return named[-1].parent
    packages = [d for d in within if (d / "__init__.py").is_file()]
    if packages:
        return packages[-1].parent
    return start.parent if path.is_dir() else start


def module_name(path: Path, root: Path) -> str:
    """The dotted name of ``path`` (a ``.py`` file or a package directory) below ``root``."""
    path = path.resolve()
    parts = list(path.relative_to(root.resolve()).parts)
    if path.is_file():
        parts[-1] = Path(parts[-1]).stem
        if parts[-1] == "__init__":
            parts.pop()
    bad = [p for p in parts if not p.isidentifier()]
    if not parts or bad:
        raise BadInput(f"cannot import {path}: {'/'.join(bad) or path.name!r} is not a Python module name")
    return ".".join(parts)


def add_to_path(root: Path) -> None:
    """Put ``root`` first on ``sys.path``, once (the application imports itself from there)."""
    text = str(root.resolve())
    if text not in sys.path:
        sys.path.insert(0, text)


def _describe(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _same_file(module: ModuleType, path: Path | None) -> bool:
    if path is None:
        return True
    loaded = getattr(module, "__file__", None)
    if loaded is None:  # a namespace package: any of its directories
        return any(Path(p).resolve() == path.resolve() for p in getattr(module, "__path__", []))
    target = path / "__init__.py" if path.is_dir() else path
    return Path(loaded).resolve() == target.resolve()


def try_import(name: str, path: Path | None = None) -> tuple[ModuleType | None, ImportFailure | None]:
    """Import ``name`` as the application would; a failure (whatever it raises) is returned, not raised.

    ``path``: the file the name must come from; a module of that name imported from elsewhere is a
    failure too (importing the file a second time, under another name, would declare every model
    again in a second registry).
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        if _same_file(loaded, path):
            return loaded, None
        where = getattr(loaded, "__file__", None) or ", ".join(getattr(loaded, "__path__", []))
        return None, ImportFailure(name, f"another module named {name} is already imported, from {where}")
    try:
        # Whatever the application prints while importing must not mix with our output (--json).
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit and settings errors included: it is the application's code
        return None, ImportFailure(name, _describe(exc))
    if not _same_file(module, path):
        return None, ImportFailure(name, f"{name} imports from {module.__file__}, not from {path}")
    return module, None


def import_module(name: str, path: Path | None = None, *, shown: str | None = None, hint: str = "") -> ModuleType:
    """``try_import``, for the module the user named (``shown``, as given): its failure is a bad-input error."""
    module, failure = try_import(name, path)
    if failure is not None:
        shown = shown or name
        error = failure.error.removeprefix("ModuleNotFoundError: ")
        raise BadInput(f"cannot import {shown}: {error}{hint}")
    assert module is not None
    return module
