<%!
import re
import sys

FIRST_PARTY = ("nakamura_misaki_db",)


def literal(value):
    """A Python literal the way `ruff format` writes it (double quotes)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        items = ", ".join(literal(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def _member_key(name):
    # ruff's isort (order-by-type): CONSTANTS, then Classes, then the rest.
    base = name.split(" as ")[0]
    kind = 0 if base.isupper() and len(base) > 1 else 1 if base[:1].isupper() else 2
    return (kind, base.lower(), name)


def import_block(upgrades, downgrades, imports):
    """The file's imports, as `ruff check` (isort rules, F401) wants them.

    Only what the body uses: `sa` and `op` when the rendered operations name
    them, plus whatever autogenerate asked for (`imports`; alembic-utils asks
    for some it does not use), merged and sorted into standard-library,
    third-party and first-party sections.
    """
    body = "\n".join(part or "" for part in (upgrades, downgrades))

    def used(name):
        return re.search(r"(?<![\w.])" + re.escape(name) + r"\b", body) is not None

    lines = [ln.strip() for ln in (imports or "").splitlines() if ln.strip()]
    lines += ["import sqlalchemy as sa", "from alembic import op"]
    sections = ({}, {}, {})  # stdlib, third-party, first-party: module -> (straight lines, from-names)
    for line in lines:
        found = re.match(r"from\s+(\S+)\s+import\s+\(?([^)]*)\)?$", line)
        module = found.group(1) if found else line.split()[1].rstrip(",")
        top = module.split(".")[0]
        index = 2 if top in FIRST_PARTY else 0 if top in sys.stdlib_module_names else 1
        if found:
            # "a as b" binds b; keep only the names the body uses.
            wanted = {n.strip() for n in found.group(2).split(",") if used(n.strip().split(" as ")[-1])}
            if wanted:
                sections[index].setdefault(module, (set(), set()))[1].update(wanted)
        elif used(line.split(" as ")[-1].strip() if " as " in line else module.split(".")[0]):
            sections[index].setdefault(module, (set(), set()))[0].add(line)
    sections[0].setdefault("collections.abc", (set(), set()))[1].add("Sequence")  # the typed ids below
    blocks = []
    for section in sections:
        if not section:
            continue
        ordered = sorted(section.items(), key=lambda item: item[0].lower())
        out = [s for _, (straight, _names) in ordered for s in sorted(straight)]
        out += [f"from {module} import {', '.join(sorted(names, key=_member_key))}"
                for module, (_straight, names) in ordered if names]
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)
%>"""${message}

Revision: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}
"""

from __future__ import annotations

${import_block(upgrades, downgrades, imports)}

revision: str = ${literal(up_revision)}
down_revision: str | None = ${literal(down_revision)}
branch_labels: str | Sequence[str] | None = ${literal(branch_labels)}
depends_on: str | Sequence[str] | None = ${literal(depends_on)}


def upgrade(**kw: object) -> None:
    """Idempotent: check before creating or dropping (see MIGRATION_GUIDE.md)."""
    ${upgrades if upgrades else "pass"}


def downgrade(**kw: object) -> None:
    ${downgrades if downgrades else "pass"}
