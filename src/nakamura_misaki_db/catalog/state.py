"""The one answer to "what state is this database in?", used by every command.

``classify`` is pure: it reads a ``Catalog`` (the live catalog, never
``alembic_version`` alone) and the list of this release's revisions, and
returns a ``DatabaseState`` that carries the words, the exit code and the way
forward. ``status`` prints it, ``plan``/``apply`` act on it, ``nakamura-init-db``
and Alembic's ``env.py`` refuse by it, all in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from nakamura_misaki_db.connect.connection import TARGET_SCHEMA
from nakamura_misaki_db.connect.errors import EXIT_OK, EXIT_REFUSED
from nakamura_misaki_db.diff import Difference, blocking, diff
from nakamura_misaki_db.schema.legacy_chain import LEGACY_ONLY_TABLES, LEGACY_REVISIONS, legacy_ids_in
from nakamura_misaki_db.schema.shapes import Catalog

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class DbKind(StrEnum):
    EMPTY = "empty"  # no table, no enum type of ours: `upgrade head` builds it
    NEW_CHAIN = "new_chain"  # alembic_version holds one revision of this chain, and the schema is what it built
    DRIFTED = "drifted"  # one revision of this chain recorded, but the schema is not what that revision built
    SEVERAL = "several_revisions"  # two or more revisions of this chain recorded
    UNVERSIONED = "unversioned"  # tables, no version row, nothing 0001 could not add: `upgrade head` adopts it
    LEGACY = "legacy"  # a legacy id, or tables without version row that differ from 0001
    MIXED = "mixed"  # revisions of this chain and legacy ids together
    NEWER = "newer_release"  # a four-digit id beyond this release's head
    UNKNOWN = "unknown_revision"  # an id that belongs to no chain we know


@dataclass
class DatabaseState:
    kind: DbKind
    alembic_version: list[str] | None  # None: no version table
    revision: str | None  # the new-chain revision recorded
    legacy_ids: list[str]
    unknown_ids: list[str]
    head: str
    chain: str | None  # for legacy ids: which legacy chain ("legacy chain", "application chain 2")
    drift: int  # differences from 0001 (objects we do not own are not counted)
    blocking: int  # of those, the ones revision 0001 cannot close by adding
    tables: list[str]
    timezone: str | None = None  # the database's TimeZone, when read from a live database
    last_bridge_run: dict[str, Any] | None = None  # the newest audit row of baseline-bridge, if any
    # DRIFTED, SEVERAL: how the schema differs from what the recorded revision built (one line each).
    differences: list[str] = field(default_factory=list)
    # SEVERAL: the newest recorded revision whose schema this database has (None: none of them).
    matches: str | None = None
    rls_hidden: list[str] = field(default_factory=list)  # tables whose rows RLS hides from this role
    other_version_tables: dict[str, list[str] | None] = field(default_factory=dict)  # schema.table -> rows
    # What an interrupted bridge run left (archived rows, an index it built), one line each: read by status.
    leftovers: list[str] = field(default_factory=list)

    # -- what it means ---------------------------------------------------------------------------

    @property
    def migratable(self) -> bool:
        """Can `alembic upgrade head` / `nakamura-init-db` go on?"""
        return self.kind in (DbKind.EMPTY, DbKind.NEW_CHAIN, DbKind.UNVERSIONED)

    @property
    def alembic_may_run(self) -> bool:
        """May env.py hand this database to the revisions?

        Without a version row, revision 0001 itself decides: its guard lists
        every difference (the same count ``status`` gives) and refuses.
        """
        return self.migratable or (self.kind == DbKind.LEGACY and not self.legacy_ids)

    @property
    def bridgeable(self) -> bool:
        """Is this a database `baseline-bridge plan/apply` takes on?

        A recorded revision whose schema is not there is not trusted: the bridge reconciles from the
        catalog as it does a legacy database. Several recorded revisions are only bridged when the
        schema matches none of them (otherwise deleting the stale rows is the whole fix).
        """
        return (self.kind in (DbKind.EMPTY, DbKind.UNVERSIONED, DbKind.LEGACY, DbKind.MIXED, DbKind.DRIFTED)
                or (self.kind == DbKind.SEVERAL and self.matches is None))

    @property
    def refusal_exit_code(self) -> int:
        """Exit code of a command that cannot act on this state (0: it can)."""
        return EXIT_OK if self.migratable else EXIT_REFUSED

    def version_text(self) -> str:
        if self.alembic_version is None:
            return "no alembic_version"
        if not self.alembic_version:
            return "alembic_version is empty"
        return "alembic_version = " + ", ".join(self.alembic_version)

    def _first_differences(self, shown: int = 3) -> str:
        more = len(self.differences) - shown
        return "; ".join(self.differences[:shown]) + (f"; and {more} more" if more > 0 else "")

    def describe(self) -> str:
        if self.kind == DbKind.DRIFTED:
            return (f"alembic_version records revision {self.revision} of this chain, but the schema is not what "
                    f"{self.revision} builds: {len(self.differences)} difference(s) ({self._first_differences()})")
        if self.kind == DbKind.SEVERAL:
            rows = ", ".join(self.alembic_version or ())
            which = (f"the schema is what revision {self.matches} builds" if self.matches else
                     f"the schema is what none of them builds ({self._first_differences()})")
            return f"alembic_version holds several revisions of this chain ({rows}), but a database is at one: {which}"
        if self.kind == DbKind.NEW_CHAIN:
            where = "at head" if self.revision == self.head else f"head is {self.head}"
            return f"on the new migration chain at revision {self.revision} ({where})"
        if self.kind == DbKind.EMPTY:
            return "empty (no application tables)"
        if self.kind == DbKind.UNVERSIONED:
            return (f"not versioned ({self.version_text()}); its tables are a part of revision 0001 "
                    f"({self.drift} object(s) missing, nothing that differs)")
        if self.kind in (DbKind.NEWER, DbKind.UNKNOWN):
            likely = ("probably migrated by a newer release" if self.kind == DbKind.NEWER
                      else "not an id of this chain nor of the legacy chains")
            return (f"at revision {', '.join(self.unknown_ids)}, which this release does not know "
                    f"(newest here: {self.head}): {likely}")
        if self.kind == DbKind.MIXED:
            return (f"mixed: {self.version_text()} holds revision {self.revision} of this chain and the stale "
                    f"legacy id {', '.join(self.legacy_ids)}")
        which = (f"legacy revision {self.legacy_ids[0]} of {self.chain}" if self.legacy_ids
                 else "no legacy revision recorded")
        return f"legacy ({which}; {self.version_text()})"

    def next_step(self) -> str:
        if self.kind == DbKind.SEVERAL and self.matches:
            return (f"keep only the row of {self.matches}: DELETE FROM public.alembic_version WHERE version_num <> "
                    f"'{self.matches}'; then `nakamura-init-db`")
        if self.kind in (DbKind.DRIFTED, DbKind.SEVERAL):
            rebuild = ""
            if self.differences and all(d.startswith("invalid index: ") for d in self.differences):
                names = [d.split(": ", 2)[1] for d in self.differences]
                rebuild = ("rebuild " + ", ".join(names) + " (" + "; ".join(
                    f"REINDEX INDEX CONCURRENTLY public.{n}" for n in names) + "), or ")
            return (f"{rebuild}run `baseline-bridge plan`, then `baseline-bridge apply`: the bridge reconciles the "
                    "schema from the catalog, whatever alembic_version says, and records 0001; then "
                    "`nakamura-init-db`")
        if self.kind == DbKind.NEW_CHAIN:
            if self.revision == self.head:
                return "nothing to do"
            return "run `nakamura-init-db` (or `alembic upgrade head`)"
        if self.kind in (DbKind.EMPTY, DbKind.UNVERSIONED):
            return "run `nakamura-init-db` (or `alembic upgrade head`): it builds what is missing"
        if self.kind == DbKind.NEWER:
            return "deploy the release that migrated it (its scripts are not in this one)"
        if self.kind == DbKind.UNKNOWN:
            return ("find the code that wrote that revision; neither `nakamura-init-db` nor the bridge will "
                    "touch this database")
        if self.kind == DbKind.MIXED:
            return ("run `baseline-bridge plan`, then `baseline-bridge apply`: it verifies the schema and "
                    "removes the stale legacy row")
        if self.drift == 0:
            return "the schema already equals 0001: `baseline-bridge apply` only records the revision"
        lost = ("if it was migrated by this chain and only lost its version row, `nakamura-db recover-version`; "
                "otherwise " if not self.alembic_version else "")
        return f"{lost}run `baseline-bridge plan` to see the reconciliation, then `baseline-bridge apply`"

    def refusal(self) -> str:
        """The one message every command gives when it cannot act on this state (nothing was changed)."""
        if self.kind == DbKind.LEGACY and self.legacy_ids:
            what = (f"alembic_version holds '{self.legacy_ids[0]}', a revision of {self.chain}; "
                    "the schema must be reconciled before it can be migrated")
        elif self.kind == DbKind.LEGACY:
            what = (f"the database differs from revision 0001 in {self.drift} way(s) ({self.blocking} of them "
                    f"only baseline-bridge can close) and has {self.version_text()}: nothing records that this "
                    "migration chain built it")
        elif self.kind == DbKind.MIXED:
            what = (f"alembic_version holds revision {self.revision} of this chain and the stale legacy id "
                    f"{', '.join(self.legacy_ids)}")
        elif self.kind in (DbKind.DRIFTED, DbKind.SEVERAL):
            what = self.describe()
        else:
            what = f"the database is {self.describe()}"
        return f"{what}. Nothing was changed. Next: {self.next_step()}."

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["describe"] = self.describe()
        data["next"] = self.next_step()
        return data


def other_version_note(name: str, rows: list[str] | None) -> str:
    held = ("holds " + (", ".join(rows) or "no row")) if rows is not None else "cannot be read by this role"
    return (f"another version table, {name}, {held}: this tool reads and writes only public.alembic_version; a "
            f"session whose search_path puts {name.split('.')[0]} before public (the application's, perhaps) reads "
            f"that one. Once the switch is done, rename or drop it (ALTER TABLE {name} RENAME TO "
            "alembic_version_retired)")


def compare_with_0001(catalog: Catalog, target: Catalog) -> tuple[list[Difference], list[str]]:
    """Every difference from 0001 (foreign objects included), and the later revisions' objects kept as they are.

    The one comparison status, the 0001 guard, plan and verify all make: an object a later revision
    of this chain creates is not drift when it is exactly as that revision defines it.
    """
    from nakamura_misaki_db.diff.later import accept_later
    from nakamura_misaki_db.schema.target import later_objects

    return accept_later(diff(catalog, target), catalog, later_objects())


def differences_from_0001(catalog: Catalog, target: Catalog) -> list[Difference]:
    """What status counts and the 0001 guard lists: every difference but objects we do not own."""
    return [d for d in compare_with_0001(catalog, target)[0] if not d.foreign]


# Objects beside what a revision built (an index a DBA added, a table an old chain left, a later revision's
# object unlike its definition): not a sign that the recorded revision is false. The bridge still closes
# them against 0001, and a later revision whose object collides with one refuses it by name.
_NOT_BUILT = frozenset({"extra_column", "extra_unique", "extra_foreign_key", "extra_check", "extra_index",
                        "legacy_table", "later_object_differs"})


# What no later revision can legitimately have caused (lint refuses dropping a table or a type): with
# revisions the frozen definitions do not describe in the chain, only these are counted.
_ALWAYS_WRONG = frozenset({"missing_table", "missing_enum", "missing_extension", "invalid_index"})


def differences_from_revision(catalog: Catalog, revision: str, *, exact: bool = True) -> list[Difference]:
    """How ``catalog`` differs from what 0001 .. ``revision`` of this chain build (objects we do not own aside).

    What a later revision creates may already be there (exactly as it defines it), what a later
    revision drops may already be gone, and objects beside the definition (``_NOT_BUILT``) are not
    what the revision built: none of these is a difference at ``revision``. What it must have built
    and is missing, different or INVALID is. ``exact=False`` (the chain holds revisions the frozen
    definitions do not describe, which may have changed what earlier ones built): only ``_ALWAYS_WRONG``.
    """
    from nakamura_misaki_db.diff import DiffKind
    from nakamura_misaki_db.diff.later import accept_later
    from nakamura_misaki_db.schema.revision_catalog import dropped_later, later_than, revision_catalog

    found, _ = accept_later(diff(catalog, revision_catalog(revision)), catalog, later_than(revision))
    gone = dropped_later(revision)
    return [d for d in found if not d.foreign and d.kind not in _NOT_BUILT
            and not (d.kind == DiffKind.MISSING_INDEX and (d.table, d.object) in gone)
            and (exact or d.kind in _ALWAYS_WRONG)]


def _legacy_chain(ids: Sequence[str], catalog: Catalog) -> str:
    from nakamura_misaki_db.schema.legacy_chain import APP_CHAIN_REVISIONS

    if any(i in LEGACY_REVISIONS and i != "001" for i in ids):
        return "the retired legacy chain"
    if any(i in APP_CHAIN_REVISIONS and i != "001" for i in ids):
        return "the application's second chain (002-006)"
    # "001" belongs to both chains: only tables that one of them alone created can tell.
    if any(t in catalog.tables for t in LEGACY_ONLY_TABLES) or (
            "handoffs" in catalog.tables and catalog.tables["handoffs"].column("id") is not None):
        return "the retired legacy chain"
    if any(t in catalog.tables for t in ("projects", "project_tasks", "task_dependencies", "notifications")):
        return "the application's second chain"
    return "one of the two retired chains (both begin with 001; the catalog decides the plan either way)"


def classify(catalog: Catalog, target: Catalog, chain: Sequence[str], *,
             at_revision: Callable[[Catalog, str], list[Difference]] | None = None) -> DatabaseState:
    """Classify a database by its catalog. ``chain``: this release's revisions, oldest first.

    ``at_revision(catalog, R)``: how the catalog differs from what revision R built (default:
    ``differences_from_revision``, the frozen definitions; tests of a hand-made world pass their own).
    """
    if at_revision is None:
        from nakamura_misaki_db.schema.revision_catalog import FROZEN_THROUGH

        exact = all(r <= FROZEN_THROUGH for r in chain if r.isdigit())

        def at_revision(c: Catalog, r: str) -> list[Difference]:
            return differences_from_revision(c, r, exact=exact)
    version = catalog.alembic_version
    rows = tuple(version or ())
    legacy = list(dict.fromkeys(legacy_ids_in(version)))
    ours = [v for v in rows if v in chain]
    unknown = [v for v in rows if v not in chain and v not in legacy]
    differences = differences_from_0001(catalog, target)
    head = chain[-1] if chain else ""
    # Objects a later revision of this chain created count as ours, not as drift.
    diffs = len(differences)
    blocks = len(blocking(differences))
    has_schema = bool(catalog.tables) or any(e in target.enums for e in catalog.enums)
    at: list[Difference] = []
    matches: str | None = None

    if unknown:
        numbered = all(u.isdigit() and len(u) == 4 for u in unknown)
        kind = DbKind.NEWER if numbered and head and max(unknown) > head else DbKind.UNKNOWN
    elif ours and legacy:
        kind = DbKind.MIXED
    elif len(ours) > 1:
        kind = DbKind.SEVERAL
        found = {r: at_revision(catalog, r) for r in ours}
        matches = max((r for r, d in found.items() if not d), default=None)
        at = [] if matches else found[max(ours)]
    elif ours:
        # Whatever alembic_version says, the schema must be what that revision built.
        at = at_revision(catalog, ours[0])
        kind = DbKind.DRIFTED if at else DbKind.NEW_CHAIN
    elif legacy:
        kind = DbKind.LEGACY
    elif not has_schema:
        kind = DbKind.EMPTY
    elif blocks == 0:
        kind = DbKind.UNVERSIONED
    else:
        kind = DbKind.LEGACY
    return DatabaseState(
        kind=kind,
        alembic_version=list(version) if version is not None else None,
        revision=max(ours) if ours else None,
        legacy_ids=legacy,
        unknown_ids=unknown,
        head=head,
        chain=_legacy_chain(legacy, catalog) if legacy else None,
        drift=0 if kind == DbKind.NEW_CHAIN else diffs,
        blocking=0 if kind == DbKind.NEW_CHAIN else blocks,
        tables=sorted(catalog.tables),
        differences=[d.describe() for d in at],
        matches=matches,
        rls_hidden=list(catalog.rls_hidden),
        other_version_tables={k: list(v) if v is not None else None for k, v in catalog.other_version_tables.items()},
    )


def read_state(conn: Connection, *, chain: Sequence[str] | None = None, catalog: Catalog | None = None
               ) -> DatabaseState:
    """The one entry every command and ``env.py`` use: this database's state, from its live catalog.

    ``chain``: the revisions to classify against (default: this release's scripts; ``env.py``
    passes the ones Alembic loaded); ``catalog``: an inspection the caller already made.
    """
    from nakamura_misaki_db.catalog.inspect import inspect_database
    from nakamura_misaki_db.schema.revisions import chain_revisions
    from nakamura_misaki_db.schema.target import target_catalog

    actual = catalog if catalog is not None else inspect_database(conn, TARGET_SCHEMA)
    return classify(actual, target_catalog(), list(chain) if chain is not None else chain_revisions())
