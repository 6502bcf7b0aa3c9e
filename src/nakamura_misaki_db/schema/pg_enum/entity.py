"""The ``PGEnum`` entity: a PostgreSQL enum type as an alembic-utils ``ReplaceableEntity``."""

from __future__ import annotations

import enum
import keyword
from collections.abc import Generator, Mapping, Sequence
from typing import Any

from alembic_utils.replaceable_entity import ReplaceableEntity
from alembic_utils.reversible_op import CreateOp, DropOp, ReplaceOp, ReversibleOp
from sqlalchemy import text
from sqlalchemy.sql.elements import TextClause

from nakamura_misaki_db.schema.pg_enum import statements
from nakamura_misaki_db.schema.pg_enum.parser import (
    check_labels,
    check_name,
    parse_create_type,
    parse_definition,
    unquote_name,
)
from nakamura_misaki_db.schema.quoting import literal


def _sql_text(sql: str) -> TextClause:
    """``text()`` that leaves the SQL as written.

    ``text()`` reads ``:word`` as a bind parameter, and labels and names may
    contain colons. Escaping *every* colon is exactly invertible: SQLAlchemy
    strips the backslash from each ``\\:`` (each one is followed by a
    backslash or a non-word character, never by ``:``), while alembic-utils'
    ``escape_colon_for_sql`` keeps ``::`` as is, which breaks on labels
    such as ``'x\\::y'``.
    """
    return text(sql.replace(":", "\\:"))


class EnumCreateOp(CreateOp):
    """alembic-utils' CreateOp, listed by ``alembic check`` as one readable line, not a PL/pgSQL block."""

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("create_enum", self.target.identity, self.target.describe_change(None))


class EnumReplaceOp(ReplaceOp):
    """alembic-utils' ReplaceOp, listed by ``alembic check`` as one readable line."""

    def to_diff_tuple(self) -> tuple[Any, ...]:
        target = self.target
        return ("replace_enum", target.identity, target.describe_change(target._version_to_replace))


class EnumDropOp(DropOp):
    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ("drop_enum", self.target.identity, f"drop enum {self.target.identity} {self.target.definition}")


class PGEnum(ReplaceableEntity):
    """A PostgreSQL enum type, compatible with ``alembic revision --autogenerate``.

    Give either ``definition`` (``"ENUM ('a', 'b')"``, as rendered into
    migrations) or ``labels``. ``renames`` (old label -> new label) tells
    ``replace`` to rename labels in place instead of treating them as a removal
    plus an addition; it is applied in the given order and is not part of the
    entity's identity or definition.
    """

    type_ = "pg_enum"

    def __init__(
        self,
        schema: str,
        signature: str,
        definition: str | None = None,
        *,
        labels: Sequence[str] | None = None,
        renames: Mapping[str, str] | None = None,
    ) -> None:
        # The base __init__ is skipped on purpose: it escapes colons in the
        # definition for text(), which would corrupt labels containing ':'.
        self.schema = check_name("schema", unquote_name(schema))
        self.signature = check_name("type name", unquote_name(signature))
        if definition is None and labels is None:
            raise TypeError("PGEnum needs a definition (\"ENUM ('a', 'b')\") or labels=[...]")
        if isinstance(labels, str):
            raise TypeError("PGEnum labels must be a sequence of labels, not one string")
        parsed = None if definition is None else parse_definition(definition)
        if labels is not None and parsed is not None and list(labels) != parsed:
            raise ValueError(f"PGEnum {self.signature!r}: definition and labels disagree")
        self._labels = check_labels(self.signature, labels if labels is not None else parsed or [])
        self.renames: dict[str, str] = dict(renames or {})
        for old, new in self.renames.items():
            check_labels(self.signature, [old, new])

    # -- definition ------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def definition(self) -> str:  # type: ignore[override]
        return "ENUM (" + ", ".join(literal(label) for label in self._labels) + ")"

    def __repr__(self) -> str:
        extra = f", renames={self.renames!r}" if self.renames else ""
        return f"PGEnum({self.schema!r}, {self.signature!r}, labels={list(self._labels)!r}{extra})"

    # -- constructors ----------------------------------------------------

    @classmethod
    def from_python_enum(
        cls,
        enum_cls: type[enum.Enum],
        name: str,
        schema: str = "public",
        *,
        use_values: bool = True,
    ) -> PGEnum:
        """Labels from a Python enum, in definition order (aliases are skipped)."""
        labels: list[str] = []
        for member in enum_cls:
            label = member.value if use_values else member.name
            if not isinstance(label, str):
                raise TypeError(
                    f"{enum_cls.__name__}.{member.name} has the non-str value {label!r}; "
                    "use string values or use_values=False"
                )
            labels.append(label)
        return cls(schema, name, labels=labels)

    @classmethod
    def from_sql(cls, sql: str) -> PGEnum:
        """Parse ``CREATE TYPE [schema.]name AS ENUM ('a', ...)`` (schema defaults to public)."""
        schema, name, labels = parse_create_type(sql)
        return cls(schema, name, labels=labels)

    @classmethod
    def from_database(cls, sess: Any, schema: str = "%") -> list[PGEnum]:
        """Enum types in schemas matching the LIKE pattern ``schema``.

        Types owned by extensions are left out: the extension manages them.
        """
        result = sess.execute(text(statements.from_database_sql()), {"schema": schema})
        return [cls(row[0], row[1], labels=list(row[2])) for row in result]

    # -- statements ------------------------------------------------------

    def to_sql_statement_create(self) -> TextClause:
        """Create the type if it is missing; an existing enum is left as it is."""
        return _sql_text(statements.create_sql(self.schema, self.signature, self._labels))

    def to_sql_statement_drop(self, cascade: bool = False) -> TextClause:
        return _sql_text(statements.drop_sql(self.schema, self.signature, cascade=cascade))

    def to_sql_statement_create_or_replace(self) -> Generator[TextClause, None, None]:
        """One idempotent DO block that brings the type to ``labels`` (see the package doc)."""
        yield _sql_text(statements.replace_sql(self.schema, self.signature, self._labels, self.renames))

    def describe_change(self, other: PGEnum | None) -> str:
        """One line for ``alembic check``: what changes from ``other`` (the database's version) to this."""
        if other is None:
            return f"create enum {self.identity} {self.definition}"
        text = f"labels ({', '.join(other.labels)}) -> ({', '.join(self._labels)})"
        if self.renames:
            text += " renaming " + ", ".join(f"{old} -> {new}" for old, new in self.renames.items())
        return f"change enum {self.identity}: {text}"

    # -- autogenerate ----------------------------------------------------

    def get_database_definition(
        self, sess: Any, dependencies: list[ReplaceableEntity] | None = None
    ) -> PGEnum:
        # The base class learns the canonical form by simulating (DROP TYPE ...
        # CASCADE in a savepoint), which for a type used by tables drops their
        # columns and takes ACCESS EXCLUSIVE locks. Our definition is built from
        # the labels the same way from_database builds it, so it already is canonical.
        # (renames are not part of a definition: alembic-utils keeps this copy only to match identities)
        return type(self)(self.schema, self.signature, labels=self._labels)

    def get_required_migration_op(
        self, sess: Any, dependencies: list[ReplaceableEntity] | None = None
    ) -> ReversibleOp | None:
        # Compare labels exactly: the base class compares whitespace-normalized
        # definitions, which would miss a label that differs only in spacing.
        for db_enum in self.from_database(sess, schema=self.schema):
            if db_enum.identity != self.identity:
                continue
            if db_enum.labels == self._labels:
                return None
            # The downgrade (RevertOp) replaces back to the database version; give it
            # the inverse renames so that rows renamed on the way up are renamed back.
            db_enum.renames = {
                new: old
                for old, new in self.renames.items()
                if old in db_enum.labels and new not in db_enum.labels
            }
            self._version_to_replace = db_enum
            return EnumReplaceOp(self)
        return EnumCreateOp(self)

    @classmethod
    def render_import_statement(cls) -> str:
        # The one module revisions import from (revision_api), and no unused sqlalchemy
        # import in generated migrations: PGEnum renders no sql_text() call.
        return f"from nakamura_misaki_db.revision_api import {cls.__name__}"

    def to_variable_name(self) -> str:
        raw = f"{self.schema}_{self.signature}".lower()
        name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in raw)
        if not name.isidentifier() or keyword.iskeyword(name):
            name = f"enum_{name}"
        return name

    def render_self_for_migration(self, omit_definition: bool = False) -> str:
        # The definition is always rendered (omit_definition is ignored): it is
        # short, and a drop's reverse (the downgrade's create) needs it.
        lines = [
            f"{self.to_variable_name()} = {type(self).__name__}(",
            f"    schema={self.schema!r},",
            f"    signature={self.signature!r},",
            f"    definition={self.definition!r},",
        ]
        if self.renames:
            lines.append(f"    renames={self.renames!r},")
        lines.append(")\n")
        return "\n".join(lines)
