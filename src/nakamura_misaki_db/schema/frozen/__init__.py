"""Frozen definitions of the revisions after ``0002``, one module per revision.

FROZEN, like ``r0001_baseline``: each module is what its revision creates, written
from ``app-chain.md`` section 2 (what the application's second chain, revisions
``002``-``006``, creates in production). None of them may import the live models
(``nakamura_misaki_db.schema.models``) or each other, and none may change once deployed:
a later change is a new revision with a new module.

Every name is explicit (no naming convention: production's names are compared
name for name). Server defaults and CHECK texts are spelled exactly as
PostgreSQL prints them back (``pg_get_expr`` / the inside of
``pg_get_constraintdef``), so a catalog read from a database compares equal to
``schema.from_definition.catalog_from_definition`` of the module's metadata.
"""

from __future__ import annotations

from nakamura_misaki_db.schema.frozen import (
    r0003_project_management,
    r0004_task_dependencies,
    r0005_team_analytics,
    r0006_notifications,
    r0007_extend_tasks,
)
from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

LATER_REVISIONS: tuple[RevisionSchema, ...] = (
    r0003_project_management.SCHEMA,
    r0004_task_dependencies.SCHEMA,
    r0005_team_analytics.SCHEMA,
    r0006_notifications.SCHEMA,
    r0007_extend_tasks.SCHEMA,
)



def frozen_schema(revision: str) -> RevisionSchema:
    """The frozen definition of ``revision`` (one of ``LATER_REVISIONS``)."""
    for schema in LATER_REVISIONS:
        if schema.revision == revision:
            return schema
    known = ", ".join(s.revision for s in LATER_REVISIONS)
    raise LookupError(f"no frozen definition for revision {revision!r} (known: {known}); "
                      "add its module to nakamura_misaki_db/schema/frozen/ and to LATER_REVISIONS")


__all__ = ["LATER_REVISIONS", "RevisionSchema", "frozen_schema"]
