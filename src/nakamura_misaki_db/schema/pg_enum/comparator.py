"""Autogenerate: find enum types that were dropped from the models (alembic-utils may not look)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic_utils.replaceable_entity import include_entity, registry
from alembic_utils.reversible_op import DropOp

from nakamura_misaki_db.schema.pg_enum.entity import EnumDropOp, PGEnum

logger = logging.getLogger("nakamura_misaki_db.schema.pg_enum")


def _observed_schemas(autogen_context: AutogenContext, schemas: Iterable[str | None]) -> set[str]:
    """The schemas alembic-utils' own comparator looks at for drops."""
    include_schemas = bool(autogen_context.opts.get("include_schemas", False))
    reflected: set[str | None] = set(
        autogen_context.inspector.get_schema_names() if include_schemas else []
    )
    entity_schemas = {e.schema for e in registry.entities()}
    candidates = reflected | set(schemas) | set(registry.schemas) | entity_schemas
    # alembic-utils means to honour the deprecated exclude_schemas but, through
    # a chained comparison, never does; we do.
    return {
        s
        for s in candidates
        if s is not None and s != "information_schema" and s not in registry.exclude_schemas
    }


def enum_drop_comparator(
    autogen_context: AutogenContext, upgrade_ops: Any, schemas: Iterable[str | None]
) -> None:
    """Emit ``DropOp`` for enum types in the database that are not registered.

    alembic-utils' comparator looks for dropped entities only among the classes
    ``collect_subclasses(alembic_utils, ReplaceableEntity)`` returns. In 0.8.8
    that includes every imported direct subclass, so it already covers PGEnum;
    this comparator does not rely on that (older or newer releases may only
    list their own classes) and skips enums that already have a DropOp.
    """
    if PGEnum not in registry.allowed_entity_types:
        return
    dialect = autogen_context.dialect
    if dialect is None or dialect.name != "postgresql":
        return
    connection = autogen_context.connection
    if connection is None:
        return
    local = {e.identity for e in registry.entities() if isinstance(e, PGEnum)}
    # alembic-utils 0.8.8 finds PGEnum itself when it is imported (collect_subclasses
    # adds ReplaceableEntity.__subclasses__()), and its comparator always runs before
    # this one (this module imports it first): never emit a second DropOp.
    local |= {
        op.target.identity
        for op in upgrade_ops.ops
        if isinstance(op, DropOp) and isinstance(op.target, PGEnum)
    }
    found: dict[str, PGEnum] = {}
    for schema in sorted(_observed_schemas(autogen_context, schemas)):
        for db_enum in PGEnum.from_database(connection, schema=schema):
            # from_database matches with LIKE, so "a_b" also lists "axb".
            if db_enum.schema == schema:
                found[db_enum.identity] = db_enum
    for identity, db_enum in sorted(found.items()):
        if identity in local:
            continue
        if not include_entity(db_enum, autogen_context, reflected=True):
            logger.debug("Ignoring database enum %s due to AutogenContext filters", identity)
            continue
        upgrade_ops.ops.append(EnumDropOp(db_enum))
        logger.info("Detected DropOp op for %s", identity)


def _is_registered(dispatcher: Any) -> bool:
    for fns in getattr(dispatcher, "_registry", {}).values():
        for fn in fns if isinstance(fns, list) else [fns]:
            target = fn[0] if isinstance(fn, tuple) else fn
            if target is enum_drop_comparator:
                return True
    return False


def register_enum_drop_detection() -> None:
    """Hook ``enum_drop_comparator`` into alembic's "schema" comparators, once.

    Called at import time; calling it again does nothing (the dispatcher
    keeps a list, so a second registration would emit every DropOp twice).
    alembic's dispatcher runs every "schema" comparator, so this runs next
    to alembic-utils' own.
    """
    if not _is_registered(comparators):
        comparators.dispatch_for("schema")(enum_drop_comparator)


register_enum_drop_detection()
