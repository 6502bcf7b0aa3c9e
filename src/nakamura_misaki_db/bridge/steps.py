"""What a plan is made of: typed steps (what, SQL, why, safety, locks) and refusals (what blocks, what to do)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    CREATE_EXTENSION = "create_extension"
    MOVE_EXTENSION = "move_extension"
    ARCHIVE_TABLE = "archive_table"
    CREATE_ENUM = "create_enum"
    RENAME_ENUM_LABEL = "rename_enum_label"
    ADD_ENUM_LABEL = "add_enum_label"
    REBUILD_ENUM = "rebuild_enum"
    DROP_FOREIGN_KEY = "drop_foreign_key"
    DROP_UNIQUE = "drop_unique"
    DROP_CHECK = "drop_check"
    RENAME_INDEX = "rename_index"
    DROP_INDEX = "drop_index"
    SET_DEFAULTS = "set_defaults"
    ALTER_COLUMNS = "alter_columns"
    CREATE_INDEX = "create_index"
    ADD_CHECK = "add_check"
    ARCHIVE_DUPLICATES = "archive_duplicates"
    BUILD_UNIQUE_INDEX = "build_unique_index"
    ADD_UNIQUE = "add_unique"
    CREATE_TABLE = "create_table"
    ADD_FOREIGN_KEY = "add_foreign_key"
    SET_DATABASE_TIMEZONE = "set_database_timezone"


class Safety(StrEnum):
    CATALOG_ONLY = "catalog-only"
    BUILDS_INDEX = "builds index"
    REWRITES = "rewrites table"
    VALIDATES = "validates data"
    ARCHIVES = "moves data to archive"


# Safety classes whose cost grows with the table: shown with its row count.
_SCALES = (Safety.REWRITES, Safety.BUILDS_INDEX, Safety.VALIDATES)


def access_exclusive(table: str) -> str:
    return f"ACCESS EXCLUSIVE on {table}"


@dataclass
class Step:
    action: Action
    object: str
    summary: str
    sql: list[str]
    reason: str
    safety: Safety
    table: str | None = None
    rows: int | None = None  # rows of the table the step reads or rewrites (estimate)
    locks: list[str] = field(default_factory=list)
    # Rows this step removes from a table, and the archive table they go to ("public.t" -> "legacy_archive.t_x"):
    # what the row-conservation check holds the run to.
    moves: dict[str, str] = field(default_factory=dict)
    # Objects outside the target that this step affects, and how they are kept working.
    dependents: list[str] = field(default_factory=list)
    # 1: before the transaction, committed on its own (moving duplicates away, building an index
    # CONCURRENTLY); 2: inside the one all-or-nothing transaction.
    phase: int = 2

    def __post_init__(self) -> None:
        self.action = Action(self.action)
        self.safety = Safety(self.safety)

    def safety_text(self) -> str:
        if self.safety in _SCALES and self.table:
            return f"{self.safety} {self.table} (~{self.rows or 0:,} rows)"
        return str(self.safety)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Refusal:
    object: str
    problem: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.object}: {self.problem} -> {self.remedy}"


@dataclass
class Planned:
    """What a planner returns: its steps and the refusals it found."""

    steps: list[Step] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def refuse(self, obj: str, problem: str, remedy: str) -> None:
        self.refusals.append(Refusal(obj, problem, remedy))

    def extend(self, other: Planned) -> None:
        self.steps.extend(other.steps)
        self.refusals.extend(other.refusals)
