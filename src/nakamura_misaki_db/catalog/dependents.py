"""Inspect the open world: every object that depends on what the bridge touches.

A database run by people for a year has views, triggers, policies, rules,
functions and foreign keys from tables we never saw. Before anything is
planned for good, this module reads (from the catalog only) every object that
depends on:

- a column whose type changes (views, trigger WHEN clauses, policies, rules,
  generated columns, foreign keys that reference it);
- an enum label that is renamed (any text that spells the old label:
  view definitions, function bodies, trigger WHEN clauses, policies, checks,
  defaults) or a type that is rebuilt;
- a table that loses rows (foreign keys into it from any schema with their
  ON DELETE action and how many of their rows are affected, DELETE triggers
  and rules, row level security);
- a table that moves to the archive (foreign keys into it, functions that
  name it, views that follow it);
- a constraint or index that is dropped (foreign keys that need it).

The results are plain data (``Dependents``); ``bridge/planners/dependents.py``
decides, without the database, what keeps working and what is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nakamura_misaki_db.catalog.dependents_sql import (
    COLUMN_USES_SQL,
    DIRECT_VIEW_COLUMNS_SQL,
    REFERENCING_SQL,
    RLS_SQL,
    RULES_SQL,
    SOURCES_SQL,
    TRIGGERS_SQL,
    TYPE_USES_SQL,
    VIEWS_SQL,
)
from nakamura_misaki_db.catalog.mentions import Mention, find_label_mentions, find_table_mentions
from nakamura_misaki_db.schema.quoting import ident

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ON_DELETE = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
# Schemas that are not the application's (and ours, which the application does not use).
_SKIPPED_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast", "legacy_archive")


@dataclass(frozen=True)
class ViewDef:
    oid: int
    schema: str
    name: str
    materialized: bool
    definition: str  # pg_get_viewdef
    options: tuple[str, ...]  # reloptions: security_barrier=true, check_option=local, ...
    owner: str
    grants: tuple[tuple[str, str, bool], ...]  # (grantee, privilege, grantable)
    comment: str | None
    depends_on_views: tuple[int, ...]  # views this one reads (recreate them first)
    extra_rules: bool  # rules besides _RETURN
    triggers: bool  # INSTEAD OF triggers

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ColumnUse:
    """A non-view object that uses a column: PostgreSQL refuses ALTER ... TYPE while it exists."""

    kind: str  # "trigger", "policy", "rule", "generated column", "foreign key"
    name: str  # qualified name of the object
    table: str
    column: str
    definition: str


@dataclass(frozen=True)
class Trigger:
    schema: str
    table: str
    name: str
    events: frozenset[str]  # INSERT, UPDATE, DELETE, TRUNCATE
    enabled: bool
    definition: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}.{self.name}"


@dataclass(frozen=True)
class Rule:
    schema: str
    table: str
    name: str
    event: str
    definition: str


@dataclass(frozen=True)
class ReferencingKey:
    """A foreign key from any table into a table the bridge touches."""

    schema: str
    table: str
    name: str
    columns: tuple[str, ...]
    ref_table: str  # "public.conversations"
    ref_columns: tuple[str, ...]
    on_delete: str  # NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT
    definition: str
    affected_rows: int = 0  # rows of this table that point at rows the bridge would move

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}.{self.name}"

    @property
    def child(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass
class Dependents:
    views: dict[int, ViewDef] = field(default_factory=dict)
    # (table, column) -> views that read that column directly; table -> views that read it at all
    column_views: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    table_views: dict[str, list[int]] = field(default_factory=dict)
    column_uses: list[ColumnUse] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)  # user triggers on tables that lose rows
    rules: list[Rule] = field(default_factory=list)  # non-SELECT rules on tables that lose rows
    row_security: list[str] = field(default_factory=list)  # tables losing rows whose RLS this role does not bypass
    referencing: list[ReferencingKey] = field(default_factory=list)
    second_level: list[ReferencingKey] = field(default_factory=list)  # keys into tables a cascade reaches
    label_mentions: dict[str, list[Mention]] = field(default_factory=dict)  # enum -> mentions of old labels
    type_uses: dict[str, list[str]] = field(default_factory=dict)  # rebuilt enum -> non-column dependents
    table_mentions: dict[str, list[Mention]] = field(default_factory=dict)  # moved table -> functions naming it
    current_user: str = ""
    superuser: bool = False

    def views_in_order(self, roots: Iterable[int]) -> list[ViewDef]:
        """``roots`` and every view that reads them, each after the views it reads."""
        wanted: set[int] = set()
        frontier = list(roots)
        while frontier:
            oid = frontier.pop()
            if oid in wanted or oid not in self.views:
                continue
            wanted.add(oid)
            frontier.extend(v.oid for v in self.views.values() if oid in v.depends_on_views)
        ordered: list[ViewDef] = []
        placed: set[int] = set()
        while len(ordered) < len(wanted):
            progress = False
            for oid in sorted(wanted - placed, key=lambda o: self.views[o].qualified):
                view = self.views[oid]
                if all(d in placed or d not in wanted for d in view.depends_on_views):
                    ordered.append(view)
                    placed.add(oid)
                    progress = True
            if not progress:  # a cycle cannot happen between views; stop rather than loop
                ordered += [self.views[o] for o in sorted(wanted - placed)]
                break
        return ordered


@dataclass(frozen=True)
class Touched:
    """What the plan is about to touch, derived from the differences (before planning)."""

    altered_columns: tuple[tuple[str, str], ...] = ()  # (table, column) in public
    renamed_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # enum -> old labels
    rebuilt_enums: tuple[str, ...] = ()
    losing_rows: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table -> unique key being enforced
    moving: tuple[str, ...] = ()
    dropped_uniques: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (table, constraint, its columns)
    dropped_indexes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.altered_columns or self.renamed_labels or self.rebuilt_enums or self.losing_rows
                    or self.moving or self.dropped_uniques or self.dropped_indexes)


# -- reading -------------------------------------------------------------------------------------

def _rows(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    import sqlalchemy as sa

    return [tuple(r) for r in conn.execute(sa.text(sql), params or {}).all()]


def _oids(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    names = sorted(set(tables))
    if not names:
        return {}
    rows = _rows(conn, "SELECT c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                       " WHERE n.nspname = 'public' AND c.relname = ANY(:t)", {"t": names})
    return {str(r[0]): int(r[1]) for r in rows}



def inspect_dependents(conn: Connection, touched: Touched, *, affected_rows: dict[str, int] | None = None,
                       victims_sql: dict[str, str] | None = None) -> Dependents:
    """Read every dependent of what ``touched`` names (catalog only, plus counts of affected child rows).

    ``victims_sql``: table losing rows -> a SELECT of the rows that would move (for counting the
    rows of other tables that point at them).
    """
    deps = Dependents()
    user = _rows(conn, "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")[0]
    deps.current_user, deps.superuser = str(user[0]), bool(user[1])
    if touched.empty:
        return deps

    altered_tables = {t for t, _ in touched.altered_columns}
    roots = _oids(conn, altered_tables | set(touched.losing_rows) | set(touched.moving)
                  | {t for t, _, _ in touched.dropped_uniques})

    # Views over altered tables (and views over those views).
    altered_oids = [roots[t] for t in altered_tables if t in roots]
    if altered_oids:
        for row in _rows(conn, VIEWS_SQL, {"roots": altered_oids}):
            grants = tuple((str(g[0]), str(g[1]), bool(g[2])) for g in row[7])
            deps.views[int(row[0])] = ViewDef(
                oid=int(row[0]), schema=str(row[1]), name=str(row[2]), materialized=bool(row[3]),
                definition=str(row[4]), options=tuple(row[5]), owner=str(row[6]), grants=grants,
                comment=row[8], depends_on_views=tuple(int(x) for x in row[9]), extra_rules=bool(row[10]),
                triggers=bool(row[11]))
        wanted = set(touched.altered_columns)
        for table, column, view in _rows(conn, DIRECT_VIEW_COLUMNS_SQL, {"roots": altered_oids}):
            if (str(table), str(column)) in wanted:
                deps.column_views.setdefault((str(table), str(column)), []).append(int(view))
        for kind, name, table, column, definition in _rows(conn, COLUMN_USES_SQL, {"roots": altered_oids}):
            if (str(table), str(column)) in wanted:
                deps.column_uses.append(ColumnUse(str(kind), str(name), str(table), str(column), str(definition)))

    # Foreign keys into tables that lose rows, move away, or lose a constraint they need.
    fk_roots = [roots[t] for t in {*touched.losing_rows, *touched.moving,
                                   *(t for t, _, _ in touched.dropped_uniques)} if t in roots]
    if fk_roots:
        for schema, table, name, cols, ref, ref_cols, action, definition, _ref_schema in _rows(
                conn, REFERENCING_SQL, {"roots": fk_roots}):
            key = ReferencingKey(str(schema), str(table), str(name), tuple(cols), f"public.{ref}", tuple(ref_cols),
                                 ON_DELETE[str(action)], str(definition))
            victims = (victims_sql or {}).get(str(ref))
            if victims:
                key = dataclasses.replace(key, affected_rows=_count_affected(conn, key, victims))
            deps.referencing.append(key)
        # A child that loses or changes rows through a cascade must not cascade further: look one level down.
        cascading = sorted({(k.schema, k.table) for k in deps.referencing
                            if k.on_delete in ("CASCADE", "SET NULL", "SET DEFAULT") and k.affected_rows})
        if cascading:
            child_oids = [int(r[0]) for r in _rows(
                conn, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                      " WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(CAST(:s AS text[]), CAST(:t AS text[])))",
                {"s": [s for s, _ in cascading], "t": [t for _, t in cascading]})]
            for schema, table, name, cols, ref, ref_cols, action, definition, ref_schema in _rows(
                    conn, REFERENCING_SQL, {"roots": child_oids}):
                # Qualified as ReferencingKey.child is ("schema.table"): the planner matches the two.
                deps.second_level.append(ReferencingKey(str(schema), str(table), str(name), tuple(cols),
                                                        f"{ref_schema}.{ref}",
                                                        tuple(ref_cols), ON_DELETE[str(action)], str(definition)))

    losing = [roots[t] for t in touched.losing_rows if t in roots]
    if losing:
        deps.triggers = [Trigger(str(s), str(t), str(n), _events(int(tt)), bool(en), str(d))
                         for s, t, n, tt, en, d in _rows(conn, TRIGGERS_SQL, {"roots": losing})]
        events = {"1": "SELECT", "2": "UPDATE", "3": "INSERT", "4": "DELETE"}
        deps.rules = [Rule(str(s), str(t), str(n), events.get(str(e), str(e)), str(d))
                      for s, t, n, e, d in _rows(conn, RULES_SQL, {"roots": losing})]
        deps.row_security = [str(r[0]) for r in _rows(conn, RLS_SQL, {"roots": losing})]

    if touched.renamed_labels or touched.moving:
        sources = [(str(k), str(n), str(t or "")) for k, n, t in _rows(conn, SOURCES_SQL,
                                                                        {"skip": list(_SKIPPED_SCHEMAS)})]
        for enum, labels in touched.renamed_labels.items():
            mentions = find_label_mentions(sources, enum, labels)
            if mentions:
                deps.label_mentions[enum] = mentions
        for table in touched.moving:
            mentions = find_table_mentions(sources, table)
            if mentions:
                deps.table_mentions[table] = mentions
    for enum in touched.rebuilt_enums:
        uses = [str(r[0]) for r in _rows(conn, TYPE_USES_SQL, {"t": ident("public", enum)})]
        if uses:
            deps.type_uses[enum] = uses
    return deps


def _events(tgtype: int) -> frozenset[str]:
    return frozenset(name for bit, name in ((4, "INSERT"), (8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE"))
                     if tgtype & bit)


def _count_affected(conn: Connection, key: ReferencingKey, victims_sql: str) -> int:
    cols = ", ".join(f"c.{ident(c)}" for c in key.columns)
    ref = ", ".join(f"v.{ident(c)}" for c in key.ref_columns)
    sql = (f"SELECT count(*) FROM {ident(key.schema, key.table)} c WHERE ({cols}) IN "
           f"(SELECT {ref} FROM ({victims_sql}) AS v)")
    return int(_rows(conn, sql)[0][0])
