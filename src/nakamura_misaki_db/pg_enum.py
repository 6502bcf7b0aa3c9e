"""``PGEnum``: PostgreSQL enum types as alembic-utils entities.

A ``PGEnum`` is identified by ``schema`` + ``signature`` (the type name, as in
the catalog) and defined by its ordered labels. Its canonical definition text is
``ENUM ('a', 'b')``; that is what ``from_database`` produces and what
autogenerate renders into migrations.

Every statement it emits is idempotent and self-contained (a ``DO`` block that
looks at the catalog when it runs), so a rendered migration needs no database
access and can be rerun safely:

- ``op.create_entity(e)`` creates the type only if it is missing, and never
  touches an existing one.
- ``op.replace_entity(e)`` brings an existing type to ``e.labels``: it applies
  ``e.renames`` (``RENAME VALUE``), adds missing labels in place (``ADD
  VALUE ... BEFORE/AFTER``, no table rewrite), and only when labels are removed
  or reordered rebuilds the type and the table columns that use it. A rebuild
  is refused, with a message naming the table columns and labels involved, when
  rows would lose their value (or, for a reorder, when any row uses the type),
  or when something other than a plain table column without a default uses it.
- ``op.drop_entity(e)`` is ``DROP TYPE IF EXISTS``.

Autogenerate: alembic-utils only compares entity classes that are in
``registry.allowed_entity_types``. Without ``entity_types`` that is whatever
``collect_subclasses(alembic_utils, ReplaceableEntity)`` returns, which depends
on the alembic-utils release and on what happens to be imported (0.8.8 adds
every imported direct subclass, so PGEnum is in once this module is imported;
the intent, and other releases, is the package's own classes). Do not rely on
it: name the entity classes in ``env.py``::

    from alembic_utils.pg_extension import PGExtension
    from alembic_utils.replaceable_entity import register_entities
    from nakamura_misaki_db.pg_enum import PGEnum

    register_entities([...], entity_types=[PGEnum, PGExtension])

(``entity_types`` replaces the default list, so name every entity class you
use.) For the same reason alembic-utils may not look for dropped PGEnums;
importing this module registers ``enum_drop_comparator``, which emits a
``DropOp`` for every enum type in the observed schemas that is not registered
and has no DropOp yet.

Autogenerate still runs alembic-utils' ``solve_resolution_order``, which
simulates every registered entity (``DROP TYPE ... CASCADE`` + create inside a
savepoint that is rolled back). For an enum used by tables that briefly takes
ACCESS EXCLUSIVE locks on those tables: run autogenerate against a development
database, not production.
"""

from __future__ import annotations

import enum
import keyword
import logging
import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import Any

from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic_utils.replaceable_entity import (
    ReplaceableEntity,
    include_entity,
    registry,
)
from alembic_utils.reversible_op import CreateOp, DropOp, ReplaceOp, ReversibleOp
from sqlalchemy import text
from sqlalchemy.sql.elements import TextClause

__all__ = [
    "PGEnum",
    "enum_drop_comparator",
    "quote_ident",
    "quote_literal",
    "register_enum_drop_detection",
]

logger = logging.getLogger(__name__)

# PostgreSQL's NAMEDATALEN - 1: the longest identifier and the longest enum label.
MAX_NAME_BYTES = 63


# ---------------------------------------------------------------------------
# Quoting
# ---------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    """Always quote: names are catalog names, so case and odd characters are kept."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string literal that means ``value`` whatever ``standard_conforming_strings`` is."""
    escaped = value.replace("'", "''")
    if "\\" in value:
        return "E'" + escaped.replace("\\", "\\\\") + "'"
    return "'" + escaped + "'"


def _qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


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


def _dollar_quote(body: str) -> str:
    """Wrap a PL/pgSQL body in a dollar quote that the body (its labels) cannot end."""
    tag, n = "$pgenum$", 0
    while tag in body:
        n += 1
        tag = f"$pgenum{n}$"
    return f"{tag}\n{body}\n{tag}"


# ---------------------------------------------------------------------------
# Parsing ``ENUM (...)`` and ``CREATE TYPE ... AS ENUM (...)``
# ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
    | (?P<qident>"(?:[^"]|"")*")
    | (?P<estr>[eE]'(?:[^'\\]|\\.|'')*')
    | (?P<str>'(?:[^']|'')*')
    | (?P<word>[^\W\d][\w$]*)
    | (?P<punct>[(),.;])
    """,
    re.VERBOSE | re.DOTALL,
)

_E_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_E_ESCAPE = re.compile(
    r"\\(?:(?P<oct>[0-7]{1,3})|x(?P<hex>[0-9A-Fa-f]{1,2})|u(?P<u4>[0-9A-Fa-f]{4})"
    r"|U(?P<u8>[0-9A-Fa-f]{8})|(?P<other>.))",
    re.DOTALL,
)


def _unescape_e_string(body: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m["oct"]:
            return chr(int(m["oct"], 8))
        if m["hex"]:
            return chr(int(m["hex"], 16))
        if m["u4"] or m["u8"]:
            return chr(int(m["u4"] or m["u8"], 16))
        return _E_ESCAPES.get(m["other"], m["other"])

    return _E_ESCAPE.sub(repl, body.replace("''", "'"))


def _tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, value) pairs; identifiers are folded the way PostgreSQL folds them."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if not m:
            raise ValueError(f"cannot parse enum SQL near {sql[pos:pos + 30]!r}")
        pos = m.end()
        kind = m.lastgroup
        raw = m.group()
        if kind == "ws":
            continue
        if kind == "qident":
            out.append(("ident", raw[1:-1].replace('""', '"')))
        elif kind == "estr":
            out.append(("str", _unescape_e_string(raw[2:-1])))
        elif kind == "str":
            out.append(("str", raw[1:-1].replace("''", "'")))
        elif kind == "word":
            # PostgreSQL folds only ASCII letters of unquoted identifiers.
            out.append(("ident", raw.translate(_ASCII_LOWER)))
        else:
            out.append(("punct", raw))
    return out


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = _tokens(sql)
        self.i = 0

    def _fail(self, expected: str) -> ValueError:
        got = self.toks[self.i][1] if self.i < len(self.toks) else "end of text"
        return ValueError(f"cannot parse enum SQL {self.sql!r}: expected {expected}, got {got!r}")

    def peek(self, kind: str, value: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        k, v = self.toks[self.i]
        return k == kind and (value is None or v == value)

    def take(self, kind: str, value: str | None = None, what: str | None = None) -> str:
        if not self.peek(kind, value):
            raise self._fail(what or value or kind)
        self.i += 1
        return self.toks[self.i - 1][1]

    def keyword(self, word: str) -> None:
        # Keywords were folded like identifiers; a quoted "ENUM" is not a keyword
        # but nobody writes that, and accepting it is harmless.
        self.take("ident", word.lower(), what=word.upper())

    def labels(self) -> list[str]:
        self.keyword("enum")
        self.take("punct", "(")
        labels: list[str] = []
        if not self.peek("punct", ")"):
            labels.append(self.take("str", what="a quoted label"))
            while self.peek("punct", ","):
                self.i += 1
                labels.append(self.take("str", what="a quoted label"))
        self.take("punct", ")")
        return labels

    def end(self) -> None:
        if self.peek("punct", ";"):
            self.i += 1
        if self.i != len(self.toks):
            raise self._fail("end of statement")


def _parse_definition(definition: str) -> list[str]:
    p = _Parser(definition)
    labels = p.labels()
    p.end()
    return labels


def _parse_create_type(sql: str) -> tuple[str, str, list[str]]:
    p = _Parser(sql)
    p.keyword("create")
    p.keyword("type")
    first = p.take("ident", what="a type name")
    schema, name = "public", first
    if p.peek("punct", "."):
        p.i += 1
        schema, name = first, p.take("ident", what="a type name")
    p.keyword("as")
    labels = p.labels()
    p.end()
    return schema, name, labels


def _unquote_name(name: str) -> str:
    """Accept ``name`` or ``"name"`` (alembic-utils style); keep case as given."""
    stripped = name.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        inner = stripped[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return stripped


def _check_name(what: str, name: str) -> str:
    if not name:
        raise ValueError(f"PGEnum {what} must not be empty")
    if len(name.encode()) > MAX_NAME_BYTES:
        # PostgreSQL would silently truncate it, and the entity would never match the catalog.
        raise ValueError(f"PGEnum {what} {name!r} is longer than {MAX_NAME_BYTES} bytes")
    if "\x00" in name:
        raise ValueError(f"PGEnum {what} {name!r} contains a NUL character")
    return name


def _check_labels(type_name: str, labels: Iterable[str]) -> tuple[str, ...]:
    result = tuple(labels)
    seen: set[str] = set()
    for label in result:
        if not isinstance(label, str):
            raise TypeError(f"enum {type_name!r}: label {label!r} is not a str")
        if len(label.encode()) > MAX_NAME_BYTES:
            raise ValueError(f"enum {type_name!r}: label {label!r} is longer than 63 bytes")
        if "\x00" in label:
            raise ValueError(f"enum {type_name!r}: label {label!r} contains a NUL character")
        if label in seen:
            raise ValueError(f"enum {type_name!r}: label {label!r} is listed twice")
        seen.add(label)
    return result


# ---------------------------------------------------------------------------
# PL/pgSQL
# ---------------------------------------------------------------------------

# Looks the type up by schema + name (not to_regtype, which also resolves
# search_path and would accept a same-named table row type).
_FIND_TYPE = """\
    SELECT t.oid, t.typtype, t.typarray INTO v_type, v_kind, v_array
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = v_schema AND t.typname = v_name;"""

_NOT_AN_ENUM = """\
    IF v_kind <> 'e' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'wrong_object_type',
            MESSAGE = format('PGEnum %I.%I: a type of that name exists but is not an enum '
                             '(typtype %s); rename or drop it first', v_schema, v_name, v_kind);
    END IF;"""

_CREATE_BODY = """\
DECLARE
    v_schema constant text := {schema};
    v_name   constant text := {name};
    v_type   oid;
    v_kind   "char";
    v_array  oid;
BEGIN
{find_type}
    IF v_type IS NULL THEN
        CREATE TYPE {qualified} AS ENUM ({labels});
        RETURN;
    END IF;
{not_an_enum}
END"""

_REPLACE_BODY = """\
DECLARE
    v_schema   constant text   := {schema};
    v_name     constant text   := {name};
    v_target   constant text[] := ARRAY[{target}]::text[];
    v_from     constant text[] := ARRAY[{rename_from}]::text[];
    v_to       constant text[] := ARRAY[{rename_to}]::text[];
    v_type     oid;
    v_kind     "char";
    v_array    oid;
    v_current  text[];
    v_removed  text[];
    v_reorder  boolean;
    v_blockers text[];
    v_removed_in text[] := ARRAY[]::text[];
    v_rows_in  text[] := ARRAY[]::text[];
    v_used     text[];
    v_any      boolean;
    v_col      record;
    v_tab      record;
    v_tmp      text;
    v_comment  text;
    i          integer;
BEGIN
{find_type}
    -- 1. missing: create it with the target labels, nothing else to do.
    IF v_type IS NULL THEN
        CREATE TYPE {qualified} AS ENUM ({labels});
        RETURN;
    END IF;
{not_an_enum}

    -- 2. declared renames (catalog only). Skipped when already done, or when
    --    the new label exists too (then the old one is simply a removal below).
    FOR i IN 1 .. cardinality(v_from) LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
                    WHERE e.enumtypid = v_type AND e.enumlabel = v_from[i])
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
                            WHERE e.enumtypid = v_type AND e.enumlabel = v_to[i]) THEN
            EXECUTE format('ALTER TYPE %I.%I RENAME VALUE %L TO %L',
                           v_schema, v_name, v_from[i], v_to[i]);
        END IF;
    END LOOP;

    v_current := ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                        WHERE e.enumtypid = v_type ORDER BY e.enumsortorder);
    v_removed := ARRAY(SELECT c FROM unnest(v_current) WITH ORDINALITY AS u(c, o)
                        WHERE NOT (c = ANY (v_target)) ORDER BY o);
    v_reorder := ARRAY(SELECT c FROM unnest(v_current) WITH ORDINALITY AS u(c, o)
                        WHERE c = ANY (v_target) ORDER BY o)
                 IS DISTINCT FROM
                 ARRAY(SELECT c FROM unnest(v_target) WITH ORDINALITY AS u(c, o)
                        WHERE c = ANY (v_current) ORDER BY o);

    -- 3. labels removed or reordered: PostgreSQL cannot do that in place, so
    --    rebuild the type and rewrite the table columns that use it.
    IF cardinality(v_removed) > 0 OR v_reorder THEN
        -- Anything but a plain table column (and the type's own array type)
        -- would need hand-written handling: refuse rather than guess.
        v_blockers := ARRAY(
            SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
              FROM pg_catalog.pg_depend d
             WHERE d.refclassid = 'pg_catalog.pg_type'::regclass
               AND (d.refobjid = v_array
                    OR (d.refobjid = v_type
                        AND NOT (d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = v_array)
                        AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objsubid > 0
                                 AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                              WHERE c.oid = d.objid AND c.relkind IN ('r', 'p')))))
             ORDER BY 1);
        v_blockers := v_blockers || ARRAY(
            SELECT format('default of column %I.%I.%I', n.nspname, c.relname, a.attname)
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped AND a.atthasdef
             ORDER BY 1);
        -- PostgreSQL cannot change the type of a partition key column.
        v_blockers := v_blockers || ARRAY(
            SELECT format('partition key of table %I.%I', n.nspname, c.relname)
              FROM pg_catalog.pg_partitioned_table pt
              JOIN pg_catalog.pg_class c ON c.oid = pt.partrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = pt.partrelid AND a.atttypid = v_type
                              AND a.attnum = ANY (pt.partattrs::int2[]))
             ORDER BY 1);
        IF cardinality(v_blockers) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'dependent_objects_still_exist',
                MESSAGE = format(
                    'PGEnum %I.%I: changing labels (%s) to (%s) needs a rebuild of the type, '
                    'but it is used by: %s. A rebuild only handles plain table columns without '
                    'a default; drop or change those objects first (e.g. ALTER COLUMN ... '
                    'DROP DEFAULT), rerun, then restore them',
                    v_schema, v_name, array_to_string(v_current, ', '),
                    array_to_string(v_target, ', '), array_to_string(v_blockers, '; '));
        END IF;

        -- Hold off writers between the row checks and the rewrite.
        FOR v_tab IN
            SELECT DISTINCT n.nspname, c.relname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind IN ('r', 'p')
             ORDER BY 1, 2
        LOOP
            EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', v_tab.nspname, v_tab.relname);
        END LOOP;

        FOR v_col IN
            SELECT n.nspname, c.relname, a.attname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind = 'r'
             ORDER BY 1, 2, 3
        LOOP
            IF cardinality(v_removed) > 0 THEN
                EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM ONLY %I.%I '
                               'WHERE %I::text = ANY ($1) ORDER BY 1)::text[]',
                               v_col.attname, v_col.nspname, v_col.relname, v_col.attname)
                   INTO v_used USING v_removed;
                IF cardinality(v_used) > 0 THEN
                    v_removed_in := v_removed_in || format('%I.%I.%I (%s)',
                        v_col.nspname, v_col.relname, v_col.attname,
                        (SELECT string_agg(quote_literal(l), ', ') FROM unnest(v_used) AS l));
                END IF;
            END IF;
            IF v_reorder THEN
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %I.%I WHERE %I IS NOT NULL)',
                               v_col.nspname, v_col.relname, v_col.attname)
                   INTO v_any;
                IF v_any THEN
                    v_rows_in := v_rows_in || format('%I.%I.%I',
                        v_col.nspname, v_col.relname, v_col.attname);
                END IF;
            END IF;
        END LOOP;

        IF cardinality(v_removed_in) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_in_use',
                MESSAGE = format(
                    'PGEnum %I.%I: cannot remove label(s) %s: rows still use them in %s. '
                    'Map each removed label to a kept one with renames={{old: new}}, or '
                    'migrate those rows to another label first, then rerun',
                    v_schema, v_name,
                    (SELECT string_agg(quote_literal(l), ', ') FROM unnest(v_removed) AS l),
                    array_to_string(v_removed_in, ', '));
        END IF;
        IF cardinality(v_rows_in) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'object_in_use',
                MESSAGE = format(
                    'PGEnum %I.%I: cannot reorder labels (%s) to (%s) while rows use the type '
                    'in %s: a rebuild would change how stored values sort and compare. Keep '
                    'the existing order (new labels may go anywhere), or migrate or empty '
                    'those rows first, then rerun',
                    v_schema, v_name, array_to_string(v_current, ', '),
                    array_to_string(v_target, ', '), array_to_string(v_rows_in, ', '));
        END IF;

        v_tmp := v_name || '__new';
        IF octet_length(v_tmp) > 63 THEN
            v_tmp := 'pgenum_' || v_type::text || '__new';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                     JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = v_schema AND t.typname = v_tmp) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('PGEnum %I.%I: cannot rebuild, the scratch type %I.%I exists; '
                                 'drop it and rerun', v_schema, v_name, v_schema, v_tmp);
        END IF;
        EXECUTE format('CREATE TYPE %I.%I AS ENUM (%s)', v_schema, v_tmp,
            coalesce((SELECT string_agg(quote_literal(l), ', ' ORDER BY o)
                        FROM unnest(v_target) WITH ORDINALITY AS u(l, o)), ''));
        -- One ALTER TABLE per table (one rewrite); inherited columns follow their parent.
        FOR v_tab IN
            SELECT n.nspname, c.relname,
                   string_agg(format('ALTER COLUMN %I TYPE %I.%I USING %I::text::%I.%I',
                                     a.attname, v_schema, v_tmp, a.attname, v_schema, v_tmp),
                              ', ' ORDER BY a.attnum) AS alters
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attinhcount = 0 AND c.relkind IN ('r', 'p')
             GROUP BY n.nspname, c.relname
             ORDER BY 1, 2
        LOOP
            EXECUTE format('ALTER TABLE %I.%I %s', v_tab.nspname, v_tab.relname, v_tab.alters);
        END LOOP;
        v_comment := pg_catalog.obj_description(v_type, 'pg_type');
        EXECUTE format('DROP TYPE %I.%I', v_schema, v_name);
        EXECUTE format('ALTER TYPE %I.%I RENAME TO %I', v_schema, v_tmp, v_name);
        IF v_comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON TYPE %I.%I IS %L', v_schema, v_name, v_comment);
        END IF;
        RETURN;
    END IF;

    -- 4. add missing labels in place, in target order (no table rewrite).
    FOR i IN 1 .. cardinality(v_target) LOOP
        IF NOT (v_target[i] = ANY (v_current)) THEN
            IF i > 1 THEN
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L AFTER %L',
                               v_schema, v_name, v_target[i], v_target[i - 1]);
            ELSIF cardinality(v_current) > 0 THEN
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L BEFORE %L',
                               v_schema, v_name, v_target[i], v_current[1]);
            ELSE
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L', v_schema, v_name, v_target[i]);
            END IF;
        END IF;
    END LOOP;
END"""

_FROM_DATABASE = """
SELECT n.nspname AS schema_name,
       t.typname AS type_name,
       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
              WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname LIKE :schema
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY n.nspname, t.typname
"""


# ---------------------------------------------------------------------------
# The entity
# ---------------------------------------------------------------------------


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
        self.schema = _check_name("schema", _unquote_name(schema))
        self.signature = _check_name("type name", _unquote_name(signature))
        if definition is None and labels is None:
            raise TypeError("PGEnum needs a definition (\"ENUM ('a', 'b')\") or labels=[...]")
        if isinstance(labels, str):
            raise TypeError("PGEnum labels must be a sequence of labels, not one string")
        parsed = None if definition is None else _parse_definition(definition)
        if labels is not None and parsed is not None and list(labels) != parsed:
            raise ValueError(f"PGEnum {self.signature!r}: definition and labels disagree")
        self._labels = _check_labels(self.signature, labels if labels is not None else parsed or [])
        self.renames: dict[str, str] = dict(renames or {})
        for old, new in self.renames.items():
            _check_labels(self.signature, [old, new])

    # -- definition ------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def definition(self) -> str:  # type: ignore[override]
        return "ENUM (" + ", ".join(quote_literal(label) for label in self._labels) + ")"

    @property
    def qualified_name(self) -> str:
        return _qualified(self.schema, self.signature)

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
        schema, name, labels = _parse_create_type(sql)
        return cls(schema, name, labels=labels)

    @classmethod
    def from_database(cls, sess: Any, schema: str = "%") -> list[PGEnum]:
        """Enum types in schemas matching the LIKE pattern ``schema``.

        Types owned by extensions are left out: the extension manages them.
        """
        result = sess.execute(text(_FROM_DATABASE), {"schema": schema})
        return [cls(row[0], row[1], labels=list(row[2])) for row in result]

    # -- statements ------------------------------------------------------

    def _format_args(self) -> dict[str, str]:
        return {
            "schema": quote_literal(self.schema),
            "name": quote_literal(self.signature),
            "qualified": self.qualified_name,
            "labels": ", ".join(quote_literal(label) for label in self._labels),
            "find_type": _FIND_TYPE,
            "not_an_enum": _NOT_AN_ENUM,
        }

    def to_sql_statement_create(self) -> TextClause:
        """Create the type if it is missing; an existing enum is left as it is."""
        body = _CREATE_BODY.format(**self._format_args())
        return _sql_text(f"DO {_dollar_quote(body)}")

    def to_sql_statement_drop(self, cascade: bool = False) -> TextClause:
        suffix = " CASCADE" if cascade else ""
        return _sql_text(f"DROP TYPE IF EXISTS {self.qualified_name}{suffix}")

    def to_sql_statement_create_or_replace(self) -> Generator[TextClause, None, None]:
        """One idempotent DO block that brings the type to ``labels`` (see the module doc)."""
        args = self._format_args()
        args["target"] = args["labels"]
        args["rename_from"] = ", ".join(quote_literal(old) for old in self.renames)
        args["rename_to"] = ", ".join(quote_literal(new) for new in self.renames.values())
        body = _REPLACE_BODY.format(**args)
        yield _sql_text(f"DO {_dollar_quote(body)}")

    # -- autogenerate ----------------------------------------------------

    def get_database_definition(
        self, sess: Any, dependencies: list[ReplaceableEntity] | None = None
    ) -> PGEnum:
        # The base class learns the canonical form by simulating (DROP TYPE ...
        # CASCADE in a savepoint), which for a type used by tables drops their
        # columns and takes ACCESS EXCLUSIVE locks. Our definition is built from
        # the labels the same way from_database builds it, so it already is canonical.
        return type(self)(self.schema, self.signature, labels=self._labels, renames=self.renames)

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
            return ReplaceOp(self)
        return CreateOp(self)

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


# ---------------------------------------------------------------------------
# Drop detection for autogenerate
# ---------------------------------------------------------------------------


def _observed_schemas(autogen_context: AutogenContext, schemas: Iterable[str | None]) -> set[str]:
    """The schemas alembic-utils' own comparator looks at for drops."""
    include_schemas = bool(autogen_context.opts.get("include_schemas", False))
    reflected: set[str | None] = set(
        autogen_context.inspector.get_schema_names() if include_schemas else []
    )
    entity_schemas = {e.schema for e in registry.entities()}
    candidates = reflected | set(schemas) | set(registry.schemas) | entity_schemas
    # alembic-utils means to honour the deprecated exclude_schemas but, through
    # a chained comparison, never does; we do.
    return {
        s
        for s in candidates
        if s is not None and s != "information_schema" and s not in registry.exclude_schemas
    }


def enum_drop_comparator(
    autogen_context: AutogenContext, upgrade_ops: Any, schemas: Iterable[str | None]
) -> None:
    """Emit ``DropOp`` for enum types in the database that are not registered.

    alembic-utils' comparator looks for dropped entities only among the classes
    ``collect_subclasses(alembic_utils, ReplaceableEntity)`` returns. In 0.8.8
    that includes every imported direct subclass, so it already covers PGEnum;
    this comparator does not rely on that (older or newer releases may only
    list their own classes) and skips enums that already have a DropOp.
    """
    if PGEnum not in registry.allowed_entity_types:
        return
    dialect = autogen_context.dialect
    if dialect is None or dialect.name != "postgresql":
        return
    connection = autogen_context.connection
    if connection is None:
        return
    local = {e.identity for e in registry.entities() if isinstance(e, PGEnum)}
    # alembic-utils 0.8.8 finds PGEnum itself when it is imported (collect_subclasses
    # adds ReplaceableEntity.__subclasses__()), and its comparator always runs before
    # this one (this module imports it first): never emit a second DropOp.
    local |= {
        op.target.identity
        for op in upgrade_ops.ops
        if isinstance(op, DropOp) and isinstance(op.target, PGEnum)
    }
    found: dict[str, PGEnum] = {}
    for schema in sorted(_observed_schemas(autogen_context, schemas)):
        for db_enum in PGEnum.from_database(connection, schema=schema):
            # from_database matches with LIKE, so "a_b" also lists "axb".
            if db_enum.schema == schema:
                found[db_enum.identity] = db_enum
    for identity, db_enum in sorted(found.items()):
        if identity in local:
            continue
        if not include_entity(db_enum, autogen_context, reflected=True):
            logger.debug("Ignoring database enum %s due to AutogenContext filters", identity)
            continue
        upgrade_ops.ops.append(DropOp(db_enum))
        logger.info("Detected DropOp op for %s", identity)


def _is_registered(dispatcher: Any) -> bool:
    for fns in getattr(dispatcher, "_registry", {}).values():
        for fn in fns if isinstance(fns, list) else [fns]:
            target = fn[0] if isinstance(fn, tuple) else fn
            if target is enum_drop_comparator:
                return True
    return False


def register_enum_drop_detection() -> None:
    """Hook ``enum_drop_comparator`` into alembic's "schema" comparators, once.

    Called at import time; calling it again does nothing (the dispatcher
    keeps a list, so a second registration would emit every DropOp twice).
    alembic's dispatcher runs every "schema" comparator, so this runs next
    to alembic-utils' own.
    """
    if not _is_registered(comparators):
        comparators.dispatch_for("schema")(enum_drop_comparator)


register_enum_drop_detection()
