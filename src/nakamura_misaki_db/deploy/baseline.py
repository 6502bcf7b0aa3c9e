"""What revision 0001 runs: refuse on drift, otherwise create whatever is missing.

The database is read first and compared with the frozen 0001 definition
(``target``). Any object that exists but differs (or a legacy table beside the
target) stops the run before a single statement is written, with every
difference listed: such a database needs ``baseline-bridge``, which knows how
to reconcile it without losing data. Only additive differences are closed
here, and those that could fail on data (a unique constraint over duplicates,
a foreign key over orphans) are checked first.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.catalog.facts import count_duplicates, orphan_keys
from nakamura_misaki_db.catalog.inspect import inspect_database
from nakamura_misaki_db.catalog.state import differences_from_0001
from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.connect.errors import DriftError, Refused
from nakamura_misaki_db.diff import Difference, DiffKind, blocking
from nakamura_misaki_db.schema import ddl, target
from nakamura_misaki_db.schema.quoting import ident

BRIDGE_HINT = (
    "Nothing was changed. If this database was migrated by this chain and only lost its alembic_version row, "
    "run `nakamura-db recover-version`: it records head if the schema equals it. Otherwise it was not built by "
    "this migration chain: run `baseline-bridge plan` to see how it would be reconciled, then "
    "`baseline-bridge apply`."
)


def _data_blockers(conn: Connection, additive: list[Difference], catalog_tables: dict) -> list[Difference]:
    """Additive differences that cannot be closed because of the rows already there."""
    out: list[Difference] = []
    for d in additive:
        table = catalog_tables.get(d.table) if d.table else None
        if table is None or not table.has_rows:
            continue
        if d.kind == DiffKind.MISSING_UNIQUE:
            dups = count_duplicates(conn, d.table, list(d.expected))
            if dups.keys:
                out.append(Difference(DiffKind.DUPLICATES_BLOCK_UNIQUE, d.object, d.table, expected=d.expected,
                                      actual=f"{dups.keys} duplicated key(s)"))
        elif d.kind == DiffKind.MISSING_FOREIGN_KEY:
            fk = target.foreign_key(d.table, d.object)
            parent = fk.referred_table.name
            if parent not in catalog_tables:
                continue
            orphans = orphan_keys(conn, table, parent, [c.name for c in fk.columns],
                                  [e.column.name for e in fk.elements])
            if orphans:
                out.append(Difference(DiffKind.ORPHANS_BLOCK_FOREIGN_KEY, d.object, d.table, expected=d.expected,
                                      actual=f"orphan row(s) with key {', '.join(orphans)}"))
    return out


def format_drift(differences: list[Difference], problems: list[Difference]) -> str:
    lines = [f"the database differs from revision 0001 in {len(differences)} way(s); "
             f"{len(problems)} cannot be closed by creating what is missing:"]
    lines += [f"  - {p.describe()}" for p in problems]
    lines.append(BRIDGE_HINT)
    return "\n".join(lines)


def check(conn: Connection) -> tuple[list[Difference], list[Difference], list[Difference]]:
    """(every difference, additive differences to close, problems that forbid running 0001)."""
    catalog = inspect_database(conn, target.SCHEMA)
    differences = differences_from_0001(catalog, target.target_catalog())
    problems = blocking(differences)
    additive = [d for d in differences if d.additive]
    problems += _data_blockers(conn, additive, catalog.tables)
    return differences, additive, problems


def statements_for(d: Difference) -> list[str]:
    """The statements that close an additive difference ``d``, rendered from the frozen definition."""
    if d.kind == DiffKind.MISSING_EXTENSION:
        return [ddl.create_extension(target.extension(d.object))]
    if d.kind == DiffKind.MISSING_ENUM:
        return [ddl.create_enum(target.enum(d.object))]
    if d.kind == DiffKind.MISSING_TABLE:
        return ddl.create_table(target.table(d.object))
    if d.kind == DiffKind.MISSING_INDEX:
        return [ddl.create_index(target.index(d.object))]
    if d.kind in (DiffKind.MISSING_UNIQUE, DiffKind.MISSING_FOREIGN_KEY):
        assert d.table is not None
        return [ddl.add_constraint(target.constraint(d.table, d.object))]
    if d.kind == DiffKind.MISSING_DEFAULT:
        assert d.table is not None
        return [ddl.alter_table(d.table, [ddl.set_default(d.column, str(d.expected))])]
    raise ValueError(f"{d.kind} is not an additive difference")


def upgrade(conn: Connection) -> list[str]:
    """Bring ``conn``'s database to 0001, or raise ``DriftError`` having changed nothing.

    Returns the statements it ran (empty when everything was already there).
    """
    differences, additive, problems = check(conn)
    if problems:
        raise DriftError(format_drift(differences, problems), problems)
    ran: list[str] = []
    for d in additive:
        for sql in statements_for(d):
            try:
                with conn.begin_nested():
                    run_sql(conn, sql)
            except sa.exc.DBAPIError as exc:
                if d.kind == DiffKind.MISSING_EXTENSION:
                    refusal = extension_refusal(d.object, exc)
                    if refusal is not None:
                        raise refusal from None
                raise
            ran.append(sql)
    return ran


def extension_refusal(name: str, exc: sa.exc.DBAPIError) -> Refused | None:
    """The refusal for a CREATE EXTENSION that failed for a reason the operator fixes outside SQL:
    the role may not create it, or the server does not have it installed (no pgvector package:
    "is not available" on PostgreSQL 15+, "could not open extension control file" before)."""
    text = str(exc.orig if exc.orig is not None else exc).lower()
    if "permission denied" in text:
        return Refused(f'the "{name}" extension is missing and this role may not create it. '
                       f"Ask a superuser to run: CREATE EXTENSION {name}; then retry. Nothing was changed.")
    if "is not available" in text or "could not open extension control file" in text:
        return Refused(f'the "{name}" extension is not installed on this server (for vector: the pgvector '
                       "package; NixOS: services.postgresql.extensions = ps: [ ps.pgvector ]). Install it, "
                       f"have a superuser run CREATE EXTENSION {name}, then retry. Nothing was changed.")
    return None


def downgrade(conn: Connection, *, allow_data_loss: bool = False) -> None:
    """Drop what 0001 created. Refuses to drop tables with rows unless told to."""
    present = [t for t in reversed(target.tables_in_order())
               if conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": ident(target.SCHEMA, t.name)})]
    if not allow_data_loss:
        full = [t.name for t in present
                if conn.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {ident(target.SCHEMA, t.name)})"))]
        if full:
            raise Refused(
                "downgrading 0001 would drop tables that hold rows: " + ", ".join(full)
                + ". Back them up, then rerun with `alembic -x allow_data_loss=true downgrade base`. "
                "Nothing was changed."
            )
    for t in present:
        run_sql(conn, f"DROP TABLE {ident(target.SCHEMA, t.name)}")
    for enum in reversed(target.enums()):
        run_sql(conn, ddl.entity_sql(enum.to_sql_statement_drop()))
    # The vector extension stays: on production a separate superuser service
    # owns it, and other databases objects may depend on it.
