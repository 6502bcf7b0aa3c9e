"""The Alembic environment: what ``alembic/env.py`` runs (that file only calls ``run()``).

Kept in the package, next to the deploy it serves, so the guard every ``alembic`` run goes
through is tested and mutated like the rest, and the scripts directory holds only scripts.

Where the database is: ``config.attributes["connection"]`` (tests, tools), else
``config.attributes["database_url"]``, else the one resolver every command uses
(``DATABASE_URL`` in any accepted form, else an embedded PostgreSQL).

Every run takes the migration advisory lock first (the bridge takes the same
one), then classifies the database (``catalog.state``, the same
answer ``baseline-bridge status`` gives) and refuses, changing nothing, a
database that needs the bridge or belongs to another release.

Three kinds of run never connect (so they need no server and start none): a
plain ``alembic revision`` (numbering only), ``alembic history`` without
``current``, and ``--sql`` (offline) runs, which write SQL to stdout:
``upgrade head --sql`` renders 0001 for an EMPTY database (see
``deploy.offline``) and every later revision as its own statements.
"""

from __future__ import annotations

import io
import logging
import sys
from logging.config import fileConfig

from alembic import context
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from alembic_utils.pg_extension import PGExtension
from alembic_utils.replaceable_entity import register_entities
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from nakamura_misaki_db.authoring import autogen_checks
from nakamura_misaki_db.authoring.autogen import process_revision_directives
from nakamura_misaki_db.catalog.state import DbKind, other_version_note, read_state
from nakamura_misaki_db.connect.connection import TARGET_SCHEMA, connect, describe_sql_error
from nakamura_misaki_db.connect.errors import (
    EXIT_REFUSED,
    LegacyVersionError,
    LockTimeout,
    MigrationError,
    Refused,
    refusal_from,
)
from nakamura_misaki_db.connect.locking import (
    MIGRATION_LOCK_KEY,
    hold_migration_lock,
    is_lock_timeout,
    lock_timeout_message,
    lock_timeout_setting,
    lock_wait_setting,
    release_migration_lock,
    reset_session_settings,
    set_local,
    set_session_settings,
    take_migration_lock,
)
from nakamura_misaki_db.connect.resolve import resolve_database_url
from nakamura_misaki_db.connect.urls import DatabaseUrl, redact
from nakamura_misaki_db.deploy.dataloss import planned_steps, refuse_data_loss
from nakamura_misaki_db.schema import models
from nakamura_misaki_db.schema.pg_enum import PGEnum


def _option(name: str) -> str | None:
    """A run option: ``context.config.attributes`` (callers in code), else ``-x name=value`` (the alembic CLI)."""
    value = context.config.attributes.get(name)
    if value is not None:
        return str(value)
    return context.get_x_argument(as_dictionary=True).get(name)


def _needs_no_database() -> bool:
    """Commands that run env.py (``revision_environment = true``) but read only the scripts.

    A plain ``alembic revision`` needs numbering, not a database; ``alembic history``
    lists the scripts unless asked to mark the current revision (from the CLI only:
    a programmatic ``command.history`` keeps the online path).
    """
    # `alembic revision`, from the CLI or command.revision(): the environment carries the
    # command's arguments (no public accessor; the CLI's cmd_opts are the fallback).
    environment = getattr(context, "_proxy", None)
    revision_context = getattr(environment, "context_opts", {}).get("revision_context")
    if revision_context is not None:
        return not revision_context.command_args.get("autogenerate")
    opts = context.config.cmd_opts
    cmd = getattr(opts, "cmd", None)
    if cmd is None:
        return False
    name = cmd[0].__name__
    if name == "revision":
        return not getattr(opts, "autogenerate", False)
    if name == "history":
        return not getattr(opts, "indicate_current", False) and "current" not in (getattr(opts, "rev_range", None)
                                                                                  or "")
    return False


def _record_step(ctx, step, heads, run_args) -> None:
    """``on_version_apply``: tell the caller (nakamura-init-db) which revisions this run applied."""
    sink = context.config.attributes.get("applied_steps")
    if sink is not None and step.is_upgrade:
        sink.append((tuple(step.source_revision_ids), tuple(step.destination_revision_ids)))


def _configure_kwargs() -> dict:
    return {
        "target_metadata": models.metadata,
        "process_revision_directives": process_revision_directives,
        "compare_type": True,
        "compare_server_default": True,
        # One transaction per revision (MIGRATION_GUIDE.md 11.12): a VALIDATE revision must not share
        # its ADD's lock, and a label added in one revision is usable in the next. The run's lock and
        # lock_timeout are session settings (`_run`, the offline preamble), so every revision has them.
        "transaction_per_migration": True,
        "on_version_apply": _record_step,
    }


def _guard_state(connection) -> None:
    """Refuse, in the classifier's words, a database `upgrade` must not touch; then the upgrade's preflight.

    Whatever alembic_version says, the schema must be what that revision built (``catalog.state``):
    a hand-stamped or half-built database is refused here, naming the differences and the bridge.
    """
    from nakamura_misaki_db.catalog import preflight
    from nakamura_misaki_db.catalog.inspect import inspect_database

    chain = [r.revision for r in reversed(list(context.script.walk_revisions()))]
    name, _ = _command()
    # Before the catalog is read: a standby or read-only session for a command that writes, unreadable tables.
    early = preflight.early_problems(connection, writes=name in ("upgrade", "downgrade", "do_stamp"))
    preflight.Preflight(problems=early).refuse(name.removeprefix("do_") or "alembic")
    catalog = inspect_database(connection, TARGET_SCHEMA)
    state = read_state(connection, chain=chain, catalog=catalog)
    # An upgrade (what every deploy runs) must not build on a schema that is not what its version row says.
    # A downgrade, a stamp or a read may: repairing a half-done downgrade is exactly a downgrade run again
    # over a schema that is already partly the older revision's (and the revisions' drops are IF EXISTS).
    drifted_ok = state.kind == DbKind.DRIFTED and name != "upgrade"
    if not state.alembic_may_run and not drifted_ok:
        raise LegacyVersionError(state.refusal())
    _note(*(other_version_note(name, rows) for name, rows in state.other_version_tables.items()))
    _preflight(connection, chain, state.revision, catalog)


def _note(*notes: str) -> None:
    """For the operator: nakamura-init-db prints them on stderr, the alembic CLI logs them as warnings."""
    sink = context.config.attributes.get("preflight_notes")
    for note in notes:
        if sink is not None:
            sink.append(note)
        else:
            logging.getLogger("alembic.runtime.migration").warning(note)


def _command() -> tuple[str, object]:
    """The running command's name (``upgrade``, ``downgrade``, ``stamp``, ``current``...) and its target."""
    environment = getattr(context, "_proxy", None)
    opts = getattr(environment, "context_opts", {})
    fn = opts.get("fn")
    return getattr(fn, "__name__", ""), opts.get("destination_rev")


def _pending(chain: list[str], current: str | None, destination: object) -> list[str]:
    """The revisions an upgrade from ``current`` to ``destination`` runs (all that remain when in doubt)."""
    remaining = chain[chain.index(current) + 1:] if current in chain else list(chain)
    target = str(destination) if isinstance(destination, str) else None
    if target in ("head", "heads") or target is None:
        return remaining
    try:
        resolved = context.script.get_revision(target)
    except Exception:
        return remaining
    if resolved is None or resolved.revision not in remaining:
        return [] if resolved is not None and resolved.revision in chain else remaining
    return remaining[: remaining.index(resolved.revision) + 1]


def _preflight(connection, chain: list[str], current: str | None, catalog) -> None:
    """Before anything is written: a standby or a read-only session is refused for any command that writes,
    and an upgrade's needs (``deploy.needs``, from the revisions it runs) are checked in full."""
    from nakamura_misaki_db.catalog import preflight
    from nakamura_misaki_db.deploy.needs import upgrade_needs

    name, destination = _command()
    if name != "upgrade":
        return  # current, check, history --indicate-current: they only read
    pending = _pending(chain, current, destination)
    if not pending:
        return
    allowed = tuple(t for t in (_option("allow_event_trigger") or "").split(",") if t)
    checked = preflight.check(connection, upgrade_needs(pending, catalog), refuse_clients=False,
                              allowed_triggers=allowed)
    checked.refuse(f"upgrade to {pending[-1]}")
    _note(*checked.notes())


def _run(connection) -> None:
    # Wait for the lock outside the migration's transaction (see hold_migration_lock: a long
    # blocked wait inside it would deadlock with the bridge's concurrent index build). A
    # connection handed in already inside a transaction waits inside it instead.
    held = not connection.in_transaction()
    if held:
        hold_migration_lock(connection)
    try:
        if held:
            set_session_settings(connection, lock_timeout=_option("lock_timeout"), search_path=TARGET_SCHEMA)
        _run_locked(connection)
    finally:
        if held:
            reset_session_settings(connection)
            release_migration_lock(connection)


def _configure(**where) -> None:
    """``context.configure``: one transaction per revision for an upgrade of later revisions only; one for the
    whole run of a downgrade, or of an upgrade that takes any revision of the bridged chain (0001-0007).

    A downgrade stays all or nothing: it is rare, run by an operator, and a refusal in its last step
    (a guarded downgrade) must leave the database where it was, not half way down. The bridged chain's
    revisions refuse a different object in their own words, "Nothing was changed", which holds only if
    the revisions before them in the run roll back too (MIGRATION_GUIDE.md 11.12).
    """
    from nakamura_misaki_db.authoring.safety import judged

    connection = where.get("connection")
    outside = connection is not None and not connection.in_transaction()
    context.configure(**where, **_configure_kwargs())
    migration_context = context.get_context()
    try:
        run = planned_steps(migration_context)
    except (CommandError, RevisionError):
        # alembic_version names no revision of the chain (a legacy id): the state check refuses it, in its words.
        run = []
    single = any(not step.is_upgrade or not judged(step.revision.revision) for step in run)
    if outside and connection.in_transaction():
        connection.rollback()  # reading the version autobegan one: Alembic would take it for the caller's
    if single:
        context.configure(**where, **{**_configure_kwargs(), "transaction_per_migration": False})


def _run_locked(connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        take_migration_lock(connection, lock_timeout=_option("lock_timeout"))
        # Connections handed in by tools were not opened by us: pin the schema here too, so
        # alembic_version and every table land in public whatever the role's search_path says.
        # (version_table_schema is not set: autogenerate would then see alembic_version as a table.)
        set_local(connection, "search_path", TARGET_SCHEMA)
        _guard_state(connection)
        refuse_data_loss(connection, context.get_context(), allow_data_loss=_allow_data_loss())
        context.run_migrations(allow_data_loss=_allow_data_loss())


def _allow_data_loss() -> bool:
    return (_option("allow_data_loss") or "").lower() == "true"


def _from_alembic_cli() -> bool:
    """Run by the ``alembic`` command line (its parsed arguments name the command)."""
    return getattr(context.config.cmd_opts, "cmd", None) is not None


def _refused(exc: MigrationError, url: DatabaseUrl | None) -> CommandError:
    """What a MigrationError becomes; a refusal under the ``alembic`` CLI exits 3 here instead.

    The CLI turns every CommandError into exit 255; the README's contract is exit 3 for a refusal,
    as from nakamura-init-db and baseline-bridge (which read the exit code from the cause).
    """
    message = redact(str(exc), url)
    if isinstance(exc, Refused) and _from_alembic_cli():
        print(f"refused: {message}", file=sys.stderr)
        raise SystemExit(EXIT_REFUSED)
    return CommandError(message)


def _database_url() -> DatabaseUrl:
    given = context.config.attributes.get("database_url")
    if given is not None:
        return DatabaseUrl.of(given)
    return resolve_database_url(None)


def run_migrations_online() -> None:
    given = context.config.attributes.get("connection")
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
        raise _refused(exc, url) from exc
    except SQLAlchemyError as exc:
        refusal = refusal_from(exc)  # raised in SQL: a guard (refuse_when) or PGEnum's rebuild
        if refusal is not None:
            raise _refused(refusal, url) from refusal
        if is_lock_timeout(exc):
            raise CommandError(lock_timeout_message(exc, _option("lock_timeout"))) from LockTimeout(
                "lock timeout"
            )
        raise CommandError(describe_sql_error(exc, url)) from exc


def run_without_database() -> None:
    # An offline context whose SQL output goes nowhere: enough to number a new
    # script or walk the history, and it cannot reach (or start) a server.
    # Its "Generating static SQL" chatter would only confuse: nothing is generated.
    chatter = logging.getLogger("alembic.runtime.migration")
    saved = chatter.level
    chatter.setLevel(logging.WARNING)
    try:
        context.configure(url="postgresql+psycopg://", as_sql=True, output_buffer=io.StringIO(),
                          **_configure_kwargs())
        with context.begin_transaction():
            context.run_migrations()
    finally:
        chatter.setLevel(saved)


def run_migrations_offline() -> None:
    """``--sql``: write the SQL of the requested steps; never connect.

    The script takes the same advisory lock and lock timeouts as an online run,
    so it serialises with deploys when someone pipes it into psql, and pins the
    schema as every online connection does.
    """
    # paramstyle "named": with psycopg's "format" style the compiler would double
    # every '%' (PL/pgSQL format('%I')), which psql would then run as written.
    _configure(url="postgresql+psycopg://", literal_binds=True, dialect_opts={"paramstyle": "named"})
    try:
        wait = lock_wait_setting()
        timeout = lock_timeout_setting(_option("lock_timeout"))
        # Session settings, before the first revision's BEGIN: each revision is its own
        # transaction, and these must hold for all of them (a SET LOCAL would end at the first
        # COMMIT). psql ending, or failing with ON_ERROR_STOP, ends the session and the lock.
        context.execute(f"SET search_path = {TARGET_SCHEMA}")
        context.execute(f"SET lock_timeout = '{wait}'")  # validated durations: no quoting issue
        context.execute(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
        context.execute(f"SET lock_timeout = '{timeout}'")
        with context.begin_transaction():
            context.run_migrations(allow_data_loss=_allow_data_loss())
        context.execute(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
    except MigrationError as exc:
        raise _refused(exc, None) from exc


def run() -> None:
    """What ``alembic/env.py`` runs, every time Alembic loads it (``context`` is that run's)."""
    # alembic.ini's [loggers] section, so the CLI reports each step ("Running upgrade
    # 0001 -> 0002"). Installed use (nakamura-init-db) builds its Config without an
    # ini file and keeps its own quiet logging; a program that configured logging
    # itself can opt out with config.attributes["configure_logger"] = False.
    # disable_existing_loggers=False: other modules' loggers keep working.
    if context.config.config_file_name is not None and context.config.attributes.get("configure_logger", True):
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)

    # Name the entity classes explicitly: alembic-utils only compares the classes in
    # its registry's allowed types, and what it allows by default depends on its
    # release and on what happens to be imported.
    register_entities(list(models.ENTITIES), entity_types=[PGEnum, PGExtension])
    autogen_checks.register()  # autogenerate / `alembic check` compare CHECK constraints too

    if _needs_no_database():
        run_without_database()
    elif context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
