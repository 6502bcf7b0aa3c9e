"""``PGEnum``: PostgreSQL enum types as alembic-utils entities.

The package, one job per module: ``entity`` (the ReplaceableEntity),
``parser`` (the enum SQL it is written in), ``statements`` + ``sql/*.sql``
(its PL/pgSQL, kept as SQL files), ``comparator`` (autogenerate drop detection),
``offline`` (``--sql`` rendering), ``labels`` (where a missing label goes in place:
the offline script and the bridge's planner share it).

A ``PGEnum`` is identified by ``schema`` + ``signature`` (the type name, as in
the catalog) and defined by its ordered labels. Its canonical definition text is
``ENUM ('a', 'b')``; that is what ``from_database`` produces and what
autogenerate renders into migrations.

Every statement it emits is idempotent and self-contained (a ``DO`` block that
looks at the catalog when it runs), so a rendered migration needs no database
access and can be rerun safely:

- ``op.create_entity(e)`` creates the type only if it is missing, and never
  touches an existing one.
- ``op.replace_entity(e)`` brings an existing type to ``e.labels``: it applies
  ``e.renames`` (``RENAME VALUE``), adds missing labels in place (``ADD
  VALUE ... BEFORE/AFTER``, no table rewrite), and only when labels are removed
  or reordered rebuilds the type and the table columns that use it. A rebuild
  is refused, with a message naming the table columns and labels involved, when
  rows would lose their value (or, for a reorder, when any row uses the type),
  or when something other than a plain table column without a default uses it.
- ``op.drop_entity(e)`` is ``DROP TYPE IF EXISTS``.

Offline (``alembic upgrade --sql``) the same operations are written as static
SQL where the outcome does not depend on data (``CREATE TYPE``, ``ALTER TYPE ...
RENAME VALUE`` / ``ADD VALUE``), and a comment says which part needs a live
database (a removal or reorder, or labels the script cannot know): see
``pg_enum.offline``.

Autogenerate: alembic-utils only compares entity classes that are in
``registry.allowed_entity_types``. Without ``entity_types`` that is whatever
``collect_subclasses(alembic_utils, ReplaceableEntity)`` returns, which depends
on the alembic-utils release and on what happens to be imported (0.8.8 adds
every imported direct subclass, so PGEnum is in once this module is imported;
the intent, and other releases, is the package's own classes). Do not rely on
it: name the entity classes in ``env.py``::

    from alembic_utils.pg_extension import PGExtension
    from alembic_utils.replaceable_entity import register_entities
    from nakamura_misaki_db.schema.pg_enum import PGEnum

    register_entities([...], entity_types=[PGEnum, PGExtension])

(``entity_types`` replaces the default list, so name every entity class you
use.) For the same reason alembic-utils may not look for dropped PGEnums;
importing this module registers ``enum_drop_comparator``, which emits a
``DropOp`` for every enum type in the observed schemas that is not registered
and has no DropOp yet.

Autogenerate still runs alembic-utils' ``solve_resolution_order``, which
simulates every registered entity (``DROP TYPE ... CASCADE`` + create inside a
savepoint that is rolled back). For an enum used by tables that briefly takes
ACCESS EXCLUSIVE locks on those tables: run autogenerate against a development
database, not production.
"""

from __future__ import annotations

from nakamura_misaki_db.schema.pg_enum.comparator import enum_drop_comparator, register_enum_drop_detection
from nakamura_misaki_db.schema.pg_enum.entity import EnumCreateOp, EnumDropOp, EnumReplaceOp, PGEnum
from nakamura_misaki_db.schema.pg_enum.offline import register_offline_rendering

__all__ = [
    "EnumCreateOp",
    "EnumDropOp",
    "EnumReplaceOp",
    "PGEnum",
    "enum_drop_comparator",
    "register_enum_drop_detection",
    "register_offline_rendering",
]

register_enum_drop_detection()
register_offline_rendering()
