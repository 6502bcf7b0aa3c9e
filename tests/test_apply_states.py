"""`baseline-bridge apply` on every legacy state, compared with a database built by the new chain.

For each state S0-S5 (with sample data): build it, snapshot every row, run the
CLI (its entry point, in this process), then check that

- the catalog of ``public`` equals the one `alembic upgrade 0001` builds on an
  empty database (both real databases, compared as pg_dump output with only the
  statement order normalised);
- every row is still there, with the documented mappings applied: enum labels
  renamed per target-schema.md's mapping table (written out below, not imported
  from the code under test), naive timestamps read in the given zone;
- duplicate conversations and the tables the target cannot hold are in
  ``legacy_archive`` with the same rows;
- ``alembic_version`` is ``0001`` and `alembic upgrade head` then succeeds.
"""

from __future__ import annotations

import difflib
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.plan import make_plan
from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.schema.revisions import head_revision

from .helpers import (
    admin_engine,
    alembic,
    bridge_cli,
    build,
    fingerprint,
    rows,
    scalar,
    schema_dump,
    upgrade,
    version_rows,
)

ZONE = "Asia/Tokyo"
ARCHIVE = "legacy_archive"
# Every state is built with these (shared by the other test_apply_* modules).
ROWS = 100
DUPLICATE_RATIO = 0.2
TS = "timestamp without time zone"
TSTZ = "timestamp with time zone"

# target-schema.md, "Known legacy spellings of the same labels".
LABEL_MAPPING: dict[str, dict[str, str]] = {
    "task_status": {
        "PENDING": "pending",
        "IN_PROGRESS": "in_progress",
        "COMPLETED": "completed",
        "CANCELLED": "cancelled",
    },
    "skill_category": {
        "CUSTOMER_SUPPORT": "顧客対応",
        "LOGISTICS": "物流",
        "APPRAISAL": "査定・修理",
        "SALES": "販売",
        "MANAGEMENT": "管理",
        "STORE_OPERATION": "店舗",
    },
}
TARGET_TABLES = ("tasks", "conversations", "employees", "business_skills", "employee_skills",
                 "slack_users", "handoffs")

# The spec's own example: '2025-10-20 09:00' written in Tokyo is 00:00 UTC.
PROBE_TASK_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
PROBE_NAIVE = "2025-10-20 09:00"
PROBE_UTC = "2025-10-20 00:00Z"


# -- small helpers (shared by the other test_apply_* modules) ---------------------------------


def statements(dump: str) -> list[str]:
    """pg_dump output as a sorted list of statements (order is the only noise we remove)."""
    out: list[str] = []
    current: list[str] = []
    for line in dump.splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return sorted(out)


def assert_same_catalog(actual_url: URL, reference_dump: str) -> None:
    actual = statements(schema_dump(actual_url, "public"))
    expected = statements(reference_dump)
    if actual != expected:
        delta = "\n".join(difflib.unified_diff(expected, actual, "upgrade 0001", "bridged", lineterm=""))
        pytest.fail(f"bridged public schema differs from `alembic upgrade 0001`:\n{delta}")


def tables_in(url: URL, schema: str) -> set[str]:
    return {r[0] for r in rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = :s", s=schema)}


def column_types(url: URL, schema: str, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in rows(
        url, "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0 AND NOT a.attisdropped",
        t=f'"{schema}"."{table}"')}


def primary_key(url: URL, schema: str, table: str) -> list[str]:
    return [r[0] for r in rows(
        url, "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary"
        " ORDER BY array_position(i.indkey::int2[], a.attnum)", t=f'"{schema}"."{table}"')]


def table_rows(url: URL, schema: str, table: str) -> list[dict[str, Any]]:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            result = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
            return [dict(r._mapping) for r in result]
    finally:
        eng.dispose()


def count(url: URL, qualified: str) -> int:
    return int(scalar(url, f"SELECT count(*) FROM {qualified}"))


def freeze(row: dict[str, Any]) -> tuple:
    """A hashable, order-independent form of a row (timestamps with a zone normalised to UTC)."""
    def norm(v: Any) -> Any:
        if isinstance(v, datetime) and v.tzinfo is not None:
            return ("tstz", v.astimezone(UTC))
        if isinstance(v, datetime):
            return ("ts", v)
        if isinstance(v, (dict, list)):
            return ("json", repr(v))
        return v
    return tuple(sorted((k, norm(v)) for k, v in row.items()))


def expected_row(row: dict[str, Any], before_types: dict[str, str], after_types: dict[str, str],
                 zone: str | None) -> dict[str, Any]:
    """What ``row`` must look like after the bridge, per the spec's mappings."""
    out: dict[str, Any] = {}
    for col, value in row.items():
        old, new = before_types[col], after_types[col]
        if value is not None and old == TS and new == TSTZ:
            assert zone is not None, f"{col}: naive timestamps converted without a zone"
            value = value.replace(tzinfo=ZoneInfo(zone))
        if value is not None and new in LABEL_MAPPING:
            value = LABEL_MAPPING[new].get(value, value)
        out[col] = value
    return out


@pytest.fixture(scope="module")
def reference_dump(pg_server_url: URL) -> Iterator[str]:
    """``pg_dump`` of ``public`` in a fresh database built by `alembic upgrade 0001` (built once).

    Built by the real command in its own process: an in-process upgrade can be affected by
    earlier planning in this process (ddl.create_statements once mutated the frozen metadata).
    """
    name = f"ref_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = pg_server_url.set(database=name)
        up = alembic(url, "upgrade", "0001")
        assert up.returncode == 0, up.stdout + up.stderr
        assert version_rows(url) == ["0001"]
        yield schema_dump(url, "public")
    finally:
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the cases -------------------------------------------------------------------------------

# (id, state, build options, --legacy-timezone, tables that must move to legacy_archive whole)
CASES: list[tuple[str, str, dict[str, Any], str | None, tuple[str, ...]]] = [
    ("S0", "S0", {}, None, ()),
    ("S0-no-vector", "S0", {"with_vector": False}, None, ()),
    ("S1", "S1", {}, ZONE, ()),
    ("S2", "S2", {}, ZONE, ()),
    ("S3-001-on-S1", "S3", {"version": "001", "base": "S1"}, ZONE, ()),
    ("S3-ca1f08e0bc8a-on-S2", "S3", {"version": "ca1f08e0bc8a", "base": "S2"}, ZONE, ()),
    ("S4-001", "S4", {"version": "001"}, ZONE, ("handoffs", "notes", "sessions")),
    ("S4-b0bbf866ebc2", "S4", {"version": "b0bbf866ebc2"}, ZONE, ()),
    ("S5", "S5", {}, None, ()),
    ("S5-uppercase-status", "S5", {"parts": ("vector", "task_status", "tasks", "conversations"),
                                   "task_status_labels": ("PENDING", "IN_PROGRESS", "COMPLETED")}, None, ()),
    ("S5-english-skills", "S5", {"parts": ("employees", "business_skills", "employee_skills"),
                                 "skill_category_labels": tuple(LABEL_MAPPING["skill_category"])}, None, ()),
]


def _insert_probe_task(url: URL) -> bool:
    """Add the spec's example row to a tasks table with naive timestamps; False if there is none."""
    if "tasks" not in tables_in(url, "public") or column_types(url, "public", "tasks")["due_at"] != TS:
        return False
    first_label = scalar(url, "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
                              " WHERE t.typname = 'task_status' ORDER BY e.enumsortorder LIMIT 1")
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, due_at,"
                " completed_at, created_at, updated_at) VALUES (:id, 'probe ''quoted'' タスク', 'U_PROBE',"
                " 'U_PROBE', CAST(:st AS task_status), CAST(:ts AS timestamp), NULL, CAST(:ts AS timestamp),"
                " CAST(:ts AS timestamp))"), {"id": PROBE_TASK_ID, "st": first_label, "ts": PROBE_NAIVE})
    finally:
        eng.dispose()
    return True


@pytest.mark.parametrize(("state", "options", "zone", "moved"),
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bridged_state_equals_a_fresh_0001_and_keeps_every_row(
    db_url: URL, reference_dump: str, state: str, options: dict[str, Any], zone: str | None,
    moved: tuple[str, ...],
) -> None:
    url = db_url
    build(url, state, rows=ROWS, duplicate_ratio=DUPLICATE_RATIO, **options)
    probe = _insert_probe_task(url)

    # -- snapshot before
    before_tables = tables_in(url, "public") - {"alembic_version"}
    before_types = {t: column_types(url, "public", t) for t in before_tables}
    before_rows = {t: table_rows(url, "public", t) for t in before_tables}
    assert not tables_in(url, ARCHIVE)

    # -- apply (the command's entry point)
    args = ["apply"] + (["--legacy-timezone", zone] if zone else [])
    result = bridge_cli(url, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "applied" in result.stdout

    # -- catalog: the same as a database built by the new chain
    assert_same_catalog(url, reference_dump)
    assert version_rows(url) == ["0001"]

    # -- data
    run_id = scalar(url, f"SELECT run_id FROM {ARCHIVE}.bridge_runs")
    after_public = tables_in(url, "public") - {"alembic_version"}
    assert after_public == set(TARGET_TABLES)
    archive_tables = tables_in(url, ARCHIVE)
    expected_archive = {"bridge_runs", *moved}

    for table in TARGET_TABLES:
        after_types = column_types(url, "public", table)
        after_rows = table_rows(url, "public", table)
        if table not in before_tables or table in moved:
            assert after_rows == [], f"{table} is new (or was moved aside) and must be empty"
            continue
        assert set(before_types[table]) == set(after_types), f"{table}: columns changed"
        expected = [expected_row(r, before_types[table], after_types, zone) for r in before_rows[table]]

        if table == "conversations":
            pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for r in expected:
                pairs.setdefault((r["user_id"], r["channel_id"]), []).append(r)
            n_duplicates = len(expected) - len(pairs)
            # One row per pair, the most recently active one.
            assert len(after_rows) == len(pairs)
            assert {(r["user_id"], r["channel_id"]) for r in after_rows} == set(pairs)
            for r in after_rows:
                group = pairs[(r["user_id"], r["channel_id"])]
                assert r["last_message_at"] == max(g["last_message_at"] for g in group), (
                    f"kept conversation {r['conversation_id']} is not the most recent of its pair")
            archived: list[dict[str, Any]] = []
            if n_duplicates:
                expected_archive.add("conversations_duplicates")
                archived = table_rows(url, ARCHIVE, "conversations_duplicates")
                assert len(archived) == n_duplicates
                assert {r.pop("bridge_run_id") for r in archived} == {run_id}
                for r in archived:
                    r.pop("archived_at")
            # public + archive hold exactly the rows there were.
            assert Counter(map(freeze, after_rows + archived)) == Counter(map(freeze, expected))
            continue

        assert len(after_rows) == len(before_rows[table]), f"{table}: row count changed"
        assert Counter(map(freeze, after_rows)) == Counter(map(freeze, expected)), f"{table}: rows differ"

    # Tables the target cannot hold: moved whole, rows unchanged, readable.
    for table in moved:
        archived_rows = table_rows(url, ARCHIVE, table)
        assert len(archived_rows) == len(before_rows[table]) > 0
        assert Counter(map(freeze, archived_rows)) == Counter(map(freeze, before_rows[table]))
        assert column_types(url, ARCHIVE, table) == before_types[table]
    assert archive_tables == expected_archive

    # Statuses and categories now use only target labels.
    if "tasks" in before_tables:
        statuses = {r[0] for r in rows(url, "SELECT DISTINCT status::text FROM tasks")}
        assert statuses <= {"pending", "in_progress", "completed", "cancelled"}
    if probe:
        assert scalar(url, "SELECT due_at = CAST(:z AS timestamptz) AND created_at = CAST(:z AS timestamptz)"
                           " FROM tasks WHERE id = :id", z=PROBE_UTC, id=PROBE_TASK_ID) is True

    # -- the new chain takes over (the real command for the production-like states, in-process otherwise)
    head = head_revision()
    assert head != "0001"
    if state in ("S1", "S2", "S4"):
        up = alembic(url, "upgrade", "head")
        assert up.returncode == 0, up.stdout + up.stderr
    else:
        upgrade(url, "head")
    assert version_rows(url) == [head]


def test_naive_timestamps_need_the_zone_and_are_refused_without_it(db_url: URL) -> None:
    """Sanity for the cases above: S1 with rows and no --legacy-timezone is a refusal (exit 3)."""
    build(db_url, "S1", rows=20, duplicate_ratio=DUPLICATE_RATIO)
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "apply")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "--legacy-timezone" in result.stderr
    assert fingerprint(db_url) == before


@pytest.mark.parametrize("next_build", ["bridge_on_empty_database", "upgrade_0001_on_empty_database"])
def test_planning_does_not_change_what_0001_builds_next(make_db: Any, reference_dump: str, next_build: str) -> None:
    """Planning one legacy database must not change the schema built next in the same process.

    Fails today: ddl.create_statements() builds ``AddConstraint(constraint)`` for the missing
    uq_conversations_user_channel of an S1 database; SQLAlchemy's AddConstraint (default
    ``isolate_from_table=True``) sets that frozen constraint's ``_create_rule`` so CREATE TABLE
    no longer renders it. The next CREATE TABLE conversations in this process (the bridge on an
    empty database, or the 0001 migration itself) lacks the unique constraint.
    """
    legacy, empty = make_db(), make_db()
    build(legacy, "S1", rows=None)
    engine = sa.create_engine(legacy, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn, conn.begin() as tx:
            plan = make_plan(conn)  # read-only
            tx.rollback()
    finally:
        engine.dispose()
    assert any(s.action == "add_unique" for s in plan.steps)

    if next_build == "bridge_on_empty_database":
        engine = sa.create_engine(empty, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                assert apply_plan(conn).status == "applied"
        finally:
            engine.dispose()
    else:
        upgrade(empty, "0001")
    assert_same_catalog(empty, reference_dump)
