"""NOT NULL on a table that has rows: a column added without a default, or SET NOT NULL with no proof."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, NullTestType

from nakamura_misaki_db.authoring.rules.base import ERROR, GUIDE, Hazard, Question, RevisionView, Rule, shorten
from nakamura_misaki_db.authoring.sql import Parsed, alter_commands, created_tables, relation

NOT_NULL_NO_DEFAULT = Rule(
    "not-null-no-default", ERROR,
    "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows (and the running release "
    "does not write the new column)",
    f'{GUIDE} 11.6 "Making a column NOT NULL"')
SET_NOT_NULL = Rule(
    "set-not-null", ERROR,
    "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE, and fails on the first NULL; a validated "
    "CHECK (column IS NOT NULL) lets PostgreSQL skip the scan",
    f'{GUIDE} 11.6 "Making a column NOT NULL"')
RULES = (NOT_NULL_NO_DEFAULT, SET_NOT_NULL)


def _kinds(column_def: Any) -> set[Any]:
    return {c.contype for c in column_def.constraints or () if isinstance(c, ast.Constraint)}


def check_added(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    for sql, stmt, cmd in alter_commands(parsed):
        if cmd.subtype != AlterTableType.AT_AddColumn:
            continue
        table = relation(stmt.relation)
        kinds = _kinds(cmd.def_)
        if created.get(table, len(parsed.statements)) < sql.index:
            continue
        if ConstrType.CONSTR_NOTNULL in kinds and not kinds & {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY,
                                                              ConstrType.CONSTR_GENERATED}:
            yield Hazard(NOT_NULL_NO_DEFAULT, f"{table}.{cmd.def_.colname}", shorten(sql.text), "",
                         [Question("rows", table, None, "row(s) would have no value: the ADD fails on the first")])


def _not_null_checks(parsed: Parsed) -> Iterator[tuple[str, str, str, int]]:
    """(table, column, constraint name, index) of each CHECK (column IS NOT NULL) added."""
    for sql, stmt, cmd in alter_commands(parsed):
        if cmd.subtype != AlterTableType.AT_AddConstraint or cmd.def_.contype != ConstrType.CONSTR_CHECK:
            continue
        expr = cmd.def_.raw_expr
        if isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL \
                and isinstance(expr.arg, ast.ColumnRef):
            yield relation(stmt.relation), expr.arg.fields[-1].sval, cmd.def_.conname, sql.index


def _validations(parsed: Parsed, before: int) -> set[tuple[str, str]]:
    return {(relation(stmt.relation), cmd.name) for sql, stmt, cmd in alter_commands(parsed)
            if cmd.subtype == AlterTableType.AT_ValidateConstraint and sql.index < before}


def _proved(view: RevisionView, table: str, column: str, before: int) -> bool:
    """A CHECK (column IS NOT NULL) was added and validated before ``before`` (here or in an earlier revision)."""
    scopes = [(p, len(p.statements)) for p in view.earlier] + [(view.parsed, before)]
    checks = {(t, name) for p, limit in scopes for t, c, name, i in _not_null_checks(p)
              if (t, c) == (table, column) and i < limit}
    validated = set().union(*(_validations(p, limit) for p, limit in scopes))
    return bool(checks & validated)


def check_set_not_null(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    for sql, stmt, cmd in alter_commands(parsed):
        if cmd.subtype != AlterTableType.AT_SetNotNull:
            continue
        table, column = relation(stmt.relation), cmd.name
        if created.get(table, len(parsed.statements)) < sql.index or _proved(view, table, column, sql.index):
            continue
        yield Hazard(SET_NOT_NULL, f"{table}.{column}", shorten(sql.text), "no validated CHECK "
                     f"({column} IS NOT NULL) before it", [Question("nulls", table, column),
                                                          Question("lock", table, column, "scan")])


CHECKS = (check_added, check_set_not_null)
