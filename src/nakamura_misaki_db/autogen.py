"""What env.py does to every new revision before Alembic writes it.

1. Number it (``numbering.number_new_revision``).
2. Make autogenerate's table, index and column operations idempotent: Alembic
   can render ``if_not_exists=True`` / ``if_exists=True`` on them, and every
   revision here must survive a second run (a lost version row, a deploy
   killed between the DDL and the stamp). Constraints have no such flag in
   PostgreSQL: autogenerate leaves them as they are and ``lint`` asks for a
   catalog check around them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alembic.operations import ops

from .numbering import number_new_revision

_IF_NOT_EXISTS = (ops.CreateTableOp, ops.CreateIndexOp, ops.AddColumnOp)
_IF_EXISTS = (ops.DropTableOp, ops.DropIndexOp, ops.DropColumnOp, ops.DropConstraintOp)


def _walk(operations: Iterable[Any]) -> Iterable[Any]:
    for op in operations:
        yield op
        if isinstance(op, ops.OpContainer):
            yield from _walk(op.ops)


def make_idempotent(directives: list[Any]) -> None:
    for script in directives:
        containers = [*getattr(script, "upgrade_ops_list", []), *getattr(script, "downgrade_ops_list", [])]
        for op in _walk(containers):
            if isinstance(op, _IF_NOT_EXISTS):
                op.if_not_exists = True
            elif isinstance(op, _IF_EXISTS):
                op.if_exists = True


def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
    number_new_revision(context, revision, directives)
    make_idempotent(directives)
