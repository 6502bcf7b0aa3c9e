"""Dropping tables and columns, and the rename that autogenerate writes as a create plus a drop."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

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
from nakamura_misaki_db.authoring.rules.pgtypes import from_node
from nakamura_misaki_db.authoring.sql import Parsed, alter_commands, created_tables, dotted, relation

DROP_TABLE = Rule(
    "drop-table", ERROR,
    "DROP TABLE deletes every row for good once it commits, and the running release still reads the table",
    f'{GUIDE} 11.4 "Dropping a column or a table"')
DROP_COLUMN = Rule(
    "drop-column", ERROR,
    "DROP COLUMN deletes the column's values for good once it commits, and the running release still "
    "selects the column",
    f'{GUIDE} 11.4 "Dropping a column or a table"')
RENAME_AS_DROP_CREATE = Rule(
    "rename-as-drop-create", ERROR,
    "a new table (or column) with the same columns and types as one dropped in the same revision is a "
    "rename written as create + drop: the rows (values) of the old one are lost",
    f'{GUIDE} 11.3 "Renaming a table or a column"')
RULES = (DROP_TABLE, DROP_COLUMN, RENAME_AS_DROP_CREATE)


def _columns(node: ast.CreateStmt) -> dict[str, str]:
    return {e.colname: str(from_node(e.typeName)) for e in node.tableElts or () if isinstance(e, ast.ColumnDef)}


def _table_shapes(parsed: Parsed | None) -> dict[str, dict[str, str]]:
    if parsed is None:
        return {}
    return {relation(s.node.relation): _columns(s.node) for s in parsed.statements
            if isinstance(s.node, ast.CreateStmt)}


def _added_columns(parsed: Parsed | None) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    if parsed is None:
        return out
    for _, stmt, cmd in alter_commands(parsed):
        if cmd.subtype == AlterTableType.AT_AddColumn:
            out[(relation(stmt.relation), cmd.def_.colname)] = str(from_node(cmd.def_.typeName))
    return out


def check_tables(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    new_shapes = _table_shapes(parsed)
    old_shapes = _table_shapes(view.other)
    for sql in parsed.statements:
        node = sql.node
        if not (isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE):
            continue
        for names in node.objects:
            table = dotted(names)
            if created.get(table, len(parsed.statements)) < sql.index:
                continue  # created earlier in this same function: it cannot hold rows from before
            if parsed.guarded(DROP_TABLE.id, table, sql.index):
                continue
            shape = old_shapes.get(table)
            twins = [name for name, cols in new_shapes.items() if name != table and shape and cols == shape]
            if twins:
                yield Hazard(RENAME_AS_DROP_CREATE, f"{table}->{twins[0]}", shorten(sql.text),
                             f"creates {twins[0]} and drops {table}, with the same columns and types",
                             [Question("rows", table)])
            elif view.direction == "downgrade" and table in old_shapes:
                # The downgrade of a revision that creates the table: only rows written since are lost.
                yield Hazard(DROP_TABLE, table, shorten(sql.text), "created by upgrade(): the rows written since",
                             [Question("rows", table)], WARNING)
            else:
                yield Hazard(DROP_TABLE, table, shorten(sql.text), "", [Question("rows", table)])


def check_columns(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    added_here = _added_columns(parsed)
    added_there = _added_columns(view.other)
    for sql, stmt, cmd in alter_commands(parsed):
        if cmd.subtype != AlterTableType.AT_DropColumn:
            continue
        table, column = relation(stmt.relation), cmd.name
        obj = f"{table}.{column}"
        if created.get(table, len(parsed.statements)) < sql.index or parsed.guarded(DROP_COLUMN.id, obj, sql.index):
            continue
        old_type = added_there.get((table, column)) or view.column_type(table, column)
        twins = [c for (t, c), typ in added_here.items() if t == table and c != column and old_type
                 and typ == old_type]
        if twins:
            yield Hazard(RENAME_AS_DROP_CREATE, f"{table}.{column}->{twins[0]}", shorten(sql.text),
                         f"adds {table}.{twins[0]} and drops {obj}, both {old_type}",
                         [Question("values", table, column)])
        elif view.direction == "downgrade" and (table, column) in added_there:
            yield Hazard(DROP_COLUMN, obj, shorten(sql.text), "added by upgrade(): the values written since",
                         [Question("values", table, column)], WARNING)
        else:
            yield Hazard(DROP_COLUMN, obj, shorten(sql.text), "", [Question("values", table, column)])


CHECKS = (check_tables, check_columns)
