"""The retired first chain and ``create_all``: enum labels and table shapes (legacy-states.md).

One constant per table shape, in the DDL production carries, name for name;
``legacy.states`` composes them into the states S0-S5 (and S7's incident base).
"""

from __future__ import annotations

# -- enum labels ------------------------------------------------------------

# SQLAlchemy's Enum(PythonEnum) stores member names, so create_all produced
# these, and the legacy enum had no CANCELLED member yet.
TASK_STATUS_CREATE_ALL: tuple[str, ...] = ("PENDING", "IN_PROGRESS", "COMPLETED")
# Revision 001, the ca1f08e0bc8a rebuild and the target all agree on these.
TASK_STATUS_LOWER: tuple[str, ...] = ("pending", "in_progress", "completed", "cancelled")
TASK_STATUS_TARGET: tuple[str, ...] = TASK_STATUS_LOWER

SKILL_CATEGORY_CREATE_ALL: tuple[str, ...] = (
    "CUSTOMER_SUPPORT",
    "LOGISTICS",
    "APPRAISAL",
    "SALES",
    "MANAGEMENT",
    "STORE_OPERATION",
)
SKILL_CATEGORY_TARGET: tuple[str, ...] = ("顧客対応", "物流", "査定・修理", "販売", "管理", "店舗")

# -- shapes -----------------------------------------------------------------

EXTENSION_VECTOR = "CREATE EXTENSION IF NOT EXISTS vector;"

# The create_all / 001 shape: narrower title, wider user ids, naive timestamps,
# and the extra idx_tasks_assignee_due that the target no longer has. The
# (assignee_user_id, status) index carries the idx_ name, not the target's ix_.
TASKS_LEGACY = """
CREATE TABLE tasks (
    id uuid NOT NULL,
    title varchar(200) NOT NULL,
    description text,
    assignee_user_id varchar(100) NOT NULL,
    creator_user_id varchar(100) NOT NULL,
    status task_status NOT NULL,
    due_at timestamp without time zone,
    completed_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT tasks_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_tasks_assignee_due ON tasks (assignee_user_id, due_at);
CREATE INDEX idx_tasks_assignee_status ON tasks (assignee_user_id, status);
CREATE INDEX ix_tasks_assignee_user_id ON tasks (assignee_user_id);
CREATE INDEX ix_tasks_due_at ON tasks (due_at);
CREATE INDEX ix_tasks_status ON tasks (status);
"""

TASKS_TARGET = """
CREATE TABLE tasks (
    id uuid NOT NULL,
    title varchar(500) NOT NULL,
    description text,
    assignee_user_id varchar(50) NOT NULL,
    creator_user_id varchar(50) NOT NULL,
    status task_status NOT NULL,
    due_at timestamp with time zone,
    completed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT tasks_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_assignee_user_id ON tasks (assignee_user_id);
CREATE INDEX ix_tasks_status ON tasks (status);
CREATE INDEX ix_tasks_due_at ON tasks (due_at);
CREATE INDEX ix_tasks_assignee_status ON tasks (assignee_user_id, status);
"""

# Same in every state; only the unique constraint below is missing in legacy
# databases (004 would have added it, but 004 never got recorded).
CONVERSATIONS = """
CREATE TABLE conversations (
    conversation_id uuid NOT NULL,
    user_id varchar(100) NOT NULL,
    channel_id varchar(100) NOT NULL,
    messages json NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    last_message_at timestamp with time zone NOT NULL,
    CONSTRAINT conversations_pkey PRIMARY KEY (conversation_id)
);
CREATE INDEX idx_conversations_last_message ON conversations (last_message_at);
CREATE INDEX idx_conversations_user_channel ON conversations (user_id, channel_id);
CREATE INDEX ix_conversations_channel_id ON conversations (channel_id);
CREATE INDEX ix_conversations_last_message_at ON conversations (last_message_at);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
"""

CONVERSATIONS_UNIQUE = """
ALTER TABLE conversations
    ADD CONSTRAINT uq_conversations_user_channel UNIQUE (user_id, channel_id);
"""

# employees / business_skills / employee_skills / handoffs: create_all emitted
# no server defaults (the models only had Python-side defaults); 79bb97c4352b
# and the target add them. Kept apart so both shapes share one table text.
EMPLOYEES = """
CREATE TABLE employees (
    employee_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    is_active boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT employees_pkey PRIMARY KEY (employee_id),
    CONSTRAINT employees_name_key UNIQUE (name)
);
CREATE INDEX idx_employees_active ON employees (is_active);
"""

EMPLOYEES_SERVER_DEFAULTS = """
ALTER TABLE employees
    ALTER COLUMN is_active SET DEFAULT true,
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
"""

BUSINESS_SKILLS = """
CREATE TABLE business_skills (
    skill_id uuid NOT NULL,
    skill_name varchar(100) NOT NULL,
    category skill_category NOT NULL,
    display_order integer NOT NULL,
    is_active boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT business_skills_pkey PRIMARY KEY (skill_id),
    CONSTRAINT business_skills_skill_name_key UNIQUE (skill_name)
);
CREATE INDEX idx_skills_active ON business_skills (is_active);
CREATE INDEX idx_skills_category ON business_skills (category);
"""

BUSINESS_SKILLS_SERVER_DEFAULTS = """
ALTER TABLE business_skills
    ALTER COLUMN display_order SET DEFAULT 0,
    ALTER COLUMN is_active SET DEFAULT true,
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
"""

EMPLOYEE_SKILLS = """
CREATE TABLE employee_skills (
    id uuid NOT NULL,
    employee_id uuid NOT NULL,
    skill_id uuid NOT NULL,
    acquired_at timestamp without time zone NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT employee_skills_pkey PRIMARY KEY (id),
    CONSTRAINT employee_skills_employee_id_fkey FOREIGN KEY (employee_id)
        REFERENCES employees (employee_id) ON DELETE CASCADE,
    CONSTRAINT employee_skills_skill_id_fkey FOREIGN KEY (skill_id)
        REFERENCES business_skills (skill_id) ON DELETE CASCADE,
    CONSTRAINT uq_employee_skill UNIQUE (employee_id, skill_id)
);
CREATE INDEX idx_employee_skills_employee ON employee_skills (employee_id);
CREATE INDEX idx_employee_skills_skill ON employee_skills (skill_id);
"""

EMPLOYEE_SKILLS_SERVER_DEFAULTS = """
ALTER TABLE employee_skills
    ALTER COLUMN acquired_at SET DEFAULT now(),
    ALTER COLUMN created_at SET DEFAULT now(),
    ALTER COLUMN updated_at SET DEFAULT now();
"""

# Created by 003, identical to the target (defaults included).
SLACK_USERS = """
CREATE TABLE slack_users (
    user_id varchar(50) NOT NULL,
    name varchar(255) NOT NULL,
    real_name varchar(255),
    display_name varchar(255),
    email varchar(255),
    is_admin boolean DEFAULT false NOT NULL,
    is_bot boolean DEFAULT false NOT NULL,
    deleted boolean DEFAULT false NOT NULL,
    slack_created_at timestamp with time zone NOT NULL,
    synced_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT slack_users_pkey PRIMARY KEY (user_id)
);
CREATE INDEX ix_slack_users_name ON slack_users (name);
CREATE INDEX ix_slack_users_email ON slack_users (email);
CREATE INDEX ix_slack_users_deleted ON slack_users (deleted);
CREATE INDEX ix_slack_users_synced_at ON slack_users (synced_at);
"""

# The handoffs table the application still serves. task_id deliberately has
# no foreign key (tasks were rebuilt by 002 after handoffs referenced them).
HANDOFFS = """
CREATE TABLE handoffs (
    handoff_id uuid NOT NULL,
    task_id uuid,
    from_user_id varchar(100) NOT NULL,
    to_user_id varchar(100) NOT NULL,
    progress_note text NOT NULL,
    next_steps text NOT NULL,
    status varchar(20) NOT NULL,
    handoff_at timestamp without time zone NOT NULL,
    accepted_at timestamp without time zone,
    completed_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT handoffs_pkey PRIMARY KEY (handoff_id)
);
CREATE INDEX idx_handoffs_from_user ON handoffs (from_user_id);
CREATE INDEX idx_handoffs_to_user ON handoffs (to_user_id);
CREATE INDEX idx_handoffs_status ON handoffs (status);
"""

HANDOFFS_SERVER_DEFAULT = """
ALTER TABLE handoffs ALTER COLUMN status SET DEFAULT 'pending';
"""

# Revision 001's handoffs. The spec lists the columns; their nullability and
# the two user indexes are our choice. The index names deliberately equal the
# target's: whoever moves this table aside and creates the target table must
# not trip over them (ALTER TABLE ... SET SCHEMA takes indexes along, a plain
# RENAME does not free their names).
HANDOFFS_001 = """
CREATE TABLE handoffs (
    id uuid NOT NULL,
    task_id uuid,
    from_user_id varchar(100) NOT NULL,
    to_user_id varchar(100) NOT NULL,
    progress_note text NOT NULL,
    next_steps text NOT NULL,
    handoff_at timestamp without time zone NOT NULL,
    reminded_at timestamp without time zone,
    completed_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT handoffs_pkey PRIMARY KEY (id),
    CONSTRAINT handoffs_task_id_fkey FOREIGN KEY (task_id)
        REFERENCES tasks (id) ON DELETE SET NULL
);
CREATE INDEX idx_handoffs_from_user ON handoffs (from_user_id);
CREATE INDEX idx_handoffs_to_user ON handoffs (to_user_id);
"""

# Revision 001's notes. The spec fixes only the vector column and its index;
# the other columns are a plausible guess. ivfflat on an empty table only
# raises a NOTICE (its lists are trained on no data, which is what 001 did).
NOTES_001 = """
CREATE TABLE notes (
    id uuid NOT NULL,
    user_id varchar(100) NOT NULL,
    content text NOT NULL,
    embedding vector(1024),
    created_at timestamp without time zone NOT NULL,
    CONSTRAINT notes_pkey PRIMARY KEY (id)
);
CREATE INDEX idx_notes_embedding ON notes
    USING ivfflat (embedding vector_cosine_ops) WITH (lists = 100);
"""

# Revision 001's sessions: the spec only names the table; columns are a guess.
SESSIONS_001 = """
CREATE TABLE sessions (
    id uuid NOT NULL,
    user_id varchar(100) NOT NULL,
    channel_id varchar(100) NOT NULL,
    state json NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id)
);
"""

# ca1f08e0bc8a's way of renaming labels: a new type and a full rewrite of
# tasks, rather than RENAME VALUE. The indexes on status are rebuilt with it.
TASK_STATUS_REBUILD_CA1F08E0BC8A = """
CREATE TYPE task_status_new AS ENUM ('pending', 'in_progress', 'completed', 'cancelled');
ALTER TABLE tasks
    ALTER COLUMN status TYPE task_status_new USING lower(status::text)::task_status_new;
DROP TYPE task_status;
ALTER TYPE task_status_new RENAME TO task_status;
"""


