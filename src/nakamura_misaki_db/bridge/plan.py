"""Plan: turn the differences between a live database and 0001 into ordered, explained steps.

A plan is data: every step carries what it does, the SQL it will run, why,
its safety class and the locks it takes, so it can be printed, saved as JSON,
reviewed and applied exactly. A difference that cannot be closed safely makes
the plan a refusal that names what blocks it and what the user can do.

The plan reads the catalog (via ``catalog``) plus a few data probes that
decide safety: duplicate keys (through the index that already covers them),
values too long to narrow, rows using an unmapped enum label, naive
timestamps in non-empty tables.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import baseline_0001 as frozen
from ..baseline import target_catalog
from ..catalog import Catalog, Table, inspect_database
from ..ddl import clause_sql, create_statements, create_table_statements, quote
from ..drift import FOREIGN_KINDS, Difference, diff
from ..errors import BadInput
from ..legacy_chain import ACTIVITY_COLUMNS, LEGACY_LABELS, legacy_ids_in
from ..pg_enum import PGEnum
from . import archive

PLAN_FORMAT = 1
TARGET_REVISION = frozen.REVISION

CATALOG_ONLY = "catalog-only"
BUILDS_INDEX = "builds index"
REWRITES = "rewrites table"
VALIDATES = "validates data"
ARCHIVES = "moves data to archive"

# Order of step groups inside a table: cheap removals first (less to rebuild),
# then the column rewrite, then what reads the rewritten table.
_TIMESTAMP = "timestamp without time zone"
_TIMESTAMPTZ = "timestamp with time zone"
_MAX_KEYS_SHOWN = 10
INDEX_BUILD_MEMORY = "256MB"


@dataclass
class Step:
    action: str
    object: str
    summary: str
    sql: list[str]
    reason: str
    safety: str
    table: str | None = None
    rows: int | None = None  # rows of the table the step reads or rewrites (estimate)
    locks: list[str] = field(default_factory=list)

    def safety_text(self) -> str:
        if self.safety in (REWRITES, BUILDS_INDEX, VALIDATES) and self.table:
            return f"{self.safety} {self.table} (~{self.rows or 0:,} rows)"
        return self.safety


@dataclass
class Refusal:
    object: str
    problem: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.object}: {self.problem} -> {self.remedy}"


@dataclass
class Plan:
    plan_id: str
    created_at: str
    status: str  # "ready" | "refused" | "nothing_to_do"
    source: dict[str, Any]
    legacy_timezone: str | None
    fingerprint: str
    steps: list[Step] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    target_revision: str = TARGET_REVISION
    format: int = PLAN_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        if data.get("format") != PLAN_FORMAT or data.get("target_revision") != TARGET_REVISION:
            raise BadInput("the plan file was not written by this version of baseline-bridge")
        return cls(
            plan_id=str(data["plan_id"]),
            created_at=str(data["created_at"]),
            status=str(data["status"]),
            source=dict(data["source"]),
            legacy_timezone=data.get("legacy_timezone"),
            fingerprint=str(data["fingerprint"]),
            steps=[Step(**s) for s in data.get("steps", [])],
            refusals=[Refusal(**r) for r in data.get("refusals", [])],
            left_alone=list(data.get("left_alone", [])),
            differences=[Difference(**d) for d in data.get("differences", [])],
        )

    @property
    def rewrites(self) -> list[str]:
        return sorted({s.table for s in self.steps if s.safety == REWRITES and s.table})


# -- fingerprint -----------------------------------------------------------------------------

def fingerprint(catalog: Catalog) -> str:
    """A hash of everything the plan depends on (catalog shape and which tables have rows)."""
    data = catalog.to_dict()
    for table in data["tables"].values():
        table.pop("estimated_rows", None)
        table.pop("size_bytes", None)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- helpers ---------------------------------------------------------------------------------

def _pk_columns(table: Table) -> list[str]:
    return list(table.primary_key.columns) if table.primary_key else []


def _key_list(conn: Connection, table: Table, where: str, params: dict[str, Any] | None = None) -> list[str]:
    """Primary-key values of (at most a few) rows matching ``where``, for messages."""
    pk = _pk_columns(table) or [table.columns[0].name]
    cols = ", ".join(f"{quote(c)}::text" for c in pk)
    rows = conn.execute(
        sa.text(f"SELECT {cols} FROM {quote(table.name)} WHERE {where} LIMIT {_MAX_KEYS_SHOWN + 1}"),
        params or {},
    ).all()
    keys = [", ".join(str(v) for v in r) for r in rows[:_MAX_KEYS_SHOWN]]
    if len(rows) > _MAX_KEYS_SHOWN:
        keys.append("...")
    return keys


def _varchar_length(type_name: str) -> int | None:
    if type_name.startswith("character varying(") and type_name.endswith(")"):
        return int(type_name[len("character varying("):-1])
    return None


def _is_textual(type_name: str) -> bool:
    return type_name == "text" or type_name.startswith("character varying")


def _table_lock(table: str) -> str:
    return f"ACCESS EXCLUSIVE on {table}"


def _unconvertible_reason(actual: Table, expected: Table, differences: list[Difference]) -> str | None:
    """Why ``actual`` cannot be altered into ``expected`` without guessing (None if it can)."""
    mine = [d for d in differences if d.table == actual.name]
    if any(d.kind == "primary_key" for d in mine):
        return "its primary key differs from the target's"
    extra = [d.object.split(".", 1)[1] for d in mine if d.kind == "extra_column"]
    if extra:
        return f"it has columns the target lacks ({', '.join(extra)})"
    for d in mine:
        if d.kind == "missing_column":
            col = expected.column(d.object.split(".", 1)[1])
            if col is not None and not col.nullable and col.default is None and actual.has_rows:
                return f"it lacks the required column {col.name} and has rows to fill it with"
    return None


def _archive_name(conn: Connection, name: str) -> str:
    candidate, n = name, 1
    while conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"{archive.ARCHIVE_SCHEMA}.{quote(candidate)}"}):
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _fks_into(table_name: str, catalog: Catalog) -> list[tuple[str, str]]:
    """(table, fk name) of foreign keys in ``catalog`` that point at ``table_name``."""
    return [
        (t.name, fk.name)
        for t in catalog.tables.values()
        for fk in t.foreign_keys
        if fk.ref_table == table_name and t.name != table_name
    ]


# -- the planner -----------------------------------------------------------------------------

class _Planner:
    def __init__(self, conn: Connection, actual: Catalog, expected: Catalog,
                 legacy_timezone: str | None, plan_id: str) -> None:
        self.conn = conn
        self.actual = actual
        self.expected = expected
        self.tz = legacy_timezone
        self.plan_id = plan_id
        self.differences = diff(actual, expected)
        self.steps: list[Step] = []
        self.refusals: list[Refusal] = []
        self.left_alone: list[str] = []
        self.archive_ready = False

    # bookkeeping

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def refuse(self, obj: str, problem: str, remedy: str) -> None:
        self.refusals.append(Refusal(obj, problem, remedy))

    def rows(self, table: str) -> int:
        t = self.actual.tables.get(table)
        return int(t.estimated_rows or 0) if t else 0

    def ensure_archive(self) -> list[str]:
        if self.archive_ready:
            return []
        self.archive_ready = True
        return [archive.CREATE_SCHEMA]

    # stages

    def build(self) -> None:
        by_kind: dict[str, list[Difference]] = {}
        for d in self.differences:
            by_kind.setdefault(d.kind, []).append(d)
        for d in self.differences:
            if d.kind in FOREIGN_KINDS:
                what = "table" if d.kind == "unknown_table" else "enum type"
                self.left_alone.append(f"{what} {d.object} (not part of the target; left as it is)")

        self.plan_extension(by_kind)
        archived = self.plan_archives()
        self.plan_enums(by_kind)
        table_steps = []
        for name, expected in self.expected.tables.items():
            actual = self.actual.tables.get(name)
            if actual is None or name in archived:
                continue
            table_steps.append(self.plan_table(actual, expected))
        # A table's writers wait from its first lock until commit: run the
        # expensive tables first so the cheap ones hold their locks briefly.
        rank = {REWRITES: 0, VALIDATES: 1, BUILDS_INDEX: 1, ARCHIVES: 1, CATALOG_ONLY: 2}
        table_steps.sort(key=lambda s: (min((rank[x.safety] for x in s), default=3),
                                        -max((x.rows or 0 for x in s), default=0)))
        # Moving duplicates needs no table lock, so it goes first: the table's
        # writers are then blocked only for the constraint's index build, at the end.
        for group in table_steps:
            self.steps.extend(x for x in group if x.action == "archive_duplicates")
        for group in table_steps:
            self.steps.extend(x for x in group if x.action != "archive_duplicates")
        for name in self.expected.tables:
            if name not in self.actual.tables or name in archived:
                sa_table = frozen.metadata.tables[name]
                reason = (f"{name} was moved to the archive" if name in archived
                          else f"the target has table {name}; the database does not")
                self.add(Step("create_table", name, f"create table {name} with its indexes and constraints",
                              create_table_statements(sa_table), reason, CATALOG_ONLY, name, 0,
                              [f"new table {name}"]))
        self.plan_foreign_keys(by_kind, archived)
        self.plan_stamp()

    def plan_extension(self, by_kind: dict[str, list[Difference]]) -> None:
        for d in by_kind.get("missing_extension", []):
            self.add(Step("create_extension", d.object, f"create extension {d.object}",
                          create_statements(d, frozen.metadata, frozen.ENTITIES),
                          f"the target needs extension {d.object} (may require a superuser)",
                          CATALOG_ONLY, locks=["none on tables"]))
        for d in by_kind.get("extension_schema", []):
            self.add(Step("move_extension", d.object, f"move extension {d.object} to schema {d.expected}",
                          [f"ALTER EXTENSION {quote(d.object)} SET SCHEMA {quote(str(d.expected))}"],
                          f"extension {d.object} lives in {d.actual}, the target has it in {d.expected}",
                          CATALOG_ONLY, locks=["objects of the extension"]))

    def plan_archives(self) -> set[str]:
        """Move legacy tables and unconvertible target-named tables to the archive."""
        moving: dict[str, str] = {}
        for d in self.differences:
            if d.kind == "legacy_table":
                moving[d.object] = "only a legacy revision created it; the target does not have it"
        for name, expected in self.expected.tables.items():
            actual = self.actual.tables.get(name)
            if actual is None:
                continue
            why = _unconvertible_reason(actual, expected, self.differences)
            if why:
                moving[name] = f"its shape cannot be converted without guessing: {why}"
        for name, reason in moving.items():
            table = self.actual.tables[name]
            new_name = _archive_name(self.conn, name)
            sql = self.ensure_archive()
            if new_name != name:
                sql.append(f"ALTER TABLE {quote(name)} RENAME TO {quote(new_name)}")
            sql.append(f"ALTER TABLE {quote(new_name)} SET SCHEMA {archive.ARCHIVE_SCHEMA}")
            # A foreign key from the archive into public would let the
            # application's deletes rewrite archived rows (ON DELETE SET NULL).
            for fk in table.foreign_keys:
                if fk.ref_table not in moving:
                    sql.append(f"ALTER TABLE {archive.archived(new_name)} DROP CONSTRAINT {quote(fk.name)}")
            for other, fk_name in _fks_into(name, self.actual):
                if other not in moving:
                    self.refuse(f"{other}.{fk_name}",
                                f"foreign key into {name}, which must move to the archive",
                                f"drop or rework {other}.{fk_name} first")
            self.add(Step(
                "archive_table", name,
                f"move table {name} ({table.estimated_rows or 0:,} rows) to {archive.ARCHIVE_SCHEMA}.{new_name}",
                sql, reason, ARCHIVES, name, self.rows(name), [_table_lock(name)],
            ))
        return set(moving)

    def plan_enums(self, by_kind: dict[str, list[Difference]]) -> None:
        for d in by_kind.get("missing_enum", []):
            self.add(Step("create_enum", d.object, f"create enum {d.object} {tuple(d.expected)}",
                          create_statements(d, frozen.metadata, frozen.ENTITIES),
                          f"the target has enum {d.object}", CATALOG_ONLY, locks=["none"]))
        for d in by_kind.get("enum_labels", []):
            self.plan_enum_labels(d.object, list(d.actual), list(d.expected))

    def _enum_columns(self, type_name: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(sa.text(
            "SELECT n.nspname || '.' || c.relname, a.attname FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE a.atttypid = to_regtype(:t) AND c.relkind IN ('r', 'p') AND NOT a.attisdropped"
        ), {"t": f"public.{quote(type_name)}"}).all()
        return [(str(r[0]), str(r[1])) for r in rows]

    def _label_use(self, type_name: str, labels: list[str]) -> dict[str, int]:
        """Rows per table.column that hold one of ``labels``."""
        out: dict[str, int] = {}
        for qualified, col in self._enum_columns(type_name):
            schema, table = qualified.split(".", 1)
            n = self.conn.scalar(sa.text(
                f"SELECT count(*) FROM {quote(schema)}.{quote(table)} WHERE {quote(col)}::text = ANY(:l)"
            ), {"l": labels})
            if n:
                out[f"{qualified}.{col}"] = int(n)
        return out

    def plan_enum_labels(self, name: str, current: list[str], target: list[str]) -> None:
        mapping = LEGACY_LABELS.get(name, {})
        renames = [(old, mapping[old]) for old in current
                   if old not in target and mapping.get(old) in target and mapping[old] not in current]
        renamed = dict(renames)
        after = [renamed.get(label, label) for label in current]
        extras = [label for label in after if label not in target]
        kept = [label for label in after if label in target]
        reordered = kept != [label for label in target if label in kept]
        tables = sorted({q.removeprefix("public.") for q, _ in self._enum_columns(name)})
        lock = [f"ACCESS EXCLUSIVE on type {name}"]

        if extras or reordered:
            # Rows still hold today's spellings: look for those (renames have not run).
            use = self._label_use(name, extras if not reordered else current)
            if use:
                where = ", ".join(f"{k} ({v:,} rows)" for k, v in use.items())
                problem = (f"labels {extras} are not in the target {target} and no mapping applies" if extras
                           else f"labels are in another order than the target {target}")
                self.refuse(f"enum {name}", f"{problem} and rows use them: {where}",
                            "update those rows to target labels (or add a mapping), then plan again")
                return
            entity = PGEnum(schema="public", signature=name, labels=tuple(target), renames=renamed)
            self.add(Step(
                "rebuild_enum", name,
                f"rebuild enum {name} as {tuple(target)} (no row uses the labels it drops or moves)",
                [clause_sql(s) for s in entity.to_sql_statement_create_or_replace()],
                f"{name} has labels {current}; target {target}", REWRITES if tables else CATALOG_ONLY,
                ", ".join(tables) or None, sum(self.rows(t) for t in tables),
                lock + [_table_lock(t) for t in tables],
            ))
            return

        for old, new in renames:
            self.add(Step(
                "rename_enum_label", f"{name}.{old}", f"rename label {old} -> {new} of enum {name}",
                [f"ALTER TYPE {quote(name)} RENAME VALUE '{_lit(old)}' TO '{_lit(new)}'"],
                f"legacy spelling {old!r} of target label {new!r}", CATALOG_ONLY, locks=lock,
            ))
        labels = list(after)
        for i, label in enumerate(target):
            if label in labels:
                continue
            if i == 0:
                position, sql_pos = (f"before {labels[0]}", f" BEFORE '{_lit(labels[0])}'") if labels else ("", "")
                labels.insert(0, label)
            else:
                prev = target[i - 1]
                position, sql_pos = f"after {prev}", f" AFTER '{_lit(prev)}'"
                labels.insert(labels.index(prev) + 1, label)
            self.add(Step(
                "add_enum_label", f"{name}.{label}", f"add label {label} to enum {name} {position}".strip(),
                [f"ALTER TYPE {quote(name)} ADD VALUE IF NOT EXISTS '{_lit(label)}'{sql_pos}"],
                f"the target's {name} has {label!r}", CATALOG_ONLY, locks=lock,
            ))

    def plan_table(self, actual: Table, expected: Table) -> list[Step]:
        name = actual.name
        rows = self.rows(name)
        mine = [d for d in self.differences if d.table == name]
        steps: list[Step] = []

        def kinds(*k: str) -> list[Difference]:
            return [d for d in mine if d.kind in k]

        # 1. constraints and indexes that must go (before any rewrite: less to rebuild)
        # A constraint holds no data: dropping one loses nothing.
        for action, what, pair in (("drop_foreign_key", "foreign key", ("extra_foreign_key", "foreign_key_definition")),
                                   ("drop_unique", "unique constraint", ("extra_unique", "unique_definition")),
                                   ("drop_check", "check constraint", ("extra_check", "check_definition"))):
            for d in kinds(*pair):
                steps.append(Step(action, d.object, f"drop {what} {d.object} on {name}",
                                  [f"ALTER TABLE {quote(name)} DROP CONSTRAINT {quote(d.object)}"],
                                  "the target does not have it" if d.kind.startswith("extra")
                                  else "its definition differs; it is recreated below",
                                  CATALOG_ONLY, name, rows, [_table_lock(name)]))
        missing_ix = {d.object: d for d in kinds("missing_index")}
        for d in kinds("extra_index"):
            twin = next((m for m in missing_ix.values() if m.expected == d.actual), None)
            if twin is not None:
                del missing_ix[twin.object]
                steps.append(Step("rename_index", d.object, f"rename index {d.object} -> {twin.object}",
                                  [f"ALTER INDEX {quote(d.object)} RENAME TO {quote(twin.object)}"],
                                  f"same definition as the target's {twin.object}, another name",
                                  CATALOG_ONLY, name, rows, [f"SHARE UPDATE EXCLUSIVE on {name}"]))
            else:
                steps.append(Step("drop_index", d.object, f"drop index {d.object} on {name}",
                                  [f"DROP INDEX {quote(d.object)}"],
                                  "the target does not have it (an index holds no data)",
                                  CATALOG_ONLY, name, rows, [_table_lock(name)]))
        for d in kinds("index_definition"):
            steps.append(Step("drop_index", d.object, f"drop index {d.object} on {name} (recreated below)",
                              [f"DROP INDEX {quote(d.object)}"], "its definition differs from the target's",
                              CATALOG_ONLY, name, rows, [_table_lock(name)]))
            missing_ix[d.object] = d

        # 2. defaults
        defaults = kinds("missing_default", "column_default")
        if defaults:
            clauses = [
                f"ALTER COLUMN {quote(d.object.split('.', 1)[1])} "
                + (f"SET DEFAULT {d.expected}" if d.expected is not None else "DROP DEFAULT")
                for d in defaults
            ]
            steps.append(Step("set_defaults", name, f"set server defaults on {name}: "
                              + ", ".join(d.object.split(".", 1)[1] for d in defaults),
                              [f"ALTER TABLE {quote(name)} " + ", ".join(clauses)],
                              "the target's columns have these defaults", CATALOG_ONLY, name, rows,
                              [_table_lock(name)]))

        # 3. columns: one ALTER TABLE, so the table is rewritten at most once
        steps.extend(self.plan_columns(actual, expected, kinds("column_type", "column_nullable", "missing_column",
                                                                "column_collation")))

        # 4. indexes, duplicates, unique constraints
        for d in missing_ix.values():
            steps.append(Step("create_index", d.object, f"create index {d.object} on {name}",
                              create_statements(Difference("missing_index", d.object, name), frozen.metadata,
                                                frozen.ENTITIES),
                              "the target has this index", BUILDS_INDEX, name, rows, [f"SHARE on {name}"]))
        for d in kinds("missing_check", "check_definition"):
            steps.append(Step("add_check", d.object, f"add check constraint {d.object} on {name}",
                              [f"ALTER TABLE {quote(name)} ADD CONSTRAINT {quote(d.object)} CHECK ({d.expected})"],
                              "the target has this check constraint (every row is checked)", VALIDATES, name,
                              rows, [_table_lock(name)]))
        for d in kinds("missing_unique", "unique_definition"):
            steps.extend(self.plan_unique(actual, Difference("missing_unique", d.object, name,
                                                             expected=d.expected)))
        return steps

    def plan_columns(self, actual: Table, expected: Table, diffs: list[Difference]) -> list[Step]:
        name = actual.name
        clauses: list[str] = []
        notes: list[str] = []
        rewrite = False
        validations: list[str] = []
        scans = False  # SET NOT NULL reads every row
        tz_needed = False
        for d in diffs:
            col = d.object.split(".", 1)[1]
            want = expected.column(col)
            have = actual.column(col)
            assert want is not None
            if d.kind == "missing_column":
                if not want.nullable and want.default is None and actual.has_rows:
                    continue  # handled by archiving (see _unconvertible_reason)
                default = f" DEFAULT {want.default}" if want.default else ""
                null = "" if want.nullable else " NOT NULL"
                clauses.append(f"ADD COLUMN {quote(col)} {want.type}{default}{null}")
                notes.append(f"add {col}")
                continue
            assert have is not None
            if d.kind == "column_collation":
                collation = want.collation or "default"
                clauses.append(f'ALTER COLUMN {quote(col)} TYPE {want.type} COLLATE "{collation}"')
                notes.append(f"{col} collation {have.collation or 'default'} -> {collation}")
                rewrite = True  # its indexes are rebuilt
                continue
            if d.kind == "column_nullable":
                if want.nullable:
                    clauses.append(f"ALTER COLUMN {quote(col)} DROP NOT NULL")
                    notes.append(f"{col} nullable")
                    continue
                nulls = _key_list(self.conn, actual, f"{quote(col)} IS NULL") if actual.has_rows else []
                if nulls:
                    self.refuse(d.object, f"must be NOT NULL but rows have NULL (keys: {', '.join(nulls)})",
                                "fill those values, then plan again")
                    continue
                clauses.append(f"ALTER COLUMN {quote(col)} SET NOT NULL")
                notes.append(f"{col} NOT NULL (checked)")
                scans = True
                continue
            # column_type
            old, new = have.type, want.type
            old_len, new_len = _varchar_length(old), _varchar_length(new)
            if old_len is not None and new_len is not None:
                if new_len > old_len:
                    clauses.append(f"ALTER COLUMN {quote(col)} TYPE {new}")
                    notes.append(f"{col} widened {old_len}->{new_len}")
                    continue
                too_long = (_key_list(self.conn, actual, f"length({quote(col)}) > {new_len}")
                            if actual.has_rows else [])
                if too_long:
                    self.refuse(d.object, f"values longer than {new_len} characters cannot be narrowed "
                                f"(rows with key {', '.join(too_long)})",
                                f"shorten those values to {new_len} characters, then plan again")
                    continue
                clauses.append(f"ALTER COLUMN {quote(col)} TYPE {new}")
                validations.append(
                    f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {quote(name)} WHERE length({quote(col)}) > {new_len}) "
                    f"THEN RAISE EXCEPTION 'baseline-bridge: {name}.{col} has values longer than {new_len} "
                    f"characters (written after the plan was made)'; END IF; END $$"
                )
                notes.append(f"{col} narrowed {old_len}->{new_len} (checked)")
                rewrite = True  # PostgreSQL rewrites a table to narrow a varchar
                continue
            if old == _TIMESTAMP and new == _TIMESTAMPTZ:
                clauses.append(f"ALTER COLUMN {quote(col)} TYPE timestamp with time zone")
                tz_needed = True
                notes.append(f"{col} -> timestamptz")
                continue
            if _is_textual(old) and new in self.expected.enums:
                step_refused = self._cast_to_enum(actual, col, new, clauses, notes)
                rewrite = rewrite or not step_refused
                continue
            self.refuse(d.object, f"type {old} -> {new} has no known safe conversion",
                        "convert the column by hand (or tell us the rule), then plan again")

        if not clauses:
            return []
        sql: list[str] = list(validations)
        zone_note = ""
        if tz_needed:
            zone = self.tz
            if actual.has_rows and not zone:
                self.refuse(name, "has naive timestamps (timestamp without time zone) in a table with rows; "
                            "converting them needs the zone they were written in",
                            "rerun with --legacy-timezone ZONE (the application server's zone, e.g. Asia/Tokyo)")
                return []
            zone = zone if actual.has_rows else "UTC"
            # With the session zone UTC, PostgreSQL converts timestamp -> timestamptz
            # in the catalog only; any other zone rewrites the table.
            if zone != "UTC":
                rewrite = True
            zone_note = f", naive times read as {zone}"
            sql.append(f"SET LOCAL TimeZone = '{_lit(zone)}'")
        sql.append(f"ALTER TABLE {quote(name)} " + ", ".join(clauses))
        if tz_needed:
            sql.append("RESET TimeZone")
        if not actual.has_rows:
            safety = CATALOG_ONLY
        elif rewrite:
            safety = REWRITES
        else:
            safety = VALIDATES if (validations or scans) else CATALOG_ONLY
        return [Step("alter_columns", name, f"alter columns of {name}: " + "; ".join(notes) + zone_note,
                     sql, "column types/nullability differ from the target's", safety, name, self.rows(name),
                     [_table_lock(name)])]

    def _cast_to_enum(self, actual: Table, col: str, enum_name: str, clauses: list[str],
                      notes: list[str]) -> bool:
        """Add a varchar -> enum cast clause through the label mapping; True if refused."""
        target = list(self.expected.enums[enum_name])
        mapping = {k: v for k, v in LEGACY_LABELS.get(enum_name, {}).items()}
        values = [r[0] for r in self.conn.execute(
            sa.text(f"SELECT DISTINCT {quote(col)}::text FROM {quote(actual.name)} WHERE {quote(col)} IS NOT NULL")
        )]
        unknown = sorted(v for v in values if v not in target and v not in mapping)
        if unknown:
            self.refuse(f"{actual.name}.{col}", f"values {unknown} are not labels of {enum_name} {target} "
                        "and have no known mapping", "update those rows to target labels, then plan again")
            return True
        whens = " ".join(f"WHEN '{_lit(k)}' THEN '{_lit(v)}'" for k, v in mapping.items() if k in values)
        expr = f"(CASE {quote(col)} {whens} ELSE {quote(col)} END)" if whens else quote(col)
        clauses.append(f"ALTER COLUMN {quote(col)} TYPE {quote(enum_name)} USING {expr}::{quote(enum_name)}")
        notes.append(f"{col} -> {enum_name} (legacy labels mapped)")
        return False

    def plan_unique(self, actual: Table, d: Difference) -> list[Step]:
        name = actual.name
        cols = list(d.expected)
        col_sql = ", ".join(quote(c) for c in cols)
        rows = self.rows(name)
        steps: list[Step] = []
        dup_groups = 0
        if actual.has_rows:
            dup_groups = int(self.conn.scalar(sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(name)} GROUP BY {col_sql} HAVING count(*) > 1) g"
            )) or 0)
        if dup_groups:
            activity = next((c for c in ACTIVITY_COLUMNS if actual.column(c) is not None), None)
            pk = _pk_columns(actual)
            if activity is None or not pk:
                self.refuse(d.object, f"{dup_groups} duplicated key(s) in {name} ({', '.join(cols)}) and no "
                            "column says which row is the most recent",
                            "remove the duplicates by hand, then plan again")
                return []
            extra = int(self.conn.scalar(sa.text(
                f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {quote(name)} GROUP BY {col_sql}"
                " HAVING count(*) > 1) g"
            )) or 0)
            target = archive.duplicates_table(name)
            order = ", ".join([f"c.{quote(activity)} DESC"] + [f"c.{quote(p)} DESC" for p in pk])
            join = " AND ".join(f"c.{quote(c)} = k.{quote(c)}" for c in cols)
            sql = [
                *self.ensure_archive(),
                f"CREATE TABLE IF NOT EXISTS {archive.archived(target)} (LIKE public.{quote(name)}, "
                "bridge_run_id uuid NOT NULL, archived_at timestamptz NOT NULL DEFAULT now())",
                f"WITH dup_keys AS (SELECT {col_sql} FROM {quote(name)} GROUP BY {col_sql} HAVING count(*) > 1), "
                f"ranked AS (SELECT c.ctid AS row_ctid, row_number() OVER (PARTITION BY "
                f"{', '.join('c.' + quote(c) for c in cols)} ORDER BY {order}) AS rn "
                f"FROM {quote(name)} c JOIN dup_keys k ON {join}), "
                f"moved AS (DELETE FROM {quote(name)} t USING ranked r WHERE t.ctid = r.row_ctid AND r.rn > 1 "
                f"RETURNING t.*) "
                f"INSERT INTO {archive.archived(target)} SELECT moved.*, '{self.plan_id}'::uuid, now() FROM moved",
            ]
            steps.append(Step(
                "archive_duplicates", f"{name}({', '.join(cols)})",
                f"move {extra:,} duplicate row(s) of {name} ({dup_groups:,} keys) to "
                f"{archive.ARCHIVE_SCHEMA}.{target}, keeping the most recent by {activity}",
                sql, f"unique constraint {d.object} cannot be added while duplicates exist (runs early and "
                "without a table lock, so writers keep going; should the application write a new duplicate "
                "before the constraint is added, the constraint fails and everything rolls back: rerun)",
                ARCHIVES, name, rows, [f"ROW EXCLUSIVE on {name} (writers are not blocked)"],
            ))
        guard = []
        if actual.has_rows and not dup_groups:
            # The plan saw no duplicates; if some appear before apply, stop with a clear message.
            guard = [
                f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {quote(name)} GROUP BY {col_sql} HAVING count(*) > 1) "
                f"THEN RAISE EXCEPTION 'baseline-bridge: duplicate ({', '.join(cols)}) rows appeared in {name} "
                "after the plan was made; nothing was changed: run baseline-bridge plan again'; END IF; END $$"
            ]
        steps.append(Step(
            "add_unique", d.object, f"add unique constraint {d.object} on {name} ({', '.join(cols)})",
            # More sort memory for this one index build: writers wait while it runs.
            [*guard, f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'",
             *create_statements(d, frozen.metadata, frozen.ENTITIES)],
            "the target has this unique constraint", BUILDS_INDEX, name, rows, [_table_lock(name)],
        ))
        return steps

    def plan_foreign_keys(self, by_kind: dict[str, list[Difference]], archived: set[str]) -> None:
        for d in by_kind.get("missing_foreign_key", []) + by_kind.get("foreign_key_definition", []):
            if d.table in archived or d.table is None:
                continue
            fk = next(c for c in frozen.metadata.tables[d.table].foreign_key_constraints if c.name == d.object)
            parent = fk.referred_table.name
            actual = self.actual.tables[d.table]
            if actual.has_rows and parent not in archived and parent in self.actual.tables:
                cond = " AND ".join(f"p.{quote(e.column.name)} = {quote(d.table)}.{quote(c.name)}"
                                    for c, e in zip(fk.columns, fk.elements, strict=True))
                orphans = _key_list(self.conn, actual, f"NOT EXISTS (SELECT 1 FROM {quote(parent)} p WHERE {cond})")
                if orphans:
                    self.refuse(d.object, f"rows of {d.table} point at missing {parent} rows (keys: "
                                f"{', '.join(orphans)})", "fix or remove those rows, then plan again")
                    continue
            self.add(Step("add_foreign_key", d.object, f"add foreign key {d.object} on {d.table} -> {parent}",
                          create_statements(Difference("missing_foreign_key", d.object, d.table), frozen.metadata,
                                            frozen.ENTITIES),
                          "the target has this foreign key", VALIDATES, d.table, self.rows(d.table),
                          [f"SHARE ROW EXCLUSIVE on {d.table}", f"SHARE ROW EXCLUSIVE on {parent}"]))

    def plan_stamp(self) -> None:
        was = self.actual.alembic_version
        self.add(Step(
            "stamp", "alembic_version",
            f"record revision {TARGET_REVISION} in alembic_version"
            + (f" (replacing {', '.join(was)})" if was else " (creating the table)"),
            [
                "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
                "DELETE FROM alembic_version",
                f"INSERT INTO alembic_version (version_num) VALUES ('{TARGET_REVISION}')",
            ],
            "the schema now equals revision 0001 (verified just before this step)",
            CATALOG_ONLY, "alembic_version", None, ["ROW EXCLUSIVE on alembic_version"],
        ))


def _lit(value: str) -> str:
    return value.replace("'", "''")


def validate_timezone(conn: Connection, zone: str | None) -> str | None:
    if zone is None:
        return None
    ok = conn.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :z)"), {"z": zone})
    if not ok:
        raise BadInput(f"--legacy-timezone {zone!r} is not a time zone PostgreSQL knows (e.g. Asia/Tokyo, UTC)")
    return zone


def source_summary(catalog: Catalog, new_chain: set[str]) -> dict[str, Any]:
    version = catalog.alembic_version
    return {
        "alembic_version": list(version) if version is not None else None,
        "legacy_ids": legacy_ids_in(version),
        "new_chain_ids": [v for v in (version or ()) if v in new_chain],
        "tables": {n: {"rows_estimate": t.estimated_rows, "size_bytes": t.size_bytes}
                   for n, t in catalog.tables.items()},
    }


def make_plan(conn: Connection, *, legacy_timezone: str | None = None, new_chain: set[str] | None = None,
              catalog: Catalog | None = None) -> Plan:
    """Inspect, diff and plan. Reads only; writes nothing."""
    from ..migrations import known_revisions

    chain = new_chain if new_chain is not None else known_revisions()
    zone = validate_timezone(conn, legacy_timezone)
    actual = catalog or inspect_database(conn)
    plan_id = str(uuid.uuid4())
    created = datetime.now(UTC).isoformat(timespec="seconds")
    source = source_summary(actual, chain)
    if source["new_chain_ids"] and not source["legacy_ids"]:
        return Plan(plan_id, created, "nothing_to_do", source, zone, fingerprint(actual))
    unknown = [v for v in (actual.alembic_version or ()) if v not in chain and not legacy_ids_in((v,))]
    if unknown:
        # Reconciling a newer schema "back" to 0001 would archive what a newer release added.
        return Plan(plan_id, created, "refused", source, zone, fingerprint(actual), refusals=[Refusal(
            "alembic_version", f"holds {', '.join(unknown)}, a revision this release does not know "
            "(neither the legacy chain nor this one: probably a newer release migrated it)",
            "use the release that wrote it; the bridge only reconciles legacy databases",
        )])
    planner = _Planner(conn, actual, target_catalog(), zone, plan_id)
    planner.build()
    return Plan(
        plan_id=plan_id,
        created_at=created,
        status="refused" if planner.refusals else "ready",
        source=source,
        legacy_timezone=zone,
        fingerprint=fingerprint(actual),
        steps=planner.steps,
        refusals=planner.refusals,
        left_alone=planner.left_alone,
        differences=planner.differences,
    )
