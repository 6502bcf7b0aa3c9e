"""What revision 0001 runs: refuse on drift, otherwise create whatever is missing.

The database is read first and compared with the frozen 0001 definition. Any
object that exists but differs (or a legacy table beside the target) stops
the run before a single statement is written, with every difference listed:
such a database needs ``baseline-bridge``, which knows how to reconcile it
without losing data. Only additive differences are closed here, and those
that could fail on data (a unique constraint over duplicates, a foreign key
over orphans) are checked first.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import baseline_0001 as frozen
from .catalog import Catalog, catalog_from_definition, inspect_database
from .ddl import create_statements, quote, run_sql
from .drift import Difference, blocking, diff
from .errors import DriftError, Refused

BRIDGE_HINT = (
    "Nothing was changed. This database was not built by this migration chain: "
    "run `baseline-bridge plan` to see how it would be reconciled, then `baseline-bridge apply`."
)


def target_catalog() -> Catalog:
    """The frozen 0001 definition, as a catalog."""
    return catalog_from_definition(frozen.metadata, frozen.ENTITIES, frozen.SCHEMA)


def _data_blockers(conn: Connection, differences: list[Difference]) -> list[Difference]:
    """Additive differences that cannot be closed because of the rows already there."""
    out: list[Difference] = []
    for d in differences:
        if d.kind == "missing_unique" and d.table:
            cols = ", ".join(quote(c) for c in d.expected)
            dup = conn.scalar(sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(d.table)} GROUP BY {cols}"
                " HAVING count(*) > 1) AS dups"
            ))
            if dup:
                out.append(Difference("duplicates_block_unique", d.object, d.table,
                                      expected=d.expected, actual=f"{dup} duplicated key(s)"))
        elif d.kind == "missing_foreign_key" and d.table:
            fk = frozen.metadata.tables[d.table].foreign_key_constraints
            constraint = next(c for c in fk if c.name == d.object)
            cond = " AND ".join(
                f"c.{quote(col.name)} = p.{quote(el.column.name)}"
                for col, el in zip(constraint.columns, constraint.elements, strict=True)
            )
            notnull = " AND ".join(f"c.{quote(col.name)} IS NOT NULL" for col in constraint.columns)
            orphans = conn.scalar(sa.text(
                f"SELECT count(*) FROM {quote(d.table)} c WHERE {notnull} AND NOT EXISTS "
                f"(SELECT 1 FROM {quote(constraint.referred_table.name)} p WHERE {cond})"
            ))
            if orphans:
                out.append(Difference("orphans_block_foreign_key", d.object, d.table,
                                      expected=d.expected, actual=f"{orphans} orphan row(s)"))
    return out


def format_drift(problems: list[Difference]) -> str:
    lines = [f"the database differs from revision 0001 in {len(problems)} way(s):"]
    lines += [f"  - {p.describe()}" for p in problems]
    lines.append(BRIDGE_HINT)
    return "\n".join(lines)


def check(conn: Connection) -> tuple[list[Difference], list[Difference]]:
    """(additive differences to close, problems that forbid running 0001)."""
    differences = diff(inspect_database(conn, frozen.SCHEMA), target_catalog())
    problems = blocking(differences)
    additive = [d for d in differences if d.additive]
    problems += _data_blockers(conn, additive)
    return additive, problems


def upgrade(conn: Connection) -> list[str]:
    """Bring ``conn``'s database to 0001, or raise ``DriftError`` having changed nothing.

    Returns the statements it ran (empty when everything was already there).
    """
    additive, problems = check(conn)
    if problems:
        raise DriftError(format_drift(problems), problems)
    ran: list[str] = []
    for d in additive:
        for sql in create_statements(d, frozen.metadata, frozen.ENTITIES):
            try:
                with conn.begin_nested():
                    run_sql(conn, sql)
            except sa.exc.ProgrammingError as exc:
                if d.kind == "missing_extension" and "permission denied" in str(exc).lower():
                    raise Refused(
                        f'the "{d.object}" extension is missing and this role may not create it. '
                        f"Ask a superuser to run: CREATE EXTENSION {d.object}; then retry. "
                        "Nothing was changed."
                    ) from None
                raise
            ran.append(sql)
    return ran


def downgrade(conn: Connection, *, allow_data_loss: bool = False) -> None:
    """Drop what 0001 created. Refuses to drop tables with rows unless told to."""
    present = [t for t in reversed(frozen.metadata.sorted_tables)
               if conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"public.{quote(t.name)}"})]
    if not allow_data_loss:
        full = [t.name for t in present
                if conn.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {quote(t.name)})"))]
        if full:
            raise Refused(
                "downgrading 0001 would drop tables that hold rows: " + ", ".join(full)
                + ". Back them up, then rerun with `-x allow_data_loss=true`. Nothing was changed."
            )
    for t in present:
        run_sql(conn, f"DROP TABLE {quote(t.name)}")
    for enum in reversed(frozen.ENUMS):
        run_sql(conn, f"DROP TYPE IF EXISTS {quote(enum.schema)}.{quote(enum.signature)}")
    # The vector extension stays: on production a separate superuser service
    # owns it, and other databases objects may depend on it.
