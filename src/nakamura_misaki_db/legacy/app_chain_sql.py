"""The application's second chain (app-chain.md): the shapes its ``001``-``006`` leave.

``legacy.states`` composes them, on top of the first chain's shapes, into S6 and S7.
"""

from __future__ import annotations

# The incident's create_all built tasks in the ORM's attribute order (app-chain.md
# section 4): completed_at last. TASKS_LEGACY, the chain-2 001 build, has it
# after due_at. Same types, lengths and indexes otherwise.
TASKS_INCIDENT = """
CREATE TABLE tasks (
    id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    assignee_user_id varchar(100) NOT NULL,
    creator_user_id varchar(100) NOT NULL,
    status task_status NOT NULL,
    due_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    completed_at timestamp without time zone,
    CONSTRAINT tasks_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_tasks_assignee_due ON tasks (assignee_user_id, due_at);
CREATE INDEX idx_tasks_assignee_status ON tasks (assignee_user_id, status);
CREATE INDEX ix_tasks_assignee_user_id ON tasks (assignee_user_id);
CREATE INDEX ix_tasks_due_at ON tasks (due_at);
CREATE INDEX ix_tasks_status ON tasks (status);
"""

# Chain-2 001 (dump B): the unique constraint is there, the index
# ix_conversations_last_message_at is not.
CONVERSATIONS_APP_001 = """
CREATE TABLE conversations (
    conversation_id uuid NOT NULL,
    user_id varchar(100) NOT NULL,
    channel_id varchar(100) NOT NULL,
    messages json NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    last_message_at timestamp with time zone NOT NULL,
    CONSTRAINT conversations_pkey PRIMARY KEY (conversation_id),
    CONSTRAINT uq_conversations_user_channel UNIQUE (user_id, channel_id)
);
CREATE INDEX idx_conversations_last_message ON conversations (last_message_at);
CREATE INDEX idx_conversations_user_channel ON conversations (user_id, channel_id);
CREATE INDEX ix_conversations_channel_id ON conversations (channel_id);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
"""

# Chain-2 001's slack_users: the target's columns, but no server defaults and
# no index besides the primary key.
SLACK_USERS_APP_001 = """
CREATE TABLE slack_users (
    user_id varchar(50) NOT NULL,
    name varchar(255) NOT NULL,
    real_name varchar(255),
    display_name varchar(255),
    email varchar(255),
    is_admin boolean NOT NULL,
    is_bot boolean NOT NULL,
    deleted boolean NOT NULL,
    slack_created_at timestamp with time zone NOT NULL,
    synced_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT slack_users_pkey PRIMARY KEY (user_id)
);
"""

# What each of the application's 002-006 creates (app-chain.md section 2).
APP_002_PROJECTS = """
CREATE TABLE projects (
    project_id uuid NOT NULL,
    name varchar(200) NOT NULL,
    description text,
    owner_user_id varchar(100),
    deadline timestamp without time zone,
    status varchar(20) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
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
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT project_tasks_pkey PRIMARY KEY (id),
    CONSTRAINT uq_project_task UNIQUE (project_id, task_id),
    CONSTRAINT project_tasks_project_id_fkey FOREIGN KEY (project_id)
        REFERENCES projects (project_id) ON DELETE CASCADE,
    CONSTRAINT project_tasks_task_id_fkey FOREIGN KEY (task_id)
        REFERENCES tasks (id) ON DELETE CASCADE
);
CREATE INDEX idx_project_tasks_project ON project_tasks (project_id);
CREATE INDEX idx_project_tasks_task ON project_tasks (task_id);
"""

APP_003_TASK_DEPENDENCIES = """
CREATE TABLE task_dependencies (
    id uuid NOT NULL,
    blocking_task_id uuid NOT NULL,
    blocked_task_id uuid NOT NULL,
    dependency_type varchar(20) NOT NULL,
    created_at timestamp without time zone NOT NULL,
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
"""

APP_004_TEAM_ANALYTICS = """
CREATE TABLE daily_summaries (
    id uuid NOT NULL,
    date date NOT NULL,
    user_id varchar(100),
    tasks_completed integer DEFAULT 0 NOT NULL,
    tasks_pending integer DEFAULT 0 NOT NULL,
    summary_text text,
    created_at timestamp without time zone NOT NULL,
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
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT pk_team_metrics PRIMARY KEY (id)
);
CREATE INDEX idx_team_metrics_date ON team_metrics (date);
CREATE INDEX idx_team_metrics_type ON team_metrics (metric_type);
"""

APP_005_NOTIFICATIONS = """
CREATE TABLE notifications (
    id uuid NOT NULL,
    user_id varchar(100),
    notification_type varchar(50) NOT NULL,
    task_id uuid,
    content text NOT NULL,
    sent_at timestamp without time zone,
    read_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT fk_notifications_task_id_tasks FOREIGN KEY (task_id)
        REFERENCES tasks (id) ON DELETE CASCADE
);
CREATE INDEX idx_notifications_user ON notifications (user_id);
CREATE INDEX idx_notifications_sent ON notifications (sent_at);
CREATE INDEX idx_notifications_unread ON notifications (user_id, read_at) WHERE read_at IS NULL;
"""

# Appended to whatever tasks was: on the incident database the three columns
# come after completed_at, on the chain-2 001 build after updated_at.
APP_006_EXTEND_TASKS = """
ALTER TABLE tasks
    ADD COLUMN priority integer DEFAULT 5 NOT NULL,
    ADD COLUMN progress_percent integer DEFAULT 0 NOT NULL,
    ADD COLUMN estimated_hours double precision;
ALTER TABLE tasks ADD CONSTRAINT ck_tasks_progress_percent_range
    CHECK (progress_percent >= 0 AND progress_percent <= 100);
CREATE INDEX idx_tasks_priority ON tasks (priority);
"""

APP_CHAIN_SQL: dict[str, str] = {
    "002": APP_002_PROJECTS,
    "003": APP_003_TASK_DEPENDENCIES,
    "004": APP_004_TEAM_ANALYTICS,
    "005": APP_005_NOTIFICATIONS,
    "006": APP_006_EXTEND_TASKS,
}
# S6 starts from 001 itself; S7 from the incident database stamped 001 by hand.
S6_N: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
S7_N: tuple[int, ...] = (2, 3, 4, 5, 6)
