"""Revision 0001 on real PostgreSQL: empty, twice, incident, half-made, drifted, legacy id."""

from __future__ import annotations

import pytest
from alembic.util import CommandError
from sqlalchemy.engine import URL

from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.schema.revisions import head_revision

from . import spec_sql
from .helpers import (
    app_checksums,
    dump_without_version,
    execute_sql,
    fingerprint,
    rows,
    scalar,
    upgrade,
    version_rows,
)

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest


def _engine_run(url: URL, fn) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            fn(conn)
    finally:
        eng.dispose()


def test_empty_database_gets_exactly_the_spec(db_url: URL) -> None:
    upgrade(db_url, "0001")

    assert version_rows(db_url) == ["0001"]
    assert scalar(db_url, "SELECT extnamespace::regnamespace::text FROM pg_extension "
                          "WHERE extname = 'vector'") == "public"
    for enum_name, labels in (("task_status", spec_sql.TASK_STATUS_LABELS),
                              ("skill_category", spec_sql.SKILL_CATEGORY_LABELS)):
        got = [r[0] for r in rows(db_url, "SELECT enumlabel FROM pg_enum WHERE enumtypid = "
                                          "CAST(:t AS regtype) ORDER BY enumsortorder", t=enum_name)]
        assert got == labels

    columns = {
        (t, c): (typ, nullable == "YES", default)
        for t, c, typ, nullable, default in rows(
            db_url,
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
            " CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END, pg_get_expr(d.adbin, d.adrelid)"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            " AND c.relname <> 'alembic_version' AND a.attnum > 0 AND NOT a.attisdropped",
        )
    }
    assert columns == spec_sql.COLUMNS

    constraints = set(rows(
        db_url,
        "SELECT conrelid::regclass::text, conname, contype::text FROM pg_constraint"
        " WHERE connamespace = 'public'::regnamespace AND conrelid <> 0 AND contype <> 'n'"  # PG18: NOT NULLs
        " AND conrelid::regclass::text <> 'alembic_version'",
    ))
    assert constraints == spec_sql.CONSTRAINTS

    fk_rules = set(rows(db_url, "SELECT conname, confdeltype::text FROM pg_constraint WHERE contype = 'f'"))
    assert fk_rules == {("employee_skills_employee_id_fkey", "c"),
                        ("employee_skills_skill_id_fkey", "c")}

    indexes: dict[str, set[str]] = {}
    for table, index in rows(
        db_url,
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint) AND tablename <> 'alembic_version'",
    ):
        indexes.setdefault(table, set()).add(index)
    assert indexes == spec_sql.INDEXES


def test_migrated_schema_equals_the_hand_written_spec_sql(make_db) -> None:
    by_alembic, by_hand = make_db(), make_db()
    upgrade(by_alembic, "0001")
    execute_sql(by_hand, spec_sql.full_schema_sql())
    assert dump_without_version(by_alembic) == dump_without_version(by_hand)


def test_upgrade_twice_second_run_changes_nothing(db_url: URL) -> None:
    upgrade(db_url)
    before = fingerprint(db_url)
    upgrade(db_url)
    assert fingerprint(db_url) == before


def test_incident_database_built_without_alembic_is_stamped_and_rows_kept(db_url: URL) -> None:
    execute_sql(db_url, spec_sql.full_schema_sql())
    execute_sql(db_url, spec_sql.SAMPLE_ROWS_SQL)
    rows_before = app_checksums(db_url)
    assert version_rows(db_url) is None

    upgrade(db_url, "0001")

    assert version_rows(db_url) == ["0001"]
    assert app_checksums(db_url) == rows_before
    assert rows_before["public.tasks"][0] == 1


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([spec_sql.EXTENSION], id="only-extension"),
        pytest.param([spec_sql.TASK_STATUS], id="only-task_status"),
        pytest.param([spec_sql.TASK_STATUS, spec_sql.TABLES["tasks"], spec_sql.TABLES["handoffs"]],
                     id="two-tables"),
    ],
)
def test_half_made_database_is_completed(make_db, pieces: list[str]) -> None:
    half, reference = make_db(), make_db()
    execute_sql(half, "\n".join(pieces))
    execute_sql(reference, spec_sql.full_schema_sql())

    upgrade(half, "0001")

    assert version_rows(half) == ["0001"]
    assert dump_without_version(half) == dump_without_version(reference)


def test_half_made_table_missing_index_and_default_is_completed(make_db) -> None:
    half, reference = make_db(), make_db()
    execute_sql(half, spec_sql.full_schema_sql()
                + "DROP INDEX ix_tasks_status; ALTER TABLE employees ALTER COLUMN is_active DROP DEFAULT;")
    execute_sql(reference, spec_sql.full_schema_sql())
    upgrade(half, "0001")
    assert dump_without_version(half) == dump_without_version(reference)


def test_drifted_incident_database_is_refused_and_untouched(db_url: URL) -> None:
    _engine_run(db_url, lambda conn: build_state(conn, "S1"))
    _engine_run(db_url, lambda conn: populate(conn, "S1", rows=50))
    before = fingerprint(db_url)

    with pytest.raises(CommandError) as err:
        upgrade(db_url)

    message = str(err.value)
    assert "baseline-bridge" in message
    assert "task_status" in message and "PENDING" in message
    assert "tasks.title" in message
    assert "slack_users" not in message  # missing tables are additive, not drift
    assert "Nothing was changed" in message
    assert fingerprint(db_url) == before


def test_unique_constraint_over_duplicates_is_refused_not_attempted(db_url: URL) -> None:
    execute_sql(db_url, spec_sql.full_schema_sql()
                + "ALTER TABLE conversations DROP CONSTRAINT uq_conversations_user_channel;"
                "INSERT INTO conversations VALUES (gen_random_uuid(), 'U1', 'C1', '[]', now(), now(), now()),"
                " (gen_random_uuid(), 'U1', 'C1', '[]', now(), now(), now());")
    before = fingerprint(db_url)
    with pytest.raises(CommandError, match="duplicates block unique: uq_conversations_user_channel"):
        upgrade(db_url)
    assert fingerprint(db_url) == before


EMPLOYEE = "00000000-0000-4000-8000-0000000000e1"
SKILL = "00000000-0000-4000-8000-0000000000b1"
ORPHAN = "00000000-0000-4000-8000-0000000000a9"  # an employee_skills row whose employee is gone


def _skills_without_their_employee_fk(*, orphan: bool) -> str:
    sql = (spec_sql.full_schema_sql()
           + "ALTER TABLE employee_skills DROP CONSTRAINT employee_skills_employee_id_fkey;"
           f"INSERT INTO employees (employee_id, name) VALUES ('{EMPLOYEE}', 'Sato');"
           f"INSERT INTO business_skills (skill_id, skill_name, category) VALUES ('{SKILL}', 'Forklift', '物流');"
           "INSERT INTO employee_skills (id, employee_id, skill_id)"
           f" VALUES ('00000000-0000-4000-8000-0000000000a1', '{EMPLOYEE}', '{SKILL}');")
    if orphan:
        sql += ("INSERT INTO employee_skills (id, employee_id, skill_id)"
                f" VALUES ('{ORPHAN}', '00000000-0000-4000-8000-00000000dead', '{SKILL}');")
    return sql


def test_foreign_key_over_orphan_rows_is_refused_not_attempted(db_url: URL) -> None:
    execute_sql(db_url, _skills_without_their_employee_fk(orphan=True))
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as err:
        upgrade(db_url)
    message = str(err.value)
    assert "employee_skills_employee_id_fkey" in message and ORPHAN in message, message
    assert "Nothing was changed" in message and "baseline-bridge" in message
    assert fingerprint(db_url) == before


def test_a_missing_foreign_key_without_orphans_is_added(db_url: URL) -> None:
    # The control for the test above: the same database without the orphan row gets its key.
    execute_sql(db_url, _skills_without_their_employee_fk(orphan=False))
    upgrade(db_url)
    assert scalar(db_url, "SELECT count(*) FROM pg_constraint WHERE conname = 'employee_skills_employee_id_fkey'"
                          " AND contype = 'f' AND confrelid = 'employees'::regclass") == 1
    assert version_rows(db_url) == [head_revision()]


# MIGRATION_GUIDE.md section 7: at most 10 keys of the rows a refusal names, orphans in key order, then "...".
KEYS_NAMED = 10


def _orphans(n: int) -> list[str]:
    """``n`` employee_skills ids in key order, each row pointing at an employee that does not exist."""
    return [f"00000000-0000-4000-8000-00000000b{i:03d}" for i in range(1, n + 1)]


def _orphan_rows(ids: list[str]) -> str:
    # Inserted in reverse, so key order is not the order the rows were written in; the missing employees'
    # ids run the other way (uq_employee_skill: one row per employee and skill).
    return "".join("INSERT INTO employee_skills (id, employee_id, skill_id)"
                   f" VALUES ('{i}', '00000000-0000-4000-8000-0000000d{99 - n:04d}', '{SKILL}');"
                   for n, i in reversed(list(enumerate(ids))))


def _orphan_message(db_url: URL) -> str:
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as err:
        upgrade(db_url)
    assert fingerprint(db_url) == before
    [line] = [ln for ln in str(err.value).splitlines() if "employee_skills_employee_id_fkey" in ln]
    return line


@pytest.mark.parametrize("orphans", [KEYS_NAMED, KEYS_NAMED + 1], ids=["exactly-ten", "eleven"])
def test_orphans_are_named_ten_at_most_in_key_order(db_url: URL, orphans: int) -> None:
    ids = _orphans(orphans)
    execute_sql(db_url, _skills_without_their_employee_fk(orphan=False) + _orphan_rows(ids))
    line = _orphan_message(db_url)
    named = ", ".join(ids[:KEYS_NAMED]) + (", ..." if orphans > KEYS_NAMED else "")
    assert line.endswith(f"orphan row(s) with key {named}"), line


def test_orphans_of_a_table_without_its_primary_key_are_named_by_its_first_column(db_url: URL) -> None:
    # target-schema.md: employee_skills' first column is id (its primary key, dropped here).
    execute_sql(db_url, _skills_without_their_employee_fk(orphan=True)
                + "ALTER TABLE employee_skills DROP CONSTRAINT employee_skills_pkey;")
    line = _orphan_message(db_url)
    assert line.endswith(f"orphan row(s) with key {ORPHAN}"), line


@pytest.mark.parametrize(("change", "column"), [
    # target: employees.is_active DEFAULT true; a different default is drift, not something to add
    ("ALTER TABLE employees ALTER COLUMN is_active SET DEFAULT false", "employees.is_active"),
    # target: tasks.title has no default; an extra one is drift too
    ("ALTER TABLE tasks ALTER COLUMN title SET DEFAULT 'untitled'", "tasks.title"),
], ids=["changed-default", "extra-default"])
def test_one_default_that_differs_is_refused(db_url: URL, change: str, column: str) -> None:
    execute_sql(db_url, spec_sql.full_schema_sql() + change + ";")
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as err:
        upgrade(db_url)
    message = str(err.value)
    assert "differs from revision 0001 in 1 way(s); 1 cannot be closed" in message, message
    assert column in message
    assert fingerprint(db_url) == before


@pytest.mark.parametrize("legacy_id", ["001", "003_add_slack_users_table", "ca1f08e0bc8a"])
def test_legacy_revision_in_version_table_is_refused_with_a_clear_message(db_url: URL,
                                                                          legacy_id: str) -> None:
    execute_sql(db_url, spec_sql.full_schema_sql()
                + "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);"
                f"INSERT INTO alembic_version VALUES ('{legacy_id}');")
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as err:
        upgrade(db_url)
    assert f"'{legacy_id}'" in str(err.value)
    assert "baseline-bridge" in str(err.value)
    assert "Can't locate revision" not in str(err.value)
    assert fingerprint(db_url) == before


def test_downgrade_refuses_to_drop_tables_with_rows(db_url: URL) -> None:
    from alembic import command

    from .helpers import alembic_config

    upgrade(db_url, "0001")
    execute_sql(db_url, spec_sql.SAMPLE_ROWS_SQL)
    before = fingerprint(db_url)
    with pytest.raises(CommandError, match="allow_data_loss"):
        command.downgrade(alembic_config(db_url), "base")
    assert fingerprint(db_url) == before

    cfg = alembic_config(db_url)
    cfg.cmd_opts = type("Opts", (), {"x": ["allow_data_loss=true"]})()
    command.downgrade(cfg, "base")
    assert scalar(db_url, "SELECT to_regclass('public.tasks')") is None
    assert scalar(db_url, "SELECT to_regtype('task_status')") is None


def test_the_downgrade_refusal_names_every_table_with_rows_in_drop_order(db_url: URL) -> None:
    from alembic import command

    from .helpers import alembic_config

    upgrade(db_url, "0001")
    execute_sql(db_url, spec_sql.SAMPLE_ROWS_SQL + "; DELETE FROM handoffs")
    before = fingerprint(db_url)
    with pytest.raises(CommandError) as refused:
        command.downgrade(alembic_config(db_url), "base")
    # Drop order: employee_skills before employees and business_skills (its foreign keys point at them);
    # handoffs is empty, so it is not named.
    assert str(refused.value) == (
        "downgrading 0001 would drop tables that hold rows: employee_skills, tasks, employees, conversations, "
        "business_skills. Back them up, then rerun with `alembic -x allow_data_loss=true downgrade base`. "
        "Nothing was changed.")
    assert fingerprint(db_url) == before

    cfg = alembic_config(db_url)
    cfg.cmd_opts = type("Opts", (), {"x": ["allow_data_loss=true"]})()
    command.downgrade(cfg, "base")
    assert rows(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1") == [
        ("alembic_version",)]
    assert rows(db_url, "SELECT typname FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid") == []
    # The vector extension stays: a separate superuser service owns it on production.
    assert scalar(db_url, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 1


def test_the_guard_refusal_is_a_counted_header_one_line_per_problem_and_the_hint() -> None:
    from nakamura_misaki_db.deploy.baseline import BRIDGE_HINT, format_drift
    from nakamura_misaki_db.diff import Difference, DiffKind

    title = Difference(DiffKind.COLUMN_TYPE, "tasks.title", "tasks", expected="varchar(500)", actual="text")
    index = Difference(DiffKind.MISSING_INDEX, "ix_tasks_status", "tasks")
    assert format_drift([title, index], [title]).split("\n") == [
        "the database differs from revision 0001 in 2 way(s); 1 cannot be closed by creating what is missing:",
        "  - column type: tasks.title: expected varchar(500), found text",
        BRIDGE_HINT,
    ]


def test_downgrade_called_without_the_flag_keeps_data(db_url: URL) -> None:
    # The function itself defaults to refusing (a caller that forgets the flag must not lose rows).
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.errors import Refused
    from nakamura_misaki_db.deploy.baseline import downgrade

    upgrade(db_url, "0001")
    execute_sql(db_url, spec_sql.SAMPLE_ROWS_SQL)
    before = fingerprint(db_url)
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(Refused, match="would drop tables that hold rows"), engine.begin() as conn:
            downgrade(conn)
    finally:
        engine.dispose()
    assert fingerprint(db_url) == before


def test_a_role_that_may_not_create_the_extension_is_told_what_to_ask_and_nothing_is_made(db_url: URL) -> None:
    # MIGRATION_GUIDE.md: `vector` needs a superuser once; a migration role that owns the schema but may not
    # create extensions gets one line saying what to ask for, and the 0001 guard leaves the database as it was.
    import uuid

    from nakamura_misaki_db.connect.errors import Refused
    from nakamura_misaki_db.deploy import baseline

    role = f"deployer_{uuid.uuid4().hex[:8]}"
    execute_sql(db_url, f"CREATE ROLE {role} LOGIN; GRANT CREATE ON DATABASE \"{db_url.database}\" TO {role};"
                        f" ALTER SCHEMA public OWNER TO {role}")
    try:
        with pytest.raises(Refused) as refused:
            _engine_run(db_url.set(username=role), baseline.upgrade)
        assert str(refused.value) == ('the "vector" extension is missing and this role may not create it. Ask a '
                                      "superuser to run: CREATE EXTENSION vector; then retry. Nothing was changed.")
        assert rows(db_url, "SELECT extname FROM pg_extension WHERE extname = 'vector'") == []
        assert rows(db_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
        assert rows(db_url, "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                            "WHERE n.nspname = 'public' AND t.typtype = 'e'") == []
    finally:
        execute_sql(db_url, f"ALTER SCHEMA public OWNER TO pg_database_owner; DROP OWNED BY {role}; DROP ROLE {role}")


def test_the_guard_reports_each_data_problem_in_full_and_checks_past_what_it_cannot_check(db_url: URL) -> None:
    # Before each blocker comes an additive difference the guard has no rows to check for: a missing table
    # (employees) and the key to it (no parent to look up), an index of the empty handoffs. Both blockers
    # must still be found, each with its table, what the target wants, and what is in the way.
    from nakamura_misaki_db.connect.errors import DriftError
    from nakamura_misaki_db.deploy import baseline
    from nakamura_misaki_db.diff import Difference, DiffKind

    a1, a2 = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"
    execute_sql(db_url, spec_sql.full_schema_sql()
                + "ALTER TABLE conversations DROP CONSTRAINT uq_conversations_user_channel;"
                "DROP TABLE employees CASCADE; DROP INDEX idx_handoffs_status;"
                "ALTER TABLE employee_skills DROP CONSTRAINT employee_skills_skill_id_fkey;"
                "INSERT INTO conversations SELECT gen_random_uuid(), u, c, '[]', now(), now(), now()"
                " FROM (VALUES ('U1', 'C1'), ('U1', 'C1'), ('U2', 'C2'), ('U2', 'C2'), ('U3', 'C3')) v(u, c);"
                "INSERT INTO employee_skills (id, employee_id, skill_id) VALUES"
                f" ('{a1}', gen_random_uuid(), gen_random_uuid()), ('{a2}', gen_random_uuid(), gen_random_uuid());")
    before = fingerprint(db_url)
    with pytest.raises(DriftError) as refused:
        _engine_run(db_url, baseline.upgrade)
    # target-schema.md: uq_conversations_user_channel UNIQUE (user_id, channel_id);
    # employee_skills_skill_id_fkey (skill_id) REFERENCES business_skills(skill_id) ON DELETE CASCADE.
    problems = [
        Difference(DiffKind.DUPLICATES_BLOCK_UNIQUE, "uq_conversations_user_channel", "conversations",
                   expected=["user_id", "channel_id"], actual="2 duplicated key(s)"),
        Difference(DiffKind.ORPHANS_BLOCK_FOREIGN_KEY, "employee_skills_skill_id_fkey", "employee_skills",
                   expected={"columns": ["skill_id"], "references": "business_skills(skill_id)",
                             "on_delete": "CASCADE"},
                   actual=f"orphan row(s) with key {a1}, {a2}"),
    ]
    assert refused.value.differences == problems
    lines = str(refused.value).splitlines()
    assert lines[0].endswith("; 2 cannot be closed by creating what is missing:")
    assert lines[1:3] == [f"  - {p.describe()}" for p in problems]
    assert fingerprint(db_url) == before


def test_the_guard_returns_the_statements_it_ran_and_nothing_when_there_is_nothing_to_do(db_url: URL) -> None:
    from nakamura_misaki_db.deploy import baseline

    execute_sql(db_url, spec_sql.full_schema_sql() + "DROP INDEX idx_handoffs_status;")
    ran: list[list[str]] = []
    _engine_run(db_url, lambda conn: ran.append(baseline.upgrade(conn)))
    _engine_run(db_url, lambda conn: ran.append(baseline.upgrade(conn)))
    # target-schema.md: idx_handoffs_status ON handoffs (status).
    assert ran == [["CREATE INDEX idx_handoffs_status ON public.handoffs (status)"], []]


def test_a_role_that_may_not_create_tables_gets_postgresqls_own_error_not_the_extension_advice(db_url: URL) -> None:
    # The "ask a superuser for vector" advice is for CREATE EXTENSION only: a missing table this role may not
    # create is PostgreSQL's permission error, as it is, and nothing is made.
    import uuid

    import sqlalchemy as sa

    from nakamura_misaki_db.deploy import baseline

    role = f"reader_{uuid.uuid4().hex[:8]}"
    execute_sql(db_url, spec_sql.full_schema_sql() + f"DROP TABLE handoffs; CREATE ROLE {role} LOGIN;"
                        f" GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};")
    before = fingerprint(db_url)
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied for schema public"):
            _engine_run(db_url.set(username=role), baseline.upgrade)
        assert fingerprint(db_url) == before
    finally:
        execute_sql(db_url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_only_additive_differences_become_statements() -> None:
    # The guard only ever creates what is missing; asked for anything else it raises, naming the kind.
    from nakamura_misaki_db.deploy import baseline
    from nakamura_misaki_db.diff import Difference, DiffKind

    narrowing = Difference(DiffKind.COLUMN_TYPE, "tasks.title", "tasks", expected="varchar(500)", actual="text")
    with pytest.raises(ValueError) as err:
        baseline.statements_for(narrowing)
    assert str(err.value) == "column_type is not an additive difference"
    assert not narrowing.additive


def test_an_extension_the_server_does_not_have_is_refused_with_the_install_hint(db_url: URL) -> None:
    # A server without pgvector answers CREATE EXTENSION vector the way it answers any extension whose
    # package is not installed: the real error of a real server, for a name no server has.
    import sqlalchemy as sa

    from nakamura_misaki_db.deploy.baseline import extension_refusal

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn, pytest.raises(sa.exc.DBAPIError) as caught:
            conn.exec_driver_sql("CREATE EXTENSION nm_not_installed_anywhere")
    finally:
        engine.dispose()
    refusal = extension_refusal("nm_not_installed_anywhere", caught.value)
    assert refusal is not None
    assert 'the "nm_not_installed_anywhere" extension is not installed on this server' in str(refusal)
    assert "pgvector" in str(refusal) and "Nothing was changed." in str(refusal)
