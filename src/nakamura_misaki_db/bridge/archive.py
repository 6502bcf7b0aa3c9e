"""Where the bridge puts what does not belong in the target: the ``legacy_archive`` schema.

Tables move there whole (``ALTER TABLE ... SET SCHEMA``: no copy, no loss);
duplicate rows are copied there (tagged with the run id) before they are
removed; every run leaves an audit row. Nothing of this lives in ``public``.
"""

from __future__ import annotations

from nakamura_misaki_db.schema.quoting import ident

ARCHIVE_SCHEMA = "legacy_archive"
AUDIT_TABLE = "bridge_runs"

CREATE_AUDIT = f"""CREATE TABLE IF NOT EXISTS {ident(ARCHIVE_SCHEMA, AUDIT_TABLE)} (
    run_id uuid PRIMARY KEY,
    finished_at timestamptz NOT NULL DEFAULT now(),
    source_state jsonb NOT NULL,
    steps jsonb NOT NULL,
    rows_archived jsonb NOT NULL,
    row_counts_before jsonb NOT NULL,
    row_counts_after jsonb NOT NULL
)"""


def duplicates_table(table: str) -> str:
    return f"{table}_duplicates"


def cascade_table(schema: str, table: str) -> str:
    """Where rows of ``schema.table`` go when a foreign key would change them as their parents move."""
    return f"{table}_cascade" if schema == "public" else f"{schema}_{table}_cascade"
