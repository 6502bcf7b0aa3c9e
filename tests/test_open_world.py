"""The bridge in the open world: saved plans that were tampered with, objects we never saw, roles with a
schema of their own, URLs in every form. Real PostgreSQL; every case compares a full fingerprint (schema dump
+ row checksums) before and after.

Either the run refuses up front (exit 3) naming the object, and nothing changed; or it applies (exit 0) and
the object still works, every row accounted for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.connect.errors import Refused

from .helpers import (
    bridge_cli,
    build,
    connection,
    execute_sql,
    fingerprint,
    init_db_cli,
    plan_of,
    rows,
    scalar,
    version_rows,
)

TOKYO = "Asia/Tokyo"
ARCHIVE = "legacy_archive"
BIN = Path(sys.executable).parent
BRIDGE, INIT_DB = str(BIN / "baseline-bridge"), str(BIN / "nakamura-init-db")


def _plan_file(url: URL, path: Path) -> dict:
    result = bridge_cli(url, "plan", "--legacy-timezone", TOKYO, "--out", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(path.read_text(encoding="utf-8"))


def _apply_file(url: URL, path: Path, data: dict):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return bridge_cli(url, "apply", "--plan", str(path))


# -- 1. a saved plan is a review artifact, never a script ---------------------------------------------

def _tamper_extra_sql(data: dict) -> None:
    data["steps"][0]["sql"][-1] += "; DELETE FROM tasks"


def _tamper_extra_statement(data: dict) -> None:
    data["steps"][0]["sql"].append("CREATE ROLE bridge_intruder SUPERUSER")


def _tamper_drop_step(data: dict) -> None:
    del data["steps"][1]


def _tamper_cut(data: dict) -> None:
    data["steps"] = data["steps"][:3]


def _tamper_rename_action(data: dict) -> None:
    data["steps"][-1]["action"] = "create_index"


TAMPERING = {
    "extra SQL in a statement": _tamper_extra_sql,
    "extra statement": _tamper_extra_statement,
    "dropped step": _tamper_drop_step,
    "cut to three steps": _tamper_cut,
    "renamed action": _tamper_rename_action,
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_tampered_plan_is_refused_and_nothing_runs(db_url: URL, tmp_path: Path, how: str) -> None:
    build(db_url, "S1", rows=40)
    data = _plan_file(db_url, tmp_path / "plan.json")
    TAMPERING[how](data)
    before = fingerprint(db_url)
    result = _apply_file(db_url, tmp_path / "tampered.json", data)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "differs" in result.stderr or "step(s)" in result.stderr, result.stderr
    assert "Nothing was changed" in result.stderr
    assert fingerprint(db_url) == before
    assert scalar(db_url, "SELECT count(*) FROM pg_roles WHERE rolname = 'bridge_intruder'") == 0


def test_the_refusal_names_the_step_that_differs(db_url: URL, tmp_path: Path) -> None:
    build(db_url, "S1", rows=40)
    data = _plan_file(db_url, tmp_path / "plan.json")
    data["steps"][2]["sql"][0] = data["steps"][2]["sql"][0] + " "
    result = _apply_file(db_url, tmp_path / "tampered.json", data)
    assert result.returncode == 3
    assert f"step 3 of the saved plan ({data['steps'][2]['action']} {data['steps'][2]['object']})" in result.stderr
    assert "differs in its sql" in result.stderr


def test_another_databases_plan_is_refused(make_db, tmp_path: Path) -> None:
    source, other = make_db(), make_db()
    build(source, "S1", rows=40)
    build(other, "S2", rows=40)
    data = _plan_file(source, tmp_path / "plan.json")
    before = fingerprint(other)
    result = _apply_file(other, tmp_path / "plan2.json", data)
    assert result.returncode == 3 and "fingerprint" in result.stderr
    assert fingerprint(other) == before


def test_the_untouched_saved_plan_applies_with_its_own_run_id(db_url: URL, tmp_path: Path) -> None:
    build(db_url, "S1", rows=40)
    data = _plan_file(db_url, tmp_path / "plan.json")
    result = bridge_cli(db_url, "apply", "--plan", str(tmp_path / "plan.json"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run_id"] == data["plan_id"]
    assert version_rows(db_url) == ["0001"]


# -- 2. foreign keys from tables we never saw -----------------------------------------------------------

CHILD = """
CREATE SCHEMA app;
CREATE TABLE app.conversation_tags (
    tag_id serial PRIMARY KEY,
    conversation_id uuid REFERENCES public.conversations (conversation_id) ON DELETE {action},
    tag text NOT NULL
);
-- One tag on every conversation: duplicates (that will move) and kept rows alike.
INSERT INTO app.conversation_tags (conversation_id, tag) SELECT conversation_id, 'tag-' || user_id FROM conversations;
"""


def _duplicate_ids(url: URL) -> set[str]:
    """Conversations that lose their (user_id, channel_id): all but the most recent of each key."""
    return {str(r[0]) for r in rows(url, """
        SELECT conversation_id FROM (SELECT conversation_id, row_number() OVER (PARTITION BY user_id, channel_id
               ORDER BY last_message_at DESC, conversation_id DESC) AS rn FROM conversations) r WHERE rn > 1""")}


@pytest.mark.parametrize("action", ["CASCADE", "SET NULL"])
def test_rows_that_follow_moved_rows_are_archived_with_them(db_url: URL, action: str) -> None:
    build(db_url, "S1", rows=60, sql=CHILD.format(action=action))
    tags_before = {(r[0], str(r[1]), r[2]) for r in rows(db_url, "SELECT tag_id, conversation_id, tag "
                                                                  "FROM app.conversation_tags")}
    moving = _duplicate_ids(db_url)
    assert moving, "the sample data has duplicates"
    plan = plan_of(db_url, TOKYO)
    [move] = [s for s in plan.steps if s.action == "archive_duplicates"]
    assert any("app.conversation_tags" in note and action in note for note in move.dependents), move.dependents

    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"

    archived = {(r[0], str(r[1]), r[2]): r[3] for r in rows(
        db_url, f"SELECT tag_id, conversation_id, tag, archived_because FROM {ARCHIVE}.app_conversation_tags_cascade")}
    assert {c for _, c, _ in archived} == moving
    assert all(f"ON DELETE {action}" in why and "app.conversation_tags" in why for why in archived.values())
    in_place = {(r[0], str(r[1]) if r[1] else None, r[2]) for r in rows(
        db_url, "SELECT tag_id, conversation_id, tag FROM app.conversation_tags")}
    if action == "CASCADE":
        assert in_place | set(archived) == tags_before and not (in_place & set(archived))
    else:  # SET NULL: the rows stay, unlinked; their links are in the archive
        assert {t for t, _, _ in in_place} == {t for t, _, _ in tags_before}
        assert {(t, c, g) for t, c, g in tags_before if c in moving} == set(archived)


def test_a_no_action_key_pointing_at_moving_rows_is_refused_up_front(db_url: URL) -> None:
    build(db_url, "S1", rows=60, sql=CHILD.format(action="NO ACTION"))
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "apply", "--legacy-timezone", TOKYO)
    assert result.returncode == 3, result.stderr
    assert "foreign key app.conversation_tags.conversation_tags_conversation_id_fkey" in result.stderr
    assert "ON DELETE NO ACTION" in result.stderr
    assert fingerprint(db_url) == before


def test_a_delete_trigger_on_a_table_losing_rows_is_refused(db_url: URL) -> None:
    build(db_url, "S1", rows=60, sql="""
        CREATE TABLE audit_log (what text);
        CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN INSERT INTO audit_log VALUES ('deleted ' || OLD.conversation_id); RETURN OLD; END $$;
        CREATE TRIGGER conversations_audit AFTER DELETE ON conversations FOR EACH ROW EXECUTE FUNCTION log_delete();
    """)
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert result.returncode == 3
    assert "trigger public.conversations.conversations_audit" in result.stdout
    assert "DISABLE TRIGGER conversations_audit" in result.stdout
    assert fingerprint(db_url) == before


# -- 3. views, triggers, policies, code over what changes --------------------------------------------

def test_a_view_over_an_altered_column_is_recreated_and_still_answers(db_url: URL) -> None:
    build(db_url, "S1", rows=60, sql="""
        CREATE ROLE report_reader;
        CREATE VIEW open_tasks AS SELECT id, title, assignee_user_id FROM tasks;
        CREATE VIEW open_task_titles AS SELECT title FROM open_tasks;
        COMMENT ON VIEW open_tasks IS 'for the weekly report';
        GRANT SELECT ON open_tasks TO report_reader;
    """)
    before = sorted(rows(db_url, "SELECT id::text, title FROM open_tasks"))
    plan = plan_of(db_url, TOKYO)
    [alter] = [s for s in plan.steps if s.action == "alter_columns" and s.object == "tasks"]
    assert any("public.open_tasks" in n for n in alter.dependents) and any("open_task_titles" in n
                                                                            for n in alter.dependents)
    try:
        with connection(db_url) as conn:
            assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
        assert sorted(rows(db_url, "SELECT id::text, title FROM open_tasks")) == before
        assert scalar(db_url, "SELECT count(*) FROM open_task_titles") == len(before)
        assert scalar(db_url, "SELECT obj_description('open_tasks'::regclass, 'pg_class')") == "for the weekly report"
        assert scalar(db_url, "SELECT has_table_privilege('report_reader', 'open_tasks', 'SELECT')") is True
        assert scalar(db_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                              "'open_tasks'::regclass AND attname = 'assignee_user_id'") == "character varying(50)"
    finally:
        execute_sql(db_url, "DROP VIEW IF EXISTS open_task_titles, open_tasks; DROP ROLE report_reader")


def test_views_over_views_are_recreated_each_after_what_it_reads(db_url: URL) -> None:
    # Three levels and a side branch, with names and oids that both sort against the reading order (a_top
    # was made first and only later replaced to read m_mid): PostgreSQL refuses to drop a view another
    # reads, or to create one before what it reads.
    build(db_url, "S1", rows=60, sql="""
        CREATE VIEW a_top AS SELECT title FROM tasks;
        CREATE VIEW z_base AS SELECT id, title, assignee_user_id FROM tasks;
        CREATE VIEW m_mid AS SELECT id, title FROM z_base;
        CREATE OR REPLACE VIEW a_top AS SELECT title FROM m_mid;
        CREATE VIEW b_side AS SELECT assignee_user_id FROM z_base;
    """)
    before = {v: scalar(db_url, f"SELECT count(*) FROM {v}") for v in ("z_base", "m_mid", "a_top", "b_side")}
    try:
        with connection(db_url) as conn:
            assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
        assert {v: scalar(db_url, f"SELECT count(*) FROM {v}") for v in before} == before
        assert scalar(db_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                              "'b_side'::regclass AND attname = 'assignee_user_id'") == "character varying(50)"
    finally:
        execute_sql(db_url, "DROP VIEW IF EXISTS a_top, b_side, m_mid, z_base")


REFUSED_OBJECTS = {
    "materialized view": ("CREATE MATERIALIZED VIEW task_titles AS SELECT title FROM tasks",
                          "view public.task_titles"),
    "trigger WHEN": ("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
                     " CREATE TRIGGER long_titles BEFORE UPDATE ON tasks FOR EACH ROW"
                     " WHEN (length(NEW.title) > 100) EXECUTE FUNCTION noop()",
                     "trigger public.tasks.long_titles"),
    "policy": ("ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;"
               " CREATE POLICY own_tasks ON tasks USING (assignee_user_id = current_user)",
               "policy public.tasks.own_tasks"),
    "code spelling an old label": (
        "CREATE FUNCTION stamp_completion() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF NEW.status = 'COMPLETED' THEN NEW.completed_at := now(); END IF; RETURN NEW; END $$;"
        " CREATE TRIGGER completion BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION stamp_completion()",
        "function public.stamp_completion()"),
    "view comparing an old label as text": (
        "CREATE VIEW done_tasks AS SELECT id FROM tasks WHERE status::text = 'COMPLETED'",
        "view public.done_tasks"),
}


@pytest.mark.parametrize("case", list(REFUSED_OBJECTS))
def test_objects_that_would_break_are_refused_up_front_naming_them(db_url: URL, case: str) -> None:
    sql, named = REFUSED_OBJECTS[case]
    build(db_url, "S1", rows=40, sql=sql)
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "apply", "--legacy-timezone", TOKYO)
    assert result.returncode == 3, result.stdout + result.stderr
    assert named in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr.lower()
    assert fingerprint(db_url) == before


def test_a_view_comparing_with_the_enum_follows_the_rename(db_url: URL) -> None:
    # 'COMPLETED'::task_status is stored as the label itself: RENAME VALUE carries it along.
    build(db_url, "S1", rows=60, sql="CREATE VIEW done_tasks AS SELECT id FROM tasks WHERE status = 'COMPLETED'")
    before = sorted(r[0] for r in rows(db_url, "SELECT id::text FROM done_tasks"))
    assert before
    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
    assert sorted(r[0] for r in rows(db_url, "SELECT id::text FROM done_tasks")) == before
    assert "'completed'::task_status" in scalar(db_url, "SELECT pg_get_viewdef('done_tasks'::regclass)")


def test_a_function_naming_a_table_that_moves_to_the_archive_is_refused(db_url: URL) -> None:
    build(db_url, "S4", rows=40, version="001", sql=(
        "CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM notes $$"))
    before = fingerprint(db_url)
    result = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert result.returncode == 3
    assert "function public.note_count()" in result.stdout and "names table notes" in result.stdout
    assert fingerprint(db_url) == before


# -- 4. row conservation -------------------------------------------------------------------------------

def test_a_row_removed_behind_the_plans_back_rolls_everything_back(db_url: URL) -> None:
    build(db_url, "S1", rows=40, duplicate_ratio=0.0)  # nothing for the first phase to move
    before = fingerprint(db_url)
    with connection(db_url) as conn:
        def sneaky() -> None:  # as an unseen cascade or rule would
            conn.exec_driver_sql(
                "DELETE FROM employee_skills WHERE id = (SELECT id FROM employee_skills ORDER BY id LIMIT 1)")

        with pytest.raises(Refused, match="row conservation failed"):
            apply_plan(conn, legacy_timezone=TOKYO, before_verify=sneaky)
    assert fingerprint(db_url) == before


# -- 5. odd names --------------------------------------------------------------------------------------

def test_an_index_name_with_percent_and_colon_is_dropped_as_written(db_url: URL) -> None:
    build(db_url, "S1", rows=30, sql='ALTER INDEX idx_tasks_assignee_due RENAME TO "idx_100%:due"')
    with connection(db_url) as conn:
        assert apply_plan(conn, legacy_timezone=TOKYO).status == "applied"
    assert scalar(db_url, "SELECT to_regclass(:n)", n='public."idx_100%:due"') is None


# -- 6. a role with a schema of its own, and its own statement_timeout ---------------------------------

@pytest.fixture
def own_role(db_url: URL):
    """A login role that owns the database and has a schema named after itself (PostgreSQL's default
    search_path, ``"$user", public``, would put new tables there)."""
    import uuid

    role = f"misaki_{uuid.uuid4().hex[:8]}"
    execute_sql(db_url, f"CREATE ROLE {role} LOGIN; ALTER DATABASE \"{db_url.database}\" OWNER TO {role};"
                        f" ALTER SCHEMA public OWNER TO {role}; CREATE SCHEMA {role} AUTHORIZATION {role};"
                        " CREATE EXTENSION IF NOT EXISTS vector")
    yield db_url.set(username=role)
    execute_sql(db_url, f"ALTER DATABASE \"{db_url.database}\" OWNER TO postgres;"
                        f" ALTER SCHEMA public OWNER TO pg_database_owner; DROP OWNED BY {role}; DROP ROLE {role}")


def _one_ms_statement_timeout(db_url: URL, role: str) -> None:
    execute_sql(db_url, f"ALTER ROLE {role} SET statement_timeout = '1ms'")


def test_a_schema_named_after_the_role_receives_nothing(db_url: URL, own_role: URL) -> None:
    role = own_role.username
    _one_ms_statement_timeout(db_url, role)
    result = init_db_cli(own_role)
    assert result.returncode == 0, result.stderr
    # Checked as the superuser: the role's own sessions would hit its 1 ms timeout.
    in_public = {r[0] for r in rows(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"tasks", "conversations", "alembic_version"} <= in_public
    assert rows(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = :s", s=role) == []
    status = bridge_cli(own_role, "status")
    assert status.returncode == 0 and "(at head)" in status.stdout, status.stdout + status.stderr


def test_a_role_statement_timeout_does_not_cancel_the_bridge(db_url: URL, own_role: URL) -> None:
    build(own_role, "S1", rows=200)
    _one_ms_statement_timeout(db_url, own_role.username)
    result = bridge_cli(own_role, "apply", "--legacy-timezone", TOKYO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert version_rows(db_url) == ["0001"]


# -- 7. one answer to "what state is this database in" --------------------------------------------------

def test_mixed_ids_get_one_answer_and_a_way_forward(db_url: URL) -> None:
    from .helpers import upgrade

    upgrade(db_url, "0001")
    execute_sql(db_url, "INSERT INTO alembic_version VALUES ('003_add_slack_users_table')")
    status = bridge_cli(db_url, "status", "--json")
    assert json.loads(status.stdout)["kind"] == "mixed"
    init = init_db_cli(db_url)
    assert init.returncode == 3 and "stale legacy id 003_add_slack_users_table" in init.stderr
    plan = bridge_cli(db_url, "plan", "--json")
    assert plan.returncode == 0 and json.loads(plan.stdout)["steps"] == []
    applied = bridge_cli(db_url, "apply")
    assert applied.returncode == 0, applied.stderr
    assert version_rows(db_url) == ["0001"]
    assert init_db_cli(db_url).returncode == 0


def test_an_unknown_revision_is_refused_with_exit_3_by_every_command(db_url: URL) -> None:
    from .helpers import upgrade

    upgrade(db_url, "head")
    execute_sql(db_url, "UPDATE alembic_version SET version_num = 'feature_x'")
    before = fingerprint(db_url)
    outputs = [init_db_cli(db_url), bridge_cli(db_url, "plan"), bridge_cli(db_url, "apply")]
    assert [o.returncode for o in outputs] == [3, 3, 3]
    assert all("feature_x, which this release does not know" in (o.stdout + o.stderr) for o in outputs)
    assert fingerprint(db_url) == before


# -- 8. passwords in every URL form ---------------------------------------------------------------------

MARKER = "Pw-Marker-9x1"  # local trust auth ignores it; it must never be printed or stored


def _forms(url: URL) -> dict[str, str]:
    host = url.query["host"]
    return {
        "query parameter": f"postgresql://{url.username}@/{url.database}?host={host}&password={MARKER}",
        "libpq keywords": f"host={host} dbname={url.database} user={url.username} password={MARKER}",
        "asyncpg userinfo": f"postgresql+asyncpg://{url.username}:{MARKER}@/{url.database}?host={host}",
    }


@pytest.mark.parametrize("form", ["query parameter", "libpq keywords", "asyncpg userinfo"])
def test_a_password_in_any_url_form_is_never_shown_nor_stored(db_url: URL, tmp_path: Path, form: str) -> None:
    from .helpers import run

    build(db_url, "S1", rows=30)
    raw = _forms(db_url)[form]
    outputs = [run([BRIDGE, *args], raw) for args in (
        ["status"], ["status", "--json"], ["plan", "--legacy-timezone", TOKYO, "--out", str(tmp_path / "p.json")],
        ["apply", "--plan", str(tmp_path / "p.json"), "--json"])]
    outputs.append(run([INIT_DB], raw))
    assert [o.returncode for o in outputs] == [0, 0, 0, 0, 0], [o.stderr for o in outputs]
    texts = [o.stdout + o.stderr for o in outputs] + [(tmp_path / "p.json").read_text(encoding="utf-8")]
    texts += [str(r) for r in rows(db_url, f"SELECT * FROM {ARCHIVE}.bridge_runs")]
    for text in texts:
        assert MARKER not in text
    assert "***" in outputs[0].stdout


def test_an_unencoded_at_in_the_password_says_percent_encode_and_shows_neither_part(db_url: URL) -> None:
    from .helpers import run

    raw = f"postgresql://{db_url.username}:Left@Right-{MARKER}@localhost:5432/{db_url.database}"
    for result in (run([BRIDGE, "status"], raw), run([INIT_DB], raw)):
        assert result.returncode == 2
        assert "percent-encode" in result.stderr and "%40" in result.stderr
        assert "Left" not in result.stderr and "Right" not in result.stderr and MARKER not in result.stderr
