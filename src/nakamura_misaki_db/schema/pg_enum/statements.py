"""PGEnum's SQL: PL/pgSQL bodies kept as ``.sql`` files next to this module, rendered here.

A template names its slots ``@slot@``; each is replaced once, in one pass,
by a value quoted through ``nakamura_misaki_db.schema.quoting`` (so a substituted
label can never be read as another slot). Leading ``--`` lines of a file are
its own documentation and are not sent to the server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

from nakamura_misaki_db.schema.quoting import ident, literal

_SLOT = re.compile(r"@([a-z_]+)@")


@cache
def template(name: str) -> str:
    text = resources.files(__package__).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    lines = text.splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines)


def render(name: str, slots: Mapping[str, str]) -> str:
    """Template ``name`` with every ``@slot@`` filled (an unknown or missing slot is a bug: KeyError)."""
    return _SLOT.sub(lambda m: slots[m[1]], template(name))


def dollar_quote(body: str) -> str:
    """Wrap a PL/pgSQL body in a dollar quote that the body (its labels) cannot end."""
    tag, n = "$pgenum$", 0
    while tag in body:
        n += 1
        tag = f"$pgenum{n}$"
    return f"{tag}\n{body}\n{tag}"


def _labels(labels: Sequence[str]) -> str:
    return ", ".join(literal(label) for label in labels)


def _common(schema: str, name: str, labels: Sequence[str]) -> dict[str, str]:
    return {
        "schema": literal(schema),
        "name": literal(name),
        "qualified": ident(schema, name),
        "labels": _labels(labels),
        "find_type": template("find_type"),
        "not_an_enum": template("not_an_enum"),
    }


def create_sql(schema: str, name: str, labels: Sequence[str]) -> str:
    """``DO`` block: create the type if it is missing; an existing enum is left as it is."""
    return "DO " + dollar_quote(render("create", _common(schema, name, labels)))


def replace_sql(schema: str, name: str, labels: Sequence[str], renames: Mapping[str, str]) -> str:
    """``DO`` block: bring the type to ``labels`` (renames, in-place adds, guarded rebuild)."""
    slots = _common(schema, name, labels)
    slots.update(
        target=slots["labels"],
        rename_from=_labels(list(renames)),
        rename_to=_labels(list(renames.values())),
    )
    return "DO " + dollar_quote(render("replace", slots))


def drop_sql(schema: str, name: str, *, cascade: bool = False) -> str:
    return f"DROP TYPE IF EXISTS {ident(schema, name)}" + (" CASCADE" if cascade else "")


def from_database_sql() -> str:
    return template("from_database")
