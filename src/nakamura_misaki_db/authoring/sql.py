"""The captured statements as PostgreSQL's own parser reads them, ``DO`` blocks opened.

``pglast`` is libpg_query, the server's parser as a library: a statement is judged by its
parse tree, never by a regular expression over its text. A ``DO`` block's PL/pgSQL body is
parsed too (as the body of a function), and every static SQL statement in it is judged like a
top-level one: the guide's idempotent patterns wrap their DDL in ``DO $$ ... IF NOT EXISTS ...``.
A statement inside an ``IF`` is taken as run (it is, on the database the revision is written
for). A ``COMMIT`` in the body (a batched backfill) ends a transaction. ``EXECUTE`` of a
computed string cannot be read: such statements are listed as opaque (PGEnum's own rebuild is
judged from its operation instead).

A guard (``revision_api.refuse_when``) is a ``DO`` block carrying the line
``-- nakamura-db guard: RULE OBJECT``: it refuses at run time (online and in ``--sql``) when
the data would be lost, so the rule's finding on that object after it is covered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast, parser

from nakamura_misaki_db.authoring.capture import Capture, Statement

GUARD_LINE = re.compile(r"--\s*nakamura-db guard:\s*(?P<rule>[a-z-]+)\s+(?P<object>\S+)")


@dataclass(frozen=True)
class Sql:
    node: Any  # a pglast.ast statement node, or None when it does not parse
    text: str
    origin: Statement
    index: int  # order in the capture
    transaction: tuple[int, int]  # (the rendered statement's transaction, COMMITs inside its DO block)
    in_do: bool = False
    conditional: bool = False


@dataclass(frozen=True)
class Guard:
    rule: str
    object: str
    index: int  # covers statements after this one


@dataclass
class Parsed:
    capture: Capture
    statements: list[Sql]
    guards: list[Guard]
    opaque: list[str]  # EXECUTE of a computed string, in a DO block not written by PGEnum

    def guarded(self, rule: str, obj: str, before: int) -> bool:
        return any(g.rule == rule and g.object == obj and g.index <= before for g in self.guards)


def relation(node: Any) -> str:
    """``tasks`` for public.tasks (the schema every revision works in), else ``schema.table``."""
    schema = getattr(node, "schemaname", None)
    return node.relname if schema in (None, "public") else f"{schema}.{node.relname}"


def dotted(names: Any) -> str:
    parts = [n.sval for n in names]
    return ".".join(parts[1:] if len(parts) == 2 and parts[0] == "public" else parts)


def deparse(node: Any) -> str:
    from pglast.stream import RawStream

    return RawStream()(node)


def _do_body(node: Any) -> tuple[str | None, str]:
    body, language = None, "plpgsql"
    for arg in node.args or ():
        if arg.defname == "as":
            body = arg.arg.sval
        elif arg.defname == "language":
            language = arg.arg.sval.lower()
    return body, language


def _plpgsql(body: str) -> list[tuple[str, str, bool, int]]:
    """(kind, query, conditional, commits so far) of each statement in a PL/pgSQL body."""
    tag = "$nakamura_body$"
    tree = json.loads(parser.parse_plpgsql_json(
        f"CREATE FUNCTION pg_temp.nakamura_lint() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"))
    out: list[tuple[str, str, bool, int]] = []
    commits = [0]

    def walk(value: Any, conditional: bool) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, conditional)
            return
        if not isinstance(value, dict):
            return
        for key, inner in value.items():
            if key == "PLpgSQL_stmt_execsql":
                out.append(("sql", inner["sqlstmt"]["PLpgSQL_expr"]["query"], conditional, commits[0]))
            elif key == "PLpgSQL_stmt_dynexecute":
                out.append(("dynamic", inner["query"]["PLpgSQL_expr"]["query"], conditional, commits[0]))
            elif key == "PLpgSQL_stmt_commit":
                commits[0] += 1
            elif key in ("PLpgSQL_stmt_if", "PLpgSQL_stmt_case", "PLpgSQL_if_elsif", "PLpgSQL_stmt_loop",
                         "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors"):
                walk(inner, True)
            else:
                walk(inner, conditional)

    walk(tree, False)
    return out


def _parse(text: str) -> list[Any] | None:
    try:
        return [raw.stmt for raw in pglast.parse_sql(text)]
    except pglast.parser.ParseError:
        return None


def parse(capture: Capture) -> Parsed:
    statements: list[Sql] = []
    guards: list[Guard] = []
    opaque: list[str] = []

    def add(node: Any, text: str, origin: Statement, commits: int, in_do: bool, conditional: bool) -> None:
        statements.append(Sql(node, text, origin, len(statements), (origin.transaction, commits), in_do,
                              conditional))

    for origin in capture.statements:
        nodes = _parse(origin.sql)
        if nodes is None:
            add(None, origin.sql, origin, 0, False, False)
            continue
        for node in nodes:
            if not isinstance(node, ast.DoStmt):
                add(node, origin.sql if len(nodes) == 1 else deparse(node), origin, 0, False, False)
                continue
            body, language = _do_body(node)
            if body is None or language != "plpgsql":
                add(node, origin.sql, origin, 0, False, False)
                continue
            guards += [Guard(m["rule"], m["object"].removeprefix("public."), len(statements))
                       for m in GUARD_LINE.finditer(body)]
            written_by_pgenum = "PGEnum" in body
            for kind, query, conditional, commits in _plpgsql(body):
                if kind == "dynamic":
                    if not written_by_pgenum:
                        opaque.append(" ".join(query.split()))
                    continue
                for inner in _parse(query) or [None]:
                    add(inner, " ".join(query.split()), origin, commits, True, conditional)
    return Parsed(capture, statements, guards, opaque)


def alter_commands(parsed: Parsed) -> Iterator[tuple[Sql, Any, Any]]:
    """(statement, AlterTableStmt, AlterTableCmd) for every ALTER TABLE subcommand."""
    for sql in parsed.statements:
        if isinstance(sql.node, ast.AlterTableStmt):
            for cmd in sql.node.cmds or ():
                yield sql, sql.node, cmd


def created_tables(parsed: Parsed) -> dict[str, int]:
    """Tables this function creates, with the index of the CREATE TABLE (they hold no rows before it)."""
    out: dict[str, int] = {}
    for sql in parsed.statements:
        if isinstance(sql.node, ast.CreateStmt):
            out.setdefault(relation(sql.node.relation), sql.index)
    return out
