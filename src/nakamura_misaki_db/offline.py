"""SQL written ahead of time (``--sql``): what a deploy would run, without running it.

``alembic upgrade [FROM:]TO --sql`` never connects. Later revisions render
their own statements, but revision 0001 decides what to create by reading the
catalog, and offline there is no catalog. So offline, 0001 renders the whole
frozen definition (``baseline_0001``) for an EMPTY database: the extension,
the enum types through the PGEnum entities' own (idempotent) statements, then
every table and index through SQLAlchemy's DDL compiler. The script says so in
a comment at the top of 0001's part. The online path (guard, then create what
is missing) is unchanged.

``nakamura-init-db --sql`` does connect, read-only, to tell where the database
is (see :func:`deploy_sql`), then renders exactly what a deploy would run from
there, or refuses (exit 3) a database that needs ``baseline-bridge``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic_utils.pg_extension import PGExtension
from sqlalchemy.engine import URL
from sqlalchemy.schema import CreateIndex, CreateTable

from . import baseline_0001 as frozen
from .errors import Refused
from .pg_enum import PGEnum, quote_ident

if TYPE_CHECKING:
    from sqlalchemy.sql.ddl import ExecutableDDLElement
    from sqlalchemy.sql.elements import TextClause

# config.attributes key: the statements 0001 should render instead of the full
# definition (nakamura-init-db --sql on a database that has part of 0001 already).
BASELINE_STATEMENTS = "nakamura_misaki_db.offline.baseline_0001_statements"

EMPTY_DATABASE_HEADER = (
    "-- Revision 0001, rendered for an EMPTY database: the whole frozen definition, with no\n"
    "-- catalog check. On a database that already has some of these objects run the\n"
    "-- online upgrade instead (it creates only what is missing and refuses drift), or ask\n"
    "-- `nakamura-init-db --sql` for the SQL that fits that database."
)


def _sql_text(sql: str) -> TextClause:
    # Colons are escaped so text() keeps them literal (PL/pgSQL ':=', '::type').
    return sa.text(sql.replace(":", "\\:"))


def baseline_0001_ddl() -> list[ExecutableDDLElement | TextClause]:
    """Every statement that builds revision 0001 in an empty database, in dependency order."""
    out: list[Any] = []
    for entity in frozen.ENTITIES:
        if isinstance(entity, PGExtension):
            # PGExtension's own statement has no IF NOT EXISTS; production's vector
            # extension is created beforehand by a superuser, and 0001 online leaves it be.
            out.append(_sql_text(
                f"CREATE EXTENSION IF NOT EXISTS {quote_ident(entity.signature)} "
                f"WITH SCHEMA {quote_ident(entity.schema)}"))
        elif isinstance(entity, PGEnum):
            out.append(entity.to_sql_statement_create())  # creates the type only if missing
        else:  # pragma: no cover - the frozen definition has only these two kinds
            raise TypeError(f"cannot render {entity!r}")
    for table in frozen.metadata.sorted_tables:  # parents before the tables that refer to them
        out.append(CreateTable(table))
        out += [CreateIndex(ix) for ix in sorted(table.indexes, key=lambda ix: str(ix.name))]
    return out


def render_baseline_upgrade(operations: Any) -> None:
    """0001's ``upgrade()`` in ``--sql`` mode: write its DDL through ``op.execute``."""
    context = operations.get_context()
    config = getattr(context, "config", None)
    given = None if config is None else config.attributes.get(BASELINE_STATEMENTS)
    if given is None:
        context.impl.static_output(EMPTY_DATABASE_HEADER)
        statements: list[Any] = baseline_0001_ddl()
    else:
        context.impl.static_output(
            f"-- Revision 0001 on this database: create the {len(given)} missing object(s) only\n"
            "-- (read from its catalog by nakamura-init-db --sql).")
        statements = [_sql_text(sql) for sql in given]
    for statement in statements:
        operations.execute(statement)


def refuse_baseline_downgrade() -> None:
    raise Refused(
        "revision 0001's downgrade cannot be written as SQL ahead of time: it reads the tables "
        "first and refuses to drop rows. Run it online (alembic downgrade base); "
        "the SQL written so far is incomplete, do not run it."
    )


# -- nakamura-init-db --sql ---------------------------------------------------------


def _present_0001_objects(conn: sa.Connection) -> list[str]:
    """Tables and enum types of 0001 that already exist (the extension does not count)."""
    present = [t.name for t in frozen.metadata.sorted_tables
               if conn.scalar(sa.text("SELECT to_regclass(:t)"),
                              {"t": f"{quote_ident(frozen.SCHEMA)}.{quote_ident(t.name)}"})]
    present += [e.signature for e in frozen.ENUMS if conn.scalar(sa.text(
        "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        " WHERE n.nspname = :s AND t.typname = :n"), {"s": e.schema, "n": e.signature})]
    return present


def deploy_sql(url: URL, lock_timeout: str | None = None) -> str:
    """The SQL ``nakamura-init-db`` would run on ``url`` now; changes nothing.

    Raises ``Refused`` for a database that needs ``baseline-bridge`` (legacy
    revision id, or objects that differ from 0001) and ``MigrationError`` for a
    revision this release does not know.
    """
    import argparse

    from alembic import command

    from . import baseline, migrations
    from .db import connect
    from .ddl import create_statements
    from .errors import DriftError, LegacyVersionError, MigrationError
    from .legacy_chain import legacy_ids_in
    from .urls import masked
    from .version_table import read_version

    head = migrations.head_revision()
    given: list[str] | None = None
    with connect(url) as conn, conn.begin() as transaction:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # whatever happens below, nothing is written
        version = read_version(conn)
        legacy = legacy_ids_in(version)
        if legacy:
            raise LegacyVersionError(
                f"alembic_version holds '{legacy[0]}', a revision of the retired legacy chain: this database "
                "needs `baseline-bridge plan` and `baseline-bridge apply` first, not a deploy. Nothing was changed."
            )
        if version:
            unknown = sorted(set(version) - migrations.known_revisions())
            if unknown:
                raise MigrationError(
                    f"the database is at revision {', '.join(unknown)}, which this release does not know "
                    f"(newest here: {head}); it was probably migrated by a newer release. Nothing was changed.")
        else:
            additive, problems = baseline.check(conn)
            if problems:
                raise DriftError(baseline.format_drift(problems), problems)
            if _present_0001_objects(conn):
                given = [sql for d in additive for sql in create_statements(d, frozen.metadata, frozen.ENTITIES)]
        transaction.rollback()

    shown = masked(url)
    if version == (head,):
        return f"-- {shown} is at head {head}: a deploy would run nothing.\n"
    buffer = io.StringIO()
    cfg = migrations.alembic_config(url)
    cfg.output_buffer = buffer
    if lock_timeout is not None:
        cfg.cmd_opts = argparse.Namespace(x=[f"lock_timeout={lock_timeout}"])
    if given is not None:
        cfg.attributes[BASELINE_STATEMENTS] = given
    start = ",".join(version) if version else None
    command.upgrade(cfg, f"{start}:head" if start else "head", sql=True)
    where = f"at revision {start}" if start else (
        "empty" if given is None else "without alembic_version, holding part of revision 0001")
    return f"-- What a deploy would run on {shown} ({where}), up to head {head}. Nothing has been run.\n" \
        + buffer.getvalue()
