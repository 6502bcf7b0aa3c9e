"""Status: what this database is, read from the catalog (never from alembic_version alone)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.engine import Connection

from ..baseline import target_catalog
from ..catalog import inspect_database
from ..drift import FOREIGN_KINDS, diff
from ..legacy_chain import legacy_ids_in
from ..migrations import head_revision, known_revisions


@dataclass
class DatabaseStatus:
    kind: str  # "empty" | "new_chain" | "legacy" | "unknown_revision"
    alembic_version: list[str] | None
    legacy_ids: list[str]
    revision: str | None  # new-chain revision, if any
    head: str
    drift: int  # differences from 0001 (for legacy and empty databases)
    tables: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        if self.kind == "new_chain":
            where = "at head" if self.revision == self.head else f"head is {self.head}"
            return f"on the new migration chain at revision {self.revision} ({where})"
        if self.kind == "empty":
            return "empty (no application tables): `alembic upgrade head` builds it"
        if self.kind == "unknown_revision":
            return (f"alembic_version = {', '.join(self.alembic_version or [])}: a revision this release "
                    f"does not know (newest here: {self.head}); probably migrated by a newer release")
        version = (f"alembic_version = {', '.join(self.alembic_version)}" if self.alembic_version
                   else "no alembic_version" if self.alembic_version is None else "alembic_version is empty")
        which = f"legacy revision {self.legacy_ids[0]}" if self.legacy_ids else "no legacy revision recorded"
        return f"legacy ({which}; {version})"

    def next_step(self) -> str:
        if self.kind == "new_chain":
            return "nothing for the bridge; deploys run `nakamura-init-db` (alembic upgrade head)"
        if self.kind == "empty":
            return "run `nakamura-init-db` or `alembic upgrade head`"
        if self.kind == "unknown_revision":
            return "use the release that wrote that revision; the bridge will not touch this database"
        if self.drift == 0:
            return "schema already equals 0001: `baseline-bridge apply` only records the revision"
        return "run `baseline-bridge plan` to see the reconciliation"


def database_status(conn: Connection) -> DatabaseStatus:
    catalog = inspect_database(conn)
    chain = known_revisions()
    version = catalog.alembic_version
    on_chain = [v for v in (version or ()) if v in chain]
    legacy = legacy_ids_in(version)
    differences = [d for d in diff(catalog, target_catalog()) if d.kind not in FOREIGN_KINDS]
    unknown = [v for v in (version or ()) if v not in chain and v not in legacy]
    if on_chain and not legacy:
        kind = "new_chain"
    elif unknown:
        kind = "unknown_revision"
    elif not catalog.tables and not catalog.enums and not legacy:
        kind = "empty"
    else:
        kind = "legacy"
    return DatabaseStatus(
        kind=kind,
        alembic_version=list(version) if version is not None else None,
        legacy_ids=legacy,
        revision=on_chain[0] if on_chain else None,
        head=head_revision(),
        drift=0 if kind == "new_chain" else len(differences),
        tables=sorted(catalog.tables),
    )
