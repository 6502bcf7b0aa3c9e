"""Find the application's SQLAlchemy models, and the names the application gives them.

``load_target("app.models:Base")`` (or ``"path/to/models.py:Base"``) imports the
module and returns its ``MetaData`` (a declarative ``Base``'s ``.metadata``);
``app_models(...)`` wraps one or more of those with the model class and
attribute names, so that ``check_app`` can report ``TaskTable.status`` rather
than only ``tasks.status``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nakamura_misaki_db.connect.errors import BadInput

__all__ = ["AppModels", "app_models", "load_target"]

USAGE = "expected MODULE:ATTR, e.g. app.models:Base or path/to/models.py:Base"


@dataclass(frozen=True)
class AppModels:
    """The tables the application maps, with its own names for them."""

    tables: tuple[sa.Table, ...]
    classes: Mapping[str, str] = field(default_factory=dict)  # table key -> model class name
    attributes: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table key, column) -> attribute

    def model(self, table: sa.Table) -> str | None:
        return self.classes.get(table.key)

    def attribute(self, table: sa.Table, column: str) -> str:
        return self.attributes.get((table.key, column), column)


# -- what the application gave us -------------------------------------------------------------


def _metadata_of(obj: Any) -> sa.MetaData | None:
    if isinstance(obj, sa.MetaData):
        return obj
    metadata = getattr(obj, "metadata", None)
    # A declarative Base (DeclarativeBase subclass or declarative_base()) or a registry.
    if isinstance(obj, type | orm.registry) and isinstance(metadata, sa.MetaData):
        return metadata
    return None


def _registry_of(obj: Any) -> orm.registry | None:
    if isinstance(obj, orm.registry):
        return obj
    registry = getattr(obj, "registry", None) if isinstance(obj, type) else None
    return registry if isinstance(registry, orm.registry) else None


def _known_registries() -> list[orm.registry]:
    # SQLAlchemy keeps every live registry here (used by configure_mappers). Not a public
    # name: without it, a bare MetaData is reported by table names only.
    from sqlalchemy.orm import mapperlib

    return list(getattr(mapperlib, "_mapper_registries", {}) or {})


def _describe(obj: Any) -> str:
    return f"a {type(obj).__module__}.{type(obj).__qualname__}" if not isinstance(obj, type) else f"class {obj!r}"


def app_models(app: Any) -> AppModels:
    """``app``: a MetaData, a declarative Base (or registry), or several of them in a list/tuple."""
    if isinstance(app, AppModels):
        return app
    items = list(app) if isinstance(app, list | tuple | set | frozenset) else [app]
    if not items:
        raise BadInput("no application models given: pass a MetaData or a declarative Base")
    metadatas: list[sa.MetaData] = []
    registries: list[orm.registry] = []
    for item in items:
        metadata = _metadata_of(item)
        if metadata is None:
            raise BadInput(f"{_describe(item)} is not a SQLAlchemy MetaData or declarative Base")
        if metadata not in metadatas:
            metadatas.append(metadata)
        registry = _registry_of(item)
        if registry is not None:
            registries.append(registry)
    tables = tuple(t for m in metadatas for t in sorted(m.tables.values(), key=lambda t: t.key))
    if not tables:
        raise BadInput("the application's MetaData has no tables: import the modules that define the models "
                       "first (point at the module that imports them all)")
    registries += [r for r in _known_registries() if r.metadata in metadatas and r not in registries]
    classes, attributes = _names(tables, registries)
    return AppModels(tables=tables, classes=classes, attributes=attributes)


def _names(tables: Iterable[sa.Table], registries: Iterable[orm.registry],
           ) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    wanted = {id(t): t for t in tables}
    mappers: dict[str, list[orm.Mapper]] = {}
    for registry in registries:
        for mapper in registry.mappers:
            table = mapper.local_table
            if id(table) in wanted:
                mappers.setdefault(table.key, []).append(mapper)
    classes: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    for key, candidates in mappers.items():
        # The class that owns the table: not a subclass of another mapped class.
        mapper = sorted(candidates, key=lambda m: (m.inherits is not None, m.class_.__name__))[0]
        classes[key] = mapper.class_.__name__
        for column in mapper.local_table.columns:
            try:
                attributes[(key, column.name)] = mapper.get_property_by_column(column).key
            except Exception:  # not mapped (excluded), or the mapper cannot tell: keep the column name
                continue
    return classes, attributes


# -- MODULE:ATTR ------------------------------------------------------------------------------


def _is_path(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def _module_name_for(path: Path) -> tuple[str, Path]:
    """The dotted name of ``path`` and the directory to put on sys.path (the top package's parent)."""
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    return ".".join(parts), directory


def _import(module: str) -> Any:
    hint = ""
    if _is_path(module):
        path = Path(module).expanduser().resolve()
        if not path.is_file():
            raise BadInput(f"cannot import {module}: no such file")
        name, root = _module_name_for(path)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        loaded = sys.modules.get(name)
        if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() != path:
            # Another module already has that name: load this file under a name of its own.
            name = f"_nakamura_check_app_{abs(hash(str(path)))}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise BadInput(f"cannot import {module}: not a Python module")
            target = importlib.util.module_from_spec(spec)
            sys.modules[name] = target
            loader = lambda: spec.loader.exec_module(target) or target  # noqa: E731
        else:
            loader = lambda: importlib.import_module(name)  # noqa: E731
    else:
        cwd = str(Path.cwd())
        if cwd not in sys.path and "" not in sys.path:
            sys.path.insert(0, cwd)
        hint = " (run from the application's root directory, or give a file path: path/to/models.py:Base)"
        loader = lambda: importlib.import_module(module)  # noqa: E731
    try:
        # Whatever the application prints while importing must not mix with our output (--json).
        with contextlib.redirect_stdout(sys.stderr):
            return loader()
    except ModuleNotFoundError as exc:
        raise BadInput(f"cannot import {module}: {exc}{hint}") from None
    except (Exception, SystemExit) as exc:
        raise BadInput(f"cannot import {module}: {type(exc).__name__}: {exc}") from None


def _candidates(module: Any) -> list[str]:
    names = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, sa.MetaData) or (isinstance(value, type) and _metadata_of(value) is not None
                                              and _registry_of(value) is not None
                                              and value.__dict__.get("__tablename__") is None
                                              and value.__dict__.get("__table__") is None):
            names.append(name)
    return names


def load_target(spec: str) -> Any:
    """Import ``MODULE:ATTR`` (ATTR may be dotted, e.g. ``Base.metadata``) and return the object."""
    text = (spec or "").strip()
    module, sep, attr = text.rpartition(":")
    if not sep or not module or not attr:
        raise BadInput(f"{spec!r}: {USAGE}")
    obj = _import(module)
    for part in attr.split("."):
        if not hasattr(obj, part):
            found = _candidates(obj) if part == attr.split(".")[0] else []
            also = f" (MetaData / Base objects there: {', '.join(found)})" if found else ""
            raise BadInput(f"{module} has no attribute {attr!r}{also}")
        obj = getattr(obj, part)
    if _metadata_of(obj) is None:
        raise BadInput(f"{text} is {_describe(obj)}, not a SQLAlchemy MetaData or declarative Base")
    return obj
