"""Lint rules: can this migration run a second time over its own result?

Every revision may meet a database where it already ran (a lost version row, a
deploy killed between the DDL and the stamp, a hand fix), so a create must
tolerate the object being there, a drop must tolerate it being gone, and a
data change must skip rows it already changed. Read with ``ast`` (the file is
never imported), so the rules see what is written, not what runs:

- ``op.drop_table/drop_index/drop_column/drop_constraint`` need ``if_exists=True``;
- ``op.create_table/create_index/add_column`` need ``if_not_exists=True``, or an
  enclosing ``if`` that checks the catalog;
- ``op.create_unique_constraint`` and the other constraint creators have no
  such flag: they need that enclosing ``if``;
- SQL strings given to ``op.execute`` (or ``.execute`` / ``.exec_driver_sql``
  on a connection): ``DROP ...`` needs ``IF EXISTS``, ``CREATE TABLE/INDEX``
  and ``ADD COLUMN`` need ``IF NOT EXISTS``, ``ADD CONSTRAINT`` needs a ``DO``
  block that checks the catalog, and ``UPDATE`` / ``DELETE`` need a ``WHERE``.

"Checks the catalog" is recognised by name (``has_table``, ``inspect``,
``pg_constraint``, ``to_regclass``, ``exists`` ...), directly in the ``if`` or in
a variable assigned from such an expression in the same function. Operations
whose own statements are idempotent (``op.create_entity``/``replace_entity``/
``drop_entity`` of PGEnum) and calls into helper modules (0001's ``baseline``)
are not op.* DDL and are not judged here: their own tests cover them.
"""

from __future__ import annotations

import ast
import re

IF_EXISTS_OPS = ("drop_table", "drop_index", "drop_column", "drop_constraint")
IF_NOT_EXISTS_OPS = ("create_table", "create_index", "add_column")
GUARD_ONLY_OPS = ("create_unique_constraint", "create_foreign_key", "create_check_constraint",
                  "create_primary_key", "create_exclude_constraint")

_CATALOG = re.compile(
    r"has_|exists|inspect|get_columns|get_indexes|get_\w*constraints?|get_foreign_keys|get_table_names"
    r"|to_reg|pg_catalog|pg_class|pg_index|pg_constraint|pg_type|pg_enum|pg_attribute|pg_namespace"
    r"|information_schema|catalog",
    re.IGNORECASE,
)

_OBJECTS = (r"MATERIALIZED\s+VIEW|TABLE|INDEX|COLUMN|CONSTRAINT|TYPE|VIEW|SEQUENCE|SCHEMA|EXTENSION"
            r"|FUNCTION|PROCEDURE|TRIGGER|DOMAIN|POLICY|RULE")
# Atomic groups (?>...): the whitespace and optional words before IF [NOT] EXISTS must not
# backtrack, or the negative lookahead would be tried one character early and always pass.
_DROP = re.compile(rf"\bDROP\s+(?:{_OBJECTS})(?>\s+(?:CONCURRENTLY\s+)?)(?!IF\s+EXISTS\b)", re.IGNORECASE)
# ALTER TABLE t DROP c: a column, with COLUMN left out.
_DROP_BARE_COLUMN = re.compile(
    r"\bALTER\s+TABLE\b.*?\bDROP(?>\s+)(?!(?:COLUMN|CONSTRAINT|DEFAULT|NOT|IF|EXPRESSION|IDENTITY)\b)\w",
    re.IGNORECASE | re.DOTALL)
_CREATE_TABLE = re.compile(
    r"\bCREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE(?>\s+)(?!IF\s+NOT\s+EXISTS\b)",
    re.IGNORECASE)
_CREATE_INDEX = re.compile(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX(?>\s+(?:CONCURRENTLY\s+)?)(?!IF\s+NOT\s+EXISTS\b)",
                           re.IGNORECASE)
_ADD_COLUMN = re.compile(r"\bADD\s+COLUMN(?>\s+)(?!IF\s+NOT\s+EXISTS\b)", re.IGNORECASE)
_ADD_CONSTRAINT = re.compile(r"\bADD\s+CONSTRAINT\b", re.IGNORECASE)
_UPDATE = re.compile(r"\bUPDATE\s+(?:ONLY\s+)?[\w.\"]+(?:\s+(?:AS\s+)?\w+)?\s+SET\b", re.IGNORECASE)
_DELETE = re.compile(r"\bDELETE\s+FROM\b", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)
# A DO block that looks before it acts: IF [NOT] EXISTS (SELECT ... FROM pg_...).
# A DO block whose IF tests the catalog with [NOT] EXISTS (...), alone or with other conditions
# ("IF {NOT_NULL_YET} AND NOT EXISTS (" in an f-string: the part before EXISTS is not literal).
_GUARDED_DO = re.compile(r"\bDO\b.*\bIF\b[^;]*?\bEXISTS\s*\(", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_PLACEHOLDER = "__value__"


def _sql_of(node: ast.expr) -> str | None:
    """The SQL text of a literal argument (str, f-string, "a" + "b", text("...")), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else _PLACEHOLDER for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sql_of(node.left), _sql_of(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Call) and node.args and _name(node.func) == "text":
        return _sql_of(node.args[0])
    return None


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_op_call(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "op":
        return func.attr
    return None


def _flag_is_true(node: ast.Call, flag: str) -> bool:
    return any(kw.arg == flag and isinstance(kw.value, ast.Constant) and kw.value.value is True
               for kw in node.keywords)


def _shorten(sql: str) -> str:
    flat = " ".join(sql.replace(_PLACEHOLDER, "...").split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


class _Checker:
    def __init__(self, tree: ast.Module) -> None:
        self.problems: list[tuple[int, str]] = []
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.tree = tree

    # -- guards -------------------------------------------------------------------

    def _catalog_names(self, function: ast.AST | None) -> set[str]:
        """Variables assigned from a catalog check, in ``function`` (or the module)."""
        scope = function or self.tree
        names: set[str] = set()
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None \
                    and _CATALOG.search(ast.unparse(node.value)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        return names

    def _guarded(self, node: ast.AST) -> bool:
        """Inside (not in the test of) an ``if`` that checks the catalog."""
        child, parent = node, self.parents.get(node)
        function = parent
        while function is not None and not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            function = self.parents.get(function)
        known = None
        while parent is not None and parent is not function:
            if isinstance(parent, ast.If) and child is not parent.test:
                test = ast.unparse(parent.test)
                if _CATALOG.search(test):
                    return True
                if known is None:
                    known = self._catalog_names(function)
                if any(isinstance(n, ast.Name) and n.id in known for n in ast.walk(parent.test)):
                    return True
            child, parent = parent, self.parents.get(parent)
        return False

    # -- rules --------------------------------------------------------------------

    def check(self) -> list[tuple[int, str]]:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            op_name = _is_op_call(node)
            if op_name in IF_EXISTS_OPS and not _flag_is_true(node, "if_exists") and not self._guarded(node):
                self._add(node, f"op.{op_name}(...) without if_exists=True fails when run a second time "
                                f"(the object is gone): pass if_exists=True")
            elif op_name in IF_NOT_EXISTS_OPS and not _flag_is_true(node, "if_not_exists") \
                    and not self._guarded(node):
                self._add(node, f"op.{op_name}(...) without if_not_exists=True fails when run a second time "
                                "(the object is there): pass if_not_exists=True, or put it under an `if` "
                                "that checks the catalog")
            elif op_name in GUARD_ONLY_OPS and not self._guarded(node):
                self._add(node, f"op.{op_name}(...) fails when run a second time (PostgreSQL has no IF NOT "
                                "EXISTS for constraints): put it under an `if` that checks pg_constraint "
                                "(MIGRATION_GUIDE.md section 1.3)")
            elif _name(node.func) in ("execute", "exec_driver_sql") and node.args:
                sql = _sql_of(node.args[0])
                if sql is not None:
                    self._check_sql(node, sql)
        return sorted(self.problems)

    def _check_sql(self, node: ast.Call, raw: str) -> None:
        # Comments and string literals say nothing about the statement (and may hold ';').
        sql = _LITERAL.sub("'...'", _COMMENT.sub(" ", raw))
        guarded = bool(_GUARDED_DO.search(sql)) or self._guarded(node)
        for statement in (s for s in sql.split(";") if s.strip()):
            shown = _shorten(statement)
            if not guarded:
                if _DROP.search(statement) or _DROP_BARE_COLUMN.search(statement):
                    self._add(node, f"`{shown}` has no IF EXISTS and fails when run a second time: "
                                    "write DROP ... IF EXISTS")
                if _CREATE_TABLE.search(statement) or _CREATE_INDEX.search(statement):
                    self._add(node, f"`{shown}` has no IF NOT EXISTS and fails (or, for an unnamed index, "
                                    "adds another one) when run a second time: write CREATE ... IF NOT EXISTS "
                                    "<name>")
                if _ADD_COLUMN.search(statement):
                    self._add(node, f"`{shown}` has no IF NOT EXISTS and fails when run a second time: "
                                    "write ADD COLUMN IF NOT EXISTS")
                if _ADD_CONSTRAINT.search(statement):
                    self._add(node, f"`{shown}` fails when run a second time (no IF NOT EXISTS for "
                                    "constraints): wrap it in a DO block that checks pg_constraint first "
                                    "(MIGRATION_GUIDE.md section 1.3)")
            for pattern in (_UPDATE, _DELETE):
                found = pattern.search(statement)
                if found and not _WHERE.search(statement, found.end()):
                    verb = "changes" if pattern is _UPDATE else "deletes"
                    self._add(node, f"`{shown}` has no WHERE clause: it {verb} every row on every run; add a "
                                    "WHERE that skips the rows already done (e.g. WHERE email <> lower(email))")

    def _add(self, node: ast.AST, message: str) -> None:
        self.problems.append((getattr(node, "lineno", 0), message))


def idempotency_problems(tree: ast.Module) -> list[str]:
    """One message per statement that would not survive a second run, with its line and the fix."""
    return [f"line {line}: {message}" for line, message in _Checker(tree).check()]
