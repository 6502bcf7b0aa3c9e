"""FROZEN. Revision ``0006``: notifications sent to users.

Mirrors the application's ``005`` (``005_add_notifications.py``) as it exists in
production (app-chain.md section 2): PK ``pk_notifications``, FK
``fk_notifications_task_id_tasks`` (ON DELETE CASCADE), and the partial index
of unread notifications per user.
"""

from __future__ import annotations

import sqlalchemy as sa

from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

metadata = sa.MetaData()

# Foreign-key target only.
sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint("id", name="tasks_pkey"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("user_id", sa.String(100), nullable=True),
    sa.Column("notification_type", sa.String(50), nullable=False),
    sa.Column("task_id", sa.Uuid(), nullable=True),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=False), nullable=True),
    sa.Column("read_at", sa.DateTime(timezone=False), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                            name="fk_notifications_task_id_tasks", ondelete="CASCADE"),
)
sa.Index("idx_notifications_user", notifications.c.user_id)
sa.Index("idx_notifications_sent", notifications.c.sent_at)
# The predicate as pg_get_expr prints it back.
sa.Index("idx_notifications_unread", notifications.c.user_id, notifications.c.read_at,
         postgresql_where=sa.text("(read_at IS NULL)"))

SCHEMA = RevisionSchema(
    revision="0006",
    metadata=metadata,
    creates=("notifications",),
)
