"""What an ``upgrade`` needs from the role and the server, read from the revisions it will run.

Each revision's frozen definition says what it does: ``0001`` creates whatever of
its objects is missing (and adds missing indexes and defaults to the tables that
exist), ``0002`` drops two indexes of ``conversations``, and every later
``RevisionSchema`` creates tables (CREATE on ``public``, REFERENCES on the tables
they point at) or extends one (ownership of it). A revision with no frozen
definition (a data migration) is assumed to create in ``public`` and to run the
usual DDL. Every revision writes ``alembic_version``.
"""

from __future__ import annotations

from collections.abc import Sequence

from nakamura_misaki_db.catalog.needs import Needs
from nakamura_misaki_db.schema.frozen import LATER_REVISIONS
from nakamura_misaki_db.schema.frozen import r0002_drop_redundant_indexes as r0002
from nakamura_misaki_db.schema.shapes import Catalog

_GENERIC_COMMANDS = {"CREATE TABLE", "ALTER TABLE", "CREATE INDEX", "DROP INDEX", "CREATE TYPE", "ALTER TYPE"}


def _q(name: str) -> str:
    return f"public.{name}"


def revision_needs(revision: str, catalog: Catalog) -> Needs:
    """What ``revision`` needs on a database whose catalog (before the run) is ``catalog``."""
    from nakamura_misaki_db.schema.target import REVISION, target_catalog

    needs = Needs()
    if revision == REVISION:
        target = target_catalog()
        needs.create_in.add("public")
        needs.commands |= {"CREATE TABLE", "CREATE INDEX", "CREATE TYPE", "ALTER TABLE"}
        for name in target.tables:
            if name in catalog.tables:  # it may add a missing index, default or constraint there
                needs.own_tables.add(_q(name))
                needs.reads.add(_q(name))
                needs.lock(_q(name), "ACCESS EXCLUSIVE")
        needs.extensions |= {e for e in target.extensions if e not in catalog.extensions}
        if needs.extensions:
            needs.commands.add("CREATE EXTENSION")
        return needs
    if revision == r0002.REVISION:
        for table in r0002.DROPS:
            if table in catalog.tables:
                needs.own_tables.add(_q(table))
                needs.lock(_q(table), "ACCESS EXCLUSIVE")
        needs.commands.add("DROP INDEX")
        return needs
    schema = next((s for s in LATER_REVISIONS if s.revision == revision), None)
    if schema is None:
        needs.create_in.add("public")
        needs.commands |= _GENERIC_COMMANDS
        return needs
    for name in schema.creates:
        if name not in catalog.tables:
            needs.create_in.add("public")
            needs.commands |= {"CREATE TABLE", "CREATE INDEX"}
        else:
            needs.reads.add(_q(name))  # adopted when identical: read, not changed
    for name in schema.extends:
        needs.own_tables.add(_q(name))
        needs.reads.add(_q(name))  # new NOT NULL columns and CHECKs are checked against its rows first
        needs.lock(_q(name), "ACCESS EXCLUSIVE")
        needs.commands |= {"ALTER TABLE", "CREATE INDEX"}
    for name in schema.references:
        if name in catalog.tables:
            needs.references.add(_q(name))
    return needs


def upgrade_needs(revisions: Sequence[str], catalog: Catalog) -> Needs:
    """Everything an upgrade through ``revisions`` (in order) needs, the version table included."""
    needs = Needs()
    for revision in revisions:
        needs.merge(revision_needs(revision, catalog))
    if revisions:
        if catalog.alembic_version is None:
            needs.create_in.add("public")
            needs.commands.add("CREATE TABLE")
        else:
            needs.grant(_q("alembic_version"), "SELECT", "INSERT", "UPDATE", "DELETE")
    return needs
