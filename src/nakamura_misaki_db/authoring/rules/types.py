"""ALTER COLUMN ... TYPE: a rewrite of the whole table under ACCESS EXCLUSIVE, or a narrowing that
rejects (or changes) stored values. Catalog-only changes (``pgtypes.catalog_only``) pass."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from alembic.operations import ops as alembic_ops
from pglast.enums import AlterTableType

from nakamura_misaki_db.authoring.rules.base import (
    ERROR,
    GUIDE,
    WARNING,
    Hazard,
    Question,
    RevisionView,
    Rule,
    shorten,
)
from nakamura_misaki_db.authoring.rules.pgtypes import PgType, catalog_only, from_node, narrows, parse
from nakamura_misaki_db.authoring.sql import alter_commands, created_tables, relation

TYPE_REWRITE = Rule(
    "type-rewrite", ERROR,
    "this type change is not catalog-only on PostgreSQL 16: the whole table and every index on it are "
    "rewritten under ACCESS EXCLUSIVE, blocking reads and writes for as long as that takes",
    f'{GUIDE} 11.5 "Changing a column\'s type"')
TYPE_NARROW = Rule(
    "type-narrow", ERROR,
    "the new type is narrower than the old one: a stored value that does not fit fails the deploy "
    "(or is silently rounded)",
    f'{GUIDE} 11.5 "Changing a column\'s type"')
RULES = (TYPE_REWRITE, TYPE_NARROW)


def compiled(type_: Any) -> PgType | None:
    """A SQLAlchemy type (an operation's ``existing_type``) as PostgreSQL spells it."""
    from sqlalchemy.dialects import postgresql

    try:
        return parse(type_.compile(dialect=postgresql.dialect()))
    except Exception:  # a type the dialect cannot compile: treated as unknown
        return None


def _declared_old(view: RevisionView, op_index: int | None, column: str) -> PgType | None:
    if op_index is None:
        return None
    op = view.parsed.capture.ops[op_index].op
    if isinstance(op, alembic_ops.AlterColumnOp) and op.column_name == column and op.existing_type is not None:
        return compiled(op.existing_type)
    return None


def check_types(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    for sql, stmt, cmd in alter_commands(parsed):
        if cmd.subtype != AlterTableType.AT_AlterColumnType:
            continue
        table, column = relation(stmt.relation), cmd.name
        if created.get(table, len(parsed.statements)) < sql.index:
            continue  # a table made in this function is empty
        obj = f"{table}.{column}"
        new = from_node(cmd.def_.typeName)
        known = view.column_type(table, column)
        old = _declared_old(view, sql.origin.op_index, column) or (parse(known) if known else None)
        using = cmd.def_.raw_default is not None
        rewrite = [Question("lock", table, column, "rewrite")]
        if old is None:
            yield Hazard(TYPE_REWRITE, obj, shorten(sql.text),
                         f"-> {new}; the old type is unknown here (give alter_column existing_type=, or lint "
                         "with --database-url), so it may rewrite or narrow", rewrite, WARNING)
            continue
        why_narrow = narrows(old, new)
        if why_narrow and not parsed.guarded(TYPE_NARROW.id, obj, sql.index):
            yield Hazard(TYPE_NARROW, obj, shorten(sql.text), f"{old} -> {new}: {why_narrow}",
                         [Question("misfits", table, column, str(new))])
        if using or not catalog_only(old, new):
            yield Hazard(TYPE_REWRITE, obj, shorten(sql.text), f"{old} -> {new}" + (" (USING)" if using else ""),
                         rewrite)


CHECKS = (check_types,)
