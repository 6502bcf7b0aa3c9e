"""The target schema of ../shared/spec/target-schema.md, restated by hand in SQL.

Deliberately independent of the product's definition: tests build a database
from this text and compare it with what the migrations build, so a mistake in
either one shows up as a difference.
"""

from __future__ import annotations

EXTENSION = "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;"

TASK_STATUS_LABELS = ["pending", "in_progress", "completed", "cancelled"]
SKILL_CATEGORY_LABELS = ["顧客対応", "物流", "査定・修理", "販売", "管理", "店舗"]

TASK_STATUS = "CREATE TYPE task_status AS ENUM ('pending', 'in_progress', 'completed', 'cancelled');"
SKILL_CATEGORY = (
    "CREATE TYPE skill_category AS ENUM ('顧客対応', '物流', '査定・修理', '販売', '管理', '店舗');"
)

TABLES: dict[str, str] = {
    "tasks": """
CREATE TABLE tasks (
    id uuid NOT NULL,
    title varchar(500) NOT NULL,
    description text,
    assignee_user_id varchar(50) NOT NULL,
    creator_user_id varchar(50) NOT NULL,
    status task_status NOT NULL,
    due_at timestamptz,
    completed_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT tasks_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_assignee_user_id ON tasks (assignee_user_id);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_due_at ON tasks (due_at);
CREATE INDEX ix_tasks_assignee_status ON tasks (assignee_user_id, status);
""",
    "conversations": """
CREATE TABLE conversations (
    conversation_id uuid NOT NULL,
    user_id varchar(100) NOT NULL,
    channel_id varchar(100) NOT NULL,
    messages json NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    last_message_at timestamptz NOT NULL,
    CONSTRAINT conversations_pkey PRIMARY KEY (conversation_id),
    CONSTRAINT uq_conversations_user_channel UNIQUE (user_id, channel_id)
);
CREATE INDEX idx_conversations_last_message ON conversations (last_message_at);
CREATE INDEX idx_conversations_user_channel ON conversations (user_id, channel_id);
CREATE INDEX ix_conversations_channel_id ON conversations (channel_id);
CREATE INDEX ix_conversations_last_message_at ON conversations (last_message_at);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
""",
    "employees": """
CREATE TABLE employees (
    employee_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    CONSTRAINT employees_pkey PRIMARY KEY (employee_id),
    CONSTRAINT employees_name_key UNIQUE (name)
);
CREATE INDEX idx_employees_active ON employees (is_active);
""",
    "business_skills": """
CREATE TABLE business_skills (
    skill_id uuid NOT NULL,
    skill_name varchar(100) NOT NULL,
    category skill_category NOT NULL,
    display_order integer NOT NULL DEFAULT 0,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    CONSTRAINT business_skills_pkey PRIMARY KEY (skill_id),
    CONSTRAINT business_skills_skill_name_key UNIQUE (skill_name)
);
CREATE INDEX idx_skills_active ON business_skills (is_active);
CREATE INDEX idx_skills_category ON business_skills (category);
""",
    "employee_skills": """
CREATE TABLE employee_skills (
    id uuid NOT NULL,
    employee_id uuid NOT NULL,
    skill_id uuid NOT NULL,
    acquired_at timestamp NOT NULL DEFAULT now(),
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    CONSTRAINT employee_skills_pkey PRIMARY KEY (id),
    CONSTRAINT employee_skills_employee_id_fkey FOREIGN KEY (employee_id)
        REFERENCES employees (employee_id) ON DELETE CASCADE,
    CONSTRAINT employee_skills_skill_id_fkey FOREIGN KEY (skill_id)
        REFERENCES business_skills (skill_id) ON DELETE CASCADE,
    CONSTRAINT uq_employee_skill UNIQUE (employee_id, skill_id)
);
CREATE INDEX idx_employee_skills_employee ON employee_skills (employee_id);
CREATE INDEX idx_employee_skills_skill ON employee_skills (skill_id);
""",
    "slack_users": """
CREATE TABLE slack_users (
    user_id varchar(50) NOT NULL,
    name varchar(255) NOT NULL,
    real_name varchar(255),
    display_name varchar(255),
    email varchar(255),
    is_admin boolean NOT NULL DEFAULT false,
    is_bot boolean NOT NULL DEFAULT false,
    deleted boolean NOT NULL DEFAULT false,
    slack_created_at timestamptz NOT NULL,
    synced_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT slack_users_pkey PRIMARY KEY (user_id)
);
CREATE INDEX ix_slack_users_name ON slack_users (name);
CREATE INDEX ix_slack_users_email ON slack_users (email);
CREATE INDEX ix_slack_users_deleted ON slack_users (deleted);
CREATE INDEX ix_slack_users_synced_at ON slack_users (synced_at);
""",
    "handoffs": """
CREATE TABLE handoffs (
    handoff_id uuid NOT NULL,
    task_id uuid,
    from_user_id varchar(100) NOT NULL,
    to_user_id varchar(100) NOT NULL,
    progress_note text NOT NULL,
    next_steps text NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'pending',
    handoff_at timestamp NOT NULL,
    accepted_at timestamp,
    completed_at timestamp,
    created_at timestamp NOT NULL,
    CONSTRAINT handoffs_pkey PRIMARY KEY (handoff_id)
);
CREATE INDEX idx_handoffs_from_user ON handoffs (from_user_id);
CREATE INDEX idx_handoffs_to_user ON handoffs (to_user_id);
CREATE INDEX idx_handoffs_status ON handoffs (status);
""",
}

# Indexes the spec lists per table (the ones not backing a PK/unique constraint).
INDEXES: dict[str, set[str]] = {
    "tasks": {"ix_tasks_assignee_user_id", "ix_tasks_status", "ix_tasks_due_at",
              "ix_tasks_assignee_status"},
    "conversations": {"idx_conversations_last_message", "idx_conversations_user_channel",
                      "ix_conversations_channel_id", "ix_conversations_last_message_at",
                      "ix_conversations_user_id"},
    "employees": {"idx_employees_active"},
    "business_skills": {"idx_skills_active", "idx_skills_category"},
    "employee_skills": {"idx_employee_skills_employee", "idx_employee_skills_skill"},
    "slack_users": {"ix_slack_users_name", "ix_slack_users_email", "ix_slack_users_deleted",
                    "ix_slack_users_synced_at"},
    "handoffs": {"idx_handoffs_from_user", "idx_handoffs_to_user", "idx_handoffs_status"},
}

# Every constraint the spec names: (table, name, contype).
CONSTRAINTS: set[tuple[str, str, str]] = {
    ("tasks", "tasks_pkey", "p"),
    ("conversations", "conversations_pkey", "p"),
    ("conversations", "uq_conversations_user_channel", "u"),
    ("employees", "employees_pkey", "p"),
    ("employees", "employees_name_key", "u"),
    ("business_skills", "business_skills_pkey", "p"),
    ("business_skills", "business_skills_skill_name_key", "u"),
    ("employee_skills", "employee_skills_pkey", "p"),
    ("employee_skills", "employee_skills_employee_id_fkey", "f"),
    ("employee_skills", "employee_skills_skill_id_fkey", "f"),
    ("employee_skills", "uq_employee_skill", "u"),
    ("slack_users", "slack_users_pkey", "p"),
    ("handoffs", "handoffs_pkey", "p"),
}

# (table, column) -> (format_type, nullable, default as PostgreSQL prints it)
COLUMNS: dict[tuple[str, str], tuple[str, bool, str | None]] = {
    ("tasks", "id"): ("uuid", False, None),
    ("tasks", "title"): ("character varying(500)", False, None),
    ("tasks", "description"): ("text", True, None),
    ("tasks", "assignee_user_id"): ("character varying(50)", False, None),
    ("tasks", "creator_user_id"): ("character varying(50)", False, None),
    ("tasks", "status"): ("task_status", False, None),
    ("tasks", "due_at"): ("timestamp with time zone", True, None),
    ("tasks", "completed_at"): ("timestamp with time zone", True, None),
    ("tasks", "created_at"): ("timestamp with time zone", False, None),
    ("tasks", "updated_at"): ("timestamp with time zone", False, None),
    ("conversations", "conversation_id"): ("uuid", False, None),
    ("conversations", "user_id"): ("character varying(100)", False, None),
    ("conversations", "channel_id"): ("character varying(100)", False, None),
    ("conversations", "messages"): ("json", False, None),
    ("conversations", "created_at"): ("timestamp with time zone", False, None),
    ("conversations", "updated_at"): ("timestamp with time zone", False, None),
    ("conversations", "last_message_at"): ("timestamp with time zone", False, None),
    ("employees", "employee_id"): ("uuid", False, None),
    ("employees", "name"): ("character varying(100)", False, None),
    ("employees", "is_active"): ("boolean", False, "true"),
    ("employees", "created_at"): ("timestamp without time zone", False, "now()"),
    ("employees", "updated_at"): ("timestamp without time zone", False, "now()"),
    ("business_skills", "skill_id"): ("uuid", False, None),
    ("business_skills", "skill_name"): ("character varying(100)", False, None),
    ("business_skills", "category"): ("skill_category", False, None),
    ("business_skills", "display_order"): ("integer", False, "0"),
    ("business_skills", "is_active"): ("boolean", False, "true"),
    ("business_skills", "created_at"): ("timestamp without time zone", False, "now()"),
    ("business_skills", "updated_at"): ("timestamp without time zone", False, "now()"),
    ("employee_skills", "id"): ("uuid", False, None),
    ("employee_skills", "employee_id"): ("uuid", False, None),
    ("employee_skills", "skill_id"): ("uuid", False, None),
    ("employee_skills", "acquired_at"): ("timestamp without time zone", False, "now()"),
    ("employee_skills", "created_at"): ("timestamp without time zone", False, "now()"),
    ("employee_skills", "updated_at"): ("timestamp without time zone", False, "now()"),
    ("slack_users", "user_id"): ("character varying(50)", False, None),
    ("slack_users", "name"): ("character varying(255)", False, None),
    ("slack_users", "real_name"): ("character varying(255)", True, None),
    ("slack_users", "display_name"): ("character varying(255)", True, None),
    ("slack_users", "email"): ("character varying(255)", True, None),
    ("slack_users", "is_admin"): ("boolean", False, "false"),
    ("slack_users", "is_bot"): ("boolean", False, "false"),
    ("slack_users", "deleted"): ("boolean", False, "false"),
    ("slack_users", "slack_created_at"): ("timestamp with time zone", False, None),
    ("slack_users", "synced_at"): ("timestamp with time zone", False, None),
    ("slack_users", "created_at"): ("timestamp with time zone", False, None),
    ("slack_users", "updated_at"): ("timestamp with time zone", False, None),
    ("handoffs", "handoff_id"): ("uuid", False, None),
    ("handoffs", "task_id"): ("uuid", True, None),
    ("handoffs", "from_user_id"): ("character varying(100)", False, None),
    ("handoffs", "to_user_id"): ("character varying(100)", False, None),
    ("handoffs", "progress_note"): ("text", False, None),
    ("handoffs", "next_steps"): ("text", False, None),
    ("handoffs", "status"): ("character varying(20)", False, "'pending'::character varying"),
    ("handoffs", "handoff_at"): ("timestamp without time zone", False, None),
    ("handoffs", "accepted_at"): ("timestamp without time zone", True, None),
    ("handoffs", "completed_at"): ("timestamp without time zone", True, None),
    ("handoffs", "created_at"): ("timestamp without time zone", False, None),
}


def full_schema_sql() -> str:
    return "\n".join([EXTENSION, TASK_STATUS, SKILL_CATEGORY, *TABLES.values()])


SAMPLE_ROWS_SQL = """
INSERT INTO tasks VALUES ('00000000-0000-0000-0000-000000000001', 'Call the customer', NULL,
    'U01', 'U02', 'in_progress', '2025-10-25 09:00+09', NULL, '2025-10-20 09:00+09',
    '2025-10-21 09:00+09');
INSERT INTO conversations VALUES ('00000000-0000-0000-0000-000000000002', 'U01', 'C01',
    '[{"role": "user", "text": "hello"}]', now(), now(), now());
INSERT INTO employees (employee_id, name) VALUES ('00000000-0000-0000-0000-000000000003', '中村');
INSERT INTO business_skills (skill_id, skill_name, category)
    VALUES ('00000000-0000-0000-0000-000000000004', '修理受付', '査定・修理');
INSERT INTO employee_skills (id, employee_id, skill_id) VALUES
    ('00000000-0000-0000-0000-000000000005', '00000000-0000-0000-0000-000000000003',
     '00000000-0000-0000-0000-000000000004');
INSERT INTO handoffs (handoff_id, from_user_id, to_user_id, progress_note, next_steps,
    handoff_at, created_at) VALUES ('00000000-0000-0000-0000-000000000006', 'U01', 'U02',
    'half done', 'finish it', '2025-10-22 10:00', '2025-10-22 10:00');
"""


# == Revisions 0003-0007: what the application's 002-006 create (app-chain.md section 2) ==========
# Restated by hand from the spec, like everything above; never read from the product.

# The application's revision each of ours mirrors, one for one, in order.
APP_REVISION: dict[str, str] = {"0003": "002", "0004": "003", "0005": "004", "0006": "005", "0007": "006"}

APP_SQL: dict[str, str] = {
    "002": """
CREATE TABLE projects (
    project_id uuid NOT NULL,
    name varchar(200) NOT NULL,
    description text,
    owner_user_id varchar(100),
    deadline timestamp,
    status varchar(20) NOT NULL,
    created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (project_id)
);
CREATE INDEX idx_projects_owner ON projects (owner_user_id);
CREATE INDEX idx_projects_status ON projects (status);
CREATE INDEX idx_projects_deadline ON projects (deadline);
CREATE TABLE project_tasks (
    id uuid NOT NULL,
    project_id uuid NOT NULL,
    task_id uuid NOT NULL,
    position integer NOT NULL,
    created_at timestamp NOT NULL,
    CONSTRAINT project_tasks_pkey PRIMARY KEY (id),
    CONSTRAINT uq_project_task UNIQUE (project_id, task_id),
    CONSTRAINT project_tasks_project_id_fkey FOREIGN KEY (project_id)
        REFERENCES projects (project_id) ON DELETE CASCADE,
    CONSTRAINT project_tasks_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
);
CREATE INDEX idx_project_tasks_project ON project_tasks (project_id);
CREATE INDEX idx_project_tasks_task ON project_tasks (task_id);
""",
    "003": """
CREATE TABLE task_dependencies (
    id uuid NOT NULL,
    blocking_task_id uuid NOT NULL,
    blocked_task_id uuid NOT NULL,
    dependency_type varchar(20) NOT NULL,
    created_at timestamp NOT NULL,
    CONSTRAINT task_dependencies_pkey PRIMARY KEY (id),
    CONSTRAINT uq_task_dependency UNIQUE (blocking_task_id, blocked_task_id),
    CONSTRAINT ck_no_self_dependency CHECK (blocking_task_id <> blocked_task_id),
    CONSTRAINT task_dependencies_blocking_task_id_fkey FOREIGN KEY (blocking_task_id)
        REFERENCES tasks (id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_blocked_task_id_fkey FOREIGN KEY (blocked_task_id)
        REFERENCES tasks (id) ON DELETE CASCADE
);
CREATE INDEX idx_dependencies_blocking ON task_dependencies (blocking_task_id);
CREATE INDEX idx_dependencies_blocked ON task_dependencies (blocked_task_id);
""",
    "004": """
CREATE TABLE daily_summaries (
    id uuid NOT NULL,
    date date NOT NULL,
    user_id varchar(100),
    tasks_completed integer NOT NULL DEFAULT 0,
    tasks_pending integer NOT NULL DEFAULT 0,
    summary_text text,
    created_at timestamp NOT NULL,
    CONSTRAINT pk_daily_summaries PRIMARY KEY (id),
    CONSTRAINT uq_daily_summaries_date_user UNIQUE (date, user_id)
);
CREATE INDEX idx_daily_summaries_date ON daily_summaries (date);
CREATE INDEX idx_daily_summaries_user ON daily_summaries (user_id);
CREATE TABLE team_metrics (
    id uuid NOT NULL,
    date date NOT NULL,
    metric_type varchar(50) NOT NULL,
    metric_value double precision NOT NULL,
    metadata jsonb,
    created_at timestamp NOT NULL,
    CONSTRAINT pk_team_metrics PRIMARY KEY (id)
);
CREATE INDEX idx_team_metrics_date ON team_metrics (date);
CREATE INDEX idx_team_metrics_type ON team_metrics (metric_type);
""",
    "005": """
CREATE TABLE notifications (
    id uuid NOT NULL,
    user_id varchar(100),
    notification_type varchar(50) NOT NULL,
    task_id uuid,
    content text NOT NULL,
    sent_at timestamp,
    read_at timestamp,
    created_at timestamp NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT fk_notifications_task_id_tasks FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
);
CREATE INDEX idx_notifications_user ON notifications (user_id);
CREATE INDEX idx_notifications_sent ON notifications (sent_at);
CREATE INDEX idx_notifications_unread ON notifications (user_id, read_at) WHERE read_at IS NULL;
""",
    "006": """
ALTER TABLE tasks ADD COLUMN priority integer NOT NULL DEFAULT 5;
ALTER TABLE tasks ADD COLUMN progress_percent integer NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN estimated_hours double precision;
ALTER TABLE tasks ADD CONSTRAINT ck_tasks_progress_percent_range
    CHECK (progress_percent >= 0 AND progress_percent <= 100);
CREATE INDEX idx_tasks_priority ON tasks (priority);
""",
}

# Tables each application revision creates whole.
APP_TABLES: dict[str, tuple[str, ...]] = {
    "002": ("projects", "project_tasks"),
    "003": ("task_dependencies",),
    "004": ("daily_summaries", "team_metrics"),
    "005": ("notifications",),
    "006": (),
}
LATER_TABLES: tuple[str, ...] = tuple(t for tables in APP_TABLES.values() for t in tables)

# (table, column) -> (format_type, nullable, default as PostgreSQL prints it), in column order.
LATER_COLUMNS: dict[tuple[str, str], tuple[str, bool, str | None]] = {
    ("projects", "project_id"): ("uuid", False, None),
    ("projects", "name"): ("character varying(200)", False, None),
    ("projects", "description"): ("text", True, None),
    ("projects", "owner_user_id"): ("character varying(100)", True, None),
    ("projects", "deadline"): ("timestamp without time zone", True, None),
    ("projects", "status"): ("character varying(20)", False, None),
    ("projects", "created_at"): ("timestamp without time zone", False, None),
    ("projects", "updated_at"): ("timestamp without time zone", False, None),
    ("project_tasks", "id"): ("uuid", False, None),
    ("project_tasks", "project_id"): ("uuid", False, None),
    ("project_tasks", "task_id"): ("uuid", False, None),
    ("project_tasks", "position"): ("integer", False, None),
    ("project_tasks", "created_at"): ("timestamp without time zone", False, None),
    ("task_dependencies", "id"): ("uuid", False, None),
    ("task_dependencies", "blocking_task_id"): ("uuid", False, None),
    ("task_dependencies", "blocked_task_id"): ("uuid", False, None),
    ("task_dependencies", "dependency_type"): ("character varying(20)", False, None),
    ("task_dependencies", "created_at"): ("timestamp without time zone", False, None),
    ("daily_summaries", "id"): ("uuid", False, None),
    ("daily_summaries", "date"): ("date", False, None),
    ("daily_summaries", "user_id"): ("character varying(100)", True, None),
    ("daily_summaries", "tasks_completed"): ("integer", False, "0"),
    ("daily_summaries", "tasks_pending"): ("integer", False, "0"),
    ("daily_summaries", "summary_text"): ("text", True, None),
    ("daily_summaries", "created_at"): ("timestamp without time zone", False, None),
    ("team_metrics", "id"): ("uuid", False, None),
    ("team_metrics", "date"): ("date", False, None),
    ("team_metrics", "metric_type"): ("character varying(50)", False, None),
    ("team_metrics", "metric_value"): ("double precision", False, None),
    ("team_metrics", "metadata"): ("jsonb", True, None),
    ("team_metrics", "created_at"): ("timestamp without time zone", False, None),
    ("notifications", "id"): ("uuid", False, None),
    ("notifications", "user_id"): ("character varying(100)", True, None),
    ("notifications", "notification_type"): ("character varying(50)", False, None),
    ("notifications", "task_id"): ("uuid", True, None),
    ("notifications", "content"): ("text", False, None),
    ("notifications", "sent_at"): ("timestamp without time zone", True, None),
    ("notifications", "read_at"): ("timestamp without time zone", True, None),
    ("notifications", "created_at"): ("timestamp without time zone", False, None),
}
# What 006 appends to tasks (positions 11-13 in the application's own build).
TASKS_ADDED_COLUMNS: dict[str, tuple[str, bool, str | None]] = {
    "priority": ("integer", False, "5"),
    "progress_percent": ("integer", False, "0"),
    "estimated_hours": ("double precision", True, None),
}

# (table, constraint) -> pg_get_constraintdef(oid), exactly as section 2 prints it.
LATER_CONSTRAINTS: dict[tuple[str, str], str] = {
    ("projects", "projects_pkey"): "PRIMARY KEY (project_id)",
    ("project_tasks", "project_tasks_pkey"): "PRIMARY KEY (id)",
    ("project_tasks", "uq_project_task"): "UNIQUE (project_id, task_id)",
    ("project_tasks", "project_tasks_project_id_fkey"):
        "FOREIGN KEY (project_id) REFERENCES projects(project_id) ON DELETE CASCADE",
    ("project_tasks", "project_tasks_task_id_fkey"): "FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE",
    ("task_dependencies", "task_dependencies_pkey"): "PRIMARY KEY (id)",
    ("task_dependencies", "uq_task_dependency"): "UNIQUE (blocking_task_id, blocked_task_id)",
    ("task_dependencies", "ck_no_self_dependency"): "CHECK ((blocking_task_id <> blocked_task_id))",
    ("task_dependencies", "task_dependencies_blocking_task_id_fkey"):
        "FOREIGN KEY (blocking_task_id) REFERENCES tasks(id) ON DELETE CASCADE",
    ("task_dependencies", "task_dependencies_blocked_task_id_fkey"):
        "FOREIGN KEY (blocked_task_id) REFERENCES tasks(id) ON DELETE CASCADE",
    ("daily_summaries", "pk_daily_summaries"): "PRIMARY KEY (id)",
    ("daily_summaries", "uq_daily_summaries_date_user"): "UNIQUE (date, user_id)",
    ("team_metrics", "pk_team_metrics"): "PRIMARY KEY (id)",
    ("notifications", "pk_notifications"): "PRIMARY KEY (id)",
    ("notifications", "fk_notifications_task_id_tasks"):
        "FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE",
}
TASKS_ADDED_CONSTRAINTS: dict[str, str] = {
    "ck_tasks_progress_percent_range": "CHECK (((progress_percent >= 0) AND (progress_percent <= 100)))",
}

# table -> {index name: pg_indexes.indexdef}, every index (PK and unique ones included).
LATER_INDEXES: dict[str, dict[str, str]] = {
    "projects": {
        "projects_pkey": "CREATE UNIQUE INDEX projects_pkey ON public.projects USING btree (project_id)",
        "idx_projects_owner": "CREATE INDEX idx_projects_owner ON public.projects USING btree (owner_user_id)",
        "idx_projects_status": "CREATE INDEX idx_projects_status ON public.projects USING btree (status)",
        "idx_projects_deadline": "CREATE INDEX idx_projects_deadline ON public.projects USING btree (deadline)",
    },
    "project_tasks": {
        "project_tasks_pkey": "CREATE UNIQUE INDEX project_tasks_pkey ON public.project_tasks USING btree (id)",
        "uq_project_task":
            "CREATE UNIQUE INDEX uq_project_task ON public.project_tasks USING btree (project_id, task_id)",
        "idx_project_tasks_project":
            "CREATE INDEX idx_project_tasks_project ON public.project_tasks USING btree (project_id)",
        "idx_project_tasks_task": "CREATE INDEX idx_project_tasks_task ON public.project_tasks USING btree (task_id)",
    },
    "task_dependencies": {
        "task_dependencies_pkey":
            "CREATE UNIQUE INDEX task_dependencies_pkey ON public.task_dependencies USING btree (id)",
        "uq_task_dependency": "CREATE UNIQUE INDEX uq_task_dependency ON public.task_dependencies"
                              " USING btree (blocking_task_id, blocked_task_id)",
        "idx_dependencies_blocking":
            "CREATE INDEX idx_dependencies_blocking ON public.task_dependencies USING btree (blocking_task_id)",
        "idx_dependencies_blocked":
            "CREATE INDEX idx_dependencies_blocked ON public.task_dependencies USING btree (blocked_task_id)",
    },
    "daily_summaries": {
        "pk_daily_summaries": "CREATE UNIQUE INDEX pk_daily_summaries ON public.daily_summaries USING btree (id)",
        "uq_daily_summaries_date_user": "CREATE UNIQUE INDEX uq_daily_summaries_date_user"
                                        " ON public.daily_summaries USING btree (date, user_id)",
        "idx_daily_summaries_date":
            "CREATE INDEX idx_daily_summaries_date ON public.daily_summaries USING btree (date)",
        "idx_daily_summaries_user":
            "CREATE INDEX idx_daily_summaries_user ON public.daily_summaries USING btree (user_id)",
    },
    "team_metrics": {
        "pk_team_metrics": "CREATE UNIQUE INDEX pk_team_metrics ON public.team_metrics USING btree (id)",
        "idx_team_metrics_date": "CREATE INDEX idx_team_metrics_date ON public.team_metrics USING btree (date)",
        "idx_team_metrics_type":
            "CREATE INDEX idx_team_metrics_type ON public.team_metrics USING btree (metric_type)",
    },
    "notifications": {
        "pk_notifications": "CREATE UNIQUE INDEX pk_notifications ON public.notifications USING btree (id)",
        "idx_notifications_user":
            "CREATE INDEX idx_notifications_user ON public.notifications USING btree (user_id)",
        "idx_notifications_sent":
            "CREATE INDEX idx_notifications_sent ON public.notifications USING btree (sent_at)",
        "idx_notifications_unread": "CREATE INDEX idx_notifications_unread ON public.notifications"
                                    " USING btree (user_id, read_at) WHERE (read_at IS NULL)",
    },
}
TASKS_ADDED_INDEXES: dict[str, str] = {
    "idx_tasks_priority": "CREATE INDEX idx_tasks_priority ON public.tasks USING btree (priority)",
}

# The only server defaults anywhere in what 002-006 create (section 2).
LATER_DEFAULTS: set[tuple[str, str, str]] = {
    ("tasks", "priority", "5"), ("tasks", "progress_percent", "0"),
    ("daily_summaries", "tasks_completed", "0"), ("daily_summaries", "tasks_pending", "0"),
}

# Revision 0002 dropped these from 0001's conversations.
DROPPED_BY_0002 = ("idx_conversations_user_channel", "ix_conversations_last_message_at")


def head_schema_sql() -> str:
    """The whole schema at head: 0001, minus what 0002 dropped, plus the application's 002-006."""
    return "\n".join([full_schema_sql(), *(f"DROP INDEX {name};" for name in DROPPED_BY_0002), *APP_SQL.values()])
