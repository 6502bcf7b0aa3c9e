"""What env.py does to every new revision before Alembic writes it.

1. Number it (``numbering.number_new_revision``).
2. Make autogenerate's table, index and column operations idempotent: Alembic
   can render ``if_not_exists=True`` / ``if_exists=True`` on them, and every
   revision here must survive a second run (a lost version row, a deploy
   killed between the DDL and the stamp). Constraints have no such flag in
   PostgreSQL: autogenerate leaves them as they are and ``lint`` asks for a
   catalog check around them.
3. Under ``alembic check``, list the changes one per line (``list_changes``).
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


_ENUM_DIFFS = ("create_enum", "replace_enum", "drop_enum")


def _is_check_command(context: Any) -> bool:
    """``alembic check`` from the CLI (a programmatic ``command.check`` gets only Alembic's exception)."""
    cmd = getattr(getattr(getattr(context, "config", None), "cmd_opts", None), "cmd", None)
    return bool(cmd) and getattr(cmd[0], "__name__", "") == "check"


def _flat(diffs: Iterable[Any]) -> Iterable[Any]:
    for diff in diffs:
        if isinstance(diff, list):  # a modify_* group: one line per changed attribute
            yield from diff
        else:
            yield diff


def list_changes(context: Any, directives: list[Any]) -> None:
    """``alembic check``: one line per change before Alembic's own one-line summary.

    PGEnum's ops describe themselves in words (``change enum public.task_status:
    labels (...) -> (...)``), never as their PL/pgSQL.
    """
    if not _is_check_command(context):
        return
    changes = [diff for script in directives for ops_ in getattr(script, "upgrade_ops_list", [])
               for diff in _flat(ops_.as_diffs())]
    if changes:
        context.config.print_stdout(f"{len(changes)} change(s) between the models and the migrations:")
        for diff in changes:
            if diff[0] in _ENUM_DIFFS:  # ("replace_enum", identity, "change enum ...: labels (...) -> (...)")
                context.config.print_stdout(f"  {diff[-1]}")
            else:
                context.config.print_stdout("  " + " ".join(str(part) for part in diff))


def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
    number_new_revision(context, revision, directives)
    make_idempotent(directives)
    list_changes(context, directives)
