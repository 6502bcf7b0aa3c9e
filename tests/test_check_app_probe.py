"""``check-app --probe`` on real servers: findings proven by round trips, on both drivers, rolled back.

The application is the checkout ``tests/app_fixtures/assistant`` (its README), as released before the
fix (its enums persist member names) and after (``values_callable``). The databases: production as
it most likely is (S7: the incident database migrated by the application's own ``002``-``006``,
stamped ``006``) and the same after ``baseline-bridge apply`` and ``nakamura-init-db`` (TimeZone
Asia/Tokyo, so that the drivers' datetime behaviour differs visibly). What each mapping does there is
written below from the schema facts (app-chain.md, legacy states): S7's labels are the member names,
``slack_users`` does not exist yet; after the bridge the labels are the values, ``title`` is
``varchar(500)``, the user ids ``varchar(50)``, timestamps ``timestamptz``, and ``'cancelled'`` is a
label no row holds. ``test_the_release_starts_exactly_where_check_app_says_it_fits`` checks that
against the release itself: started, its repositories work only where check-app exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.appcheck.check import run_check
from nakamura_misaki_db.appcheck.findings import FAILS, PREDICTED, ROUND_TRIPS, WOULD_FAIL
from nakamura_misaki_db.connect.errors import BadInput
from nakamura_misaki_db.connect.urls import with_password

from .app_release import imported_from, release, start
from .helpers import admin_engine, bridge_cli, build_legacy, execute_sql, fingerprint, upgrade

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

BRIDGE = str(Path(sys.executable).parent / "baseline-bridge")
MARKER = "ProbePw5521"  # a password given to the command; never shown
TOKYO = "Asia/Tokyo"
MODELS = "src.infra.db.models"
OK, SOME = "round-trips", "round-trips; would fail for some values"

MAPPINGS = ["src.ctx.tasks.repo.TaskModel", f"{MODELS}.ProjectRecord", f"{MODELS}.ProjectTaskRecord",
            f"{MODELS}.SkillRecord", f"{MODELS}.TaskDependencyRecord", f"{MODELS}.TaskRecord",
            f"{MODELS}.TeamMetricRecord", "src.infra.users.repo.SlackUserModel"]


def statuses(failing: dict[str, str]) -> dict[str, str]:
    return {name: failing.get(name, OK) for name in MAPPINGS}


# What each mapping does, per release and database (driver: both give the same verdicts here).
VERDICTS = {
    ("unfixed", "s7"): statuses({"src.ctx.tasks.repo.TaskModel": FAILS, "src.infra.users.repo.SlackUserModel": FAILS}),
    ("fixed", "s7"): statuses({"src.ctx.tasks.repo.TaskModel": FAILS, "src.infra.users.repo.SlackUserModel": FAILS,
                               f"{MODELS}.SkillRecord": FAILS, f"{MODELS}.TaskRecord": FAILS}),
    ("unfixed", "bridged"): statuses({f"{MODELS}.SkillRecord": FAILS, f"{MODELS}.TaskRecord": FAILS}),
    ("fixed", "bridged"): statuses({f"{MODELS}.TaskRecord": SOME}),
}


@pytest.fixture(scope="module")
def databases(pg_server_url: URL) -> Iterator[dict[str, URL]]:
    """``s7`` and ``bridged`` (S7, then apply + upgrade head), 50 rows each; only read by the tests."""
    made: dict[str, URL] = {}
    for key in ("s7", "bridged"):
        name = f"t_{uuid.uuid4().hex[:16]}"
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made[key] = pg_server_url.set(database=name)
        build_legacy(made[key], "S7", rows=50)
    bridged = bridge_cli(made["bridged"], "apply", "--legacy-timezone", TOKYO)
    assert bridged.returncode == 0, bridged.stderr
    upgrade(made["bridged"])
    execute_sql(made["bridged"], f"ALTER DATABASE \"{made['bridged'].database}\" SET TimeZone = '{TOKYO}'")
    yield made
    with admin_engine(pg_server_url).connect() as conn:
        for url in made.values():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("releases")
    return {"unfixed": release(root / "unfixed", fixed=False), "fixed": release(root / "fixed", fixed=True)}


def check(checkout: Path, url: URL, *targets: str, **options):
    with imported_from(checkout):
        return run_check(list(targets or ["src"]), database_url=with_password(url), **options)


def by_where(report) -> dict[tuple[str, str], object]:
    return {(f.where, f.kind): f for f in report.findings}


# -- the verdicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "db"), list(VERDICTS))
def test_every_mapping_s_verdict_on_both_drivers(releases: dict[str, Path], databases: dict[str, URL],
                                                 name: str, db: str) -> None:
    report = check(releases[name], databases[db], probe=True, driver="both")
    assert report.drivers == ("asyncpg", "psycopg")
    assert {m.qualified: report.status_of(m) for m in report.mappings} == VERDICTS[(name, db)]
    assert report.compatible is ((name, db) == ("fixed", "bridged"))
    for finding in report.findings:  # the same on both drivers: every status is seen on both
        assert finding.driver == "asyncpg, psycopg", finding


def test_the_release_starts_exactly_where_check_app_says_it_fits(releases: dict[str, Path],
                                                                 databases: dict[str, URL]) -> None:
    """No miss and no false alarm: the release's own repositories, started, on each database."""
    for name, db in VERDICTS:
        started = start(releases[name], databases[db])
        fits = check(releases[name], databases[db], probe=True, driver="asyncpg").compatible
        assert (started.returncode == 0) is fits, (name, db, started.stdout, started.stderr)


def test_before_the_bridge_the_task_repository_s_enum_fails_and_the_missing_table_is_named(
        releases: dict[str, Path], databases: dict[str, URL]) -> None:
    found = by_where(check(releases["unfixed"], databases["s7"], probe=True, driver="psycopg"))
    task = {k: (f.status, f.example, f.error, f.error_class, f.sqlstate) for k, f in found.items()
            if k[0].startswith("TaskModel.")}
    assert task == {
        ("TaskModel.status (tasks.status)", "enum-labels"): (
            FAILS, "inserting a row with status='pending' (and 3 more)",
            'invalid input value for enum task_status: "pending"', "psycopg.errors.InvalidTextRepresentation",
            "22P02"),
        ("TaskModel.status (tasks.status)", "enum-unreadable"): (
            FAILS, "reading 'PENDING' (and 2 more)", "'PENDING' is not among the defined enum values. Enum name: "
            "task_status. Possible values: pending, in_progress, completed, cancelled", "LookupError", None),
        # Not reached: every insert failed on the enum first. Still errors: the exit is 3 anyway.
        ("TaskModel.title (tasks.title)", "too-long"): (PREDICTED, None, None, None, None),
        **{(f"TaskModel.{c} (tasks.{c})", "aware-timestamp"): (PREDICTED, None, None, None, None)
           for c in ("due_at", "completed_at", "created_at", "updated_at")},
    }
    users = found[("SlackUserModel (slack_users)", "missing-table")]
    assert (users.status, users.error, users.error_class, users.sqlstate) == (
        FAILS, 'relation "slack_users" does not exist', "psycopg.errors.UndefinedTable", "42P01")
    assert str(users).endswith('Probe (psycopg): loading existing rows fails: relation "slack_users" does not exist '
                               "(UndefinedTable, SQLSTATE 42P01)")


@pytest.mark.parametrize(("driver", "error_class", "read_back"), [
    ("psycopg", "psycopg.errors.StringDataRightTruncation", "2024-05-01 09:30:00+09:00"),
    # asyncpg returns timestamptz in UTC, psycopg in the session's TimeZone: the same instant.
    ("asyncpg", "asyncpg.exceptions.StringDataRightTruncationError", "2024-05-01 00:30:00+00:00"),
])
def test_the_unused_mapping_after_the_bridge_would_fail_only_for_some_values(
        releases: dict[str, Path], databases: dict[str, URL], driver: str, error_class: str, read_back: str) -> None:
    report = check(releases["fixed"], databases["bridged"], probe=True, driver=driver)
    assert report.compatible and report.errors == []
    found = {k: (f.status, f.example, f.error) for k, f in by_where(report).items() if f.status != ROUND_TRIPS}
    length = (WOULD_FAIL, "'xxxxxxxx…' (100 characters)", "value too long for type character varying(50)")
    assert found == {
        ("TaskRecord.assignee_user_id (tasks.assignee_user_id)", "too-long"): length,
        ("TaskRecord.creator_user_id (tasks.creator_user_id)", "too-long"): length,
        # SQLAlchemy caches an Enum's result processor by its longest label's length (11 for both
        # task_status mappings): without compiled_cache=None this read went through TaskModel's
        # processor, which knows 'cancelled', and round-tripped.
        ("TaskRecord.status (tasks.status)", "enum-unreadable"): (
            WOULD_FAIL, "'cancelled'", "'cancelled' is not among the defined enum values. Enum name: task_status. "
            "Possible values: pending, in_progress, completed"),
        **{(f"TaskRecord.{c} (tasks.{c})", "naive-timestamp"): (
            WOULD_FAIL, f"{c}=2024-05-01 09:30:00 (naive)", f"read back as {read_back} (aware)")
           for c in ("due_at", "completed_at", "created_at", "updated_at")},
    }
    assignee = by_where(report)[("TaskRecord.assignee_user_id (tasks.assignee_user_id)", "too-long")]
    assert (assignee.error_class, assignee.sqlstate) == (error_class, "22001")
    aware_note = [n for n in report.notes if n.startswith("on asyncpg, writing an aware datetime")]
    assert len(aware_note) == (driver == "asyncpg")
    if aware_note:
        assert "can't subtract offset-naive and offset-aware datetimes" in aware_note[0]
        assert "ProjectRecord.deadline" in aware_note[0]


# -- the gate: predicted, ignored, strict ------------------------------------------------------------


def test_without_the_probe_the_unused_mapping_blocks_until_it_is_ignored_with_a_reason(
        releases: dict[str, Path], databases: dict[str, URL]) -> None:
    predicted = check(releases["fixed"], databases["bridged"])
    assert not predicted.probe and not predicted.compatible
    assert {f.module for f in predicted.errors} == {MODELS}
    assert {f.where.split(" ")[0].split(".")[0] for f in predicted.errors} == {"TaskRecord"}
    assert all(f.status == PREDICTED for f in predicted.findings)
    # The same when the Bases are given one by one: TaskRecord's findings stay TaskRecord's, although
    # TaskModel (another Base, the same table) sorts first.
    bases = check(releases["fixed"], databases["bridged"], "src/infra/db/models.py:Base", "src.ctx.tasks.repo:Base",
                  "src.infra.users.repo:Base")
    assert [(f.module, f.where, f.kind) for f in bases.errors] == [(f.module, f.where, f.kind)
                                                                    for f in predicted.errors]
    [task_model] = [m for m in bases.mappings if m.name == "TaskModel"]
    assert bases.of(task_model) == []
    ignored = check(releases["fixed"], databases["bridged"], ignore={"TaskRecord": "no repository uses it"})
    assert ignored.compatible and ignored.errors == []
    assert [(i.mapping.qualified, i.reason) for i in ignored.ignored] == [
        (f"{MODELS}.TaskRecord", "no repository uses it")]
    assert f"{MODELS}.TaskRecord" not in [m.qualified for m in ignored.mappings]
    [dup] = ignored.duplicates  # still said: two spellings of one enum is a bug of the application
    assert dup.ignored == ((f"{MODELS}.TaskRecord", "no repository uses it"),)


def test_strict_blocks_on_what_would_fail_and_on_modules_that_did_not_import(
        releases: dict[str, Path], databases: dict[str, URL]) -> None:
    report = check(releases["fixed"], databases["bridged"], probe=True, driver="psycopg", strict=True,
                   ignore={"TaskRecord": "unused"})
    assert report.errors == [] and not report.compatible  # the two modules that did not import
    report = check(releases["fixed"], databases["bridged"], "src/infra/db/models.py", probe=True, driver="psycopg",
                   strict=True)
    assert not report.compatible
    assert {f.status for f in report.errors} == {WOULD_FAIL}


def test_one_base_alone_says_compatible_and_names_what_it_left_out(releases: dict[str, Path],
                                                                  databases: dict[str, URL]) -> None:
    """The false "compatible" of the issue: the migrations' Base fits S7, the task repository's does not."""
    alone = check(releases["unfixed"], databases["s7"], "src/infra/db/models.py:Base", probe=True, driver="psycopg")
    assert alone.compatible
    assert alone.unchecked == ("src.ctx.tasks.repo", "src.infra.users.repo")
    assert not check(releases["unfixed"], databases["s7"], probe=True, driver="psycopg").compatible


# -- what only a round trip finds; what the probe leaves behind ------------------------------------------


def test_a_failure_no_rule_predicts_is_found_by_the_round_trip(tmp_path: Path, databases: dict[str, URL]) -> None:
    checkout = release(tmp_path / "assistant", fixed=True)
    repo = checkout / "src" / "ctx" / "tasks" / "repo.py"
    text = repo.read_text()
    assert text.count("mapped_column(Integer, default=0)") == 1
    repo.write_text(text.replace("mapped_column(Integer, default=0)", "mapped_column(Integer, default=150)"))
    report = check(checkout, databases["bridged"], probe=True, driver="psycopg")
    [finding] = [f for f in report.findings if f.module == "src.ctx.tasks.repo" and f.status != ROUND_TRIPS]
    assert (finding.kind, finding.status, finding.where, finding.sqlstate) == (
        "round-trip", FAILS, "TaskModel (tasks)", "23514")
    assert 'violates check constraint "ck_tasks_progress_percent_range"' in finding.error
    assert not report.compatible


def test_a_core_table_is_probed_with_core_statements(tmp_path: Path, databases: dict[str, URL]) -> None:
    checkout = release(tmp_path / "assistant", fixed=True)
    (checkout / "src" / "infra" / "db" / "reports.py").write_text(
        "from sqlalchemy import Column, DateTime, MetaData, String, Table, Uuid\n\n"
        "metadata = MetaData()\n"
        "projects = Table('projects', metadata, Column('project_id', Uuid, primary_key=True),\n"
        "                 Column('name', String(200), nullable=False), Column('status', String(20), nullable=False),\n"
        "                 Column('created_at', DateTime, nullable=False), Column('updated_at', DateTime,"
        " nullable=False))\n")
    report = check(checkout, databases["bridged"], "src/infra/db/reports.py", probe=True, driver="asyncpg")
    [mapping] = report.mappings
    assert (mapping.qualified, mapping.kind, report.status_of(mapping)) == ("src.infra.db.reports.projects",
                                                                            "table", OK)


def test_the_probe_leaves_the_database_as_it_was(releases: dict[str, Path], make_db: Callable[[], URL]) -> None:
    url = make_db()
    build_legacy(url, "S7", rows=20)
    before = fingerprint(url)
    for name in releases:
        check(releases[name], url, probe=True, driver="both")
    assert fingerprint(url) == before


def test_a_read_only_session_is_refused_before_anything_is_written(releases: dict[str, Path],
                                                                   make_db: Callable[[], URL]) -> None:
    url = make_db()
    upgrade(url)
    execute_sql(url, f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on')
    with pytest.raises(BadInput, match=r"^--probe needs a writable session"):
        check(releases["fixed"], url, probe=True, driver="psycopg")


# -- the command ----------------------------------------------------------------------------------------


def cli(checkout: Path, url: URL | str | None, *args: str) -> subprocess.CompletedProcess[str]:
    from .helpers import run

    return run([BRIDGE, "check-app", *args], url, cwd=checkout)


def test_the_command_in_the_checkout_exits_0_for_the_fixed_release_after_the_bridge(
        releases: dict[str, Path], databases: dict[str, URL]) -> None:
    url = databases["bridged"].set(password=MARKER)
    fixed = cli(releases["fixed"], None, "src", "--probe", "--driver", "both", "--database-url", with_password(url),
                "--ignore", f"{MODELS}.TaskRecord", "no repository uses it")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    lines = fixed.stdout.splitlines()
    assert lines[0].endswith(f"(TimeZone {TOKYO}); round trips on asyncpg, psycopg, rolled back")
    assert f"ignored {MODELS}.TaskRecord (tasks): no repository uses it" in lines
    assert "skipped src/migrations: an Alembic script directory (its env.py runs migrations)" in lines
    assert lines[-1] == "compatible: every checked mapping round-trips (7 mapping(s))"
    assert MARKER not in fixed.stdout + fixed.stderr
    unfixed = cli(releases["unfixed"], url, "src", "--probe")
    assert unfixed.returncode == 3, unfixed.stdout + unfixed.stderr
    assert unfixed.stdout.splitlines()[-1] == (f"not compatible: 2 of 8 mapping(s) fail: {MODELS}.SkillRecord, "
                                               f"{MODELS}.TaskRecord")
    assert f"{MODELS}.SkillRecord (business_skills): fails" in unfixed.stdout
    assert "  fails: SkillRecord.category (business_skills.category): persists the member names" in unfixed.stdout


def test_the_command_s_json_and_the_url_s_driver(releases: dict[str, Path], databases: dict[str, URL]) -> None:
    asyncpg_url = with_password(databases["bridged"]).replace("postgresql+psycopg://", "postgresql+asyncpg://")
    result = cli(releases["fixed"], asyncpg_url, "src", "--probe", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert (data["status"], data["mode"], data["drivers"], data["strict"]) == ("compatible", "probe", ["asyncpg"],
                                                                                False)
    assert [(m["module"], m["model"], m["table"], m["status"]) for m in data["mappings"]][-1] == (
        "src.infra.users.repo", "SlackUserModel", "slack_users", OK)
    assert data["import_errors"] == [
        {"module": "src.adapters.notes_repo", "error": "ModuleNotFoundError: No module named 'src.domain'"},
        {"module": "src.infra.db.session",
         "error": "RuntimeError: ASSISTANT_SLACK_TOKEN environment variable is required"}]
    assert data["skipped"] == [{"path": "src/migrations",
                                "reason": "an Alembic script directory (its env.py runs migrations)"}]
    assert [d["table"] for d in data["duplicates"]] == ["tasks"]
    assert set(data["timing_ms"]) == {"discover", "probe_asyncpg"}
    would = [f for f in data["findings"] if f["status"] == WOULD_FAIL]
    assert {(f["module"], f["model"], f["driver"]) for f in would} == {
        (MODELS, f"TaskRecord.{a}", "asyncpg")
        for a in ("assignee_user_id", "creator_user_id", "status", "due_at", "completed_at", "created_at",
                  "updated_at")}


@pytest.mark.parametrize(("args", "message"), [
    (["src", "--ignore", "TaskTable", "a typo"], "--ignore TaskTable matches no mapping; the mappings are: "),
    (["src", "--driver", "asyncpg"], "--driver chooses the driver of --probe: add --probe"),
    (["src", "--probe", "--head"], "--probe needs a database to write to (a rehearsal copy), not --head"),
])
def test_the_command_refuses_bad_options(releases: dict[str, Path], databases: dict[str, URL], args: list[str],
                                         message: str) -> None:
    result = cli(releases["fixed"], databases["bridged"], *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"baseline-bridge: {message}"), result.stderr


# -- the guide's lines, as written ---------------------------------------------------------------------


def guide_lines() -> list[str]:
    from .helpers import REPO

    section = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8").split("## 10.", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_section_10_s_lines_run_as_written_in_the_checkout(releases: dict[str, Path],
                                                         databases: dict[str, URL]) -> None:
    import os

    from .helpers import libpq_url

    lines = guide_lines()
    assert lines == ["baseline-bridge check-app src --head", "baseline-bridge check-app src",
                     "baseline-bridge check-app src --probe --driver both"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update({"DATABASE_URL": libpq_url(databases["bridged"]),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})

    def shell(line: str) -> int:
        return subprocess.run(["bash", "-c", line], cwd=releases["fixed"], env=env, capture_output=True, text=True,
                              timeout=300, check=False).returncode

    # As the guide says: the unused TaskRecord's predictions block the first two until it is ignored.
    assert [shell(line) for line in lines] == [3, 3, 0]
    ignore = ' --ignore TaskRecord "no repository uses it"'
    assert [shell(line + ignore) for line in lines[:2]] == [0, 0]


def test_triggers_that_fire_during_the_probe_are_named(releases: dict[str, Path],
                                                      make_db: Callable[[], URL]) -> None:
    url = make_db()
    upgrade(url)
    execute_sql(url, "CREATE TABLE audit (what text); CREATE FUNCTION note_project() RETURNS trigger LANGUAGE plpgsql "
                     "AS $$ BEGIN INSERT INTO audit VALUES (NEW.name); RETURN NEW; END $$; "
                     "CREATE TRIGGER projects_audit AFTER INSERT ON projects FOR EACH ROW "
                     "EXECUTE FUNCTION note_project()")
    before = fingerprint(url)
    report = check(releases["fixed"], url, probe=True, driver="psycopg")
    assert ("triggers fired during the probe (their writes are rolled back, anything they did outside the database "
            "is not): projects: projects_audit") in report.notes
    assert fingerprint(url) == before  # the trigger's rows went with the rollback


def test_asyncpg_without_greenlet_says_which_extra_to_install(releases: dict[str, Path], databases: dict[str, URL],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "greenlet", None)  # as in an environment without it: import fails
    with pytest.raises(BadInput, match=r"^--driver asyncpg needs asyncpg and greenlet \(greenlet is missing\): "
                                       r"pip install 'nakamura-misaki-db\[check-app\]'$"):
        check(releases["fixed"], databases["bridged"], probe=True, driver="asyncpg")
