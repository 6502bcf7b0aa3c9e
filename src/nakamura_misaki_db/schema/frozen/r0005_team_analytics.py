"""FROZEN. Revision ``0005``: daily summaries and team metrics.

Mirrors the application's ``004`` (``004_add_team_analytics.py``) as it exists
in production (app-chain.md section 2): primary keys named ``pk_*``, server
defaults ``0`` on the two counters, ``metadata`` as ``jsonb``. The application's
ORM says otherwise on all three (section 3); the migrations win.

``uq_daily_summaries_date_user`` is a plain UNIQUE (no NULLS NOT DISTINCT):
``user_id`` is nullable, and several rows of one date with a NULL user are
accepted, as in production.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from nakamura_misaki_db.schema.frozen.revision_schema import RevisionSchema

metadata = sa.MetaData()

daily_summaries = sa.Table(
    "daily_summaries",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("date", sa.Date(), nullable=False),
    sa.Column("user_id", sa.String(100), nullable=True),
    sa.Column("tasks_completed", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("tasks_pending", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("summary_text", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_daily_summaries"),
    sa.UniqueConstraint("date", "user_id", name="uq_daily_summaries_date_user"),
)
sa.Index("idx_daily_summaries_date", daily_summaries.c.date)
sa.Index("idx_daily_summaries_user", daily_summaries.c.user_id)

team_metrics = sa.Table(
    "team_metrics",
    metadata,
    sa.Column("id", sa.Uuid(), nullable=False),
    sa.Column("date", sa.Date(), nullable=False),
    sa.Column("metric_type", sa.String(50), nullable=False),
    sa.Column("metric_value", sa.Double(), nullable=False),
    sa.Column("metadata", pg.JSONB(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.PrimaryKeyConstraint("id", name="pk_team_metrics"),
)
sa.Index("idx_team_metrics_date", team_metrics.c.date)
sa.Index("idx_team_metrics_type", team_metrics.c.metric_type)

SCHEMA = RevisionSchema(
    revision="0005",
    metadata=metadata,
    creates=("daily_summaries", "team_metrics"),
)
