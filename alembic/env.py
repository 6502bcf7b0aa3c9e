"""Alembic environment for nakamura-misaki.

Where the database is: ``config.attributes["connection"]`` (tests, tools), else
``config.attributes["database_url"]``, else ``DATABASE_URL`` (postgresql://,
postgres://, postgresql+psycopg:// or the application's postgresql+asyncpg://),
else an embedded PostgreSQL (pgserver) in a local data dir.

Every run takes the migration advisory lock first (the bridge takes the same
one), then refuses a database stamped with a legacy revision before Alembic
would fail with "Can't locate revision".
"""

from __future__ import annotations

import io
import sys

from alembic import context
from alembic.util import CommandError
from alembic_utils.pg_extension import PGExtension
from alembic_utils.replaceable_entity import register_entities
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nakamura_misaki_db import autogen_checks, models
from nakamura_misaki_db.catalog import read_version
from nakamura_misaki_db.db import connect, describe_sql_error
from nakamura_misaki_db.embedded import default_data_dir, embedded_database_url
from nakamura_misaki_db.errors import LegacyVersionError, LockTimeout, MigrationError
from nakamura_misaki_db.legacy_chain import legacy_ids_in
from nakamura_misaki_db.locking import is_lock_timeout, lock_timeout_message, take_migration_lock
from nakamura_misaki_db.numbering import number_new_revision
from nakamura_misaki_db.pg_enum import PGEnum
from nakamura_misaki_db.urls import redact, url_from_env

config = context.config
target_metadata = models.metadata

# Name the entity classes explicitly: alembic-utils only compares the classes in
# its registry's allowed types, and what it allows by default depends on its
# release and on what happens to be imported.
register_entities(list(models.ENTITIES), entity_types=[PGEnum, PGExtension])
autogen_checks.register()  # autogenerate / `alembic check` compare CHECK constraints too


def _x_arg(name: str) -> str | None:
    return context.get_x_argument(as_dictionary=True).get(name)


def _is_plain_revision() -> bool:
    """`alembic revision` without --autogenerate needs numbering, not a database."""
    opts = config.cmd_opts
    return getattr(opts, "cmd", None) is not None and opts.cmd[0].__name__ == "revision" and not getattr(
        opts, "autogenerate", False
    )


def _configure_kwargs() -> dict:
    return {
        "target_metadata": target_metadata,
        "process_revision_directives": number_new_revision,
        "compare_type": True,
        "compare_server_default": True,
        "transaction_per_migration": False,
    }


def _guard_legacy_version(connection) -> None:
    legacy = legacy_ids_in(read_version(connection))
    if legacy:
        raise LegacyVersionError(
            f"alembic_version holds '{legacy[0]}', a revision of the retired legacy chain; "
            "this database's schema must be reconciled before it can be migrated. "
            "Run `baseline-bridge plan`, then `baseline-bridge apply`. Nothing was changed."
        )


def _run(connection) -> None:
    context.configure(connection=connection, **_configure_kwargs())
    with context.begin_transaction():
        take_migration_lock(connection, lock_timeout=_x_arg("lock_timeout"))
        _guard_legacy_version(connection)
        context.run_migrations(allow_data_loss=(_x_arg("allow_data_loss") or "").lower() == "true")


def _database_url():
    url = config.attributes.get("database_url") or url_from_env()
    if url is None:
        url = embedded_database_url()
        print(f"DATABASE_URL is not set: using the embedded PostgreSQL in {default_data_dir()}",
              file=sys.stderr)
    return url


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
            raise CommandError(lock_timeout_message(exc, _x_arg("lock_timeout"))) from LockTimeout(
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
