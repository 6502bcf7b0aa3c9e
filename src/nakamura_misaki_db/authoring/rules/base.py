"""What every safety rule shares: the rule, the hazard it finds, what the data-aware lint asks about it.

See ``authoring.rules`` (the package) for what a rule does and the list of rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
GUIDE = "MIGRATION_GUIDE.md"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # what the rule says without data; the data-aware lint may say more
    why: str
    safe: str  # the guide section with the safe pattern


@dataclass(frozen=True)
class Question:
    """What the data-aware lint asks about a hazard (see ``datafacts``)."""

    kind: str  # rows | values | nulls | misfits | labels | orphans | violations | lock
    table: str
    column: str | None = None
    extra: Any = None  # misfits: the new type; labels: (type, labels); orphans: (cols, parent, pcols);
    # violations: the CHECK expression; lock: "rewrite" | "scan" | "build"; rows: a wording other than
    # "row(s) would be lost"


@dataclass
class Hazard:
    rule: Rule
    object: str
    operation: str
    detail: str = ""
    questions: list[Question] = field(default_factory=list)
    severity: str | None = None  # None: the rule's own

    @property
    def key(self) -> str:
        """What an opt-out names: ``"drop-column tasks.estimated_hours"``."""
        return f"{self.rule.id} {self.object}"

    @property
    def level(self) -> str:
        return self.severity or self.rule.severity


@dataclass
class RevisionView:
    """What a rule sees: one captured function, its revision's other function, the revisions before."""

    parsed: Any  # sql.Parsed of the function judged
    other: Any  # sql.Parsed of the same revision's other function (None if it did not run)
    earlier: list[Any]  # sql.Parsed of the upgrades of the judged revisions before this one
    column_type: Callable[[str, str], str | None]  # the type a column has before the function runs, if known

    @property
    def direction(self) -> str:
        return self.parsed.capture.direction


Check = Callable[[RevisionView], Iterator[Hazard]]


def shorten(text: str, width: int = 150) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
