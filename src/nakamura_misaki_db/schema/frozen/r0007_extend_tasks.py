"""FROZEN. Revision ``0007``: priority, progress and estimate on tasks.

Mirrors the application's ``006`` (``006_extend_tasks_table.py``) as it exists
in production (app-chain.md section 2): three columns appended to ``tasks``,
server defaults ``5`` and ``0`` (an insert that omits them gets priority 5,
progress 0), the CHECK ``ck_tasks_progress_percent_range`` and the single index
``idx_tasks_priority``. The application's ORM has neither the defaults nor the
CHECK and declares a second, identical ``ix_tasks_priority`` (section 3); the
migrations win.

``tasks`` here is a stub holding only what this revision adds.
"""

from __future__ import annotations

import sqlalchemy as sa

from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

metadata = sa.MetaData()

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("5")),
    sa.Column("progress_percent", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("estimated_hours", sa.Double(), nullable=True),
    # As the catalog reader (SQLAlchemy's reflection) reads it back: the inside of the
    # pretty-printed pg_get_constraintdef(oid, true). The plain pg_get_constraintdef(oid)
    # prints the same constraint as "CHECK (((progress_percent >= 0) AND (progress_percent <= 100)))".
    sa.CheckConstraint("progress_percent >= 0 AND progress_percent <= 100",
                       name="ck_tasks_progress_percent_range"),
)
sa.Index("idx_tasks_priority", tasks.c.priority)

SCHEMA = RevisionSchema(
    revision="0007",
    metadata=metadata,
    creates=(),
    extends=("tasks",),
)
