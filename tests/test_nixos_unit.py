"""MIGRATION_GUIDE.md section 6 (the NixOS unit) against the real command.

The Nix snippet is parsed, not run: its command must be a console script this
package installs, every environment variable it sets must be one the command
documents and accepts, the ordering must be the one the application's module
needs (PostgreSQL and the superuser vector unit before, the application after),
and no run-once flag may remain. Every journal line the section shows is
produced here by the real command in that situation, with the unit's URL (and
durations) swapped for the test's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.locking import validate_duration
from nakamura_misaki_db.connect.urls import DatabaseUrl, with_password

from .helpers import REPO, build, revision_chain, run, upgrade

GUIDE = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")
SECTION = GUIDE[GUIDE.index("## 6. The NixOS / systemd unit"):GUIDE.index("## 7. Troubleshooting")]
NIX = re.search(r"```nix\n(.*?)```", SECTION, re.S)[1]
INIT_DB = str(Path(sys.executable).parent / "nakamura-init-db")
MIGRATION_LOCK_KEY = int.from_bytes(b"nakamisa", "big")  # the key every migration run takes


def _list(name: str) -> list[str]:
    return re.findall(r'"([^"]+)"', re.search(rf"^\s*{name} = \[(.*?)\];", NIX, re.M)[1])


def _environment() -> dict[str, str]:
    block = re.search(r"environment = \{\n(.*?)\n\s*\};", NIX, re.S)[1]
    return dict(re.findall(r'^\s*([A-Z_]+) = "([^"]*)";', block, re.M))


def _exec_start() -> list[str]:
    script = re.search(r"ExecStart = pkgs\.writeShellScript \"[^\"]+\" ''\n(.*?)'';", NIX, re.S)[1]
    [line] = [ln.strip() for ln in script.splitlines() if ln.strip()]
    return line.split()


def _help() -> str:
    result = subprocess.run([INIT_DB, "--help"], capture_output=True, text=True, check=True)
    return result.stdout


def test_the_unit_runs_a_command_this_package_installs_with_options_it_has() -> None:
    command, *options = _exec_start()
    assert command == "${nakamura-misaki-venv}/bin/nakamura-init-db"  # the application's own venv
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert Path(command).name in scripts
    help_text = _help()
    for option in options:
        assert option.startswith("--") and re.search(rf"^\s+{re.escape(option)}\b", help_text, re.M), option


def test_every_environment_variable_is_documented_by_the_command_and_accepted() -> None:
    env = _environment()
    assert set(env) == {"DATABASE_URL", "MIGRATION_LOCK_TIMEOUT", "MIGRATION_LOCK_WAIT"}
    documented = _help().split("\nenvironment:\n", 1)[1].split("\n\n", 1)[0]
    for name in env:
        assert re.search(rf"^\s+{name}\b", documented, re.M), name
    # The application's real URL (spec: role and database nakamura_misaki, trust auth, asyncpg form).
    assert env["DATABASE_URL"] == "postgresql+asyncpg://nakamura_misaki@localhost:5432/nakamura_misaki"
    DatabaseUrl.parse(env["DATABASE_URL"])  # accepted as written
    for name in ("MIGRATION_LOCK_TIMEOUT", "MIGRATION_LOCK_WAIT"):
        validate_duration(env[name], name)
        assert f"(default {env[name]})" in " ".join(documented.split()), name  # the snippet shows the defaults


def test_the_unit_is_ordered_between_the_vector_unit_and_the_application() -> None:
    for name in ("after", "requires"):
        assert set(_list(name)) == {"postgresql.service", "nakamura-misaki-enable-vector.service"}, name
    assert _list("before") == _list("requiredBy") == ["nakamura-misaki.service"]
    assert re.search(r'^\s*Type = "oneshot";', NIX, re.M)
    assert "serviceConfig.User" in NIX  # the application's service user, not a new one
    # A run-once flag would stop every later migration from running.
    assert "ConditionPathExists" not in NIX and "touch" not in NIX and "ExecStartPost" not in NIX


# -- the journal -------------------------------------------------------------------------------

UNIT_URL = DatabaseUrl.parse(_environment()["DATABASE_URL"]).masked()
JOURNAL = [(int(code), line) for code, line in re.findall(r"^\| (\d) \| `([^`]+)`", SECTION, re.M)]


def _journal(start: str) -> tuple[int, str]:
    [row] = [row for row in JOURNAL if row[1].startswith(start)]
    return row


def _matches(documented: str, actual: str, url: URL | str | None = None,
             durations: dict[str, str] | None = None) -> bool:
    """The documented line, with the unit's URL and durations swapped for this run's, is the real
    line (or, where the guide elides the rest with " ...", its beginning)."""
    expected = documented
    if url is not None:
        expected = expected.replace(UNIT_URL, DatabaseUrl.parse(
            url if isinstance(url, str) else with_password(url)).masked())
    for shown, used in (durations or {}).items():
        expected = expected.replace(shown, used)
    if expected.endswith(" ..."):
        return actual.startswith(expected.removesuffix(" ..."))
    return actual == expected


def _at_this_head(documented: str) -> str:
    """The guide shows the head it was written at; a later revision moves it (tests/test_new_revision.py).

    Swap the documented head, and the applied list from its first revision on, for this release's.
    """
    chain = revision_chain()
    line = re.sub(r"\bhead \d{4}\b", f"head {chain[-1]}", documented)
    return re.sub(r"applied (\d{4})(?:, \d{4})*\)",
                  lambda m: "applied " + ", ".join(chain[chain.index(m[1]):]) + ")", line)


def _line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1, lines  # one journal line per run
    return lines[0]


def test_the_guide_shows_every_outcome() -> None:
    assert sorted({code for code, _ in JOURNAL}) == [0, 1, 2, 3]
    assert len(JOURNAL) == 9


def test_journal_no_op_and_migrated(db_url: URL) -> None:
    upgrade(db_url, "0001")
    result = run([INIT_DB], db_url)
    code, documented = _journal("database at head")
    assert result.returncode == code and _matches(_at_this_head(documented), _line(result), db_url), result.stdout
    result = run([INIT_DB], db_url)
    code, documented = _journal("database already at head")
    assert result.returncode == code and _matches(_at_this_head(documented), _line(result), db_url), result.stdout


def test_journal_refused_on_production_as_it_most_likely_is(db_url: URL) -> None:
    build(db_url, "S7", rows=5)
    result = run([INIT_DB], db_url)
    code, documented = _journal("nakamura-init-db: refused: alembic_version holds")
    assert result.returncode == code and _matches(documented, _line(result)), result.stderr


def test_journal_refused_on_a_version_row_written_by_hand(db_url: URL) -> None:
    from nakamura_misaki_db.legacy.states import alembic_version_sql

    build(db_url, "S1", rows=5, sql=alembic_version_sql("0001"))
    result = run([INIT_DB], db_url)
    code, documented = _journal("nakamura-init-db: refused: alembic_version records")
    assert result.returncode == code and _matches(documented, _line(result)), result.stderr


def test_journal_refused_by_the_preflight(db_url: URL) -> None:
    from .helpers import login_role

    upgrade(db_url, "0001")
    with login_role(db_url, "unit_deployer", "GRANT USAGE, CREATE ON SCHEMA public TO unit_deployer",
                    "GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA public TO "
                    "unit_deployer") as role:
        result = run([INIT_DB], role)
    code, documented = _journal("nakamura-init-db: refused: upgrade to")
    documented = re.sub(r"upgrade to \d{4}", f"upgrade to {revision_chain()[-1]}", documented)
    assert result.returncode == code and _matches(documented, _line(result)), result.stderr


def test_journal_postgresql_down() -> None:
    url = "postgresql+asyncpg://nakamura_misaki@localhost:1/nakamura_misaki"  # nothing listens on port 1
    result = run([INIT_DB], url)
    code, documented = _journal("nakamura-init-db: error: cannot connect")
    assert result.returncode == code
    assert _matches(documented.replace(":5432/", ":1/"), _line(result)), result.stderr


def test_journal_another_migration_run_holds_the_lock(db_url: URL) -> None:
    upgrade(db_url, "0001")
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with holder.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        result = run([INIT_DB], db_url, env={"MIGRATION_LOCK_WAIT": "1s"})
    holder.dispose()
    code, documented = _journal("nakamura-init-db: error: another migration run")
    assert result.returncode == code and _matches(documented, _line(result), durations={"10min": "1s"}), result.stderr


def test_journal_the_application_holds_a_table_lock(db_url: URL) -> None:
    upgrade(db_url, "0001")
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with holder.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE tasks IN ACCESS SHARE MODE")  # as a long read would
        result = run([INIT_DB], db_url, env={"MIGRATION_LOCK_TIMEOUT": "1s"})
        conn.rollback()
    holder.dispose()
    code, documented = _journal("nakamura-init-db: error: a table lock")
    assert result.returncode == code and _matches(documented, _line(result), durations={"5s": "1s"}), result.stderr


def test_journal_unit_without_database_url() -> None:
    result = run([INIT_DB], None, env={"INVOCATION_ID": "0b5a3c1e2f7d4e6a9c8b7a6d5e4f3a2b"})  # as systemd does
    code, documented = _journal("nakamura-init-db: error: DATABASE_URL is not set")
    assert result.returncode == code and _matches(documented, _line(result)), result.stderr


# -- 6.1: the one-time switch --------------------------------------------------------------------

SWITCH = SECTION.split("### 6.1", 1)[1]
SWITCH_STEPS = re.search(r"```sh\n(.*?)```", SWITCH, re.S)[1].strip().splitlines()


def test_the_switch_stops_bridges_deploys_and_starts_in_that_order() -> None:
    stop, bridge, deploy, start_app = SWITCH_STEPS
    assert stop == "systemctl stop nakamura-misaki.service"
    # The bridge works on the unit's own database, with the plan reviewed on production (5.3).
    assert bridge == f"DATABASE_URL={_environment()['DATABASE_URL']} baseline-bridge apply --plan bridge-plan.json"
    assert deploy == "nixos-rebuild switch"
    assert start_app == "systemctl start nakamura-misaki.service"
    # Starting the application runs the deploy first: the unit is required by it and ordered before it.
    assert _list("requiredBy") == _list("before") == ["nakamura-misaki.service"]


def test_the_switch_on_a_server_as_the_unit_runs_it(db_url: URL, tmp_path: Path) -> None:
    """The four steps against a test server: the running release is a connected client; the deploy is the
    unit's ExecStart with its environment (the URL swapped for the test's); the start is the fixed release."""
    import psycopg

    from .app_release import release, start
    from .helpers import libpq_url, scalar

    build(db_url, "S7", rows=30, n=6)
    fixed = release(tmp_path / "fixed", fixed=True)
    env = {name: value for name, value in _environment().items() if name != "DATABASE_URL"}
    bridge = str(Path(sys.executable).parent / "baseline-bridge")
    plan = tmp_path / "bridge-plan.json"
    assert run([bridge, "plan", "--legacy-timezone", "Asia/Tokyo", "--out", str(plan)], db_url).returncode == 0
    running = psycopg.connect(libpq_url(db_url), application_name="nakamura-misaki")
    # Started in the wrong order (deploy before the bridge), the unit refuses and the release stays down.
    refused = run([INIT_DB], db_url, env=env)
    assert refused.returncode == 3, refused.stderr
    running.close()  # 1. stop
    assert scalar(db_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND pid <> pg_backend_pid() AND backend_type = 'client backend'") == 0
    applied = run([bridge, "apply", "--plan", str(plan)], db_url)  # 2. bridge
    assert applied.returncode == 0, applied.stderr
    deployed = run([INIT_DB, *_exec_start()[1:]], db_url, env=env)  # 3. the unit's ExecStart
    code, documented = _journal("database at head")
    assert deployed.returncode == code and _matches(_at_this_head(documented), _line(deployed), db_url)
    started = start(fixed, db_url)  # 4. start the fixed release
    assert started.returncode == 0, started.stdout + started.stderr
