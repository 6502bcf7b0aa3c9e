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

# The application's second chain (app-chain.md section 1), in order: ``001``
# consolidated everything, ``002``-``006`` added project management, task
# dependencies, team analytics, notifications and new tasks columns. These are
# legacy ids too: our chain mirrors 002-006 as 0003-0007, and a database that
# carries one of them must be reconciled from its catalog first (states S6, S7).
# ``001`` belongs to both chains (the first chain starts with an ``001`` as well):
# only the catalog can tell which one built a database stamped ``001``.
APP_CHAIN_REVISIONS: tuple[str, ...] = ("001", "002", "003", "004", "005", "006")

# Tables that only legacy revisions created (`001`); never part of the target.
LEGACY_ONLY_TABLES: frozenset[str] = frozenset({"notes", "sessions"})


def legacy_ids_in(version_rows: tuple[str, ...] | None) -> list[str]:
    """Ids of either retired chain (the first one, or the application's second) among ``version_rows``."""
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
