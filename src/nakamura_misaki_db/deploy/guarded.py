"""What revisions ``0003`` onwards run: read the catalog, decide, then create, adopt or refuse.

Each revision hands over its frozen ``RevisionSchema`` (``nakamura_misaki_db.schema.frozen``).
``upgrade`` reads the database once and decides everything before it writes:

- a table the revision creates that is absent is created, with its indexes and
  constraints, rendered by SQLAlchemy's DDL compiler from the frozen definition;
- one that exists and equals the definition is *adopted*: nothing is done (the
  application's own chain may have created it already: state S7 of app-chain.md);
- one that exists and differs is *refused*: ``errors.Refused`` lists every
  difference, and nothing was changed;
- the same, object by object, for what a revision adds to an existing table
  (columns, CHECK constraints, indexes): absent is added, identical is
  adopted, different is refused;
- a CHECK constraint or a NOT NULL column added over existing rows is checked
  against those rows first, and refused with a count instead of failing halfway
  on an ``IntegrityError``.

``downgrade`` drops what the revision created and refuses (nothing changed) to
drop a table, or columns, that hold rows unless ``allow_data_loss``.

Offline (``alembic upgrade --sql``) the catalog cannot be read: ``offline_upgrade``
and ``offline_downgrade`` render the plain statements for a database at the
previous revision instead, with a comment line that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.diff import DiffKind, diff
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.ddl import DIALECT
from nakamura_misaki_db.schema.from_definition import catalog_from_definition
from nakamura_misaki_db.schema.frozen import RevisionSchema
from nakamura_misaki_db.schema.quoting import ident
from nakamura_misaki_db.schema.shapes import Catalog, Table, Unique

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext

SCHEMA = "public"

# What a revision may add to an existing table; any other difference is refused.
_ADDABLE = frozenset({DiffKind.MISSING_COLUMN, DiffKind.MISSING_CHECK, DiffKind.MISSING_INDEX})


@dataclass
class Decision:
    """What ``upgrade`` would do to one database, decided before any write."""

    revision: str
    statements: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # "table projects", "column tasks.priority", ...
    adopted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _only(catalog_tables: dict[str, Table], name: str) -> Catalog:
    """A catalog holding one table (so ``diff`` compares exactly that table)."""
    return Catalog(schema=SCHEMA, extensions={}, enums={}, tables={name: catalog_tables[name]})


def _subset(actual: Table, stub: Table) -> Table:
    """The part of a live table a stub speaks about: its columns, checks and indexes by name."""
    columns = {c.name for c in stub.columns}
    checks = {c.name for c in stub.checks}
    indexes = {i.name for i in stub.indexes}
    return replace(
        actual,
        columns=tuple(c for c in actual.columns if c.name in columns),
        primary_key=None,
        uniques=(),
        foreign_keys=(),
        checks=tuple(c for c in actual.checks if c.name in checks),
        indexes=tuple(i for i in actual.indexes if i.name in indexes),
    )


def _relation_names(table: sa.Table) -> list[str]:
    """Names a CREATE TABLE claims in the schema: the table and every index it builds."""
    names = [table.name, *(str(i.name) for i in table.indexes)]
    names += [str(c.name) for c in table.constraints
              if isinstance(c, sa.PrimaryKeyConstraint | sa.UniqueConstraint) and c.columns]
    return names


def _occupied(conn: Connection, names: list[str]) -> dict[str, str]:
    """Which of ``names`` are already taken in the schema, by what (relation or type)."""
    if not names:
        return {}
    found = conn.execute(sa.text(
        """
        SELECT c.relname,
               CASE c.relkind WHEN 'r' THEN 'a table' WHEN 'p' THEN 'a table' WHEN 'i' THEN 'an index'
                    WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view' WHEN 'S' THEN 'a sequence'
                    ELSE 'a relation' END
                 || CASE WHEN c.relkind = 'i'
                         THEN ' on ' || (SELECT t.relname FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
                                         WHERE x.indexrelid = c.oid)
                         ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relname = ANY(:names)
        UNION ALL
        SELECT t.typname, 'a type'
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = :schema AND t.typname = ANY(:names) AND t.typrelid = 0
        """
    ), {"schema": SCHEMA, "names": list(names)})
    return {name: what for name, what in found}


def _add_column_sql(table: str, column: sa.Column) -> str:
    return f"ALTER TABLE {ident(SCHEMA, table)} ADD COLUMN {ddl.column_definition(column)}"


def _rows(conn: Connection, table: str) -> int:
    return int(conn.scalar(sa.text(f"SELECT count(*) FROM {ident(SCHEMA, table)}")) or 0)


def _check_violations(conn: Connection, have: Table, stub: sa.Table, check: sa.CheckConstraint) -> int:
    """Rows that would violate ``check`` once the revision's columns are added.

    Columns the revision adds are taken at their server default (what ADD COLUMN
    gives existing rows); the others as they are. ``WHERE NOT (...)``: a CHECK
    that yields NULL passes, as in PostgreSQL.
    """
    existing = {c.name for c in have.columns}
    select = [ident(c.name) for c in have.columns]
    for column in stub.columns:
        if column.name in existing:
            continue
        default = "NULL" if column.server_default is None else column.server_default.arg.text  # type: ignore[attr-defined]
        select.append(f"CAST({default} AS {column.type.compile(dialect=DIALECT)}) AS {ident(column.name)}")
    sql = (f"SELECT count(*) FROM (SELECT {', '.join(select)} FROM {ident(SCHEMA, have.name)}) AS t "
           f"WHERE NOT ({check.sqltext})")
    # Colons escaped: the frozen texts are SQL, not text() bind parameters ('x'::text).
    return int(conn.scalar(sa.text(sql.replace(":", "\\:"))) or 0)


def _check_references(decision: Decision, schema: RevisionSchema, actual: Catalog, expected: Catalog) -> None:
    """Foreign-key targets must exist with the shape the new tables rely on."""
    for name in schema.references:
        want = expected.tables[name]
        have = actual.tables.get(name)
        if have is None:
            decision.problems.append(f"table {name}, which revision {schema.revision}'s tables reference, "
                                     "does not exist")
            continue
        for col in want.columns:
            got = have.column(col.name)
            if got is None or got.type != col.type:
                found = "missing" if got is None else got.type
                decision.problems.append(f"{name}.{col.name} is referenced as {col.type}: found {found}")
        if want.primary_key is not None and have.primary_key != want.primary_key:
            decision.problems.append(f"{name}: primary key expected {_key(want.primary_key)}, "
                                     f"found {_key(have.primary_key)}")


def _key(key: Unique | None) -> str:
    return "none" if key is None else f"{key.name} ({', '.join(key.columns)})"


def _decide_creates(decision: Decision, conn: Connection, schema: RevisionSchema, actual: Catalog,
                    expected: Catalog) -> None:
    absent = [n for n in schema.creates if n not in actual.tables]
    taken = _occupied(conn, [x for n in absent for x in _relation_names(schema.table(n))])
    for name in schema.creates:
        if name in absent:
            clash = [f"{x} (taken by {taken[x]})" for x in _relation_names(schema.table(name)) if x in taken]
            if clash:
                decision.problems.append(f"{name}: cannot be created, its names are taken: {', '.join(clash)}")
            else:
                decision.statements += ddl.create_table(schema.table(name))
                decision.created.append(f"table {name}")
            continue
        differences = diff(_only(actual.tables, name), _only(expected.tables, name))
        if differences:
            decision.problems += [f"{name}: {d.describe()}" for d in differences]
        else:
            decision.adopted.append(f"table {name}")


def _decide_extends(decision: Decision, conn: Connection, schema: RevisionSchema, actual: Catalog,
                    expected: Catalog) -> None:
    for name in schema.extends:
        stub = schema.table(name)
        have = actual.tables.get(name)
        if have is None:
            decision.problems.append(f"table {name} does not exist; revision {schema.revision} adds to it")
            continue
        want = expected.tables[name]
        differences = diff(_only({name: _subset(have, want)}, name), _only(expected.tables, name))
        refused = [d for d in differences if d.kind not in _ADDABLE]
        decision.problems += [f"{name}: {d.describe()}" for d in refused]
        adding = [d for d in differences if d.kind in _ADDABLE]
        taken = _occupied(conn, [d.object for d in adding if d.kind == DiffKind.MISSING_INDEX])
        for d in adding:
            if d.kind == DiffKind.MISSING_COLUMN:
                column = stub.c[d.object.split(".", 1)[1]]
                if not column.nullable and column.server_default is None and have.has_rows:
                    decision.problems.append(
                        f"{d.object}: a NOT NULL column without a default cannot be added to the "
                        f"{_rows(conn, name)} existing row(s) of {name}")
                    continue
                decision.statements.append(_add_column_sql(name, column))
                decision.created.append(f"column {d.object}")
            elif d.kind == DiffKind.MISSING_CHECK:
                check = next(c for c in stub.constraints if isinstance(c, sa.CheckConstraint) and c.name == d.object)
                bad = _check_violations(conn, have, stub, check) if have.has_rows else 0
                if bad:
                    decision.problems.append(
                        f"{name}: {bad} row(s) violate {d.object} CHECK ({check.sqltext}); "
                        "correct them before this revision adds the constraint")
                    continue
                decision.statements.append(ddl.add_constraint(check))
                decision.created.append(f"check {d.object} on {name}")
            else:  # missing_index
                if d.object in taken:
                    decision.problems.append(
                        f"{name}: index {d.object} cannot be created, the name is taken by {taken[d.object]}")
                    continue
                index = next(i for i in stub.indexes if i.name == d.object)
                decision.statements.append(ddl.create_index(index))
                decision.created.append(f"index {d.object} on {name}")
        touched = {d.object for d in differences}
        decision.adopted += [f"column {name}.{c.name}" for c in want.columns if f"{name}.{c.name}" not in touched]
        decision.adopted += [f"check {c.name} on {name}" for c in want.checks if c.name not in touched]
        decision.adopted += [f"index {i.name} on {name}" for i in want.indexes if i.name not in touched]


def decide(conn: Connection, schema: RevisionSchema) -> Decision:
    """Read the database and decide what ``upgrade`` would do. Writes nothing."""
    actual = inspect_database(conn, SCHEMA)
    expected = catalog_from_definition(schema.metadata, (), SCHEMA)
    decision = Decision(schema.revision)
    _check_references(decision, schema, actual, expected)
    _decide_creates(decision, conn, schema, actual, expected)
    _decide_extends(decision, conn, schema, actual, expected)
    return decision


def refusal_message(schema: RevisionSchema, problems: list[str]) -> str:
    module = f"nakamura_misaki_db.schema.frozen (revision {schema.revision})"
    lines = [f"revision {schema.revision} refused: the database already holds objects that differ from "
             f"what it creates, or rows that its constraints would reject ({len(problems)} problem(s)):"]
    lines += [f"  - {p}" for p in problems]
    lines.append(
        "Nothing was changed. An object of the same name but another shape was probably made by hand or by "
        f"the application's own ORM (create_all), not by its migrations. Compare it with {module}, bring it to "
        "that shape by hand (or drop it if it holds no rows), then rerun."
    )
    return "\n".join(lines)


def upgrade(conn: Connection, schema: RevisionSchema) -> list[str]:
    """Apply ``schema``'s revision, or raise ``Refused`` having changed nothing.

    Returns the statements it ran: empty when every object was already there
    (adopted), which is what makes re-running a revision a no-op.
    """
    decision = decide(conn, schema)
    if decision.problems:
        raise Refused(refusal_message(schema, decision.problems))
    for sql in decision.statements:
        run_sql(conn, sql)
    return decision.statements


def _exists(conn: Connection, table: str) -> bool:
    return conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": ident(SCHEMA, table)}) is not None


def _present_columns(conn: Connection, table: str, names: list[str]) -> list[str]:
    return list(conn.execute(sa.text(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = CAST(:t AS regclass)"
        " AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(:names) ORDER BY a.attnum"
    ), {"t": ident(SCHEMA, table), "names": names}).scalars())


def downgrade_statements(schema: RevisionSchema) -> list[str]:
    """Idempotent drops, additions to existing tables first, then created tables in reverse FK order."""
    out: list[str] = []
    for name in schema.extends:
        stub = schema.table(name)
        out += [f"DROP INDEX IF EXISTS {ident(SCHEMA, str(i.name))}"
                for i in sorted(stub.indexes, key=lambda i: str(i.name))]
        out += [f"ALTER TABLE IF EXISTS {ident(SCHEMA, name)} DROP CONSTRAINT IF EXISTS {ident(str(c.name))}"
                for c in stub.constraints if isinstance(c, sa.CheckConstraint)]
        out += [f"ALTER TABLE IF EXISTS {ident(SCHEMA, name)} DROP COLUMN IF EXISTS {ident(c.name)}"
                for c in reversed(list(stub.columns))]
    out += [f"DROP TABLE IF EXISTS {ident(SCHEMA, name)}" for name in reversed(schema.creates)]
    return out


def _rows_holding_values(conn: Connection, table: str, column: sa.Column) -> int:
    default = _default_text(column)
    col = ident(column.name)
    condition = f"{col} IS DISTINCT FROM ({default})" if default is not None else f"{col} IS NOT NULL"
    sql = f"SELECT count(*) FROM {ident(SCHEMA, table)} WHERE {condition}"
    return int(conn.scalar(sa.text(sql.replace(":", "\\:"))) or 0)


def _default_text(column: sa.Column) -> str | None:
    arg = getattr(column.server_default, "arg", None)
    if arg is None:
        return None
    return arg.text if isinstance(arg, sa.sql.elements.TextClause) else str(arg)


def downgrade(conn: Connection, schema: RevisionSchema, *, allow_data_loss: bool = False) -> list[str]:
    """Drop what ``schema``'s revision added; refuse (nothing changed) to lose rows unless allowed."""
    if not allow_data_loss:
        losses: list[str] = []
        for name in schema.extends:
            if not _exists(conn, name):
                continue
            present = set(_present_columns(conn, name, [c.name for c in schema.table(name).columns]))
            for column in schema.table(name).columns:
                if column.name not in present:
                    continue
                # Only a value other than what the column would be without it is data to lose.
                n = _rows_holding_values(conn, name, column)
                if n:
                    losses.append(f"{name}.{column.name} ({n} row(s) hold a value other than its default)")
        for name in reversed(schema.creates):
            rows = _rows(conn, name) if _exists(conn, name) else 0
            if rows:
                losses.append(f"table {name} ({rows} row(s))")
        if losses:
            raise Refused(
                f"downgrading {schema.revision} would drop data: " + "; ".join(losses)
                + ". Back it up, then rerun with `-x allow_data_loss=true`. Nothing was changed."
            )
    statements = downgrade_statements(schema)
    for sql in statements:
        run_sql(conn, sql)
    return statements


# -- offline (alembic upgrade --sql) ----------------------------------------------------------

def offline_upgrade(schema: RevisionSchema) -> list[str]:
    """Plain statements for a database at the previous revision (a comment line first)."""
    out = [
        f"-- revision {schema.revision}, offline: plain statements for a database at the previous revision "
        "(none of these objects exist yet).",
        "-- Online, this revision reads the catalog first: it adopts identical objects and refuses different ones.",
    ]
    for name in schema.creates:
        out += ddl.create_table(schema.table(name))
    for name in schema.extends:
        stub = schema.table(name)
        out += [_add_column_sql(name, c) for c in stub.columns]
        out += [ddl.add_constraint(c)
                for c in stub.constraints if isinstance(c, sa.CheckConstraint)]
        out += [ddl.create_index(i) for i in sorted(stub.indexes, key=lambda i: str(i.name))]
    return out


def offline_downgrade(schema: RevisionSchema) -> list[str]:
    return [
        f"-- revision {schema.revision} downgrade, offline: these statements drop tables and columns WITH "
        "their rows.",
        "-- Online, the downgrade refuses that unless run with -x allow_data_loss=true.",
        *downgrade_statements(schema),
    ]


def emit_offline(context: MigrationContext, lines: list[str]) -> None:
    """Write ``lines`` to an offline migration's output: comments as they are, statements terminated."""
    impl = context.impl
    for line in lines:
        if line.startswith("--"):
            impl.static_output(line)
        else:
            impl.execute(line)
