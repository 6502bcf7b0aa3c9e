"""What a run needs from the server and the role (``Needs``), and a problem found in checking it (``Problem``).

A run describes what it is about to do in these terms (``bridge.needs`` from a plan's steps,
``deploy.needs`` from the revisions an upgrade runs); ``catalog.preflight`` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Needs:
    """What a run will do, in the terms privileges, policies, triggers and locks are checked in.

    Tables and types are ``schema.name``. Built by the run from its own steps or revisions.
    """

    create_schemas: set[str] = field(default_factory=set)  # CREATE SCHEMA [IF NOT EXISTS]: CREATE on the database
    create_in: set[str] = field(default_factory=set)  # schemas it creates tables, types, indexes in
    own_tables: set[str] = field(default_factory=set)  # tables it alters, indexes, drops indexes of
    own_types: set[str] = field(default_factory=set)  # enum types it alters
    own_database: bool = False  # ALTER DATABASE ... SET
    privileges: dict[str, set[str]] = field(default_factory=dict)  # table -> SELECT, INSERT, DELETE, ...
    references: set[str] = field(default_factory=set)  # tables its new foreign keys point at
    extensions: set[str] = field(default_factory=set)  # extensions it creates
    reads: set[str] = field(default_factory=set)  # tables whose rows it reads (row level security)
    commands: set[str] = field(default_factory=set)  # command tags it runs ("ALTER TABLE", ...)
    locks: dict[str, str] = field(default_factory=dict)  # table -> the strongest lock it takes there
    snapshots: bool = False  # builds an index CONCURRENTLY: waits for every older snapshot

    def grant(self, table: str, *privileges: str) -> None:
        self.privileges.setdefault(table, set()).update(privileges)

    def lock(self, table: str, mode: str) -> None:
        from nakamura_misaki_db.catalog.sessions import stronger

        self.locks[table] = stronger(self.locks.get(table), mode)

    def merge(self, other: Needs) -> None:
        for name in ("create_schemas", "create_in", "own_tables", "own_types", "references", "extensions",
                     "reads", "commands"):
            getattr(self, name).update(getattr(other, name))
        self.own_database = self.own_database or other.own_database
        self.snapshots = self.snapshots or other.snapshots
        for table, privileges in other.privileges.items():
            self.grant(table, *privileges)
        for table, mode in other.locks.items():
            self.lock(table, mode)

    @property
    def tables(self) -> set[str]:
        """Every table the run touches in any way."""
        return self.own_tables | set(self.privileges) | self.references | self.reads | set(self.locks)


@dataclass(frozen=True)
class Problem:
    object: str
    problem: str
    fix: str

    def render(self) -> str:
        return f"  - {self.object}: {self.problem}\n    fix: {self.fix}"
