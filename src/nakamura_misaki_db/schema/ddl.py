"""Every SQL statement the project writes, rendered in one place.

Two sources, one rule (``quoting``):

- objects of a frozen definition (tables, indexes, constraints, enum types,
  the extension) are rendered by SQLAlchemy's DDL compiler and the entities
  themselves, from the definition, so nothing here restates the schema;
- the bridge's changes to an existing database (alter a column, rename an
  enum label or an index, move a table to the archive, ...) are small
  statements built with ``quoting.ident``/``literal``, schema-qualified.

Planners decide *what* to run; this module only knows *how to spell it*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.schema import AddConstraint, CreateColumn, CreateIndex, CreateTable

from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.quoting import ident, literal

DIALECT = pg.dialect()
SCHEMA = "public"


def table_name(name: str, schema: str = SCHEMA) -> str:
    return ident(schema, name)


# -- from a definition -----------------------------------------------------------------------

def _compile(element: sa.schema.ExecutableDDLElement, schema: str = SCHEMA) -> str:
    # Definitions carry no schema; the target schema is named in the DDL itself.
    compiled = element.compile(dialect=DIALECT, schema_translate_map={None: schema}, render_schema_translate=True)
    return str(compiled).strip()


def create_table(table: sa.Table) -> list[str]:
    """CREATE TABLE with its constraints, then its indexes in name order."""
    indexes = sorted(table.indexes, key=lambda i: str(i.name))
    return [_compile(CreateTable(table))] + [create_index(ix) for ix in indexes]


def column_definition(column: sa.Column) -> str:
    """A column as ``ADD COLUMN`` spells it: name, type, default, NOT NULL."""
    return str(CreateColumn(column).compile(dialect=DIALECT)).strip()


def create_index(index: sa.Index) -> str:
    return _compile(CreateIndex(index))


def add_constraint(constraint: sa.Constraint) -> str:
    # isolate_from_table=False: the default would mark the constraint in the
    # (frozen, shared) metadata so that later CREATE TABLEs silently omit it.
    return _compile(AddConstraint(constraint, isolate_from_table=False))


def create_extension(extension: PGExtension) -> str:
    return f"CREATE EXTENSION IF NOT EXISTS {ident(extension.signature)} WITH SCHEMA {ident(extension.schema)}"


def create_enum(enum: PGEnum) -> str:
    """An idempotent DO block (PGEnum's own): creates the type only if it is missing."""
    return entity_sql(enum.to_sql_statement_create())


def replace_enum(enum: PGEnum) -> list[str]:
    return [entity_sql(s) for s in enum.to_sql_statement_create_or_replace()]


def entity_sql(clause: sa.TextClause) -> str:
    """Plain SQL of an alembic-utils statement (which escapes colons for ``text()``)."""
    return clause.text.replace("\\:", ":")


# -- columns ---------------------------------------------------------------------------------

def alter_table(table: str, clauses: Sequence[str]) -> str:
    """One ALTER TABLE with several clauses: PostgreSQL rewrites the table at most once."""
    return f"ALTER TABLE {table_name(table)} " + ", ".join(clauses)


def set_default(column: str, expression: str) -> str:
    return f"ALTER COLUMN {ident(column)} SET DEFAULT {expression}"


def drop_default(column: str) -> str:
    return f"ALTER COLUMN {ident(column)} DROP DEFAULT"


def set_not_null(column: str) -> str:
    return f"ALTER COLUMN {ident(column)} SET NOT NULL"


def drop_not_null(column: str) -> str:
    return f"ALTER COLUMN {ident(column)} DROP NOT NULL"


def alter_type(column: str, type_sql: str, *, using: str | None = None, collation: str | None = None) -> str:
    collate = f" COLLATE {ident(collation)}" if collation else ""
    return f"ALTER COLUMN {ident(column)} TYPE {type_sql}{collate}" + (f" USING {using}" if using else "")


def add_column(column: str, type_sql: str, *, default: str | None, nullable: bool) -> str:
    return (f"ADD COLUMN {ident(column)} {type_sql}" + (f" DEFAULT {default}" if default else "")
            + ("" if nullable else " NOT NULL"))


def enum_type(name: str, schema: str = SCHEMA) -> str:
    return ident(schema, name)


def map_labels(column: str, mapping: dict[str, str], enum_name: str) -> str:
    """``USING`` expression casting a text column to an enum through a label mapping."""
    col = ident(column)
    whens = " ".join(f"WHEN {literal(old)} THEN {literal(new)}" for old, new in mapping.items())
    expr = f"(CASE {col} {whens} ELSE {col} END)" if whens else col
    return f"{expr}::{enum_type(enum_name)}"


def set_timezone(zone: str) -> str:
    return f"SET LOCAL TimeZone = {literal(zone)}"


def reset_timezone() -> str:
    return "RESET TimeZone"


def set_database_timezone(database: str, zone: str) -> str:
    return f"ALTER DATABASE {ident(database)} SET TimeZone = {literal(zone)}"


def set_index_build_memory(amount: str) -> str:
    return f"SET LOCAL maintenance_work_mem = {literal(amount)}"


def set_session(name: str, value: str) -> str:
    return f"SET {name} = {literal(value)}"


def reset_session(name: str) -> str:
    return f"RESET {name}"


def create_unique_index_concurrently(table: str, name: str, columns: Sequence[str]) -> str:
    cols = ", ".join(ident(c) for c in columns)
    return f"CREATE UNIQUE INDEX CONCURRENTLY {ident(name)} ON {table_name(table)} ({cols})"


def drop_index_concurrently(name: str) -> str:
    return f"DROP INDEX CONCURRENTLY IF EXISTS {ident(SCHEMA, name)}"


def attach_unique(table: str, constraint: str, index: str) -> str:
    return f"ALTER TABLE {table_name(table)} ADD CONSTRAINT {ident(constraint)} UNIQUE USING INDEX {ident(index)}"


def fail_if(condition_sql: str, message: str) -> str:
    """A guard statement: raise ``message`` when ``condition_sql`` (a boolean query) holds."""
    return (f"DO $guard$ BEGIN IF EXISTS ({condition_sql}) THEN RAISE EXCEPTION USING MESSAGE = "
            f"{literal('baseline-bridge: ' + message)}; END IF; END $guard$")


def longer_than(table: str, column: str, length: int) -> str:
    return f"SELECT 1 FROM {table_name(table)} WHERE length({ident(column)}) > {int(length)}"


def duplicated(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(ident(c) for c in columns)
    return f"SELECT 1 FROM {table_name(table)} GROUP BY {cols} HAVING count(*) > 1"


# -- enums -----------------------------------------------------------------------------------

def rename_enum_value(enum: str, old: str, new: str) -> str:
    return f"ALTER TYPE {enum_type(enum)} RENAME VALUE {literal(old)} TO {literal(new)}"


def add_enum_value(enum: str, label: str, *, before: str | None = None, after: str | None = None) -> str:
    where = f" BEFORE {literal(before)}" if before is not None else f" AFTER {literal(after)}" if after is not None \
        else ""
    return f"ALTER TYPE {enum_type(enum)} ADD VALUE IF NOT EXISTS {literal(label)}{where}"


# -- indexes and constraints -----------------------------------------------------------------

def drop_index(name: str) -> str:
    return f"DROP INDEX {ident(SCHEMA, name)}"


def rename_index(old: str, new: str) -> str:
    return f"ALTER INDEX {ident(SCHEMA, old)} RENAME TO {ident(new)}"


def drop_constraint(table: str, name: str, schema: str = SCHEMA) -> str:
    return f"ALTER TABLE {ident(schema, table)} DROP CONSTRAINT {ident(name)}"


def add_check(table: str, name: str, expression: str) -> str:
    return f"ALTER TABLE {table_name(table)} ADD CONSTRAINT {ident(name)} CHECK ({expression})"


# -- extension -------------------------------------------------------------------------------

def move_extension(name: str, schema: str) -> str:
    return f"ALTER EXTENSION {ident(name)} SET SCHEMA {ident(schema)}"


# -- archive ---------------------------------------------------------------------------------

def create_schema(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}"


def rename_table(old: str, new: str) -> str:
    return f"ALTER TABLE {table_name(old)} RENAME TO {ident(new)}"


def set_schema(table: str, schema: str) -> str:
    return f"ALTER TABLE {table_name(table)} SET SCHEMA {ident(schema)}"


def create_archive_copy(archive_schema: str, archive_table: str, source: str) -> str:
    """A table shaped like ``source`` plus the run that moved each row there and when."""
    return (f"CREATE TABLE IF NOT EXISTS {ident(archive_schema, archive_table)} (LIKE {table_name(source)}, "
            "bridge_run_id uuid NOT NULL, archived_at timestamptz NOT NULL DEFAULT now())")


def duplicate_victims(table: str, columns: Sequence[str], keep_by: Sequence[str]) -> str:
    """The rows that lose a duplicated key: every row of a key but the first by ``keep_by`` (with their ctid).

    The one definition of "which rows move", used to count the rows of other
    tables that point at them and to move them.
    """
    src = table_name(table)
    cols = ", ".join(ident(c) for c in columns)
    part = ", ".join("c." + ident(c) for c in columns)
    order = ", ".join(f"c.{ident(c)} DESC" for c in keep_by)
    join = " AND ".join(f"c.{ident(c)} = k.{ident(c)}" for c in columns)
    return (
        f"SELECT r.row_ctid, t.* FROM (SELECT c.ctid AS row_ctid, row_number() OVER (PARTITION BY {part} "
        f"ORDER BY {order}) AS rn FROM {src} c JOIN (SELECT {cols} FROM {src} GROUP BY {cols} "
        f"HAVING count(*) > 1) k ON {join}) r JOIN {src} t ON t.ctid = r.row_ctid WHERE r.rn > 1"
    )


@dataclass(frozen=True)
class ChildArchive:
    """Rows of another table that point at moved rows and go to the archive with them (before the cascade)."""

    schema: str
    table: str
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    archive_table: str
    because: str


def move_duplicates(table: str, columns: Sequence[str], keep_by: Sequence[str], archive_schema: str,
                    archive_table: str, run_id: str, children: Sequence[ChildArchive] = ()) -> str:
    """Move the duplicate rows (``duplicate_victims``) into the archive in ONE statement, and first copy the
    rows of ``children`` that point at them (a foreign key will cascade to them at the end of the statement).

    One statement: the rows deleted are exactly the rows inserted (a CTE's
    RETURNING feeds the INSERT), so nothing can fall between the two.
    """
    src = table_name(table)
    run = f"{literal(run_id)}::uuid"
    kids = ", ".join(
        f"kid_{i} AS (INSERT INTO {ident(archive_schema, child.archive_table)} SELECT c.*, {run}, now(), "
        f"{literal(child.because)} FROM {ident(child.schema, child.table)} c WHERE "
        f"({', '.join('c.' + ident(x) for x in child.columns)}) IN "
        f"(SELECT {', '.join('v.' + ident(x) for x in child.ref_columns)} FROM victims v) RETURNING 1)"
        for i, child in enumerate(children))
    return (
        f"WITH victims AS ({duplicate_victims(table, columns, keep_by)}), "
        + (kids + ", " if kids else "")
        + f"moved AS (DELETE FROM {src} t USING victims v WHERE t.ctid = v.row_ctid RETURNING t.*) "
        f"INSERT INTO {ident(archive_schema, archive_table)} SELECT moved.*, {run}, now() FROM moved"
    )


def create_child_archive(archive_schema: str, child: ChildArchive) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {ident(archive_schema, child.archive_table)} "
            f"(LIKE {ident(child.schema, child.table)}, bridge_run_id uuid NOT NULL, "
            "archived_at timestamptz NOT NULL DEFAULT now(), archived_because text NOT NULL)")


def lock_against_writers(schema: str, table: str) -> str:
    """Readers go on; writers wait until commit (so no new row can slip past a copy made just before)."""
    return f"LOCK TABLE {ident(schema, table)} IN SHARE MODE"


# -- views kept working around an ALTER ------------------------------------------------------

def drop_view(schema: str, name: str, *, materialized: bool = False) -> str:
    return f"DROP {'MATERIALIZED VIEW' if materialized else 'VIEW'} {ident(schema, name)}"


def recreate_view(schema: str, name: str, definition: str, options: Sequence[str], owner: str,
                  grants: Sequence[tuple[str, str, bool]], comment: str | None, current_user: str) -> list[str]:
    """The view exactly as it was: definition, options, owner, grants, comment."""
    with_options = f" WITH ({', '.join(options)})" if options else ""
    body = definition.strip().rstrip(";")
    sql = [f"CREATE VIEW {ident(schema, name)}{with_options} AS {body}"]
    if owner != current_user:
        sql.append(f"ALTER VIEW {ident(schema, name)} OWNER TO {ident(owner)}")
    for grantee, privilege, grantable in grants:
        who = "PUBLIC" if grantee == "PUBLIC" else ident(grantee)
        sql.append(f"GRANT {privilege} ON {ident(schema, name)} TO {who}" + (" WITH GRANT OPTION" if grantable else ""))
    if comment is not None:
        sql.append(f"COMMENT ON VIEW {ident(schema, name)} IS {literal(comment)}")
    return sql


# -- version table ---------------------------------------------------------------------------

def create_version_table() -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table_name('alembic_version')} (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")


def record_version(revision: str) -> list[str]:
    return [create_version_table(), f"DELETE FROM {table_name('alembic_version')}",
            f"INSERT INTO {table_name('alembic_version')} (version_num) VALUES ({literal(revision)})"]
