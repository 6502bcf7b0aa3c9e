"""PGEnum's SQL parser and name/label checks, pure (no PostgreSQL).

What a ``CREATE TYPE ... AS ENUM`` or an ``ENUM (...)`` definition means is PostgreSQL's
lexical rules (documentation, "Lexical Structure"): unquoted identifiers fold ASCII letters to
lower case, ``""`` inside a quoted identifier and ``''`` inside a string stand for one quote,
``E'...'`` strings take C-style backslash escapes. A name or label longer than 63 bytes
(NAMEDATALEN - 1) would be truncated by the server, so it is refused here. The expected values
are written from those rules.
"""

from __future__ import annotations

import re

import pytest

from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.pg_enum.parser import parse_create_type, parse_definition

# -- E'' strings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "label"), [
    (r"E'a\nb'", "a\nb"),
    (r"E'tab\there'", "tab\there"),
    (r"e'\b\f\r'", "\b\f\r"),
    (r"E'\101\102'", "AB"),  # octal
    (r"E'\7'", "\x07"),  # one octal digit
    (r"E'\1010'", "A0"),  # at most three octal digits
    (r"E'\x41\x4a'", "AJ"),  # hexadecimal
    (r"E'\x4'", "\x04"),  # one hex digit
    (r"E'\x414'", "A4"),  # at most two hex digits
    (r"E'caf\u00e9'", "café"),
    (r"E'\U0001F600'", "\U0001F600"),
    (r"E'\q\\'", "q\\"),  # any other character stands for itself; \\ is one backslash
    (r"E'it\'s'", "it's"),
    (r"E'it''s'", "it's"),
    (r"E'\\'''", "\\'"),
    ("'plain \\n'", "plain \\n"),  # no escapes outside E''
    ("'it''s'", "it's"),
])
def test_string_literals_mean_what_postgresql_makes_of_them(written: str, label: str) -> None:
    assert parse_definition(f"ENUM ({written})") == [label]


# -- identifiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("sql", "expected"), [
    ("CREATE TYPE status AS ENUM ('a')", ("public", "status", ["a"])),
    ("create type Status as enum ('a')", ("public", "status", ["a"])),  # unquoted: folded to lower case
    ("CREATE TYPE CRM.Stage AS ENUM ('lead', 'won')", ("crm", "stage", ["lead", "won"])),
    ('CREATE TYPE "CRM"."Stage" AS ENUM (\'lead\')', ("CRM", "Stage", ["lead"])),  # quoted: as written
    ('CREATE TYPE "Deal ""Stage""" AS ENUM ()', ("public", 'Deal "Stage"', [])),
    ("CREATE TYPE Ünïcode AS ENUM ('a')", ("public", "Ünïcode", ["a"])),  # only ASCII letters fold
    ("CREATE TYPE app.task_status$1 AS ENUM ('a');", ("app", "task_status$1", ["a"])),
    ("CREATE /* c */ TYPE s.t -- c\n AS ENUM ('a'\n, 'b')", ("s", "t", ["a", "b"])),
])
def test_parse_create_type(sql: str, expected: tuple[str, str, list[str]]) -> None:
    assert parse_create_type(sql) == expected


# -- errors: what was expected, and what was found instead ------------------------------------------


@pytest.mark.parametrize(("sql", "expected", "got"), [
    ("CREATE TYPE status ENUM ('a')", "AS", "'enum'"),
    ("CREATE TYPE status, AS ENUM ('a')", "AS", "','"),
    ("CREATE TYPE 'status' AS ENUM ('a')", "a type name", "'status'"),
    ("CREATE TYPE app.'status' AS ENUM ('a')", "a type name", "'status'"),
    ("CREATE TABLE status AS ENUM ('a')", "TYPE", "'table'"),
    ("DROP TYPE status", "CREATE", "'drop'"),
    ("CREATE TYPE status AS ENUM, ('a')", "(", "','"),
    ("CREATE TYPE status AS ENUM 'a'", "(", "'a'"),
    ("CREATE TYPE status AS ENUM (, 'a')", "a quoted label", "','"),
    ("CREATE TYPE status AS ENUM (a)", "a quoted label", "'a'"),
    ("CREATE TYPE status AS ENUM ('a', b)", "a quoted label", "'b'"),
    ("CREATE TYPE status AS ENUM ('a',)", "a quoted label", "')'"),
    ("CREATE TYPE status AS ENUM ('a';", ")", "';'"),
    ("CREATE TYPE status AS ENUM ('a'", ")", "'end of text'"),
    ("CREATE TYPE status AS ENUM ('a'))", "end of statement", "')'"),
    ("CREATE TYPE status AS ENUM ('a'); CREATE TYPE other AS ENUM ('b')", "end of statement", "'create'"),
    ("CREATE TYPE", "a type name", "'end of text'"),
])
def test_malformed_create_type_says_what_was_expected_and_what_was_found(sql: str, expected: str, got: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_create_type(sql)
    assert str(caught.value) == f"cannot parse enum SQL {sql!r}: expected {expected}, got {got}"


@pytest.mark.parametrize(("definition", "expected", "got"), [
    ("ENUM ('a') extra", "end of statement", "'extra'"),
    ("ENUM ('a'); ;", "end of statement", "';'"),
    ("ENUM ('a', 'b'", ")", "'end of text'"),
    ("ENUM", "(", "'end of text'"),
    ("TYPE ('a')", "ENUM", "'type'"),
])
def test_malformed_definition_says_what_was_expected(definition: str, expected: str, got: str) -> None:
    with pytest.raises(ValueError) as caught:
        PGEnum("public", "status", definition)
    assert str(caught.value) == f"cannot parse enum SQL {definition!r}: expected {expected}, got {got}"


def test_text_that_is_no_sql_token_is_quoted_in_the_error() -> None:
    tail = "# not SQL at all, and a long remainder that is cut off"
    with pytest.raises(ValueError) as caught:
        parse_definition(f"ENUM ('a') {tail}")
    # the 30 characters from where the tokenizer stopped
    assert str(caught.value) == f"cannot parse enum SQL near {tail[:30]!r}"
    assert len(tail[:30]) == 30 and "remainder" not in tail[:30]
    with pytest.raises(ValueError, match=re.escape("cannot parse enum SQL near \"'unterminated)\"")):
        parse_definition("ENUM ('unterminated)")


def test_a_definition_may_end_with_one_semicolon() -> None:
    assert parse_definition("ENUM ('a');") == ["a"]
    assert parse_definition("enum()") == []


# -- names: quoted or not, how long, NUL ------------------------------------------------------------


@pytest.mark.parametrize(("given", "name"), [
    ("task_status", "task_status"),
    ("  task_status ", "task_status"),
    ("TaskStatus", "TaskStatus"),  # case is kept as given: this is not SQL
    ('"Sales Dept"', "Sales Dept"),  # alembic-utils style quoting is taken off
    ('"Deal ""Stage"""', 'Deal "Stage"'),
    ('Deal "Stage"', 'Deal "Stage"'),  # not quoted: quotes are part of the name
    ('"a"b"', '"a"b"'),  # not one quoted identifier: taken as written
    ('"', '"'),
    ('"x', '"x'),
])
def test_type_and_schema_names_are_taken_as_written_or_unquoted(given: str, name: str) -> None:
    entity = PGEnum(given, given, labels=["a"])
    assert (entity.schema, entity.signature) == (name, name)


@pytest.mark.parametrize(("schema", "signature", "message"), [
    ("public", "", "PGEnum type name must not be empty"),
    ("public", '""', "PGEnum type name must not be empty"),
    ("public", "   ", "PGEnum type name must not be empty"),
    ("", "status", "PGEnum schema must not be empty"),
    ("public", "t" * 64, f"PGEnum type name {'t' * 64!r} is longer than 63 bytes"),
    ("s" * 64, "status", f"PGEnum schema {'s' * 64!r} is longer than 63 bytes"),
    ("public", "状態" * 11, f"PGEnum type name {'状態' * 11!r} is longer than 63 bytes"),  # 66 bytes in UTF-8
    ("public", "a\x00b", "PGEnum type name 'a\\x00b' contains a NUL character"),
    ("pub\x00lic", "status", "PGEnum schema 'pub\\x00lic' contains a NUL character"),
])
def test_names_postgresql_would_refuse_or_truncate_are_refused(schema: str, signature: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        PGEnum(schema, signature, labels=["a"])
    assert str(caught.value) == message


def test_a_name_of_exactly_63_bytes_is_accepted() -> None:
    entity = PGEnum("s" * 63, "t" * 60 + "状", labels=["a"])  # 60 + 3 bytes
    assert (len(entity.schema.encode()), len(entity.signature.encode())) == (63, 63)


# -- labels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "error", "message"), [
    (["a", 1], TypeError, "enum 'status': label 1 is not a str"),
    (["a", "x" * 64], ValueError, f"enum 'status': label {'x' * 64!r} is longer than 63 bytes"),
    (["a\x00"], ValueError, "enum 'status': label 'a\\x00' contains a NUL character"),
    (["a", "b", "a"], ValueError, "enum 'status': label 'a' is listed twice"),
])
def test_labels_postgresql_would_refuse_are_refused(labels: list[object], error: type[Exception],
                                                      message: str) -> None:
    with pytest.raises(error) as caught:
        PGEnum("public", "status", labels=labels)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_renames_are_checked_like_labels() -> None:
    with pytest.raises(ValueError, match=re.escape(f"enum 'status': label {'n' * 64!r} is longer than 63 bytes")):
        PGEnum("public", "status", labels=["a"], renames={"old": "n" * 64})
    with pytest.raises(ValueError, match="enum 'status': label 'a' is listed twice"):
        PGEnum("public", "status", labels=["a"], renames={"a": "a"})


def test_labels_of_exactly_63_bytes_and_labels_from_a_generator() -> None:
    long = "x" * 60 + "状"
    assert PGEnum("public", "status", labels=[long]).labels == (long,)
    assert PGEnum("public", "status", labels=(label for label in ["b", "a"])).labels == ("b", "a")


@pytest.mark.parametrize(("schema", "name", "variable"), [
    ("public", "task_status", "public_task_status"),
    ("CRM", "Deal-Stage", "crm_deal_stage"),       # lower case, anything but letters, digits and _ becomes _
    ("1st", "kind", "enum_1st_kind"),              # not an identifier: prefixed
])
def test_the_variable_name_in_a_generated_migration(schema: str, name: str, variable: str) -> None:
    from nakamura_misaki_db.schema.pg_enum import PGEnum

    assert PGEnum(schema, name, labels=["a"]).to_variable_name() == variable


def test_from_python_enum_refuses_non_string_values_and_says_what_to_do() -> None:
    import enum

    from nakamura_misaki_db.schema.pg_enum import PGEnum

    class Level(enum.Enum):
        LOW = 1

    with pytest.raises(TypeError) as caught:
        PGEnum.from_python_enum(Level, "level")
    assert str(caught.value) == "Level.LOW has the non-str value 1; use string values or use_values=False"
    assert PGEnum.from_python_enum(Level, "level", use_values=False).labels == ("LOW",)


@pytest.mark.parametrize(("registry", "found"), [
    ({("schema", "default"): [(print, "default")]}, False),
    ({("schema", "default"): [(print, "default"), ("ENUM_DROP", "default")]}, True),  # alembic 1.1x: (fn, subgroup)
    ({"schema": ["ENUM_DROP"]}, True),                                                  # a plain list of functions
    ({"schema": "ENUM_DROP"}, True),                                                    # one function, not a list
    ({"schema": print}, False),
    ({}, False),
    (None, False),                                                                      # no _registry at all
])
def test_the_drop_comparator_is_found_in_every_dispatcher_shape(registry: object, found: bool) -> None:
    # Alembic's comparator dispatcher has kept its registry in more than one shape across releases; the
    # check that prevents a second registration (every DropOp twice) must see ours in each of them.
    import types

    from nakamura_misaki_db.schema.pg_enum import comparator

    def swap(value: object) -> object:
        if value == "ENUM_DROP":
            return comparator.enum_drop_comparator
        if isinstance(value, tuple):
            return tuple(swap(v) for v in value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    dispatcher = types.SimpleNamespace() if registry is None else types.SimpleNamespace(
        _registry={k: swap(v) for k, v in registry.items()})  # type: ignore[union-attr]
    assert comparator._is_registered(dispatcher) is found


def test_dropping_an_enum_never_cascades_unless_asked() -> None:
    # A CASCADE drop would take every column of that type with it: only an explicit request may add it.
    from nakamura_misaki_db.schema.pg_enum.statements import drop_sql

    assert drop_sql("public", "task_status") == 'DROP TYPE IF EXISTS "public"."task_status"'
    assert drop_sql("crm", "stage", cascade=True) == 'DROP TYPE IF EXISTS "crm"."stage" CASCADE'


# -- how an enum and its changes read (repr, alembic check lines) ------------------------------


def test_repr_shows_the_labels_and_only_given_renames() -> None:
    assert repr(PGEnum("public", "s", labels=["a", "b"])) == "PGEnum('public', 's', labels=['a', 'b'])"
    assert repr(PGEnum("public", "s", labels=["a", "c"], renames={"b": "c"})) == (
        "PGEnum('public', 's', labels=['a', 'c'], renames={'b': 'c'})")


def test_describe_change_is_one_line_per_kind_of_change() -> None:
    old = PGEnum("public", "task_status", labels=["todo", "doing"])
    new = PGEnum("public", "task_status", labels=["todo", "in_progress", "done"], renames={"doing": "in_progress"})
    assert new.describe_change(None) == "create enum PGEnum: public.task_status ENUM ('todo', 'in_progress', 'done')"
    assert new.describe_change(old) == ("change enum PGEnum: public.task_status: labels (todo, doing) -> "
                                        "(todo, in_progress, done) renaming doing -> in_progress")
    two = PGEnum("public", "task_status", labels=["todo", "started", "finished"],
                 renames={"doing": "started", "done": "finished"})
    assert two.describe_change(old).endswith(" renaming doing -> started, done -> finished")
    assert PGEnum("public", "task_status", labels=["doing", "todo"]).describe_change(old) == (
        "change enum PGEnum: public.task_status: labels (todo, doing) -> (doing, todo)")


def test_alembic_check_lines_of_the_three_operations() -> None:
    from nakamura_misaki_db.schema.pg_enum import EnumCreateOp, EnumDropOp, EnumReplaceOp

    old = PGEnum("public", "s", labels=["a"])
    new = PGEnum("public", "s", labels=["a", "b"])
    assert EnumCreateOp(new).to_diff_tuple() == ("create_enum", "PGEnum: public.s", "create enum PGEnum: public.s "
                                                                                    "ENUM ('a', 'b')")
    assert EnumDropOp(old).to_diff_tuple() == ("drop_enum", "PGEnum: public.s", "drop enum PGEnum: public.s ENUM ('a')")
    new._version_to_replace = old  # what alembic-utils sets on the target when it compares with the database
    assert EnumReplaceOp(new).to_diff_tuple() == ("replace_enum", "PGEnum: public.s",
                                                  "change enum PGEnum: public.s: labels (a) -> (a, b)")
    assert EnumReplaceOp(PGEnum("public", "s", labels=["z"])).to_diff_tuple() == (
        "replace_enum", "PGEnum: public.s", "create enum PGEnum: public.s ENUM ('z')")


def test_labels_given_as_one_string_are_refused() -> None:
    # "todo" would otherwise become four one-letter labels.
    with pytest.raises(TypeError, match=r"^PGEnum labels must be a sequence of labels, not one string$"):
        PGEnum("public", "task_status", labels="todo")


def test_the_dollar_quote_is_the_first_tag_the_body_does_not_hold() -> None:
    # A label may spell the tag: the body must not be able to end its own quote. The tag is the first free
    # one of $pgenum$, $pgenum1$, $pgenum2$, ..., so the same labels always render the same script.
    from nakamura_misaki_db.schema.pg_enum.statements import dollar_quote

    assert dollar_quote("SELECT 'a'") == "$pgenum$\nSELECT 'a'\n$pgenum$"
    assert dollar_quote("SELECT '$pgenum$'") == "$pgenum1$\nSELECT '$pgenum$'\n$pgenum1$"
    body = "SELECT '$pgenum$', '$pgenum1$'"
    assert dollar_quote(body) == f"$pgenum2$\n{body}\n$pgenum2$"
