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

from nakamura_misaki_db.connect.connection import run_sql
from nakamura_misaki_db.legacy.app_chain_sql import (
    APP_CHAIN_SQL,
    CONVERSATIONS_APP_001,
    S6_N,
    S7_N,
    SLACK_USERS_APP_001,
    TASKS_INCIDENT,
)
from nakamura_misaki_db.legacy.first_chain_sql import (
    BUSINESS_SKILLS,
    BUSINESS_SKILLS_SERVER_DEFAULTS,
    CONVERSATIONS,
    CONVERSATIONS_UNIQUE,
    EMPLOYEE_SKILLS,
    EMPLOYEE_SKILLS_SERVER_DEFAULTS,
    EMPLOYEES,
    EMPLOYEES_SERVER_DEFAULTS,
    EXTENSION_VECTOR,
    HANDOFFS,
    HANDOFFS_001,
    HANDOFFS_SERVER_DEFAULT,
    NOTES_001,
    SESSIONS_001,
    SKILL_CATEGORY_CREATE_ALL,
    SKILL_CATEGORY_TARGET,
    SLACK_USERS,
    TASK_STATUS_CREATE_ALL,
    TASK_STATUS_LOWER,
    TASK_STATUS_REBUILD_CA1F08E0BC8A,
    TASK_STATUS_TARGET,
    TASKS_LEGACY,
    TASKS_TARGET,
)
from nakamura_misaki_db.schema.legacy_chain import APP_CHAIN_REVISIONS, LEGACY_REVISIONS
from nakamura_misaki_db.schema.quoting import literal

STATES: tuple[str, ...] = ("S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7")

# S3: a database stamped at one of these ids while its catalog is S1's or S2's.
S3_VERSIONS: tuple[str, ...] = LEGACY_REVISIONS[:5]
S4_VERSIONS: tuple[str, ...] = ("001", "b0bbf866ebc2")



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
