"""Alembic environment for nakamura-misaki.

Where the database is: ``config.attributes["connection"]`` (tests, tools), else
``config.attributes["database_url"]``, else the one resolver every command uses
(``DATABASE_URL`` in any accepted form, else an embedded PostgreSQL).

Every run takes the migration advisory lock first (the bridge takes the same
one), then classifies the database (``nakamura_misaki_db.dbstate``, the same
answer ``baseline-bridge status`` gives) and refuses, changing nothing, a
database that needs the bridge or belongs to another release.
"""

from __future__ import annotations

import io

from alembic import context
from alembic.util import CommandError
from alembic_utils.pg_extension import PGExtension
from alembic_utils.replaceable_entity import register_entities
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nakamura_misaki_db import autogen_checks, models
from nakamura_misaki_db.catalog import inspect_database
from nakamura_misaki_db.db import TARGET_SCHEMA, connect, describe_sql_error
from nakamura_misaki_db.dbstate import classify
from nakamura_misaki_db.errors import LegacyVersionError, LockTimeout, MigrationError
from nakamura_misaki_db.locking import is_lock_timeout, lock_timeout_message, set_local, take_migration_lock
from nakamura_misaki_db.numbering import number_new_revision
from nakamura_misaki_db.pg_enum import PGEnum
from nakamura_misaki_db.target import target_catalog
from nakamura_misaki_db.urls import DatabaseUrl, redact, resolve_database_url

config = context.config
target_metadata = models.metadata

# Name the entity classes explicitly: alembic-utils only compares the classes in
# its registry's allowed types, and what it allows by default depends on its
# release and on what happens to be imported.
register_entities(list(models.ENTITIES), entity_types=[PGEnum, PGExtension])
autogen_checks.register()  # autogenerate / `alembic check` compare CHECK constraints too


def _option(name: str) -> str | None:
    """A run option: ``config.attributes`` (callers in code), else ``-x name=value`` (the alembic CLI)."""
    value = config.attributes.get(name)
    if value is not None:
        return str(value)
    return context.get_x_argument(as_dictionary=True).get(name)


def _is_plain_revision() -> bool:
    """`alembic revision` without --autogenerate needs numbering, not a database."""
    opts = config.cmd_opts
    return getattr(opts, "cmd", None) is not None and opts.cmd[0].__name__ == "revision" and not getattr(
        opts, "autogenerate", False
    )


def _record_step(ctx, step, heads, run_args) -> None:
    """``on_version_apply``: tell the caller (nakamura-init-db) which revisions this run applied."""
    sink = config.attributes.get("applied_steps")
    if sink is not None and step.is_upgrade:
        sink.append((tuple(step.source_revision_ids), tuple(step.destination_revision_ids)))


def _configure_kwargs() -> dict:
    return {
        "target_metadata": target_metadata,
        "process_revision_directives": number_new_revision,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": False,
        "on_version_apply": _record_step,
    }


def _guard_state(connection) -> None:
    """Refuse, in the classifier's words, a database `upgrade` must not touch."""
    chain = [r.revision for r in reversed(list(context.script.walk_revisions()))]
    state = classify(inspect_database(connection, TARGET_SCHEMA), target_catalog(), chain)
    if not state.alembic_may_run:
        raise LegacyVersionError(state.refusal())


def _run(connection) -> None:
    context.configure(connection=connection, **_configure_kwargs())
    with context.begin_transaction():
        take_migration_lock(connection, lock_timeout=_option("lock_timeout"))
        # Connections handed in by tools were not opened by us: pin the schema here too, so
        # alembic_version and every table land in public whatever the role's search_path says.
        # (version_table_schema is not set: autogenerate would then see alembic_version as a table.)
        set_local(connection, "search_path", TARGET_SCHEMA)
        _guard_state(connection)
        context.run_migrations(allow_data_loss=(_option("allow_data_loss") or "").lower() == "true")


def _database_url() -> DatabaseUrl:
    given = config.attributes.get("database_url")
    if given is not None:
        return DatabaseUrl.of(given)
    return resolve_database_url(None)


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    url = None
    try:
        if isinstance(given, Engine):  # pytest-alembic hands over an Engine
            with given.connect() as connection:
                _run(connection)
            return
        if given is not None:
            _run(given)
            return
        url = _database_url()
        with connect(url) as connection:
            _run(connection)
    except MigrationError as exc:
        raise CommandError(redact(str(exc), url)) from exc
    except SQLAlchemyError as exc:
        if is_lock_timeout(exc):
            raise CommandError(lock_timeout_message(exc, _option("lock_timeout"))) from LockTimeout(
                "lock timeout"
            )
        raise CommandError(describe_sql_error(exc, url)) from exc


def run_plain_revision() -> None:
    # No database needed to pick the next number: an offline context whose
    # SQL output goes nowhere.
    context.configure(url="postgresql+psycopg://", as_sql=True, output_buffer=io.StringIO(),
                      **_configure_kwargs())
    with context.begin_transaction():
        context.run_migrations()


if _is_plain_revision():
    run_plain_revision()
elif context.is_offline_mode():
    raise CommandError(
        "offline (--sql) mode is not supported: revision 0001 inspects the live database"
    )
else:
    run_migrations_online()
