"""Autogenerate compares CHECK constraints too (Alembic's own comparators do not).

Without this, ``alembic check`` would stay silent about a CHECK that the models
declare and the database lacks (or the reverse): revisions 0004 and 0007 create
two. Registered once from ``alembic/env.py`` (``register()``); it then runs for
every table present in both the models and the database:

- a named CHECK in the models and not in the database: ``CreateCheckConstraintOp``;
- a named CHECK in the database and not in the models: ``DropConstraintOp``;
- the same name with another definition: drop, then create.

Definitions are compared as PostgreSQL prints them. The reflected text is
already that (the inside of ``pg_get_constraintdef(oid, true)``); a model may be
written differently (``(a >= 0) AND (a <= 100)`` for ``a >= 0 AND a <= 100``),
so when the two texts differ the model's is canonicalised by PostgreSQL itself:
added to an empty temporary copy of the table inside a savepoint that is rolled
back. Two definitions that PostgreSQL prints alike are the same constraint.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import comparators, renderers
from alembic.operations import ops

_registered = False
_PROBE = "nakamura_check_probe"
_CHECK = re.compile(r"^CHECK *\((.+)\)( NO INHERIT)?( NOT VALID)?$", re.DOTALL)


class AddCheckOp(ops.CreateCheckConstraintOp):
    """A CreateCheckConstraintOp whose ``alembic check`` line shows table, name and definition."""

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("add_check_constraint", self.table_name, self.constraint_name, str(self.condition))


class DropCheckOp(ops.DropConstraintOp):
    """A DropConstraintOp (type ``check``) whose ``alembic check`` line shows the definition dropped."""

    def to_diff_tuple(self) -> tuple[Any, ...]:
        reverse = self._reverse
        condition = str(reverse.condition) if isinstance(reverse, ops.CreateCheckConstraintOp) else None
        return ("remove_check_constraint", self.table_name, self.constraint_name, condition)


def render_add_check(autogen_context: Any, op: ops.CreateCheckConstraintOp) -> str:
    """``op.create_check_constraint('name', 'table', 'definition')``, as newer Alembic renders it: Alembic
    1.17.0 (the application's pin) has no renderer for a CHECK and raises NotImplementedError."""
    prefix = autogen_context.opts.get("alembic_module_prefix", "op.")
    args = [repr(op.constraint_name), repr(op.table_name), repr(str(op.condition))]
    if op.schema:
        args.append(f"schema={op.schema!r}")
    return f"{prefix}create_check_constraint({', '.join(args)})"


def register() -> None:
    """Add the comparator to Alembic's global registry (idempotent: env.py runs once per command)."""
    global _registered
    if not _registered:
        comparators.dispatch_for("table")(compare_check_constraints)
        if not _alembic_renders_checks():
            # The dispatcher asserts that nothing is registered yet: take Alembic's stub out first.
            renderers._registry.pop((ops.CreateCheckConstraintOp, "default"), None)
            renderers.dispatch_for(ops.CreateCheckConstraintOp)(render_add_check)
        _registered = True


def _alembic_renders_checks() -> bool:
    """Whether this Alembic renders a CreateCheckConstraintOp (its 1.17.0 stub raises NotImplementedError
    before it looks at anything; a real renderer fails on the missing context instead)."""
    current = renderers._registry.get((ops.CreateCheckConstraintOp, "default"))
    try:
        current(None, ops.CreateCheckConstraintOp("probe", "probe", "true"))
    except NotImplementedError:
        return False
    except Exception:
        return True
    return True


def _strip_outer_parens(text: str) -> str:
    """``(a AND b)`` -> ``a AND b``, but never ``(a) AND (b)`` -> ``a) AND (b``."""
    while text.startswith("(") and text.endswith(")"):
        depth, quoted = 0, False
        for i, ch in enumerate(text):
            if ch == "'":
                quoted = not quoted
            elif not quoted and ch == "(":
                depth += 1
            elif not quoted and ch == ")":
                depth -= 1
                if depth == 0 and i != len(text) - 1:
                    return text
        text = text[1:-1].strip()
    return text


def normalise(text: str) -> str:
    """Whitespace collapsed, redundant outer parentheses dropped (SQLAlchemy versions differ there)."""
    return _strip_outer_parens(" ".join(text.split()))


def model_sql(constraint: sa.CheckConstraint, dialect: sa.Dialect) -> str:
    """The CHECK's expression as the DDL compiler renders it (no table prefix, literals inline)."""
    compiler = dialect.ddl_compiler(dialect, None)
    return str(compiler.sql_compiler.process(constraint.sqltext, include_table=False, literal_binds=True))


def canonical(conn: sa.Connection, schema: str, table: str, expression: str) -> str | None:
    """How PostgreSQL prints ``expression`` as a CHECK on ``schema.table``; None if it rejects it.

    The probe is a temporary, empty copy of the table's columns, created and
    dropped inside a savepoint: the real table only gets an ACCESS SHARE lock
    (from ``LIKE``) and nothing persists.
    """
    quote = conn.dialect.identifier_preparer.quote
    try:
        with conn.begin_nested() as savepoint:
            conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_PROBE} (LIKE {quote(schema)}.{quote(table)})")
            conn.exec_driver_sql(
                f"ALTER TABLE pg_temp.{_PROBE} ADD CONSTRAINT probe CHECK ({expression})".replace("%", "%%"))
            printed = conn.execute(sa.text(
                "SELECT pg_get_constraintdef(oid, true) FROM pg_constraint"
                f" WHERE conrelid = 'pg_temp.{_PROBE}'::regclass AND conname = 'probe'")).scalar()
            savepoint.rollback()
    except sa.exc.DBAPIError:
        return None
    match = _CHECK.match(printed or "")
    return match.group(1) if match else None


def same_definition(conn: sa.Connection | None, schema: str, table: str, model: str, reflected: str) -> bool:
    if normalise(model) == normalise(reflected):
        return True
    if conn is None:
        return False
    printed = canonical(conn, schema, table, model)
    return printed is not None and normalise(printed) == normalise(reflected)


def compare_check_constraints(
    autogen_context: Any,
    modify_table_ops: ops.ModifyTableOps,
    schema: str | None,
    tname: str,
    conn_table: sa.Table | None,
    metadata_table: sa.Table | None,
) -> None:
    # Tables only on one side are created or dropped whole, CHECKs included.
    if conn_table is None or metadata_table is None:
        return
    inspector = autogen_context.inspector
    dialect = autogen_context.dialect
    names = {"table_name": tname, "schema_name": schema}

    model = {
        str(c.name): c for c in metadata_table.constraints
        if isinstance(c, sa.CheckConstraint) and isinstance(c.name, str)
        and autogen_context.run_name_filters(c.name, "check_constraint", names)
    }
    reflected = {
        ck["name"]: ck["sqltext"] for ck in inspector.get_check_constraints(tname, schema=schema)
        if ck.get("name") and autogen_context.run_name_filters(ck["name"], "check_constraint", names)
    }

    def in_database(name: str) -> sa.CheckConstraint:
        # Attached to the reflected table, so the op knows its table and the
        # downgrade (the reverse op) can recreate it as it was.
        return sa.CheckConstraint(sa.text(reflected[name]), name=name, table=conn_table)

    def drop(name: str, compare_to: sa.CheckConstraint | None) -> None:
        const = in_database(name)
        if autogen_context.run_object_filters(const, name, "check_constraint", True, compare_to):
            modify_table_ops.ops.append(DropCheckOp.from_constraint(const))

    def add(name: str, compare_to: sa.CheckConstraint | None) -> None:
        const = model[name]
        if autogen_context.run_object_filters(const, name, "check_constraint", False, compare_to):
            modify_table_ops.ops.append(AddCheckOp.from_constraint(const))

    for name in sorted(set(reflected) - set(model)):
        drop(name, None)
    default_schema = schema or inspector.default_schema_name
    for name in sorted(set(model) & set(reflected)):
        text = model_sql(model[name], dialect)
        if not same_definition(autogen_context.connection, default_schema, tname, text, reflected[name]):
            drop(name, model[name])
            add(name, in_database(name))
    for name in sorted(set(model) - set(reflected)):
        add(name, None)
