"""Source text that spells what the bridge changes: old enum labels and moved tables.

Pure functions over (kind, name, text) triples that ``catalog.dependents`` reads
from the catalog (view definitions, function bodies, trigger WHEN clauses,
policies, checks, defaults).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nakamura_misaki_db.schema.quoting import printed_literal


@dataclass(frozen=True)
class Mention:
    """Source text that spells something the bridge changes: an old enum label, a moved table."""

    kind: str  # "function", "view", "trigger", "policy", "check constraint", "default"
    name: str
    spelled: str  # what it spells: 'COMPLETED', or a table name
    excerpt: str


def _label_pattern(label: str, enum: str) -> re.Pattern[str]:
    """A quoted literal spelling ``label`` that is NOT cast to the enum itself.

    ``'COMPLETED'::task_status`` in a view or default is stored as the label's
    identity and follows a RENAME VALUE; the same text compared as text
    (``status::text = 'COMPLETED'``) or in a function body does not.
    """
    quoted = re.escape(printed_literal(label))
    cast = rf"::(?:\"?public\"?\.)?\"?{re.escape(enum)}\"?\b"
    return re.compile(quoted + rf"(?!{cast})")


def _excerpt(text: str, start: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    return " ".join(text[line_start:line_end if line_end >= 0 else None].split())[:160]


def find_label_mentions(sources: Sequence[tuple[str, str, str]], enum: str, labels: Sequence[str]) -> list[Mention]:
    """Pure: every source text (kind, name, text) that spells one of ``labels`` outside a cast to ``enum``."""
    out: list[Mention] = []
    for kind, name, text in sources:
        for label in labels:
            found = _label_pattern(label, enum).search(text or "")
            if found and not (kind == "function" and _only_in_comments(text, found.start())):
                out.append(Mention(kind, name, f"'{label}'", _excerpt(text, found.start())))
    return out


def find_table_mentions(sources: Sequence[tuple[str, str, str]], table: str) -> list[Mention]:
    """Pure: functions whose body names ``table`` (as a word): they resolve it by name when they run."""
    pattern = re.compile(rf"(?<![\w$.\"])(?:public\.)?\"?{re.escape(table)}\"?(?![\w$])", re.IGNORECASE)
    out: list[Mention] = []
    for kind, name, text in sources:
        if kind != "function":
            continue
        found = pattern.search(text or "")
        if found:
            out.append(Mention(kind, name, table, _excerpt(text, found.start())))
    return out


def _only_in_comments(text: str, position: int) -> bool:
    line_start = text.rfind("\n", 0, position) + 1
    return "--" in text[line_start:position]

