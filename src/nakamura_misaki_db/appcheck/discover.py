"""Every mapping the application has: from its package directory, a module, a file, or ``MODULE:ATTR``.

- A directory (``check-app src``) or a package: every module below it whose source mentions
  SQLAlchemy or a mapping (``__tablename__``, ``__table__``, ``__mapper_args__``,
  ``map_imperatively``) is imported under the application's own name; namespace directories
  (no ``__init__.py``) included, Alembic script directories (``env.py`` next to
  ``script.py.mako`` or ``versions/``) skipped. A module that fails to import is reported with its
  error; the others are still checked. The text filter keeps the application's entry points
  (settings validated at import, web apps) out unless they touch SQLAlchemy; a module that maps
  tables without naming any of those can be given as a further target.
- A module (dotted or a file): that module; its failure to import is an error.
- ``MODULE:ATTR``: only that Base or MetaData, with a note naming the other modules of its
  package that map tables.

Then every declarative registry and ``MetaData`` those modules hold: each mapped class whose module
belongs to the application, and each ``Table`` no class maps. SQLAlchemy's own MetaData
(``pg_catalog``), ours, or any other library's never count: a MetaData that a module outside the
application also holds is that module's.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nakamura_misaki_db.appcheck.importing import (
    ImportFailure,
    add_to_path,
    import_module,
    import_root,
    module_name,
    try_import,
)
from nakamura_misaki_db.appcheck.loader import (
    DOTTED_HINT,
    AppModels,
    Mapping,
    app_models,
    build_mappings,
    is_path,
    registry_of,
    resolve_target,
    split_target,
)
from nakamura_misaki_db.connect.errors import BadInput, Refused

__all__ = ["Discovery", "Skipped", "discover"]

# A module that can define a mapping names SQLAlchemy or one of these (read as text, nothing runs).
MAPPING_TEXT = re.compile(r"sqlalchemy|__tablename__|__table__|__mapper_args__|map_imperatively")
# ...and one that surely defines one (for the note of MODULE:ATTR: these modules are not imported).
DEFINES_MAPPING = re.compile(r"__tablename__\s*=|__table__\s*=|\bTable\(|map_imperatively\(")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Discovery:
    """What the targets hold, and what could not be looked at."""

    targets: tuple[str, ...]
    models: AppModels
    imported: tuple[str, ...] = ()
    import_errors: tuple[ImportFailure, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    unchecked: tuple[str, ...] = ()  # MODULE:ATTR: other modules of the package that map tables
    package_dirs: tuple[str, ...] = field(default=())  # for the note: how to check everything


# -- the package's files ------------------------------------------------------------------------


def _is_alembic_dir(directory: Path) -> bool:
    return (directory / "env.py").is_file() and ((directory / "script.py.mako").is_file()
                                                 or (directory / "versions").is_dir())


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _walk(directory: Path, skipped: list[Skipped]) -> list[Path]:
    """The importable ``.py`` files below ``directory``, sorted; Alembic directories left out."""
    files: list[Path] = []
    for current, dirs, names in os.walk(directory):
        here = Path(current)
        keep = []
        for name in sorted(dirs):
            sub = here / name
            if name == "__pycache__" or name.startswith(".") or not name.isidentifier():
                continue
            if _is_alembic_dir(sub):
                skipped.append(Skipped(_shown(sub), "an Alembic script directory (its env.py runs migrations)"))
                continue
            keep.append(name)
        dirs[:] = keep
        files += [here / n for n in sorted(names) if n.endswith(".py") and Path(n).stem.isidentifier()]
    return sorted(files)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# -- collecting what the modules hold --------------------------------------------------------------


def _belongs(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _held_outside(objects: Iterable[Any], prefixes: Sequence[str]) -> set[int]:
    """ids of ``objects`` that a module outside the application holds as a global (theirs, not the app's)."""
    wanted = {id(o) for o in objects}
    held: set[int] = set()
    if not wanted:
        return held
    for name, module in list(sys.modules.items()):
        if module is None or _belongs(name, prefixes):
            continue
        try:
            values = list(vars(module).values())
        except TypeError:
            continue
        held.update(id(v) for v in values if id(v) in wanted)
    return held


def collect(modules: Iterable[ModuleType], prefixes: Sequence[str]) -> AppModels:
    """Every mapped class of the application's registries, and every Table no class maps."""
    registries: list[orm.registry] = []
    metadatas: dict[int, tuple[sa.MetaData, str]] = {}
    table_names: dict[int, str] = {}
    for module in modules:
        for var, value in list(vars(module).items()):
            registry = registry_of(value)
            if registry is None and isinstance(value, type):
                mapper = sa.inspect(value, raiseerr=False)
                registry = mapper.registry if isinstance(mapper, orm.Mapper) else None
            if registry is not None:
                if registry not in registries:
                    registries.append(registry)
                continue
            if isinstance(value, sa.Table):
                table_names.setdefault(id(value), f"{var}")
                value = value.metadata
            if isinstance(value, sa.MetaData):
                metadatas.setdefault(id(value), (value, module.__name__))
    for registry in registries:
        try:
            registry.configure()
        except Exception as exc:  # the application itself fails on its first query then
            first = (str(exc).strip().splitlines() or [""])[0]
            raise Refused(f"the application's mappings cannot be configured (every query would fail): "
                          f"{type(exc).__name__}: {first}") from None
    mine = [r for r in registries if any(_belongs(m.class_.__module__, prefixes) for m in r.mappers)]
    theirs = _held_outside([m for m, _ in metadatas.values()], prefixes)
    bare = [(m, where) for m, where in metadatas.values()
            if id(m) not in theirs and all(r.metadata is not m for r in registries)]
    found = [m for m in build_mappings(mine, bare, table_names)
             if m.mapper is None or _belongs(m.module, prefixes)]
    return AppModels(tuple(found))


# -- targets ---------------------------------------------------------------------------------------


@dataclass
class _Run:
    modules: list[ModuleType] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    objects: list[Any] = field(default_factory=list)  # MODULE:ATTR: only these
    errors: list[ImportFailure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    package_dirs: list[str] = field(default_factory=list)


def _package(run: _Run, directories: Sequence[Path], prefix: str) -> None:
    """Import the modules below ``directories`` (the package ``prefix``) that can map tables."""
    run.prefixes.append(prefix)
    run.package_dirs += [_shown(d) for d in directories]
    for directory in directories:
        for path in _walk(directory, run.skipped):
            if path == directory / "__init__.py" or not MAPPING_TEXT.search(_text(path)):
                continue  # the package itself is imported already
            parts = [prefix, *path.relative_to(directory).with_suffix("").parts]
            module, failure = try_import(".".join(parts).removesuffix(".__init__"), path)
            if failure is not None:
                run.errors.append(failure)
            elif module is not None:
                run.modules.append(module)


def _directory_target(run: _Run, spec: str, directory: Path) -> None:
    skipped: list[Skipped] = []
    files = [f for f in _walk(directory, skipped) if MAPPING_TEXT.search(_text(f))]
    root = import_root(directory, files)
    add_to_path(root)
    name = module_name(directory, root)
    run.modules.append(import_module(name, directory.resolve(), shown=spec))
    _package(run, [directory.resolve()], name)


def _module_target(run: _Run, spec: str) -> None:
    """A file path or a dotted name: that module (or, if it is a package, all of it)."""
    if is_path(spec) or Path(spec).exists():
        path = Path(spec).expanduser()
        if path.is_dir():
            _directory_target(run, spec, path)
            return
        if not path.is_file():
            raise BadInput(f"cannot import {spec}: no such file or directory")
        if path.name == "__init__.py":
            _directory_target(run, spec, path.parent)
            return
        root = import_root(path)
        add_to_path(root)
        module = import_module(module_name(path, root), path.resolve(), shown=spec)
    else:
        if str(Path.cwd()) not in sys.path and "" not in sys.path:
            add_to_path(Path.cwd())
        module = import_module(spec, shown=spec, hint=DOTTED_HINT)
        paths = [Path(p).resolve() for p in getattr(module, "__path__", [])]
        if paths:  # a package given by name: all of it
            run.modules.append(module)
            _package(run, paths, module.__name__)
            return
    run.modules.append(module)
    run.prefixes.append(module.__name__)
    run.unchecked += _other_mapping_modules(module, {module.__name__})


def _attr_target(run: _Run, spec: str) -> None:
    target = resolve_target(spec)
    run.objects.append(target.obj)
    given = {m.module for m in app_models(target.obj).mappings} | {target.module.__name__}
    run.unchecked += _other_mapping_modules(target.module, given)


def _other_mapping_modules(module: ModuleType, given: set[str]) -> list[str]:
    """Modules of ``module``'s top package, other than ``given``, whose source defines mappings (not imported)."""
    top = module.__name__.split(".")[0]
    if top == __name__.split(".")[0]:  # the demo's models shipped in this package: their own sub-package
        top = module.__name__.rpartition(".")[0]
    package = sys.modules.get(top)
    dirs = [Path(p) for p in getattr(package, "__path__", [])] if package is not None else []
    out: list[str] = []
    for directory in dirs:
        for path in _walk(directory, []):
            if not DEFINES_MAPPING.search(_text(path)):
                continue
            parts = [top, *path.relative_to(directory).with_suffix("").parts]  # top may be dotted
            name = ".".join(parts).removesuffix(".__init__")
            if name not in given:
                out.append(name)
    return sorted(set(out))


def discover(targets: Sequence[str]) -> Discovery:
    """Import every target the way the application imports itself and collect its mappings."""
    if not targets:
        raise BadInput("no target given: the application's package directory (e.g. src), a module, or MODULE:ATTR")
    run = _Run()
    for spec in targets:
        if split_target(spec) is not None and not Path(spec).exists():
            _attr_target(run, spec)
        else:
            _module_target(run, spec)
    parts: list[Mapping] = []
    if run.objects:
        parts += app_models(run.objects).mappings
    if run.modules:
        parts += collect(run.modules, sorted(set(run.prefixes))).mappings
    unique = list({id(m.mapper) if m.mapper is not None else id(m.table): m for m in parts}.values())
    if not unique:
        raise BadInput(f"no mapped class or table found in {', '.join(targets)}"
                       + (f" ({len(run.errors)} module(s) could not be imported: "
                          f"{'; '.join(f'{e.module}: {e.error}' for e in run.errors)})" if run.errors else ""))
    models = AppModels(tuple(sorted(unique, key=lambda m: (m.module, m.name, m.table.fullname))))
    return Discovery(targets=tuple(targets), models=models, imported=tuple(m.__name__ for m in run.modules),
                     import_errors=tuple(run.errors), skipped=tuple(run.skipped),
                     unchecked=tuple(u for u in run.unchecked if u not in {m.module for m in models.mappings}),
                     package_dirs=tuple(run.package_dirs))
