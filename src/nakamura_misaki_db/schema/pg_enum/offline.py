"""PGEnum in ``--sql`` (offline) mode: static SQL where the outcome does not depend on data.

Online, every PGEnum statement is a ``DO`` block that reads the catalog when it
runs. Offline there is no catalog, but the script knows what it has done: revision
0001 creates the enum types with their frozen labels (``remember``), and every
PGEnum operation rendered later in the same run starts from the labels the
previous one left. ``nakamura-init-db --sql`` seeds the labels it read from the
database (``KNOWN_LABELS`` in ``config.attributes``). From known labels:

- ``create_entity`` is ``CREATE TYPE ... AS ENUM (...)`` (nothing when the type
  is already there, as online);
- ``replace_entity`` is ``ALTER TYPE ... RENAME VALUE`` per rename and
  ``ALTER TYPE ... ADD VALUE ... BEFORE/AFTER`` per added label: catalog only,
  the same whatever the rows hold;
- ``drop_entity`` is ``DROP TYPE IF EXISTS`` (as online).

What needs a live database is said in a comment above PGEnum's own ``DO`` block,
which then decides when the script runs: removing or reordering labels (the type
and every column using it are rebuilt, refused while rows use a removed label,
which only the rows can tell), and a change to a type whose labels the script
does not know (a range such as ``0003:head --sql`` that starts after the
revision that last set them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from alembic.operations import Operations
from alembic_utils import reversible_op
from alembic_utils.reversible_op import CreateOp, DropOp, ReplaceOp, RevertOp

from nakamura_misaki_db.schema.pg_enum.entity import PGEnum, _sql_text
from nakamura_misaki_db.schema.pg_enum.labels import additions
from nakamura_misaki_db.schema.quoting import ident, literal

# config.attributes key: {(schema, name): labels} the database holds before the run
# (nakamura-init-db --sql reads them); the run's own record lives in the context's opts.
KNOWN_LABELS = "nakamura_misaki_db.schema.pg_enum.known_labels"

Labels = tuple[str, ...] | None  # None: the type is known to be absent


def _known(context: Any) -> dict[tuple[str, str], Labels]:
    store = context.opts.get(KNOWN_LABELS)
    if store is None:
        config = context.config  # None outside an EnvironmentContext (a bare MigrationContext)
        seeded = {} if config is None else config.attributes.get(KNOWN_LABELS) or {}
        store = context.opts[KNOWN_LABELS] = {key: (None if v is None else tuple(v)) for key, v in seeded.items()}
    return store


def remember(context: Any, schema: str, name: str, labels: Sequence[str] | None) -> None:
    """Record what the script has made of a type (``None``: dropped)."""
    _known(context)[(schema, name)] = None if labels is None else tuple(labels)


def _shown(labels: Sequence[str]) -> str:
    return "(" + ", ".join(literal(label) for label in labels) + ")"


def create_type_sql(schema: str, name: str, labels: Sequence[str]) -> str:
    return f"CREATE TYPE {ident(schema, name)} AS ENUM ({', '.join(literal(label) for label in labels)})"


def _static_replace(schema: str, name: str, current: Sequence[str], target: Sequence[str],
                    renames: dict[str, str]) -> list[str] | None:
    """The in-place statements from ``current`` to ``target`` (as replace.sql does them), or None for a rebuild."""
    qualified = ident(schema, name)
    out: list[str] = []
    labels = list(current)
    for old, new in renames.items():  # skipped when done already, or when the new label exists too
        if old in labels and new not in labels:
            out.append(f"ALTER TYPE {qualified} RENAME VALUE {literal(old)} TO {literal(new)}")
            labels[labels.index(old)] = new
    kept = [label for label in labels if label in target]
    if len(kept) != len(labels) or kept != [label for label in target if label in labels]:
        return None  # a label removed, or the order changed
    for add in additions(labels, target):
        where = (f" BEFORE {literal(add.before)}" if add.before is not None
                 else f" AFTER {literal(add.after)}" if add.after is not None else "")
        out.append(f"ALTER TYPE {qualified} ADD VALUE {literal(add.label)}{where}")
    return out


def render(operations: Any, operation: Any) -> None:
    """Write ``operation`` (a PGEnum create/replace/drop) as SQL into the offline script."""
    context = operations.get_context()
    comment = context.impl.static_output
    enum: PGEnum = operation.target
    key = (enum.schema, enum.signature)
    known = _known(context)
    current = known.get(key, ...)
    name = f"enum {enum.schema}.{enum.signature}"
    if isinstance(operation, DropOp):
        operations.execute(enum.to_sql_statement_drop(cascade=operation.cascade))
        known[key] = None
        return
    target = enum.labels
    if isinstance(operation, CreateOp) or current is None:
        if current not in (..., None):
            comment(f"-- {name} exists already with labels {_shown(current)}: created only if missing, "
                    "nothing to do.")
            return
        operations.execute(_sql_text(create_type_sql(enum.schema, enum.signature, target)))
        known[key] = target
        return
    if current is ...:
        comment(f"-- {name} -> {_shown(target)}:\n"
                "-- NEEDS A LIVE DATABASE: this script does not know the type's labels before this revision (it\n"
                "-- starts after the revision that last set them). The block below reads the catalog when the\n"
                "-- script runs: renames and new labels in place; a removed or reordered label rebuilds the type,\n"
                "-- refused while rows use a removed label. `nakamura-init-db --sql` writes static statements for\n"
                "-- a given database.")
    else:
        steps = _static_replace(enum.schema, enum.signature, current, target, enum.renames)
        if steps is not None:
            if not steps:
                comment(f"-- {name} has the labels {_shown(target)} already: nothing to do.")
            else:
                comment(f"-- {name}: {_shown(current)}\n--   -> {_shown(target)}\n"
                        "-- in place: catalog only, no table is rewritten, whatever the rows hold.")
            for statement in steps:
                operations.execute(_sql_text(statement))
            known[key] = target
            return
        comment(f"-- {name}: {_shown(current)}\n--   -> {_shown(target)}\n"
                "-- NEEDS A LIVE DATABASE: a removed or reordered label rebuilds the type and every column using\n"
                "-- it, refused while rows use a removed label; only the rows can tell. The block below decides\n"
                "-- when the script runs (or run this revision online: alembic upgrade).")
    for statement in enum.to_sql_statement_create_or_replace():
        operations.execute(statement)
    known[key] = target


def _offline_aware(online: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def implementation(operations: Any, operation: Any) -> None:
        if isinstance(operation.target, PGEnum) and operations.get_context().as_sql:
            render(operations, operation)
        else:
            online(operations, operation)

    implementation.__doc__ = f"PGEnum offline: static SQL (pg_enum.offline); otherwise {online.__name__}."
    implementation.offline_aware = True  # type: ignore[attr-defined]
    return implementation


def register_offline_rendering() -> None:
    """Route alembic-utils' create/replace/drop operations on a PGEnum through ``render`` under ``--sql``, once."""
    for op_class, online in ((CreateOp, reversible_op.create_entity), (DropOp, reversible_op.drop_entity),
                             (ReplaceOp, reversible_op.replace_or_revert_entity),
                             (RevertOp, reversible_op.replace_or_revert_entity)):
        current = Operations._to_impl._registry.get((op_class, "default"))
        if getattr(current, "offline_aware", False):
            continue
        try:  # alembic >= 1.17.2 asks for replace=True to register over an existing implementation
            decorate = Operations.implementation_for(op_class, replace=True)
        except TypeError:
            # Earlier releases (1.13 ... 1.17.1) assert that none is registered yet: take alembic-utils'
            # out first, or importing this module fails with a bare AssertionError.
            Operations._to_impl._registry.pop((op_class, "default"), None)
            decorate = Operations.implementation_for(op_class)
        decorate(_offline_aware(online))
