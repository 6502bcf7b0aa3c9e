"""The legacy database states S0-S7, rebuilt from plain SQL.

S0-S5 come from ``legacy-states.md`` (the retired first chain and ``create_all``);
S6 and S7 from ``app-chain.md`` (the application's second chain, ``001``-``006``).
Written by hand from the specs rather than by running the legacy
code: that code cannot build a database from empty (see the spec), and the
bridge must be tested against what production *has*, not against what some
model says it should have. Names of every table, column, index and constraint
are the ones production carries, so the bridge can compare them name for name.

Each state is composed from one constant per table shape. ``state_sql`` returns
the DDL for an EMPTY database (public schema); ``build_state`` runs it on a
connection whose transaction the caller owns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy.engine import Connection

from ..db import run_sql
from ..legacy_chain import APP_CHAIN_REVISIONS, LEGACY_REVISIONS
from ..quoting import literal

STATES: tuple[str, ...] = ("S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7")

# S3: a database stamped at one of these ids while its catalog is S1's or S2's.
S3_VERSIONS: tuple[str, ...] = LEGACY_REVISIONS[:5]
S4_VERSIONS: tuple[str, ...] = ("001", "b0bbf866ebc2")

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


# -- the application's second chain (app-chain.md) ----------------------------

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


def enum_sql(name: str, labels: Iterable[str]) -> str:
    return f"CREATE TYPE {name} AS ENUM ({', '.join(literal(x) for x in labels)});"


def alembic_version_sql(version: str) -> str:
    # Alembic's own table: varchar(32), which is why 004's id never fits.
    return (
        "CREATE TABLE alembic_version (\n"
        "    version_num varchar(32) NOT NULL,\n"
        "    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
        ");\n"
        f"INSERT INTO alembic_version (version_num) VALUES ({literal(version)});"
    )


def _join(*parts: str) -> str:
    return "\n".join(p.strip() for p in parts if p.strip()) + "\n"


# -- states -----------------------------------------------------------------


def _s0(*, with_vector: bool = True) -> str:
    return _join(EXTENSION_VECTOR) if with_vector else ""


def _s1() -> str:
    # create_all: enums first, then every model table; no version table.
    return _join(
        EXTENSION_VECTOR,
        enum_sql("task_status", TASK_STATUS_CREATE_ALL),
        enum_sql("skill_category", SKILL_CATEGORY_CREATE_ALL),
        TASKS_LEGACY,
        CONVERSATIONS,
        EMPLOYEES,
        BUSINESS_SKILLS,
        EMPLOYEE_SKILLS,
        HANDOFFS,
    )


def _s2_catalog() -> str:
    # Stamped at 79bb97c4352b, so only ca1f08e0bc8a and 003 ran: skill_category
    # stays English and the create_all tables keep their missing defaults.
    return _join(_s1(), TASK_STATUS_REBUILD_CA1F08E0BC8A, SLACK_USERS)


def _s2() -> str:
    return _join(_s2_catalog(), alembic_version_sql("003_add_slack_users_table"))


def _s3(*, version: str = "79bb97c4352b", base: str = "S1") -> str:
    if version not in S3_VERSIONS:
        raise ValueError(f"S3 version must be one of {', '.join(S3_VERSIONS)}; got {version!r}")
    if base == "S1":
        catalog = _s1()
    elif base == "S2":
        catalog = _s2_catalog()
    else:
        raise ValueError(f"S3 base must be 'S1' or 'S2'; got {base!r}")
    return _join(catalog, alembic_version_sql(version))


def _s4(*, version: str = "001") -> str:
    if version not in S4_VERSIONS:
        raise ValueError(f"S4 version must be one of {', '.join(S4_VERSIONS)}; got {version!r}")
    # b0bbf866ebc2 dropped handoffs, notes and sessions, and nothing else.
    dropped_by_b0bb = version == "b0bbf866ebc2"
    return _join(
        EXTENSION_VECTOR,
        enum_sql("task_status", TASK_STATUS_LOWER),
        TASKS_LEGACY,
        "" if dropped_by_b0bb else HANDOFFS_001,
        CONVERSATIONS,
        "" if dropped_by_b0bb else NOTES_001,
        "" if dropped_by_b0bb else SESSIONS_001,
        alembic_version_sql(version),
    )


# S5 tables in their target shape, in an order that satisfies foreign keys.
S5_TABLES: dict[str, tuple[str, ...]] = {
    "tasks": (TASKS_TARGET,),
    "conversations": (CONVERSATIONS, CONVERSATIONS_UNIQUE),
    "employees": (EMPLOYEES, EMPLOYEES_SERVER_DEFAULTS),
    "business_skills": (BUSINESS_SKILLS, BUSINESS_SKILLS_SERVER_DEFAULTS),
    "employee_skills": (EMPLOYEE_SKILLS, EMPLOYEE_SKILLS_SERVER_DEFAULTS),
    "slack_users": (SLACK_USERS,),
    "handoffs": (HANDOFFS, HANDOFFS_SERVER_DEFAULT),
}
S5_TYPES: tuple[str, ...] = ("vector", "task_status", "skill_category")
S5_PARTS: tuple[str, ...] = (*S5_TYPES, *S5_TABLES)
_ENUM_OF_TABLE = {"tasks": "task_status", "business_skills": "skill_category"}


def _s5(
    *,
    parts: Sequence[str] = ("vector", "task_status", "tasks", "conversations"),
    task_status_labels: Sequence[str] = TASK_STATUS_TARGET,
    skill_category_labels: Sequence[str] = SKILL_CATEGORY_TARGET,
) -> str:
    if isinstance(parts, str):
        raise ValueError("S5 parts must be a sequence of names, not one string")
    wanted = set(parts)
    unknown = sorted(wanted - set(S5_PARTS))
    if unknown:
        raise ValueError(f"unknown S5 part(s) {unknown}; choose among {', '.join(S5_PARTS)}")
    if "employee_skills" in wanted and not {"employees", "business_skills"} <= wanted:
        raise ValueError("S5 part 'employee_skills' needs 'employees' and 'business_skills'")
    wanted |= {_ENUM_OF_TABLE[t] for t in wanted if t in _ENUM_OF_TABLE}
    sql: list[str] = []
    if "vector" in wanted:
        sql.append(EXTENSION_VECTOR)
    if "task_status" in wanted:
        sql.append(enum_sql("task_status", task_status_labels))
    if "skill_category" in wanted:
        sql.append(enum_sql("skill_category", skill_category_labels))
    for table, shapes in S5_TABLES.items():
        if table in wanted:
            sql.extend(shapes)
    return _join(*sql)


def _app_chain_upto(n: int) -> list[str]:
    """The objects of the application's 002..00n, in order."""
    return [APP_CHAIN_SQL[rev] for rev in APP_CHAIN_REVISIONS[1:n]]


def _check_n(state: str, n: object, allowed: tuple[int, ...]) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n not in allowed:
        raise ValueError(f"{state} n must be one of {', '.join(map(str, allowed))} (the application's "
                         f"revision 00n it is stamped with); got {n!r}")
    return n


def _s6(*, n: int = 6) -> str:
    # The second chain run from empty (possible with SQLAlchemy 2.1, app-chain.md 0.1):
    # its 001 (dump B), then 002..00n on top, stamped 00n.
    n = _check_n("S6", n, S6_N)
    return _join(
        EXTENSION_VECTOR,
        enum_sql("task_status", TASK_STATUS_LOWER),
        enum_sql("skill_category", SKILL_CATEGORY_TARGET),
        TASKS_LEGACY,
        CONVERSATIONS_APP_001,
        EMPLOYEES,
        BUSINESS_SKILLS,
        EMPLOYEE_SKILLS,
        HANDOFFS,
        SLACK_USERS_APP_001,
        *_app_chain_upto(n),
        alembic_version_sql(APP_CHAIN_REVISIONS[n - 1]),
    )


def _s7(*, n: int = 6) -> str:
    # The incident database (S1, in create_all's column order), alembic_version
    # reset to 001 by hand as the consolidation told, then 002..00n (section 5).
    n = _check_n("S7", n, S7_N)
    return _join(
        EXTENSION_VECTOR,
        enum_sql("task_status", TASK_STATUS_CREATE_ALL),
        enum_sql("skill_category", SKILL_CATEGORY_CREATE_ALL),
        TASKS_INCIDENT,
        CONVERSATIONS,
        EMPLOYEES,
        BUSINESS_SKILLS,
        EMPLOYEE_SKILLS,
        HANDOFFS,
        *_app_chain_upto(n),
        alembic_version_sql(APP_CHAIN_REVISIONS[n - 1]),
    )


def state_sql(state: str, **options: object) -> str:
    """DDL that turns an empty database into legacy ``state``.

    Options: S0 ``with_vector=True``; S3 ``version="79bb97c4352b"``, ``base="S1"``;
    S4 ``version="001"``; S5 ``parts``, ``task_status_labels``,
    ``skill_category_labels``; S6 ``n=6`` (1..6) and S7 ``n=6`` (2..6), the
    application's revision ``00n`` the database is stamped with. Unknown options
    raise ``TypeError``.
    """
    builders: dict[str, Callable[..., str]] = {
        "S0": _s0, "S1": _s1, "S2": _s2, "S3": _s3, "S4": _s4, "S5": _s5, "S6": _s6, "S7": _s7}
    try:
        builder = builders[state]
    except (KeyError, TypeError):
        raise ValueError(f"unknown legacy state {state!r}; expected one of {STATES}") from None
    return builder(**options)


def build_state(conn: Connection, state: str, **options: object) -> None:
    """Build ``state`` on ``conn`` (an empty database); the caller commits."""
    sql = state_sql(state, **options)
    if sql.strip():
        run_sql(conn, sql)  # as written: a '%' or ':' in caller-chosen S5 labels stays what it is
