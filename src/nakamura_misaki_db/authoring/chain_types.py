"""The type each column has at a point of the chain, read from the chain's own rendered SQL.

A rule judging ``ALTER COLUMN ... TYPE`` needs the old type. ``alter_column(existing_type=...)``
gives it (autogenerate writes it); raw SQL does not. The chain knows it anyway: every revision's
upgrade, captured offline in order, creates, alters and drops the columns, so replaying those
statements (``CREATE TABLE``, ``ADD COLUMN``, ``ALTER ... TYPE``, ``DROP``, renames) gives the
type before any later statement, with no database.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from nakamura_misaki_db.authoring.rules.pgtypes import from_node
from nakamura_misaki_db.authoring.sql import Parsed, dotted, relation


class ColumnTypes:
    def __init__(self) -> None:
        self.types: dict[tuple[str, str], str] = {}

    def copy(self) -> ColumnTypes:
        other = ColumnTypes()
        other.types = dict(self.types)
        return other

    def lookup(self, table: str, column: str) -> str | None:
        return self.types.get((table, column))

    def apply(self, parsed: Parsed) -> None:
        """What the function's statements do to the columns, in order."""
        for sql in parsed.statements:
            node = sql.node
            if isinstance(node, ast.CreateStmt):
                table = relation(node.relation)
                for element in node.tableElts or ():
                    if isinstance(element, ast.ColumnDef) and element.typeName is not None:
                        self.types.setdefault((table, element.colname), str(from_node(element.typeName)))
            elif isinstance(node, ast.AlterTableStmt):
                self._alter(relation(node.relation), node.cmds or ())
            elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
                for names in node.objects:
                    self._forget(dotted(names))
            elif isinstance(node, ast.RenameStmt) and node.relation is not None:
                self._rename(node)

    def _alter(self, table: str, commands: tuple) -> None:
        for cmd in commands:
            if cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_.typeName is not None:
                self.types.setdefault((table, cmd.def_.colname), str(from_node(cmd.def_.typeName)))
            elif cmd.subtype == AlterTableType.AT_AlterColumnType:
                self.types[(table, cmd.name)] = str(from_node(cmd.def_.typeName))
            elif cmd.subtype == AlterTableType.AT_DropColumn:
                self.types.pop((table, cmd.name), None)

    def _forget(self, table: str) -> None:
        for key in [k for k in self.types if k[0] == table]:
            del self.types[key]

    def _rename(self, node: ast.RenameStmt) -> None:
        table = relation(node.relation)
        if node.renameType == ObjectType.OBJECT_TABLE:
            for (t, column), type_ in list(self.types.items()):
                if t == table:
                    del self.types[(t, column)]
                    self.types[(node.newname, column)] = type_
        elif node.renameType == ObjectType.OBJECT_COLUMN and (table, node.subname) in self.types:
            self.types[(table, node.newname)] = self.types.pop((table, node.subname))
