"""Facts about the retired legacy migration chain that the new chain must recognise."""

from __future__ import annotations

# In chain order. None of them is a revision of the new chain; a database that
# carries one in alembic_version must go through `baseline-bridge` first.
LEGACY_REVISIONS: tuple[str, ...] = (
    "001",
    "b0bbf866ebc2",
    "002_add_tasks_table",
    "79bb97c4352b",
    "ca1f08e0bc8a",
    "003_add_slack_users_table",
    "004_add_unique_constraint_to_conversations",
)

# The application's second chain (app-chain.md): it consolidated the legacy chain into
# a new "001" and went on with 002-006. These are legacy ids too; "001" belongs to both
# chains, and only the catalog can tell which one wrote it.
APP_CHAIN_REVISIONS: tuple[str, ...] = ("001", "002", "003", "004", "005", "006")

# Tables that only legacy revisions created (`001`); never part of the target.
LEGACY_ONLY_TABLES: frozenset[str] = frozenset({"notes", "sessions"})


def legacy_ids_in(version_rows: tuple[str, ...] | None) -> list[str]:
    """Ids of either retired chain found in ``alembic_version``, in the order they appear."""
    return [v for v in (version_rows or ()) if v in LEGACY_REVISIONS or v in APP_CHAIN_REVISIONS]


# Legacy spellings of target enum labels (target-schema.md): what SQLAlchemy's
# Enum(PythonEnum) stored by default (member names, not values).
LEGACY_LABELS: dict[str, dict[str, str]] = {
    "task_status": {
        "PENDING": "pending",
        "IN_PROGRESS": "in_progress",
        "COMPLETED": "completed",
        "CANCELLED": "cancelled",
    },
    "skill_category": {
        "CUSTOMER_SUPPORT": "顧客対応",
        "LOGISTICS": "物流",
        "APPRAISAL": "査定・修理",
        "SALES": "販売",
        "MANAGEMENT": "管理",
        "STORE_OPERATION": "店舗",
    },
}

# Columns that say how recently a row was active, best first: when duplicates
# must go, the most recently active row stays.
ACTIVITY_COLUMNS: tuple[str, ...] = ("last_message_at", "updated_at", "created_at")
