"""Locks that block the application: an index built in place, a constraint validated while added.

Measured on PostgreSQL 16 with 1,000,000 tasks (MIGRATION_GUIDE.md section 11): a plain
``CREATE INDEX`` holds SHARE (writers wait) for the whole build, 0.8 s; ``ADD CONSTRAINT ...
CHECK`` holds ACCESS EXCLUSIVE (readers wait too) for its scan, and ``FOREIGN KEY`` holds SHARE
ROW EXCLUSIVE on both tables for its scan. ``NOT VALID`` makes the ADD catalog-only (0.2 ms); a
later ``VALIDATE CONSTRAINT`` scans under SHARE UPDATE EXCLUSIVE, which writers pass, but only
in a transaction of its own: in the ADD's transaction the ADD's lock is still held.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from nakamura_misaki_db.authoring.rules.base import ERROR, GUIDE, Hazard, Question, RevisionView, Rule, shorten
from nakamura_misaki_db.authoring.sql import alter_commands, created_tables, deparse, relation

INDEX_NOT_CONCURRENT = Rule(
    "index-not-concurrent", ERROR,
    "CREATE INDEX without CONCURRENTLY holds a SHARE lock for the whole build: every INSERT, UPDATE "
    "and DELETE on the table waits until the index is built",
    f'{GUIDE} 11.8 "Adding an index"')
FK_NOT_VALID = Rule(
    "fk-not-valid", ERROR,
    "ADD FOREIGN KEY without NOT VALID scans the whole table while writers on both tables wait, and "
    "fails the deploy on the first orphan row",
    f'{GUIDE} 11.9 "Adding a foreign key or a CHECK"')
CHECK_NOT_VALID = Rule(
    "check-not-valid", ERROR,
    "ADD CHECK without NOT VALID scans the whole table under ACCESS EXCLUSIVE (reads wait too), and "
    "fails the deploy on the first violating row",
    f'{GUIDE} 11.9 "Adding a foreign key or a CHECK"')
VALIDATE_SAME_TRANSACTION = Rule(
    "validate-same-transaction", ERROR,
    "VALIDATE CONSTRAINT in the transaction that added the constraint scans while the ADD's lock is "
    "still held: NOT VALID gains nothing",
    f'{GUIDE} 11.9 "Adding a foreign key or a CHECK"')
RULES = (INDEX_NOT_CONCURRENT, FK_NOT_VALID, CHECK_NOT_VALID, VALIDATE_SAME_TRANSACTION)


def check_indexes(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    for sql in parsed.statements:
        node = sql.node
        if not isinstance(node, ast.IndexStmt) or node.concurrent:
            continue
        table = relation(node.relation)
        if created.get(table, len(parsed.statements)) < sql.index:
            continue  # an index on a table made in this function: nothing to block
        name = node.idxname or f"on {table}"
        yield Hazard(INDEX_NOT_CONCURRENT, name, shorten(sql.text), f"on {table}",
                     [Question("lock", table, None, "build")])


def _fk_question(table: str, constraint: ast.Constraint) -> Question:
    columns = tuple(c.sval for c in constraint.fk_attrs or ())
    parent = relation(constraint.pktable)
    parent_columns = tuple(c.sval for c in constraint.pk_attrs or ())
    return Question("orphans", table, None, (columns, parent, parent_columns))


def check_constraints(view: RevisionView) -> Iterator[Hazard]:
    parsed = view.parsed
    created = created_tables(parsed)
    added: dict[tuple[str, str], tuple[int, int]] = {}  # (table, constraint) -> transaction of its ADD
    for sql, stmt, cmd in alter_commands(parsed):
        table = relation(stmt.relation)
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            constraint = cmd.def_
            if constraint.conname:
                added[(table, constraint.conname)] = sql.transaction
            if created.get(table, len(parsed.statements)) < sql.index or constraint.skip_validation:
                continue
            name = constraint.conname or f"on {table}"
            if constraint.contype == ConstrType.CONSTR_FOREIGN:
                yield Hazard(FK_NOT_VALID, name, shorten(sql.text), f"on {table}",
                             [_fk_question(table, constraint), Question("lock", table, None, "scan")])
            elif constraint.contype == ConstrType.CONSTR_CHECK:
                yield Hazard(CHECK_NOT_VALID, name, shorten(sql.text), f"on {table}",
                             [Question("violations", table, None, deparse(constraint.raw_expr)),
                              Question("lock", table, None, "scan")])
        elif cmd.subtype == AlterTableType.AT_ValidateConstraint:
            when = added.get((table, cmd.name))
            if when is not None and when == sql.transaction:
                yield Hazard(VALIDATE_SAME_TRANSACTION, cmd.name, shorten(sql.text),
                             f"on {table}: added NOT VALID earlier in the same transaction")


CHECKS = (check_indexes, check_constraints)
