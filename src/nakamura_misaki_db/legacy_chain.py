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

# Tables that only legacy revisions created (`001`); never part of the target.
LEGACY_ONLY_TABLES: frozenset[str] = frozenset({"notes", "sessions"})


def legacy_ids_in(version_rows: tuple[str, ...] | None) -> list[str]:
    return [v for v in (version_rows or ()) if v in LEGACY_REVISIONS]
