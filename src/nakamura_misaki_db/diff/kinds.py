"""What a difference is: a kind (one of a fixed set), the object it concerns, expected vs actual."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class DiffKind(StrEnum):
    MISSING_EXTENSION = "missing_extension"
    EXTENSION_SCHEMA = "extension_schema"
    MISSING_ENUM = "missing_enum"
    ENUM_LABELS = "enum_labels"
    EXTRA_ENUM = "extra_enum"
    MISSING_TABLE = "missing_table"
    LEGACY_TABLE = "legacy_table"
    UNKNOWN_TABLE = "unknown_table"
    MISSING_COLUMN = "missing_column"
    EXTRA_COLUMN = "extra_column"
    COLUMN_TYPE = "column_type"
    COLUMN_NULLABLE = "column_nullable"
    COLUMN_COLLATION = "column_collation"
    MISSING_DEFAULT = "missing_default"
    COLUMN_DEFAULT = "column_default"
    PRIMARY_KEY = "primary_key"
    MISSING_UNIQUE = "missing_unique"
    UNIQUE_DEFINITION = "unique_definition"
    EXTRA_UNIQUE = "extra_unique"
    MISSING_FOREIGN_KEY = "missing_foreign_key"
    FOREIGN_KEY_DEFINITION = "foreign_key_definition"
    EXTRA_FOREIGN_KEY = "extra_foreign_key"
    MISSING_CHECK = "missing_check"
    CHECK_DEFINITION = "check_definition"
    EXTRA_CHECK = "extra_check"
    MISSING_INDEX = "missing_index"
    INDEX_DEFINITION = "index_definition"
    EXTRA_INDEX = "extra_index"
    # An index of the definition that exists with the right shape but is INVALID or not ready (an
    # interrupted CREATE INDEX CONCURRENTLY): PostgreSQL does not use it, so it is not there.
    INVALID_INDEX = "invalid_index"
    # An object a later revision of this chain creates, present but not as that revision defines it.
    LATER_OBJECT_DIFFERS = "later_object_differs"
    # Not catalog differences: rows that block closing an additive one (0001's guard reports them).
    DUPLICATES_BLOCK_UNIQUE = "duplicates_block_unique"
    ORPHANS_BLOCK_FOREIGN_KEY = "orphans_block_foreign_key"


# Objects the target does not define and that belong to nobody we know: left
# alone and reported, never a reason to refuse.
FOREIGN_KINDS = frozenset({DiffKind.UNKNOWN_TABLE, DiffKind.EXTRA_ENUM})

# Kinds whose fix only adds something; every other kind changes or removes.
ADDITIVE_KINDS = frozenset(
    {
        DiffKind.MISSING_EXTENSION,
        DiffKind.MISSING_ENUM,
        DiffKind.MISSING_TABLE,
        DiffKind.MISSING_INDEX,
        DiffKind.MISSING_UNIQUE,
        DiffKind.MISSING_FOREIGN_KEY,
        DiffKind.MISSING_DEFAULT,
    }
)


@dataclass(frozen=True)
class Difference:
    kind: DiffKind
    object: str  # "task_status", "tasks", "tasks.title", "ix_tasks_status"
    table: str | None = None
    expected: Any = None
    actual: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DiffKind(self.kind))

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE_KINDS

    @property
    def foreign(self) -> bool:
        return self.kind in FOREIGN_KINDS

    @property
    def column(self) -> str:
        """The column name of a column difference (``tasks.title`` -> ``title``)."""
        return self.object.split(".", 1)[1]

    def describe(self) -> str:
        what = self.kind.replace("_", " ")
        if self.expected is None and self.actual is None:
            return f"{what}: {self.object}"
        if self.expected is None:
            return f"{what}: {self.object} (found {_show(self.actual)})"
        if self.actual is None:
            return f"{what}: {self.object} (expected {_show(self.expected)})"
        return f"{what}: {self.object}: expected {_show(self.expected)}, found {_show(self.actual)}"


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return str(value)
