"""Frozen definitions of the revisions after ``0002``, one module per revision.

FROZEN, like ``baseline_0001``: each module is what its revision creates, written
from ``app-chain.md`` section 2 (what the application's second chain, revisions
``002``-``006``, creates in production). None of them may import the live models
(``nakamura_misaki_db.models``) or each other, and none may change once deployed:
a later change is a new revision with a new module.

Every name is explicit (no naming convention: production's names are compared
name for name). Server defaults and CHECK texts are spelled exactly as
PostgreSQL prints them back (``pg_get_expr`` / the inside of
``pg_get_constraintdef``), so a catalog read from a database compares equal to
``catalog.catalog_from_definition`` of the module's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class RevisionSchema:
    """What one revision adds to the schema, as a frozen SQLAlchemy definition.

    ``metadata`` holds three kinds of tables:

    - ``creates``: tables the revision creates whole (listed in foreign-key order);
    - ``extends``: existing tables it adds columns, CHECK constraints or indexes
      to; the table in ``metadata`` is a partial "stub" holding only the additions;
    - everything else is a stub of a foreign-key target (e.g. ``tasks.id``): the
      revision needs it to exist with that shape but changes nothing in it.
    """

    revision: str
    metadata: sa.MetaData
    creates: tuple[str, ...]
    extends: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A mistake here would make the runner create or touch the wrong tables:
        # fail at import time rather than during a deploy.
        names = set(self.metadata.tables)
        unknown = (set(self.creates) | set(self.extends)) - names
        if unknown:
            raise ValueError(f"revision {self.revision}: {sorted(unknown)} not in its metadata")
        if set(self.creates) & set(self.extends):
            raise ValueError(f"revision {self.revision}: a table cannot be both created and extended")
        for i, name in enumerate(self.creates):
            table = self.metadata.tables[name]
            for fk in table.foreign_key_constraints:
                target = fk.referred_table.name
                if target in self.creates and self.creates.index(target) > i and target != name:
                    raise ValueError(f"revision {self.revision}: {name} is listed before {target}, "
                                     "which it references")
        for name in self.extends:
            table = self.metadata.tables[name]
            if table.foreign_key_constraints or any(
                isinstance(c, sa.UniqueConstraint) for c in table.constraints
            ) or table.primary_key.columns:
                raise ValueError(f"revision {self.revision}: the stub of {name} may only add columns, "
                                 "CHECK constraints and indexes")

    @property
    def references(self) -> tuple[str, ...]:
        """Stub tables that are only foreign-key targets (neither created nor extended)."""
        return tuple(n for n in self.metadata.tables if n not in self.creates and n not in self.extends)

    def table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]


# Imported after RevisionSchema exists: each module builds its SCHEMA with it.
from . import (  # noqa: E402
    r0003_project_management,
    r0004_task_dependencies,
    r0005_team_analytics,
    r0006_notifications,
    r0007_extend_tasks,
)

LATER_REVISIONS: tuple[RevisionSchema, ...] = (
    r0003_project_management.SCHEMA,
    r0004_task_dependencies.SCHEMA,
    r0005_team_analytics.SCHEMA,
    r0006_notifications.SCHEMA,
    r0007_extend_tasks.SCHEMA,
)

__all__ = ["LATER_REVISIONS", "RevisionSchema"]
