"""What a revision file may import from this package: from here, and only from here.

Revision files are frozen code: once deployed, ``alembic/versions/NNNN_*.py`` must keep
importing, and keep meaning the same, for as long as the chain exists, while the package's
internal modules move freely. So a revision imports ``nakamura_misaki_db.revision_api`` and
nothing else of ours (``nakamura-db lint`` reports any other import). Every name here stays,
with its meaning, for good; a new need is a new name.

- ``Refused``: raise it to refuse going on; every entry point exits 3 and shows the message.
  Say what was found, what to do, and that nothing was changed.
- ``PGEnum``: a PostgreSQL enum type as an alembic-utils entity (``op.create_entity``,
  ``op.replace_entity``, ``op.drop_entity``), see MIGRATION_GUIDE.md section 3.
- ``take_migration_lock(bind)``: take the run's advisory lock (and ``lock_timeout``) again after
  an ``autocommit_block()`` committed the transaction that held it (guide section 4).
- ``refuse_when(op, rule, obj, count_sql, message, allow=False)``: before a step that would lose
  data, refuse (exit 3, nothing of the revision changed) when ``count_sql`` counts any row; online
  and in ``--sql`` alike, and lint and the deploy take it as the reviewed check for ``rule obj``
  (MIGRATION_GUIDE.md section 11). ``allow=True`` (e.g. ``kw.get("allow_data_loss")`` in a
  downgrade) writes nothing.
- ``baseline_upgrade(op)`` / ``baseline_downgrade(op, **kw)``: revision ``0001`` (the guarded
  baseline, online or ``--sql``).
- ``guarded_upgrade(op, "NNNN")`` / ``guarded_downgrade(op, "NNNN", **kw)``: a revision whose
  tables, columns, CHECKs and indexes are a frozen definition (``schema/frozen/rNNNN_*.py``):
  absent objects created, identical ones adopted, different ones refused; ``--sql`` renders the
  plain statements.
"""

from __future__ import annotations

from typing import Any

from nakamura_misaki_db.connect.errors import Refused
from nakamura_misaki_db.connect.locking import take_migration_lock
from nakamura_misaki_db.schema.pg_enum import PGEnum

__all__ = [
    "PGEnum",
    "Refused",
    "baseline_downgrade",
    "baseline_upgrade",
    "guarded_downgrade",
    "guarded_upgrade",
    "refuse_when",
    "take_migration_lock",
]


def _allow_data_loss(kw: dict[str, Any]) -> bool:
    return bool(kw.get("allow_data_loss"))


def baseline_upgrade(op: Any) -> None:
    """Revision 0001's upgrade: create what is missing of the frozen baseline, refuse drift."""
    from nakamura_misaki_db.deploy import baseline, offline

    if op.get_context().as_sql:
        offline.render_baseline_upgrade(op)
        return
    baseline.upgrade(op.get_bind())


def baseline_downgrade(op: Any, **kw: Any) -> None:
    """Revision 0001's downgrade: drop the schema, refusing tables that hold rows unless allowed."""
    from nakamura_misaki_db.deploy import baseline, offline

    if op.get_context().as_sql:
        offline.refuse_baseline_downgrade()
    baseline.downgrade(op.get_bind(), allow_data_loss=_allow_data_loss(kw))


def _frozen(revision: str) -> Any:
    from nakamura_misaki_db.schema.frozen import frozen_schema

    return frozen_schema(revision)


def guarded_upgrade(op: Any, revision: str) -> None:
    """Create what the frozen definition of ``revision`` adds (adopt identical objects, refuse others)."""
    from nakamura_misaki_db.deploy import guarded

    schema = _frozen(revision)
    if op.get_context().as_sql:  # offline (--sql): no catalog to read, plain statements
        guarded.emit_offline(op.get_context(), guarded.offline_upgrade(schema))
    else:
        guarded.upgrade(op.get_bind(), schema)


def guarded_downgrade(op: Any, revision: str, **kw: Any) -> None:
    """Drop what ``revision`` added, refusing tables and columns that hold data unless allowed."""
    from nakamura_misaki_db.deploy import guarded

    schema = _frozen(revision)
    if op.get_context().as_sql:
        guarded.emit_offline(op.get_context(), guarded.offline_downgrade(schema))
    else:
        guarded.downgrade(op.get_bind(), schema, allow_data_loss=_allow_data_loss(kw))


def refuse_when(op: Any, rule: str, obj: str, count_sql: str, message: str, *, allow: bool = False) -> None:
    """Refuse the rest of this revision when ``count_sql`` (one count) is above 0 (see the module's docstring)."""
    import sqlalchemy as sa

    from nakamura_misaki_db.authoring.guards import guard_sql

    if allow:
        return
    # Colons escaped: text() would read ":name" in the SQL or the message as a bind parameter.
    op.execute(sa.text(guard_sql(rule, obj, count_sql, message).replace(":", "\\:")))
