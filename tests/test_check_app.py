"""``check-app``: the application's own ORM against our schema, in the application's terms.

The application model modules are in ``tests/app_models`` (written for these tests, in the
upstream application's style) and ``nakamura_misaki_db.bridge.demo_app``. Every database is
real: built with ``alembic upgrade head`` (or a legacy state), never faked. The expected
findings below are written by hand from the models and the schema.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from nakamura_misaki_db.appcheck.check import AppIncompatible, Finding, assert_compatible, check_app
from nakamura_misaki_db.bridge import demo_app
from nakamura_misaki_db.connect.errors import BadInput, ConnectionFailed
from nakamura_misaki_db.connect.urls import with_password
from nakamura_misaki_db.schema import models

from .app_models import fixed_orm, incident_orm, odd_orm
from .helpers import admin_engine, execute_sql, run, scalar, upgrade

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

CLI = [sys.executable, "-m", "nakamura_misaki_db.bridge.cli", "check-app"]
MARKER = "CaMarkerPw7731"  # the password of URLs handed to the command; must never be shown
HEAD_ZONE = "Asia/Tokyo"

VALUES_FIX = "values_callable=lambda e: [m.value for m in e]"

# Labels head gained after the test application models were written, per enum (read from the models,
# which equal head). The fixed application does not know them yet, and check-app rightly warns that it
# cannot load them: a revision that adds a label must not need an edit here (tests/test_new_revision.py).
ADDED_SINCE = {
    "task_status": {m.value for m in models.TaskStatus} - {m.value for m in fixed_orm.TaskStatus},
    "skill_category": {m.value for m in models.SkillCategory} - {m.value for m in fixed_orm.SkillCategory},
}


def as_written(findings: list[Finding]) -> list[Finding]:
    """The findings, less the warnings about labels head gained after the test models were written."""
    def added_since(f: Finding) -> bool:
        held = re.search(r"the database type (\w+) also holds (.*), which ", f.problem)
        return f.kind == "enum-unreadable" and held is not None \
            and set(re.findall(r"'([^']*)'", held[2])) <= ADDED_SINCE.get(held[1], set())
    return [f for f in findings if not added_since(f)]


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def head_db(pg_server_url: URL) -> Iterator[URL]:
    """A database at head (``alembic upgrade head``) whose TimeZone is Asia/Tokyo. Only read."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET TimeZone = '{HEAD_ZONE}'")
    url = pg_server_url.set(database=name)
    upgrade(url)
    yield url
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def at_head(make_db: Callable[[], URL]) -> URL:
    url = make_db()
    upgrade(url)
    return url


def cli(*args: str, url: URL | str | None = None) -> tuple[int, str, str]:
    result = run([*CLI, *args], url)
    return result.returncode, result.stdout, result.stderr


# -- what the incident ORM gets wrong, written by hand -------------------------------------------

# (where, kind) of every finding of incident_orm on our head schema.
INCIDENT = {
    ("BusinessSkillTable.category (business_skills.category)", "enum-names"),
    ("ReminderTable (reminders)", "missing-table"),
    ("TaskTable.assignee_user_id (tasks.assignee_user_id)", "too-long"),
    ("TaskTable.status (tasks.status)", "enum-names"),
    ("TaskTable.due_at (tasks.due_at)", "naive-timestamp"),
    ("TaskTable.completed_at (tasks.completed_at)", "naive-timestamp"),
    ("TaskTable.snoozed_until (tasks.snoozed_until)", "missing-column"),
    ("TaskTable.created_at (tasks.created_at)", "naive-timestamp"),
    ("TaskTable.updated_at (tasks.updated_at)", "naive-timestamp"),
    ("TaskTable (tasks.creator_user_id)", "unmapped-required"),
}

STATUS_LINE = (
    "TaskTable.status (tasks.status): persists the member names of TaskStatus ('PENDING', 'IN_PROGRESS', "
    "'COMPLETED', 'CANCELLED') but the database type task_status holds their values ('pending', 'in_progress', "
    "'completed', 'cancelled'): every write fails (invalid input value for enum task_status: \"PENDING\") and "
    "every read raises LookupError. Fix: add values_callable: Enum(TaskStatus, name=\"task_status\", "
    "values_callable=lambda e: [m.value for m in e])"
)


def naive_line(column: str, zone: str, database: str) -> str:
    return (
        f"TaskTable.{column} (tasks.{column}): DateTime(timezone=False) (naive) is mapped onto timestamp with "
        f"time zone: naive datetimes are written and read as local time in {zone}, values come back "
        f"timezone-aware, and asyncpg rejects aware datetimes bound as naive. Fix: DateTime(timezone=True) and "
        f"write aware datetimes (datetime.now(timezone.utc)); or, if the application means naive local time, "
        f"ALTER DATABASE {database} SET TimeZone = '<zone the application uses>'"
    )


# Further facts each finding must state (its fix above all), by (where, kind).
INCIDENT_DETAILS = {
    ("BusinessSkillTable.category (business_skills.category)", "enum-names"): [
        "'CUSTOMER_SUPPORT'", "'顧客対応'", f'Enum(SkillCategory, name="skill_category", {VALUES_FIX})'],
    ("ReminderTable (reminders)", "missing-table"): [
        'relation "reminders" does not exist', "Fix: create reminders with a new migration"],
    ("TaskTable.assignee_user_id (tasks.assignee_user_id)", "too-long"): [
        "String(100)", "character varying(50)", "Fix: declare String(50)"],
    ("TaskTable.snoozed_until (tasks.snoozed_until)", "missing-column"): [
        "no column tasks.snoozed_until", "remove the attribute from TaskTable"],
    ("TaskTable (tasks.creator_user_id)", "unmapped-required"): [
        "NOT NULL without a default", "every INSERT through TaskTable fails",
        "Fix: map it on TaskTable (String(50), nullable=False)"],
}


def where_kinds(findings: list[Finding]) -> set[tuple[str, str]]:
    pairs = {(f.where, f.kind) for f in findings}
    assert len(pairs) == len(findings), "one finding per problem"
    return pairs


def assert_details(findings: list[Finding], details: dict[tuple[str, str], list[str]]) -> None:
    by_key = {(f.where, f.kind): str(f) for f in findings}
    for key, facts in details.items():
        for fact in facts:
            assert fact in by_key[key], (fact, by_key[key])


# -- library: check_app / assert_compatible ----------------------------------------------------


def test_incident_orm_on_a_head_database_reports_every_mistake_with_its_fix(head_db: URL) -> None:
    findings = check_app(incident_orm.Base, database_url=head_db)
    assert where_kinds(findings) == INCIDENT
    lines = [str(f) for f in findings]
    assert STATUS_LINE in lines
    for column in ("due_at", "completed_at", "created_at", "updated_at"):
        assert naive_line(column, f"the database's TimeZone '{HEAD_ZONE}'", head_db.database) in lines
    assert_details(findings, INCIDENT_DETAILS)
    assert all(f.severity == "error" and "\n" not in str(f) for f in findings)
    status = next(f for f in findings if f.column == "status")
    assert (status.table, status.model, status.fix) == (
        "tasks", "TaskTable.status", f'add values_callable: Enum(TaskStatus, name="task_status", {VALUES_FIX})')


def test_incident_orm_on_the_head_definition_reports_the_same_without_a_database() -> None:
    findings = check_app(incident_orm.Base, head=True)
    assert where_kinds(findings) == INCIDENT
    lines = [str(f) for f in findings]
    assert STATUS_LINE in lines
    assert naive_line("due_at", "the database's TimeZone (SHOW TimeZone)", "<database>") in lines
    assert_details(findings, INCIDENT_DETAILS)
    missing = next(f for f in findings if f.kind == "missing-table")
    assert "which this release's schema does not have" in missing.problem


def test_fixed_orm_passes_on_a_head_database_and_on_the_head_definition(head_db: URL) -> None:
    assert as_written(check_app(fixed_orm.Base, database_url=head_db)) == []
    assert as_written(check_app(fixed_orm.Base, head=True)) == []
    assert as_written(assert_compatible(fixed_orm.Base, database_url=head_db)) == []
    assert as_written(check_app([fixed_orm.Base.metadata], head=True)) == []  # a bare MetaData works too
    assert as_written(check_app("tests.app_models.fixed_orm:Base", head=True)) == []  # and MODULE:ATTR


def test_assert_compatible_raises_an_assertion_listing_every_finding(head_db: URL) -> None:
    with pytest.raises(AssertionError) as caught:
        assert_compatible(incident_orm.Base, database_url=head_db)
    error = caught.value
    assert isinstance(error, AppIncompatible)
    assert len(error.findings) == len(INCIDENT)
    assert STATUS_LINE in str(error)
    assert "10 problem(s)" in str(error)


def test_the_findings_are_real_failures_and_the_fix_is_enough(head_db: URL) -> None:
    """What the incident ORM does on the head database, and what the fixed one does."""
    engine = sa.create_engine(head_db, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            session.add(incident_orm.TaskTable(title="t", assignee_user_id="U1",
                                               status=incident_orm.TaskStatus.PENDING))
            with pytest.raises(sa.exc.ProgrammingError, match='column "snoozed_until" of relation "tasks" does not'):
                session.flush()
            session.rollback()
            tasks = incident_orm.TaskTable.__table__
            with pytest.raises(sa.exc.DataError, match='invalid input value for enum task_status: "PENDING"'):
                session.execute(tasks.insert().values(title="t", assignee_user_id="U1",
                                                      status=incident_orm.TaskStatus.PENDING))
            session.rollback()
            # The columns TaskTable maps, with a label the database takes: creator_user_id is still missing.
            with pytest.raises(sa.exc.IntegrityError, match='null value in column "creator_user_id"'):
                session.execute(sa.text("INSERT INTO tasks (id, title, assignee_user_id, status, created_at, "
                                        "updated_at) VALUES (gen_random_uuid(), 't', 'U1', 'pending', now(), now())"))
            session.rollback()
            session.add(incident_orm.BusinessSkillTable(skill_name="s", category=incident_orm.SkillCategory.SALES))
            with pytest.raises(sa.exc.DataError, match='invalid input value for enum skill_category: "SALES"'):
                session.flush()
        with Session(engine) as session:
            now = datetime.now(UTC)
            task = fixed_orm.TaskTable(title="t", assignee_user_id="U1", creator_user_id="U2",
                                       status=fixed_orm.TaskStatus.CANCELLED, due_at=now)
            skill = fixed_orm.BusinessSkillTable(skill_name="s", category=fixed_orm.SkillCategory.SALES)
            session.add_all([task, skill])
            session.flush()
            session.expire_all()
            assert session.get(fixed_orm.TaskTable, task.id).status is fixed_orm.TaskStatus.CANCELLED
            assert session.get(fixed_orm.TaskTable, task.id).due_at == now
            assert session.get(fixed_orm.BusinessSkillTable, skill.skill_id).category is fixed_orm.SkillCategory.SALES
            session.rollback()
    finally:
        engine.dispose()


def test_naive_finding_names_the_database_timezone(make_db: Callable[[], URL]) -> None:
    url = at_head(make_db)
    execute_sql(url, f"ALTER DATABASE \"{url.database}\" SET TimeZone = 'America/Sao_Paulo'")
    findings = check_app(incident_orm.Base, database_url=url)
    assert naive_line("due_at", "the database's TimeZone 'America/Sao_Paulo'", url.database) in map(str, findings)
    # ...and that is what happens: a naive 12:00 is taken as 12:00 in Sao Paulo (UTC-3).
    execute_sql(url, "INSERT INTO tasks (id, title, assignee_user_id, creator_user_id, status, due_at, created_at,"
                     " updated_at) VALUES (gen_random_uuid(), 't', 'U1', 'U2', 'pending',"
                     " '2026-01-05 12:00'::timestamp, now(), now())")
    assert scalar(url, "SELECT to_char(due_at AT TIME ZONE 'UTC', 'HH24:MI') FROM tasks") == "15:00"


def test_reverse_enum_mistake_on_a_legacy_database(database: Callable[..., URL]) -> None:
    """The fixed ORM on the incident database (S1): the database holds names, the application values."""
    url = database("S1", rows=None)
    zone = scalar(url, "SHOW TimeZone")
    findings = check_app(fixed_orm.Base, database_url=url)
    aware = {(f"TaskTable.{c} (tasks.{c})", "aware-timestamp")
             for c in ("due_at", "completed_at", "created_at", "updated_at")}
    assert where_kinds(findings) == {
        ("TaskTable.status (tasks.status)", "enum-values"),
        ("TaskTable.status (tasks.status)", "enum-labels"),
        ("BusinessSkillTable.category (business_skills.category)", "enum-values"),
        *aware,
    }
    assert_details(findings, {
        ("TaskTable.status (tasks.status)", "enum-values"): [
            "persists the values of TaskStatus ('pending', 'in_progress', 'completed')",
            "holds the member names ('PENDING', 'IN_PROGRESS', 'COMPLETED')",
            "Fix: bring the database to this release's schema (baseline-bridge", "remove values_callable"],
        ("TaskTable.status (tasks.status)", "enum-labels"): [
            "may write 'cancelled' (TaskStatus.CANCELLED), which the database type task_status lacks",
            "ALTER TYPE task_status ADD VALUE"],
        ("TaskTable.due_at (tasks.due_at)", "aware-timestamp"): [
            f"converted to local time in the database's TimeZone '{zone}'", "stored without their offset",
            "Fix: DateTime() (naive)"],
    })


def test_less_common_mistakes_each_reported_once_with_its_fix() -> None:
    findings = as_written(check_app(odd_orm.Base, head=True))
    assert {(f.where, f.kind, f.severity) for f in findings} == {
        ("Task.title (tasks.title)", "too-long", "error"),
        ("Task.creator_user_id (tasks.creator_user_id)", "nullable", "error"),
        ("Task.state (tasks.status)", "enum-type-name", "error"),
        ("Task.state (tasks.status)", "enum-labels", "error"),
        ("Conversation.conversation_id (conversations.conversation_id)", "type-mismatch", "error"),
        ("Conversation.conversation_id (conversations.conversation_id)", "missing-server-default", "error"),
        ("Skill.category (business_skills.category)", "enum-unreadable", "warning"),
        ("Skill.display_order (business_skills.display_order)", "too-long", "error"),
        ("Skill.created_at (business_skills.created_at)", "aware-timestamp", "error"),
        ("Handoff.task_id (handoffs.task_id)", "type-mismatch", "error"),
        ("Handoff.next_steps (handoffs.next_steps)", "missing-server-default", "error"),
        ("Handoff.status (handoffs.status)", "too-long", "error"),
    }
    assert_details(findings, {
        ("Task.title (tasks.title)", "too-long"): ["Text lets the application write any length",
                                                   "Fix: declare String(500)"],
        ("Task.creator_user_id (tasks.creator_user_id)", "nullable"): ["writing None fails", "nullable=False"],
        ("Task.state (tasks.status)", "enum-type-name"): ['type "taskstatus" does not exist',
                                                          'Fix: name="task_status"'],
        ("Task.state (tasks.status)", "enum-labels"): ["'archived' (Status.archived)"],
        ("Conversation.conversation_id (conversations.conversation_id)", "type-mismatch"): [
            "Integer()", "the column is uuid", "Fix: declare it as Uuid()"],
        ("Skill.category (business_skills.category)", "enum-unreadable"): [
            "'査定・修理', '販売', '管理', '店舗'", "LookupError", "Fix: add the member(s) to SkillKind"],
        ("Skill.display_order (business_skills.display_order)", "too-long"): [
            "BigInteger()", "integer range", "Fix: declare it as Integer()"],
        ("Handoff.task_id (handoffs.task_id)", "type-mismatch"): ["String(36)", "Fix: declare it as Uuid()"],
        ("Conversation.conversation_id (conversations.conversation_id)", "missing-server-default"): [
            "autoincrement primary key", "no default or identity"],
        ("Handoff.next_steps (handoffs.next_steps)", "missing-server-default"): [
            "ALTER TABLE handoffs ALTER COLUMN next_steps SET DEFAULT"],
        ("Handoff.status (handoffs.status)", "too-long"): ["'rejected_by_recipient'", "character varying(20)"],
    })
    warning = next(f for f in findings if f.severity == "warning")
    assert str(warning).startswith("warning: Skill.category (business_skills.category): ")


def test_library_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BadInput, match="not a SQLAlchemy MetaData or declarative Base"):
        check_app(incident_orm.TaskStatus, head=True)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(BadInput, match="no database to check against"):
        check_app(fixed_orm.Base)
    with pytest.raises(BadInput, match=r"^give a database URL or head=True \(--head\), not both$"):
        check_app(fixed_orm.Base, database_url="postgresql://x@localhost/db", head=True)
    with pytest.raises(ConnectionFailed) as caught:
        check_app(fixed_orm.Base, database_url=f"postgresql://app@127.0.0.1:1/app?password={MARKER}")
    assert MARKER not in str(caught.value)
    assert "cannot connect" in str(caught.value)


# -- the command ---------------------------------------------------------------------------------


def finding_lines(out: str) -> list[str]:
    """The report's finding lines (indented under their mapping's line)."""
    return [line[2:] for line in out.splitlines() if line.startswith("  ")]


def test_cli_incident_orm_on_a_head_database_exits_3_with_one_line_per_finding(head_db: URL) -> None:
    code, out, err = cli("tests.app_models.incident_orm:Base", url=head_db.set(password=MARKER))
    assert code == 3, err
    lines = out.splitlines()
    assert lines[0].startswith("checking tests.app_models.incident_orm:Base against postgresql+psycopg://")
    # Without --probe every finding is a prediction, and the report says so first.
    assert lines[0].endswith(f"(TimeZone {HEAD_ZONE}); findings predicted from the schema, not tried (--probe "
                             "tries them by round trips)")
    found = finding_lines(out)
    assert STATUS_LINE in found
    assert naive_line("updated_at", f"the database's TimeZone '{HEAD_ZONE}'", head_db.database) in found
    assert len(found) == len(INCIDENT)
    # One line per mapping, with its module, before its findings.
    module = "tests.app_models.incident_orm"
    assert [line for line in lines if line.startswith(module)] == [
        f"{module}.BusinessSkillTable (business_skills): does not fit",
        f"{module}.ReminderTable (reminders): does not fit", f"{module}.TaskTable (tasks): does not fit"]
    assert lines[lines.index(f"{module}.TaskTable (tasks): does not fit") + 1].startswith("  TaskTable.")
    assert lines[-1] == "not compatible: 10 problem(s)"
    assert MARKER not in out + err and "***" in lines[0]


def test_cli_fixed_orm_exits_0_given_as_module_or_file(head_db: URL) -> None:
    warned = sum(1 for added in ADDED_SINCE.values() if added)  # labels head gained since: warnings, exit 0
    summary = "compatible: 2 table(s), 17 column(s) checked" + (f", {warned} warning(s)" if warned else "")
    code, out, err = cli("tests.app_models.fixed_orm:Base", "--database-url", with_password(head_db))
    assert code == 0, out + err
    assert out.splitlines()[-1] == summary
    code, out, err = cli("tests/app_models/fixed_orm.py:Base", "--head", url=None)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == ("checking tests/app_models/fixed_orm.py:Base against this release's head schema; findings "
                        "predicted from the schema, not tried (--probe tries them by round trips)")
    # Only that Base is checked; the note names the other modules of the package that map tables.
    assert lines[1].startswith("note: only the given targets are checked; ")
    assert "tests.app_models.incident_orm" in lines[1] and "tests.app_models.odd_orm" in lines[1]
    mappings = ["tests.app_models.fixed_orm.BusinessSkillTable (business_skills)",
                "tests.app_models.fixed_orm.TaskTable (tasks)"]
    assert [line.rsplit(": ", 1)[0] for line in lines[2:-1] if not line.startswith("  ")] == mappings
    assert lines[-1] == summary and len(finding_lines(out)) == warned


def test_cli_json_with_head() -> None:
    code, out, err = cli("tests/app_models/incident_orm.py:Base.metadata", "--head", "--json", url=None)
    assert code == 3, err
    data = json.loads(out)
    assert data["status"] == "incompatible"
    assert data["against"] == "this release's head schema"
    assert {(f["where"], f["kind"]) for f in data["findings"]} == INCIDENT
    status = next(f for f in data["findings"] if f["kind"] == "enum-names" and f["table"] == "tasks")
    assert (status["table"], status["column"], status["text"]) == ("tasks", "status", STATUS_LINE)
    assert status["fix"].endswith(f'Enum(TaskStatus, name="task_status", {VALUES_FIX})')


def test_demo_app_mistaken_fails_and_fixed_passes_on_a_head_database(head_db: URL) -> None:
    code, out, err = cli(demo_app.MISTAKEN, url=head_db)
    assert code == 3, err
    assert [line.split(":")[0] for line in finding_lines(out)] == [
        "BusinessSkill.category (business_skills.category)", "Task.status (tasks.status)"]
    assert all("Fix: add values_callable: Enum(" in line for line in finding_lines(out))
    # The demo's other module maps the same tables: named, not checked.
    assert "note: only the given targets are checked; 1 other module(s) map tables too: " \
           "nakamura_misaki_db.bridge.demo_app.fixed " in out
    code, out, err = cli(demo_app.FIXED, url=head_db)
    assert code == 0, out + err


@pytest.mark.parametrize(("target", "message"), [
    ("tests.app_models.no_such_module:Base", "cannot import tests.app_models.no_such_module: No module named"),
    ("tests/app_models/no_such_file.py:Base", "cannot import tests/app_models/no_such_file.py: no such file"),
    ("tests.app_models.fixed_orm:Bsae",
     "tests.app_models.fixed_orm has no attribute 'Bsae' (MetaData / Base objects there: Base)"),
    ("tests.app_models.fixed_orm:TaskStatus", "is class <enum 'TaskStatus'>, not a SQLAlchemy MetaData or "
                                              "declarative Base"),
    ("tests.app_models.fixed_orm:", "cannot import tests.app_models.fixed_orm:: No module named"),
    ("tests/app_models/no_such_dir", "cannot import tests/app_models/no_such_dir: no such file or directory"),
    ("tests/app_models/__pycache__.py", "cannot import tests/app_models/__pycache__.py: no such file"),
])
def test_cli_bad_target_exits_2_with_a_clear_message(target: str, message: str) -> None:
    code, out, err = cli(target, "--head", url=None)
    assert code == 2, out + err
    assert err.startswith("baseline-bridge: ") and message in err, err
    assert "Traceback" not in err


def test_cli_bad_url_or_no_database_exits_2() -> None:
    code, _, err = cli("tests.app_models.fixed_orm:Base", "--database-url", f"mysql://app:{MARKER}@db/app")
    assert code == 2 and "only PostgreSQL is supported" in err and MARKER not in err
    code, _, err = cli("tests.app_models.fixed_orm:Base", url=None)
    assert code == 2 and "no database to check against" in err
    code, _, err = cli("tests.app_models.fixed_orm:Base", "--head", "--database-url", "postgresql://x@h/db")
    assert code == 2 and "not allowed with argument" in err


@pytest.mark.parametrize("url", [f"postgresql://app:{MARKER}@127.0.0.1:1/app",
                                 f"postgresql://app@127.0.0.1:1/app?password={MARKER}"])
@pytest.mark.parametrize("as_json", [False, True])
def test_cli_unreachable_server_exits_1_without_the_password(url: str, as_json: bool) -> None:
    code, out, err = cli("tests.app_models.fixed_orm:Base", *(["--json"] if as_json else []), url=url)
    assert code == 1, out + err
    assert "cannot connect" in err and "connection refused" in err
    assert MARKER not in out + err
    if as_json:
        assert json.loads(out)["exit_code"] == 1


def test_cli_never_shows_a_query_password(head_db: URL) -> None:
    url = with_password(head_db.set(password=None)) + ("&" if "?" in with_password(head_db) else "?") \
        + f"password={MARKER}"
    code, out, err = cli("tests.app_models.fixed_orm:Base", "--database-url", url, "--json")
    assert code == 0, out + err
    assert MARKER not in out + err
    # Shown masked, as every command shows a URL (the password given as ?password= included).
    assert ":***@" in json.loads(out)["against"]


def test_cli_help_has_an_example() -> None:
    code, out, _ = cli("--help")
    assert code == 0
    assert "baseline-bridge check-app app.models:Base --head" in out
    assert "3  not compatible" in out


def test_our_own_live_models_fit_head_and_a_legacy_database_is_told_to_upgrade(
        head_db: URL, database: Callable[..., URL]) -> None:
    from nakamura_misaki_db.schema import models

    assert check_app(models.Base, head=True) == []
    assert check_app(models.Base, database_url=head_db) == []
    findings = check_app(models.Base, database_url=database("S1", rows=None))
    missing = next(f for f in findings if f.kind == "missing-table" and f.table == "slack_users")
    assert missing.where == "SlackUser (slack_users)"
    assert missing.fix.startswith("bring the database to this release's head (nakamura-init-db; a legacy "
                                  "database needs baseline-bridge first)")


def test_bare_metadata_other_schema_identity_and_defaults(make_db: Callable[[], URL]) -> None:
    """A plain MetaData (no classes: table.column names), a table outside public, and the columns the
    database fills itself (identity, server default) that the application need not map."""
    url = make_db()
    execute_sql(url, "CREATE SCHEMA app; CREATE TABLE app.widgets (id bigint GENERATED ALWAYS AS IDENTITY "
                     "PRIMARY KEY, name varchar(20) NOT NULL, note text NOT NULL DEFAULT '', owner text NOT NULL)")
    metadata = sa.MetaData()
    sa.Table("widgets", metadata, sa.Column("name", sa.String(20), nullable=False), schema="app")
    findings = check_app(metadata, database_url=url)
    assert [(f.where, f.kind) for f in findings] == [("app.widgets.owner", "unmapped-required")]
    assert "every INSERT through app.widgets fails" in str(findings[0])
    findings = check_app(metadata, head=True)
    assert [(f.where, f.kind) for f in findings] == [("app.widgets", "missing-table")]


# -- library: what a report says it was checked against (in-process, for the mutation run) ----------------

def test_a_report_names_what_it_checked_against_without_the_password(head_db: URL) -> None:
    from nakamura_misaki_db.appcheck.check import run_check

    with_pw = head_db.set(password=MARKER)
    report = run_check(fixed_orm.Base, database_url=with_pw)
    assert report.compatible and report.errors == []
    assert report.against == with_pw.set(drivername="postgresql+psycopg").render_as_string(hide_password=True)
    assert MARKER not in report.against and "***" in report.against
    assert report.timezone == HEAD_ZONE
    assert report.tables == len(fixed_orm.Base.metadata.tables)
    assert report.columns == sum(len(t.columns) for t in fixed_orm.Base.metadata.tables.values())
    # The same given as a string: its parse errors are named by the option the command takes.
    assert run_check(fixed_orm.Base, database_url=str(head_db.render_as_string(hide_password=False))).compatible
    with pytest.raises(BadInput, match=r"^--database-url is not a valid database URL"):
        run_check(fixed_orm.Base, database_url="nonsense")

    on_head = run_check(fixed_orm.Base, head=True)
    assert (on_head.against, on_head.timezone) == ("this release's head schema", None)
    assert on_head.findings == report.findings


def test_without_a_url_database_url_is_used(head_db: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    from nakamura_misaki_db.appcheck.check import run_check

    monkeypatch.setenv("DATABASE_URL", head_db.set(password=MARKER).render_as_string(hide_password=False))
    report = run_check(fixed_orm.Base)
    assert report.timezone == HEAD_ZONE and MARKER not in report.against


def test_the_incompatibility_error_lists_one_finding_per_indented_line(head_db: URL) -> None:
    with_pw = head_db.set(password=MARKER)
    with pytest.raises(AppIncompatible) as caught:
        assert_compatible(incident_orm.Base, database_url=with_pw)
    error = caught.value
    shown = with_pw.set(drivername="postgresql+psycopg").render_as_string(hide_password=True)
    assert error.against == shown
    first, *lines = str(error).split("\n")
    assert first == f"the application's models do not fit {shown} ({len(INCIDENT)} problem(s)):"
    assert lines == [f"  {f}" for f in error.findings]
    with pytest.raises(AppIncompatible) as on_head:
        assert_compatible(incident_orm.Base, head=True)
    assert on_head.value.against == "this release's head schema"



def test_a_query_refused_after_connecting_is_one_message_without_the_password(db_url: URL) -> None:
    # A role that may connect but not read the application's tables: the check fails after connecting,
    # in the middle of its reads. The message names the cause and never the password.
    from nakamura_misaki_db.connect.errors import MigrationError

    role = f"reader_{uuid.uuid4().hex[:8]}"
    upgrade(db_url, "head")
    execute_sql(db_url, f"CREATE ROLE {role} LOGIN")
    try:
        with pytest.raises(MigrationError) as caught:
            check_app(fixed_orm.Base, database_url=db_url.set(username=role, password=MARKER))
        message = str(caught.value)
        assert MARKER not in message
        assert message.startswith("database error: permission denied for table "), message
    finally:
        execute_sql(db_url, f"DROP ROLE {role}")
