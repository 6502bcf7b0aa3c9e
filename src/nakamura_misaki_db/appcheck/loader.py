"""The application's mappings, each with its own module and class name; ``MODULE:ATTR`` targets.

A ``Mapping`` is one mapped class (or one Core ``Table`` no class maps) and the ``Table`` object
it maps: two classes of two Bases that map the same table name are two mappings, reported apart
(the application's task repository and its migrations may each have their own ``tasks``).

``load_target("app.models:Base")`` (or ``"path/to/models.py:Base"``) imports the module the way
the application imports itself (``importing``) and returns the object; ``app_models(...)`` turns
one or more MetaData / declarative Bases / registries into the mappings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nakamura_misaki_db.appcheck.importing import add_to_path, import_module, import_root, module_name
from nakamura_misaki_db.connect.errors import BadInput

__all__ = ["AppModels", "Mapping", "Target", "app_models", "load_target", "resolve_target"]

USAGE = "expected MODULE:ATTR, e.g. app.models:Base or path/to/models.py:Base"
DOTTED_HINT = " (run from the application's root directory, or give a file path: path/to/models.py:Base)"


@dataclass(frozen=True, eq=False)
class Mapping:
    """One mapped class (``mapper`` set) or one Core table, with the names the application gives it."""

    module: str  # where the class is defined, or where the Table / MetaData was found ("" if unknown)
    name: str  # the class's __qualname__, or the Core table's variable (else its name)
    table: sa.Table
    attributes: MappingType[str, str] = field(default_factory=dict)  # column name -> attribute key
    mapper: orm.Mapper | None = None

    @property
    def kind(self) -> str:
        return "class" if self.mapper is not None else "table"

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name

    def attribute(self, column: str) -> str:
        return self.attributes.get(column, column)

    def to_dict(self) -> dict[str, str]:
        return {"module": self.module, "model": self.name, "kind": self.kind, "table": self.table.fullname}

    def owns(self, finding: Any) -> bool:
        """Whether ``finding`` (a ``Finding``) is about this mapping: its module, table and class."""
        if (finding.module or "") != self.module or finding.table != self.table.fullname:
            return False
        if self.mapper is None:
            return finding.model is None
        model = finding.model or ""
        return model == self.name or model.startswith(self.name + ".")

    def __str__(self) -> str:
        return f"{self.qualified} ({self.table.fullname})"


@dataclass(frozen=True)
class AppModels:
    """The mappings to check, in report order (module, then name)."""

    mappings: tuple[Mapping, ...]

    @property
    def tables(self) -> tuple[sa.Table, ...]:
        seen: dict[int, sa.Table] = {}
        for m in self.mappings:
            seen.setdefault(id(m.table), m.table)
        return tuple(seen.values())

    def mapping(self, table: sa.Table) -> Mapping | None:
        return next((m for m in self.mappings if m.table is table), None)

    def model(self, table: sa.Table) -> str | None:
        found = self.mapping(table)
        return found.name if found is not None and found.mapper is not None else None

    def attribute(self, table: sa.Table, column: str) -> str:
        found = self.mapping(table)
        return found.attribute(column) if found is not None else column


# -- from SQLAlchemy objects ------------------------------------------------------------------


def _metadata_of(obj: Any) -> sa.MetaData | None:
    if isinstance(obj, sa.MetaData):
        return obj
    metadata = getattr(obj, "metadata", None)
    # A declarative Base (DeclarativeBase subclass or declarative_base()) or a registry.
    if isinstance(obj, type | orm.registry) and isinstance(metadata, sa.MetaData):
        return metadata
    return None


def registry_of(obj: Any) -> orm.registry | None:
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


def class_mapping(mapper: orm.Mapper) -> Mapping | None:
    """The mapping of ``mapper``, or None when it owns no table (single-table inheritance: its base does)."""
    table = mapper.local_table
    if mapper.single or not isinstance(table, sa.Table):
        return None
    attributes: dict[str, str] = {}
    for column in table.columns:
        try:
            attributes[column.name] = mapper.get_property_by_column(column).key
        except Exception:  # not mapped (excluded), or the mapper cannot tell: keep the column name
            continue
    cls = mapper.class_
    return Mapping(module=cls.__module__, name=cls.__qualname__, table=table, attributes=attributes, mapper=mapper)


def build_mappings(registries: Iterable[orm.registry], metadatas: Iterable[tuple[sa.MetaData, str]],
                   table_names: MappingType[int, str] | None = None) -> list[Mapping]:
    """Every class of ``registries``, then every table of ``metadatas`` (each with the module it was found
    in) that no class maps, sorted by module and name."""
    out: list[Mapping] = []
    mapped: set[int] = set()
    seen: set[int] = set()
    for registry in registries:
        for mapper in registry.mappers:
            if id(mapper) in seen:
                continue
            seen.add(id(mapper))
            mapped.update(id(t) for t in mapper.tables)
            found = class_mapping(mapper)
            if found is not None:
                out.append(found)
    for metadata, module in metadatas:
        for table in metadata.tables.values():
            if id(table) not in mapped:
                mapped.add(id(table))
                name = (table_names or {}).get(id(table), table.fullname)
                out.append(Mapping(module=module, name=name, table=table))
    return sorted(out, key=lambda m: (m.module, m.name, m.table.fullname))


def app_models(app: Any, *, module: str = "") -> AppModels:
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
        registry = registry_of(item)
        if registry is not None and registry not in registries:
            registries.append(registry)
    if not any(m.tables for m in metadatas):
        raise BadInput("the application's MetaData has no tables: import the modules that define the models "
                       "first (point at the module that imports them all)")
    registries += [r for r in _known_registries() if r.metadata in metadatas and r not in registries]
    wanted = {id(t) for m in metadatas for t in m.tables.values()}
    # Only the classes whose tables are in the MetaData given (a registry may hold more).
    found = [m for m in build_mappings(registries, [(md, module) for md in metadatas]) if id(m.table) in wanted]
    return AppModels(tuple(found))


# -- MODULE:ATTR ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What ``MODULE:ATTR`` named: the object, and the module it was taken from."""

    spec: str
    obj: Any
    module: ModuleType


def is_path(text: str) -> bool:
    return text.endswith(".py") or "/" in text or "\\" in text


def import_spec(text: str) -> ModuleType:
    """Import a module given as ``dotted.name`` or ``path/to/file.py`` (bad input if that fails)."""
    if is_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise BadInput(f"cannot import {text}: no such file")
        root = import_root(path)
        add_to_path(root)
        return import_module(module_name(path, root), path.resolve(), shown=text)
    if str(Path.cwd()) not in sys.path and "" not in sys.path:
        add_to_path(Path.cwd())
    return import_module(text, shown=text, hint=DOTTED_HINT)


def _candidates(module: Any) -> list[str]:
    names = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        if isinstance(value, sa.MetaData) or (isinstance(value, type) and _metadata_of(value) is not None
                                              and registry_of(value) is not None
                                              and value.__dict__.get("__tablename__") is None
                                              and value.__dict__.get("__table__") is None):
            names.append(name)
    return names


def split_target(spec: str) -> tuple[str, str] | None:
    """``(module, attr)`` of a ``MODULE:ATTR`` target, or None for a module, file or directory."""
    module, sep, attr = (spec or "").strip().rpartition(":")
    if sep and module and attr and all(p.isidentifier() for p in attr.split(".")):
        return module, attr
    return None


def resolve_target(spec: str) -> Target:
    """Import ``MODULE:ATTR`` (ATTR may be dotted, e.g. ``Base.metadata``) and return what it names."""
    parts = split_target(spec)
    if parts is None:
        raise BadInput(f"{spec!r}: {USAGE}")
    module_text, attr = parts
    module = import_spec(module_text)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            found = _candidates(obj) if part == attr.split(".")[0] else []
            also = f" (MetaData / Base objects there: {', '.join(found)})" if found else ""
            raise BadInput(f"{module_text} has no attribute {attr!r}{also}")
        obj = getattr(obj, part)
    if _metadata_of(obj) is None:
        raise BadInput(f"{spec.strip()} is {_describe(obj)}, not a SQLAlchemy MetaData or declarative Base")
    return Target(spec=spec.strip(), obj=obj, module=module)


def load_target(spec: str) -> Any:
    """The object ``MODULE:ATTR`` names (a declarative Base or a MetaData)."""
    return resolve_target(spec).obj
