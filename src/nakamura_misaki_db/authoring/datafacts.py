"""What a revision's hazards would do to the data of one database: counted, read-only, bounded.

Each hazard carries questions (``rules.base.Question``): rows a drop loses, values a dropped
column holds, NULLs a NOT NULL rejects, values that do not fit a narrower type, rows holding a
removed label, orphans a new foreign key rejects, rows a new CHECK rejects, and the table's
size against the lock budget. They are answered with one pass per table (every count of that
table as ``count(*) FILTER (WHERE ...)`` in a single scan) plus one query per foreign key.

Measured with 1,000,000 tasks (``bench/bench_datafacts.py``, figure in README): every fact of four
hazardous revisions on tasks, 0.29 s, a writer meanwhile waiting at most 25 ms. The lint's session is ``READ ONLY`` with
``lock_timeout = 1s`` (it never queues behind a migration's ACCESS EXCLUSIVE for long) and
``statement_timeout`` (its own bound: a count that takes longer is reported as an estimate from
``pg_class.reltuples``); its only lock is ACCESS SHARE, which blocks no writer. The deploy's
data-loss refusal (``deploy.dataloss``) asks the same questions inside the migration's
transaction, exact and without a timeout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.authoring.rules.base import Hazard, Question
from nakamura_misaki_db.authoring.rules.pgtypes import parse as parse_type
from nakamura_misaki_db.schema.quoting import ident, literal

# Throughput under the migration's lock, measured by hand on 1M tasks when this was written (223 MB
# with indexes; bench/bench_datafacts.py times the lint itself, not these), halved as a margin: a
# rewrite (ALTER TYPE) ~42 MB/s of pg_total_relation_size, a scan (SET NOT NULL, validated ADD)
# ~1 GB/s of the heap, an index build ~176 MB/s of the heap.
REWRITE_BYTES_PER_S = 21e6
SCAN_BYTES_PER_S = 500e6
BUILD_BYTES_PER_S = 88e6
LOCK_BUDGET_S = 1.0  # how long the application may be blocked (not lock_timeout: how long *we* wait)
_LOCKS = {"rewrite": ("rewrite", "ACCESS EXCLUSIVE", REWRITE_BYTES_PER_S, True),
          "scan": ("scan", "ACCESS EXCLUSIVE", SCAN_BYTES_PER_S, False),
          "build": ("index build", "SHARE (writers wait)", BUILD_BYTES_PER_S, False)}
_INT_RANGE = {"int2": 32767, "int4": 2147483647}


@dataclass(frozen=True)
class Fact:
    question: Question
    text: str  # "33,334 values would be lost"
    count: int | None = None  # None: not counted (absent object, estimate, unknown type)
    estimate: bool = False


def number(n: int) -> str:
    return f"{n:,}"


def _table(name: str) -> str:
    schema, _, table = name.rpartition(".")
    return ident(schema or "public", table)


class Facts:
    """Answers hazards' questions on one connection (a SQLAlchemy ``Connection``)."""

    def __init__(self, conn: Connection, *, statement_timeout: str | None = "2s",
                 lock_budget_s: float = LOCK_BUDGET_S) -> None:
        self.conn = conn
        self.statement_timeout = statement_timeout
        self.lock_budget_s = lock_budget_s

    # -- the catalog ----------------------------------------------------------------------------

    def _regclass(self, table: str) -> bool:
        return self.conn.scalar(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": _table(table)}) is True

    def column(self, table: str, column: str) -> tuple[str, str | None] | None:
        """(type as format_type prints it, default expression) of a live column, or None if absent."""
        row = self.conn.execute(sa.text(
            "SELECT format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass(:t) AND a.attname = :c AND a.attnum > 0 AND NOT a.attisdropped"),
            {"t": _table(table), "c": column}).first()
        return None if row is None else (row[0], row[1])

    def column_type(self, table: str, column: str) -> str | None:
        found = self.column(table, column)
        return None if found is None else found[0]

    def enum_labels(self) -> dict[tuple[str, str], tuple[str, ...]]:
        rows = self.conn.execute(sa.text(
            "SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) "
            "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') GROUP BY 1, 2")).all()
        return {(r[0], r[1]): tuple(r[2]) for r in rows}

    def _enum_columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(sa.text(
            "SELECT n.nspname, c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE tn.nspname = :s AND t.typname = :n "
            "AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') ORDER BY 1, 2, 3"),
            {"s": schema, "n": name}).all()
        return [(r[1] if r[0] == "public" else f"{r[0]}.{r[1]}", r[2]) for r in rows]

    # -- one condition per question -------------------------------------------------------------

    def _value_condition(self, table: str, column: str) -> str | None:
        found = self.column(table, column)
        if found is None:
            return None
        _, default = found
        col = ident(column)
        # A constant default (no function call): rows still holding it lose nothing (as guarded.py counts).
        if default is not None and "(" not in default:
            return f"{col} IS DISTINCT FROM ({default})"
        return f"{col} IS NOT NULL"

    def _misfit_condition(self, table: str, column: str, new_type: str) -> str | None:
        if self.column(table, column) is None:
            return None
        new = parse_type(new_type)
        col = ident(column)
        if new is None or new.array:
            return None
        if new.name in ("varchar", "bpchar") and new.mods:
            return f"char_length({col}::text) > {new.mods[0]}"
        if new.name in _INT_RANGE:
            limit = _INT_RANGE[new.name]
            value = f"{col}::numeric"
            return f"({value} < {-limit - 1} OR {value} > {limit} OR {value} <> trunc({value}))"
        if new.name == "numeric" and new.mods:
            precision, scale = new.mods[0], (new.mods[1:] or (0,))[0]
            return (f"(abs({col}::numeric) >= 10::numeric ^ {precision - scale} "
                    f"OR {col}::numeric <> round({col}::numeric, {scale}))")
        return None

    def _conditions(self, q: Question) -> list[tuple[str, str, str]]:
        """(table, SQL condition or '' for every row, wording) for a question answered by a table pass."""
        if q.kind == "rows":
            wording = str(q.extra or "row(s) would be lost")  # extra: another wording (an ADD that fails)
            return [(q.table, "", wording)] if self._regclass(q.table) else []
        if q.kind == "values" and q.column:
            cond = self._value_condition(q.table, q.column)
            return [] if cond is None else [(q.table, cond, f"value(s) in {q.table}.{q.column} would be lost")]
        if q.kind == "nulls" and q.column:
            if self.column(q.table, q.column) is None:
                return []
            return [(q.table, f"{ident(q.column)} IS NULL", f"NULL(s) in {q.table}.{q.column} would be rejected")]
        if q.kind == "misfits" and q.column:
            cond = self._misfit_condition(q.table, q.column, str(q.extra))
            return [] if cond is None else [(q.table, cond, f"value(s) in {q.table}.{q.column} do not fit {q.extra}")]
        if q.kind == "violations" and self._regclass(q.table):
            return [(q.table, f"NOT ({q.extra})", f"row(s) of {q.table} violate CHECK ({q.extra})")]
        if q.kind == "labels":
            schema, name, labels = q.extra
            shown = ", ".join(map(repr, labels))
            array = "ARRAY[" + ", ".join(literal(label) for label in labels) + "]::text[]"
            return [(table, f"{ident(column)}::text = ANY ({array})", f"row(s) of {table}.{column} hold {shown}")
                    for table, column in self._enum_columns(schema, name)]
        return []

    # -- running them ---------------------------------------------------------------------------

    def _bounded(self, sql: str) -> list[Any] | None:
        """Run one read; None when it took longer than the lint's statement_timeout (rolled back to a savepoint)."""
        savepoint = self.conn.begin_nested()
        try:
            if self.statement_timeout is not None:
                self.conn.execute(sa.text(f"SET LOCAL statement_timeout = {literal(self.statement_timeout)}"))
            row = list(self.conn.execute(sa.text(sql.replace(":", "\\:"))).one())
            savepoint.commit()
            return row
        except sa.exc.OperationalError as exc:
            savepoint.rollback()
            if getattr(getattr(exc, "orig", None), "sqlstate", None) in ("57014", "55P03"):
                return None  # statement timeout / lock timeout: say "not counted", never wait
            raise

    def _estimate(self, table: str) -> int:
        return int(self.conn.scalar(sa.text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = "
                                            "to_regclass(:t)"), {"t": _table(table)}) or 0)

    def answer(self, hazards: Iterable[Hazard]) -> dict[int, list[Fact]]:
        """Facts per hazard (keyed by ``id(hazard)``)."""
        hazards = list(hazards)
        out: dict[int, list[Fact]] = {id(h): [] for h in hazards}
        passes: dict[str, list[tuple[int, Question, str, str]]] = {}
        for h in hazards:
            for q in h.questions:
                if q.kind == "orphans":
                    out[id(h)].append(self._orphans(q))
                elif q.kind == "lock":
                    fact = self._lock(q)
                    if fact is not None:
                        out[id(h)].append(fact)
                else:
                    for table, cond, wording in self._conditions(q):
                        passes.setdefault(table, []).append((id(h), q, cond, wording))
        for table, asked in passes.items():
            selects = ", ".join(f"count(*) FILTER (WHERE {cond})" if cond else "count(*)" for _, _, cond, _ in asked)
            row = self._bounded(f"SELECT {selects} FROM {_table(table)}")
            for i, (key, q, _, wording) in enumerate(asked):
                if row is not None:
                    out[key].append(Fact(q, f"{number(int(row[i]))} {wording}", int(row[i])))
                else:
                    estimate = self._estimate(table)
                    out[key].append(Fact(q, f"not counted: the count took over {self.statement_timeout} "
                                            f"({table} has ~{number(estimate)} rows)", None, True))
        return out

    def _orphans(self, q: Question) -> Fact:
        columns, parent, parent_columns = q.extra
        if not self._regclass(q.table) or not self._regclass(parent) or len(columns) != len(parent_columns):
            return Fact(q, "orphans not counted: a table is absent here")
        present = " AND ".join(f"c.{ident(c)} IS NOT NULL" for c in columns)
        match = " AND ".join(f"p.{ident(p)} = c.{ident(c)}" for c, p in zip(columns, parent_columns, strict=True))
        row = self._bounded(f"SELECT count(*) FROM {_table(q.table)} c WHERE {present} "
                            f"AND NOT EXISTS (SELECT 1 FROM {_table(parent)} p WHERE {match})")
        shown = f"{q.table}.({', '.join(columns)}) -> {parent}"
        if row is None:
            return Fact(q, f"orphans of {shown} not counted: the count took over {self.statement_timeout}", None, True)
        return Fact(q, f"{number(int(row[0]))} orphan row(s) in {shown} would be rejected", int(row[0]))

    def _lock(self, q: Question) -> Fact | None:
        row = self.conn.execute(sa.text(
            "SELECT greatest(c.reltuples, 0)::bigint, pg_relation_size(c.oid), pg_total_relation_size(c.oid) "
            "FROM pg_class c WHERE c.oid = to_regclass(:t)"), {"t": _table(q.table)}).first()
        if row is None:
            return None
        what, lock, rate, total = _LOCKS[str(q.extra)]
        size = int(row[2] if total else row[1])
        seconds = size / rate
        verdict = "over" if seconds > self.lock_budget_s else "within"
        return Fact(q, f"{q.table}: ~{number(int(row[0]))} rows, {size / 1e6:,.1f} MB: {what} ~{seconds:.2f} s under "
                       f"{lock}, {verdict} the lock budget of {self.lock_budget_s:g} s", None, True)


def applied_revisions(conn: Connection) -> set[str]:
    """The revisions the database has (its version row and everything before it, by number)."""
    if conn.scalar(sa.text("SELECT to_regclass('public.alembic_version') IS NOT NULL")) is not True:
        return set()
    rows = [r[0] for r in conn.execute(sa.text("SELECT version_num FROM public.alembic_version"))]
    top = max((int(r) for r in rows if str(r).isdigit()), default=0)
    return {f"{n:04d}" for n in range(1, top + 1)}


def annotate(facts: Facts, applied: set[str], revision: str, findings: list[Any]) -> None:
    """Attach facts to lint findings: for a pending revision its upgrade's, for an applied one its downgrade's
    (what the database holds is what that function would meet)."""
    wanted = "downgrade()" if revision in applied else "upgrade()"
    chosen = [f for f in findings if f.hazard is not None and f.function == wanted]
    answers = facts.answer(f.hazard for f in chosen)
    for f in chosen:
        f.facts = [fact.text for fact in answers.get(id(f.hazard), [])]
