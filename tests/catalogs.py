"""Catalogs built by hand for the pure (PostgreSQL-free) tests of diff, classify and the planners.

The target's shape comes from target-schema.md, written out here as the
facts the tests need; a test perturbs a copy and says by hand which
difference or step must come out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nakamura_misaki_db.schema.shapes import Catalog, Column, ForeignKey, Index, Table, Unique

TS = "timestamp without time zone"
TSTZ = "timestamp with time zone"


def varchar(n: int) -> str:
    return f"character varying({n})"


def col(name: str, type_: str, nullable: bool = False, default: str | None = None) -> Column:
    return Column(name, type_, nullable, default)


def tasks(**changes: Any) -> Table:
    """target-schema.md's tasks."""
    table = Table(
        name="tasks",
        columns=(
            col("id", "uuid"), col("title", varchar(500)), col("description", "text", True),
            col("assignee_user_id", varchar(50)), col("creator_user_id", varchar(50)),
            col("status", "task_status"), col("due_at", TSTZ, True), col("completed_at", TSTZ, True),
            col("created_at", TSTZ), col("updated_at", TSTZ),
        ),
        primary_key=Unique("tasks_pkey", ("id",)),
        indexes=tuple(sorted((
            Index("ix_tasks_assignee_user_id", ("assignee_user_id",), False),
            Index("ix_tasks_status", ("status",), False),
            Index("ix_tasks_due_at", ("due_at",), False),
            Index("ix_tasks_assignee_status", ("assignee_user_id", "status"), False),
        ), key=lambda i: i.name)),
        estimated_rows=0, has_rows=False,
    )
    return dataclasses.replace(table, **changes)


def conversations(**changes: Any) -> Table:
    table = Table(
        name="conversations",
        columns=(
            col("conversation_id", "uuid"), col("user_id", varchar(100)), col("channel_id", varchar(100)),
            col("messages", "json"), col("created_at", TSTZ), col("updated_at", TSTZ), col("last_message_at", TSTZ),
        ),
        primary_key=Unique("conversations_pkey", ("conversation_id",)),
        uniques=(Unique("uq_conversations_user_channel", ("user_id", "channel_id")),),
        indexes=tuple(sorted((
            Index("idx_conversations_last_message", ("last_message_at",), False),
            Index("idx_conversations_user_channel", ("user_id", "channel_id"), False),
            Index("ix_conversations_channel_id", ("channel_id",), False),
            Index("ix_conversations_last_message_at", ("last_message_at",), False),
            Index("ix_conversations_user_id", ("user_id",), False),
        ), key=lambda i: i.name)),
        estimated_rows=0, has_rows=False,
    )
    return dataclasses.replace(table, **changes)


def employee_skills(**changes: Any) -> Table:
    table = Table(
        name="employee_skills",
        columns=(col("id", "uuid"), col("employee_id", "uuid"), col("skill_id", "uuid"),
                 col("acquired_at", TS, default="now()"), col("created_at", TS, default="now()"),
                 col("updated_at", TS, default="now()")),
        primary_key=Unique("employee_skills_pkey", ("id",)),
        uniques=(Unique("uq_employee_skill", ("employee_id", "skill_id")),),
        foreign_keys=(
            ForeignKey("employee_skills_employee_id_fkey", ("employee_id",), "employees", ("employee_id",), "CASCADE"),
            ForeignKey("employee_skills_skill_id_fkey", ("skill_id",), "business_skills", ("skill_id",), "CASCADE"),
        ),
        indexes=(Index("idx_employee_skills_employee", ("employee_id",), False),
                 Index("idx_employee_skills_skill", ("skill_id",), False)),
        estimated_rows=0, has_rows=False,
    )
    return dataclasses.replace(table, **changes)


TASK_STATUS = ("pending", "in_progress", "completed", "cancelled")
SKILL_CATEGORY = ("顧客対応", "物流", "査定・修理", "販売", "管理", "店舗")


def catalog(*tables: Table, enums: dict[str, tuple[str, ...]] | None = None,
            extensions: dict[str, str] | None = None, version: tuple[str, ...] | None = None) -> Catalog:
    return Catalog(
        schema="public",
        extensions={"vector": "public"} if extensions is None else extensions,
        enums={"task_status": TASK_STATUS, "skill_category": SKILL_CATEGORY} if enums is None else enums,
        tables={t.name: t for t in tables},
        alembic_version=version,
    )


def replace_column(table: Table, name: str, **changes: Any) -> Table:
    return dataclasses.replace(table, columns=tuple(
        dataclasses.replace(c, **changes) if c.name == name else c for c in table.columns))


def with_rows(table: Table, n: int = 1000) -> Table:
    return dataclasses.replace(table, estimated_rows=n, has_rows=True)
