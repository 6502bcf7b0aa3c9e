"""Deterministic, realistic rows for a database built by ``states.build_state``.

Every row is generated server-side (``INSERT ... SELECT ... FROM
generate_series``): a million tasks must not travel through Python. Randomness
is md5 of (seed, table, row number), so the same seed gives the same rows, ids
included (``gen_random_uuid()`` would not).

What is inserted follows the catalog of the database, not a restatement of it:
enum labels are read from ``pg_enum`` (uppercase in S1, lowercase in S2/S4,
English skill categories until the bridge renames them), the handoffs shape is
told apart by its key column, and a timestamp column gets a naive Asia/Tokyo
wall-clock value or the same instant as ``timestamptz`` depending on its type.
That is how the legacy application wrote them: ``datetime.now()`` on a server
running in Asia/Tokyo.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from nakamura_misaki_db.legacy.sample_app_chain import AppChainRows
from nakamura_misaki_db.legacy.sample_base import BULK_TABLES
from nakamura_misaki_db.legacy.sample_first_chain import FirstChainRows
from nakamura_misaki_db.legacy.states import STATES


class _Gen(FirstChainRows, AppChainRows):
    """Every table's rows: the first chain's and the second chain's fillers over one generator."""


def populate(
    conn: Connection,
    state: str,
    *,
    rows: int = 200,
    seed: int = 0,
    duplicate_ratio: float = 0.05,
    long_user_ids: bool = False,
) -> dict[str, int]:
    """Fill every application table present in ``conn``'s database; return rows per table.

    ``rows`` is the number of tasks and of conversations; the other tables are
    sized from it (users ``rows/20`` (min 5), employees ``rows/10`` (3..500),
    12 skills, handoffs and notes ``rows/10``, sessions ``rows/20``; in S6/S7
    projects ``rows/20`` (min 2), about a third of the tasks in a project and a
    fifth waiting on an earlier task, a week of daily summaries and team
    metrics, notifications ``rows/5``).
    ``duplicate_ratio`` of the conversations repeat an earlier (user_id,
    channel_id) pair. User ids are 11 characters; ``long_user_ids`` gives three
    tasks a 60-character assignee. Tables must be empty; the caller commits.
    """
    if state not in STATES:
        raise ValueError(f"unknown legacy state {state!r}; expected one of {STATES}")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer; got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    if not 0 <= duplicate_ratio < 1:
        raise ValueError(f"duplicate_ratio must be in [0, 1); got {duplicate_ratio!r}")

    gen = _Gen(conn, rows, seed, duplicate_ratio, long_user_ids)
    present = gen.tables()
    if long_user_ids and "tasks" not in present:
        raise ValueError("long_user_ids needs a tasks table")
    # Asked before populate drops the bulk tables' indexes for speed.
    unique_pairs = "conversations" in present and gen.has_unique_index("conversations")
    # Parents before children (employee_skills, old handoffs -> tasks).
    fillers: list[tuple[str, Callable[[], int]]] = [
        ("tasks", gen.tasks),
        ("conversations", lambda: gen.conversations(unique_pairs=unique_pairs)),
        ("employees", gen.employees),
        ("business_skills", gen.business_skills),
        ("employee_skills", gen.employee_skills),
        ("slack_users", gen.slack_users),
        ("handoffs", lambda: gen.handoffs("tasks" in present)),
        ("notes", gen.notes),
        ("sessions", gen.sessions),
        # The application's 002-006 (S6, S7); project_tasks, task_dependencies and
        # notifications point at the generated tasks.
        ("projects", gen.projects),
        ("project_tasks", gen.project_tasks),
        ("task_dependencies", gen.task_dependencies),
        ("daily_summaries", gen.daily_summaries),
        ("team_metrics", gen.team_metrics),
        ("notifications", lambda: gen.notifications("tasks" in present)),
    ]
    counts: dict[str, int] = {}
    for table, fill in fillers:
        if table not in present:
            continue
        if table in BULK_TABLES:
            with gen.indexes_deferred(table):
                counts[table] = fill()
        else:
            counts[table] = fill()
    return counts
