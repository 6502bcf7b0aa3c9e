"""Preflight before anything is written (issue 22, "What to build" 1), each state built as the issue describes.

Every case is a refusal (exit 3) that names the object and the exact fix, with the database
byte-identical before and after (``helpers.fingerprint``), or, where the operator explicitly lets the
run go on (``--allow-connected-clients``, ``--allow-event-trigger``), a failure after phase 1 that puts
phase 1 back and says so, the fingerprint again unchanged. Roles are made with ``CREATE ROLE ... LOGIN``
and dropped afterwards (the embedded server trusts every login on its socket, so no password is used).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.catalog.commands import command_tags
from nakamura_misaki_db.catalog.sessions import CONFLICTS

from .helpers import (
    alembic,
    bridge_cli,
    build_legacy,
    fingerprint,
    init_db_cli,
    libpq_url,
    login_role,
    rows,
    upgrade,
)

ZONE = "Asia/Tokyo"
HANG_GUARD_S = 60  # not a speed measure: a wait that is not bounded would never end

# legacy-states.md / target-schema.md: what S1 differs in, by table. The plan alters these tables
# (defaults, column types, the unique constraint) and these enum types (labels renamed, added).
S1_ALTERED_TABLES = ("business_skills", "conversations", "employee_skills", "employees", "handoffs", "tasks")
S1_ALTERED_TYPES = ("skill_category", "task_status")
OWN_EVERYTHING = (
    "DO $$ DECLARE r record; BEGIN"
    " FOR r IN SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' LOOP"
    "   EXECUTE format('ALTER TABLE public.%I OWNER TO {role}', r.relname); END LOOP;"
    " FOR r IN SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e' LOOP"
    "   EXECUTE format('ALTER TYPE public.%I OWNER TO {role}', r.typname); END LOOP; END $$"
)


def _s1(url: URL, rows_: int = 60) -> None:
    build_legacy(url, "S1", rows=rows_)


def _refusal(stderr: str) -> str:
    """The refusal, without the progress lines before it."""
    text = stderr[stderr.index("baseline-bridge: "):] if "baseline-bridge: " in stderr else stderr
    assert text.startswith("baseline-bridge: refused: baseline-bridge apply: "), stderr
    assert " found before anything was written; nothing was changed:" in text.splitlines()[0], stderr
    return text


# -- privileges, computed from the plan --------------------------------------------------------------------


def test_a_role_that_owns_nothing_is_refused_naming_each_table_and_type_and_the_fix(db_url: URL) -> None:
    _s1(db_url)
    owner = db_url.username
    with login_role(db_url, "pf_migrator", f'GRANT CREATE ON DATABASE "{db_url.database}" TO pf_migrator',
                    "GRANT USAGE, CREATE ON SCHEMA public TO pf_migrator",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pf_migrator") as role:
        before = fingerprint(db_url)
        result = bridge_cli(role, "apply", "--legacy-timezone", ZONE)
    assert result.returncode == 3, result.stdout + result.stderr
    text = _refusal(result.stderr)
    assert f"{len(S1_ALTERED_TABLES) + len(S1_ALTERED_TYPES)} problem(s)" in text.splitlines()[0]
    for table in S1_ALTERED_TABLES:
        assert (f"  - table public.{table}: this run alters it (ALTER TABLE, indexes), which only its owner may do; "
                f"it is owned by {owner}, not by pf_migrator\n    fix: ALTER TABLE \"public\".\"{table}\" OWNER TO "
                f"\"pf_migrator\"; (run by \"{owner}\" or a superuser), or run this as role {owner}") in text
    for enum in S1_ALTERED_TYPES:
        assert f"  - type public.{enum}: this run alters it (its labels)" in text
    assert "duplicate" not in text  # issue 22: the failure blamed a concurrent duplicate writer
    assert fingerprint(db_url) == before


def test_an_owner_without_create_is_told_the_two_grants(db_url: URL) -> None:
    # It owns every table and type the plan alters, but may create neither the archive schema (CREATE on
    # the database) nor slack_users (CREATE on public: not granted to PUBLIC since PostgreSQL 15).
    _s1(db_url)
    with login_role(db_url, "pf_owner", OWN_EVERYTHING.format(role="pf_owner")) as role:
        before = fingerprint(db_url)
        result = bridge_cli(role, "apply", "--legacy-timezone", ZONE)
        after = fingerprint(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    text = _refusal(result.stderr)
    assert "2 problem(s)" in text.splitlines()[0]
    assert (f"  - database {db_url.database}: this run creates schema legacy_archive (if missing), and role "
            f"pf_owner may not create schemas in this database\n    fix: GRANT CREATE ON DATABASE "
            f"\"{db_url.database}\" TO \"pf_owner\";") in text
    assert ("  - schema public: this run creates objects in it, and role pf_owner lacks CREATE on it\n"
            "    fix: GRANT USAGE, CREATE ON SCHEMA \"public\" TO \"pf_owner\";") in text
    assert after == before


def test_the_deploy_needs_what_its_pending_revisions_do(db_url: URL) -> None:
    # At 0001: 0002 drops indexes of conversations, 0007 adds columns to tasks (they must be owned);
    # 0003-0006 only create tables (CREATE on public is granted).
    upgrade(db_url, "0001")
    with login_role(db_url, "pf_deployer", "GRANT USAGE, CREATE ON SCHEMA public TO pf_deployer",
                    "GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA public TO "
                    "pf_deployer") as role:
        before = fingerprint(db_url)
        result = init_db_cli(role)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith("nakamura-init-db: refused: upgrade to 0007: 2 problem(s) found before "
                                    "anything was written; nothing was changed: - table public.conversations:")
    assert "- table public.tasks: this run alters it" in result.stderr
    assert fingerprint(db_url) == before


# -- row level security --------------------------------------------------------------------------------


def test_forced_row_level_security_is_refused_with_the_fix_for_its_owner(db_url: URL) -> None:
    # Issue 22: a policy hid every row of tasks from the bridge's role, the table's owner; the naive
    # timestamps were converted as UTC, 0 rows counted, "verified".
    _s1(db_url)
    hide = ("ALTER TABLE tasks ENABLE ROW LEVEL SECURITY; ALTER TABLE tasks FORCE ROW LEVEL SECURITY; "
            "CREATE POLICY tenant_only ON tasks USING (current_setting('app.see_all', true) = 'on')")
    with login_role(db_url, "pf_app_owner", OWN_EVERYTHING.format(role="pf_app_owner"),
                    f'GRANT CREATE ON DATABASE "{db_url.database}" TO pf_app_owner',
                    "GRANT CREATE ON SCHEMA public TO pf_app_owner", hide) as role:
        before = fingerprint(db_url)
        # Every session of these tools runs with row_security = off: a hidden row is an error, not a zero.
        from nakamura_misaki_db.connect.connection import psycopg_connect
        from nakamura_misaki_db.connect.urls import DatabaseUrl

        with psycopg_connect(DatabaseUrl.of(role)) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                                          match="row-level security"):
            conn.execute("SELECT count(*) FROM tasks")
        status = bridge_cli(role, "status")
        plan = bridge_cli(role, "plan")  # refused before the timestamps could be judged on no rows
        apply = bridge_cli(role, "apply", "--legacy-timezone", ZONE)
        after = fingerprint(db_url)
    fix = ('for the run, ALTER TABLE "public"."tasks" NO FORCE ROW LEVEL SECURITY; (and FORCE ROW LEVEL SECURITY '
           'again afterwards), or use a role with BYPASSRLS (a superuser: ALTER ROLE "pf_app_owner" BYPASSRLS;)')
    assert "hidden rows: row level security can hide rows of tasks from this role" in status.stdout
    assert plan.returncode == 3 and fix in plan.stdout
    assert "its policies apply to its owner too (FORCE ROW LEVEL SECURITY), and pf_app_owner owns it" in plan.stdout
    assert apply.returncode == 3 and fix in apply.stderr
    assert "run this as its owner" not in plan.stdout + apply.stderr  # never "run as the owner" to the owner
    assert after == before


def test_a_policy_on_a_table_the_role_does_not_own_names_the_owner(db_url: URL) -> None:
    _s1(db_url)
    with login_role(db_url, "pf_reader", "GRANT SELECT ON ALL TABLES IN SCHEMA public TO pf_reader",
                    "ALTER TABLE conversations ENABLE ROW LEVEL SECURITY",
                    "CREATE POLICY nothing_for_readers ON conversations USING (false)") as role:
        plan = bridge_cli(role, "plan", "--legacy-timezone", ZONE)
    assert plan.returncode == 3
    assert ("table public.conversations: row level security can hide rows of it from this role (its policies apply "
            "to pf_reader, which is not its owner)") in plan.stdout
    assert (f"run this as its owner {db_url.username} or a role with BYPASSRLS (a superuser: ALTER ROLE "
            "\"pf_reader\" BYPASSRLS;)") in plan.stdout


# -- event triggers ----------------------------------------------------------------------------------------

FORBID_ALTER = (
    "CREATE FUNCTION forbid_alter() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'ALTER TABLE is forbidden on this database (change freeze)'; END $$; CREATE EVENT TRIGGER change_freeze ON "
    "ddl_command_start WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION forbid_alter()"
)


def test_an_event_trigger_on_the_plans_commands_is_named_and_refused(db_url: URL) -> None:
    build_legacy(db_url, "S1", rows=60, sql=FORBID_ALTER)
    before = fingerprint(db_url)
    refused = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE)
    assert refused.returncode == 3
    text = _refusal(refused.stderr)
    assert ("  - event trigger change_freeze: fires on ddl_command_start of ALTER TABLE, and this run executes ALTER "
            "TABLE: forbid_alter (owner") in text
    assert ('fix: disable it for the run: ALTER EVENT TRIGGER "change_freeze" DISABLE;' in text
            and "rerun with --allow-event-trigger change_freeze" in text)
    assert fingerprint(db_url) == before

    # Allowed by name, it fires and fails the run after phase 1 committed: phase 1 is put back.
    allowed = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE, "--allow-event-trigger", "change_freeze")
    assert allowed.returncode == 1
    [line] = [ln for ln in allowed.stderr.splitlines() if ln.startswith("baseline-bridge: ")]
    assert line.startswith("baseline-bridge: database error: ALTER TABLE is forbidden on this database (change "
                           "freeze). Phase 1 had committed on its own; this run put it back: ")
    assert line.endswith("Nothing was changed.")
    assert fingerprint(db_url) == before


# -- other sessions, their locks and snapshots -----------------------------------------------------------


def test_a_connected_application_is_listed_and_refused(db_url: URL) -> None:
    _s1(db_url)
    before = fingerprint(db_url)
    with psycopg.connect(libpq_url(db_url), application_name="nakamura-misaki") as app:
        app.execute("SELECT count(*) FROM tasks")  # idle in transaction, ACCESS SHARE on tasks
        time.sleep(1.1)  # a transaction age of at least a second, as the listing shows it
        result = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE)
        pid = app.info.backend_pid
    assert result.returncode == 3
    text = _refusal(result.stderr)
    assert "  - 1 other session(s) connected to this database: the bridge changes what the running release" in text
    assert (f"      pid {pid} (nakamura-misaki) from local socket, idle in transaction, transaction open for ") in text
    assert ("s: SELECT count(*) FROM tasks; holds ACCESS SHARE on public.tasks (this run needs ACCESS EXCLUSIVE "
            "there)") in text
    assert "rerun with --allow-connected-clients" in text
    assert fingerprint(db_url) == before


class _Snapshot:
    """A reporting job: a REPEATABLE READ transaction whose snapshot a concurrent index build must wait out."""

    def __init__(self, url: URL) -> None:
        self.conn = psycopg.connect(libpq_url(url), application_name="pf-report")
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.conn.execute("SELECT count(*) FROM employees")
        self.pid = self.conn.info.backend_pid

    def close(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_the_concurrent_build_waits_no_longer_than_the_lock_budget_and_names_the_snapshot(db_url: URL) -> None:
    # Issue 22: it waited 23.6 s behind an old snapshot with a 5 s lock timeout (and 45 s and more
    # behind an open application transaction).
    _s1(db_url)
    before = fingerprint(db_url)
    report = _Snapshot(db_url)
    try:
        started = time.monotonic()
        result = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE, "--lock-timeout", "1s",
                            "--allow-connected-clients")
        elapsed = time.monotonic() - started
    finally:
        report.close()
    assert elapsed < HANG_GUARD_S
    assert result.returncode == 1
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("baseline-bridge: ")]
    assert line.startswith("baseline-bridge: building the index uq_conversations_user_channel on conversations "
                           f"failed: it waited more than the lock budget (lock_timeout=1s) for pid {report.pid} "
                           "(pf-report), idle in transaction")
    # ... and why it waits, and the two ways out (what to end, or the option that raises the budget).
    assert (": a concurrent build waits for every transaction that writes to the table or holds an older "
            "snapshot; end that transaction or retry when it is idle (--lock-timeout raises the budget)") in line
    assert "index uq_conversations_user_channel dropped" in line and line.endswith("Nothing was changed.")
    assert fingerprint(db_url) == before


def test_a_terminated_build_is_never_reported_dropped_while_it_is_still_there(db_url: URL) -> None:
    _s1(db_url)
    before = fingerprint(db_url)
    report = _Snapshot(db_url)

    def terminate_the_build() -> None:
        with psycopg.connect(libpq_url(db_url), autocommit=True) as admin:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                hit = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname ="
                                    " current_database() AND query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%'"
                                    " AND wait_event_type = 'Lock'").fetchall()
                if hit:
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=terminate_the_build)
    killer.start()
    try:
        result = bridge_cli(db_url, "apply", "--legacy-timezone", ZONE, "--lock-timeout", "30s",
                            "--allow-connected-clients")
    finally:
        killer.join(40)
        report.close()
    assert result.returncode == 1
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("baseline-bridge: ")]
    assert line.startswith("baseline-bridge: building the index uq_conversations_user_channel on conversations "
                           "failed: its session ended (terminating connection due to administrator command)")
    assert "index uq_conversations_user_channel dropped" in line
    assert rows(db_url, "SELECT to_regclass('public.uq_conversations_user_channel')") == [(None,)]
    assert fingerprint(db_url) == before


# -- a read-only session ------------------------------------------------------------------------------


def test_a_read_only_role_is_refused_by_the_bridge_and_the_deploy(make_db) -> None:
    legacy, empty = make_db(), make_db()
    _s1(legacy)
    setup = ["ALTER ROLE pf_ro SET default_transaction_read_only = on"]
    with login_role(legacy, "pf_ro", *setup) as bridge_role:
        before = fingerprint(legacy)
        applied = bridge_cli(bridge_role, "apply", "--legacy-timezone", ZONE)
        assert fingerprint(legacy) == before
    with login_role(empty, "pf_ro", *setup, f'ALTER DATABASE "{empty.database}" OWNER TO pf_ro') as deploy_role:
        before = fingerprint(empty)
        deployed = init_db_cli(deploy_role)
        cli = alembic(deploy_role, "upgrade", "head")
        assert fingerprint(empty) == before
    problem = ('the session of role pf_ro: is read-only (default_transaction_read_only = on, set by: user)')
    fix = 'fix: ALTER ROLE "pf_ro" SET default_transaction_read_only = off;'
    assert applied.returncode == 3 and problem in applied.stderr and fix in applied.stderr
    assert deployed.returncode == 3 and problem in deployed.stderr and fix in deployed.stderr
    assert deployed.stderr.startswith("nakamura-init-db: refused: upgrade: 1 problem(s)")
    assert cli.returncode != 0 and problem in cli.stdout + cli.stderr
    assert "cannot execute" not in applied.stderr + deployed.stderr  # issue 22: the raw error, exit 1


# -- the parts, against PostgreSQL's documentation ------------------------------------------------------


@pytest.mark.parametrize(("statement", "tags"), [
    ('ALTER TABLE "public"."tasks" ALTER COLUMN "title" TYPE varchar(500)', {"ALTER TABLE"}),
    ('CREATE UNIQUE INDEX CONCURRENTLY "uq" ON "public"."conversations" ("user_id")', {"CREATE INDEX"}),
    ('DROP INDEX CONCURRENTLY IF EXISTS "public"."uq"', {"DROP INDEX"}),
    ('ALTER INDEX "public"."a" RENAME TO "b"', {"ALTER INDEX"}),
    ("ALTER TYPE \"public\".\"task_status\" RENAME VALUE 'PENDING' TO 'pending'", {"ALTER TYPE"}),
    ("CREATE TABLE IF NOT EXISTS legacy_archive.x (LIKE public.y)", {"CREATE TABLE"}),
    ("CREATE SCHEMA IF NOT EXISTS legacy_archive", {"CREATE SCHEMA"}),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", {"CREATE VIEW"}),
    ("DO $$ BEGIN IF true THEN EXECUTE 'x'; ALTER TABLE t ADD CONSTRAINT c CHECK (true); END IF; END $$",
     {"ALTER TABLE"}),
    ("WITH moved AS (DELETE FROM t RETURNING *) INSERT INTO a SELECT * FROM moved", set()),
    ("LOCK TABLE public.c IN SHARE MODE", set()),
    ("SET maintenance_work_mem = '256MB'", set()),
    ("ALTER DATABASE d SET TimeZone = 'Asia/Tokyo'", set()),  # a global object: no event trigger fires
])
def test_command_tags_are_those_event_triggers_see(statement: str, tags: set[str]) -> None:
    assert command_tags(statement) == tags


def test_the_lock_conflict_table_is_postgresqls() -> None:
    # "Conflicting Lock Modes" (PostgreSQL 16 documentation, 13.3.1), row by row: X marks a conflict.
    modes = ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
             "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]
    table = ["       X", "      XX", "    XXXX", "   XXXXX", "  XX XXX", "  XXXXXX", " XXXXXXX", "XXXXXXXX"]
    for requested, row in zip(modes, table, strict=True):
        assert CONFLICTS[requested] == {held for held, mark in zip(modes, row, strict=True) if mark == "X"}, requested
