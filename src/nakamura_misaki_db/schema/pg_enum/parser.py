"""Parse the enum SQL an entity is written in: ``ENUM ('a', 'b')`` and ``CREATE TYPE [s.]n AS ENUM (...)``.

A small tokenizer that folds identifiers and unescapes strings the way
PostgreSQL does, so a label spelled ``E'a\\nb'`` or a type named ``"Odd"``
means what the server would make of it. Also the checks every name and label
must pass before any SQL is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# PostgreSQL's NAMEDATALEN - 1: the longest identifier and the longest enum label.
MAX_NAME_BYTES = 63

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


def parse_definition(definition: str) -> list[str]:
    p = _Parser(definition)
    labels = p.labels()
    p.end()
    return labels


def parse_create_type(sql: str) -> tuple[str, str, list[str]]:
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


def unquote_name(name: str) -> str:
    """Accept ``name`` or ``"name"`` (alembic-utils style); keep case as given."""
    stripped = name.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
        inner = stripped[1:-1]
        if '"' not in inner.replace('""', ""):
            return inner.replace('""', '"')
    return stripped


def check_name(what: str, name: str) -> str:
    if not name:
        raise ValueError(f"PGEnum {what} must not be empty")
    if len(name.encode()) > MAX_NAME_BYTES:
        # PostgreSQL would silently truncate it, and the entity would never match the catalog.
        raise ValueError(f"PGEnum {what} {name!r} is longer than {MAX_NAME_BYTES} bytes")
    if "\x00" in name:
        raise ValueError(f"PGEnum {what} {name!r} contains a NUL character")
    return name


def check_labels(type_name: str, labels: Iterable[str]) -> tuple[str, ...]:
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
