"""``RevisionSchema``: what one revision adds, as a frozen SQLAlchemy definition."""

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
