"""SQL written ahead of time (``--sql``): what a deploy would run, without running it.

``alembic upgrade [FROM:]TO --sql`` never connects. Later revisions render
their own statements, but revision 0001 decides what to create by reading the
catalog, and offline there is no catalog. So offline, 0001 renders the whole
frozen definition (``schema.frozen.r0001_baseline``) for an EMPTY database: the extension,
the enum types (``CREATE TYPE``), then every table and index through
SQLAlchemy's DDL compiler. Later PGEnum operations start from those labels
(``pg_enum.offline``). The script says so in
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

from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.frozen import r0001_baseline as frozen
from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.pg_enum import offline as pg_enum_offline

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import TextClause

    from nakamura_misaki_db.connect.urls import DatabaseUrl

# config.attributes key: the statements 0001 should render instead of the full
# definition (nakamura-init-db --sql on a database that has part of 0001 already).
BASELINE_STATEMENTS = "nakamura_misaki_db.deploy.offline.baseline_0001_statements"

EMPTY_DATABASE_HEADER = (
    "-- Revision 0001, rendered for an EMPTY database: the whole frozen definition, with no\n"
    "-- catalog check. On a database that already has some of these objects run the\n"
    "-- online upgrade instead (it creates only what is missing and refuses drift), or ask\n"
    "-- `nakamura-init-db --sql` for the SQL that fits that database."
)


def _sql_text(sql: str) -> TextClause:
    # Colons are escaped so text() keeps them literal (PL/pgSQL ':=', '::type').
    return sa.text(sql.replace(":", "\\:"))


def baseline_0001_ddl() -> list[str]:
    """Every statement that builds revision 0001 in an empty database, in dependency order (ddl renders them)."""
    out: list[str] = []
    for entity in frozen.ENTITIES:
        if isinstance(entity, PGExtension):
            # IF NOT EXISTS: production's vector extension is created beforehand by a
            # superuser, and 0001 online leaves it be.
            out.append(ddl.create_extension(entity))
        elif isinstance(entity, PGEnum):  # static: the database is empty
            out.append(pg_enum_offline.create_type_sql(entity.schema, entity.signature, entity.labels))
        else:  # pragma: no cover - the frozen definition has only these two kinds
            raise TypeError(f"cannot render {entity!r}")
    for table in frozen.metadata.sorted_tables:  # parents before the tables that refer to them
        out += ddl.create_table(table)
    return out


def render_baseline_upgrade(operations: Any) -> None:
    """0001's ``upgrade()`` in ``--sql`` mode: write its DDL through ``op.execute``."""
    context = operations.get_context()
    config = getattr(context, "config", None)
    given = None if config is None else config.attributes.get(BASELINE_STATEMENTS)
    if given is None:
        context.impl.static_output(EMPTY_DATABASE_HEADER)
        statements: list[str] = baseline_0001_ddl()
    else:
        context.impl.static_output(
            f"-- Revision 0001 on this database: create the {len(given)} missing object(s) only\n"
            "-- (read from its catalog by nakamura-init-db --sql).")
        statements = list(given)
    for statement in statements:
        operations.execute(_sql_text(statement))
    # After 0001 the enum types hold the frozen labels (online, 0001 refuses any other):
    # later PGEnum operations in this script render static SQL from them.
    for entity in frozen.ENTITIES:
        if isinstance(entity, PGEnum):
            pg_enum_offline.remember(context, entity.schema, entity.signature, entity.labels)


def refuse_baseline_downgrade() -> None:
    raise Refused(
        "revision 0001's downgrade cannot be written as SQL ahead of time: it reads the tables "
        "first and refuses to drop rows. Run it online (alembic downgrade base); "
        "the SQL written so far is incomplete, do not run it."
    )


# -- nakamura-init-db --sql ---------------------------------------------------------


def deploy_sql(url: DatabaseUrl, lock_timeout: str | None = None) -> str:
    """The SQL ``nakamura-init-db`` would run on ``url`` now; changes nothing.

    Where the database is comes from the one classifier (``catalog.state``); a state
    a deploy refuses is refused here too, in the same words (``Refused``: exit 3).
    """
    from alembic import command

    from nakamura_misaki_db.catalog.state import DbKind, read_state
    from nakamura_misaki_db.connect.connection import connect
    from nakamura_misaki_db.connect.errors import DriftError
    from nakamura_misaki_db.deploy import baseline
    from nakamura_misaki_db.schema import revisions as migrations

    chain = migrations.chain_revisions()
    head = chain[-1]
    given: list[str] | None = None
    with connect(url) as conn, conn.begin() as transaction:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # whatever happens below, nothing is written
        state = read_state(conn, chain=chain)
        if not state.alembic_may_run:
            raise Refused(state.refusal())
        if state.kind in (DbKind.UNVERSIONED, DbKind.LEGACY):
            differences, additive, problems = baseline.check(conn)
            if problems:
                raise DriftError(baseline.format_drift(differences, problems), problems)
            given = [sql for d in additive for sql in baseline.statements_for(d)]
        # The enum labels as they are, so later PGEnum operations render static SQL.
        enum_labels = {(e.schema, e.signature): e.labels for e in PGEnum.from_database(conn)}
        transaction.rollback()

    shown = url.masked()
    if state.kind == DbKind.NEW_CHAIN and state.revision == head:
        return f"-- {shown} is at head {head}: a deploy would run nothing.\n"
    buffer = io.StringIO()
    cfg = migrations.alembic_config(url)
    cfg.output_buffer = buffer
    if lock_timeout is not None:
        cfg.attributes["lock_timeout"] = lock_timeout
    if given is not None:
        cfg.attributes[BASELINE_STATEMENTS] = given
    cfg.attributes[pg_enum_offline.KNOWN_LABELS] = enum_labels
    start = state.revision if state.kind == DbKind.NEW_CHAIN else None
    command.upgrade(cfg, f"{start}:head" if start else "head", sql=True)
    where = f"at revision {start}" if start else (
        "empty" if given is None else "without alembic_version, holding part of revision 0001")
    return f"-- What a deploy would run on {shown} ({where}), up to head {head}. Nothing has been run.\n" \
        + buffer.getvalue()
