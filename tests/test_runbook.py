"""MIGRATION_GUIDE.md section 5, the rollout, command by command: rehearse on a restored copy of production
(state S7, the most likely one), check the fixed application release against the rehearsed database with
``check-app --probe`` (the guide's own line, in an application-style checkout), then production in the one
order that works (stop the application, bridge, deploy, start the fixed release), then roll back.

The guide's check-app line runs in a shell and each release starts as a process of its own, as the
operator runs them; ``baseline-bridge`` and ``nakamura-init-db`` are called through their entry points in
this process with DATABASE_URL set, as the guide exports it (what is tested is the order and what each
prints; the real scripts' starts are tested by the guide's shell blocks and test_package)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.revisions import head_revision

from .app_release import release, start
from .helpers import (
    REPO,
    bridge_in_process,
    build,
    deploy_in_process,
    fingerprint,
    libpq_url,
    pg_bin,
    scalar,
    version_rows,
)

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

BIN = Path(sys.executable).parent
TOKYO = "Asia/Tokyo"
GUIDE = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")
RUNBOOK = GUIDE.split("## 5.", 1)[1].split("\n## 6.", 1)[0]
# The line 5.2 tells the operator to run in the fixed release's checkout, exactly as written.
CHECK_APP = re.search(r"^(baseline-bridge check-app .*)$", RUNBOOK.split("### 5.2", 1)[1], re.M)[1]
APPLICATION = "nakamura-misaki"  # the running release's application_name, as a client of the database


def guide_check_app(checkout: Path, url: URL) -> subprocess.CompletedProcess[str]:
    """5.2's command, run by a shell in the release's checkout with DATABASE_URL set (as the guide says)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update({"DATABASE_URL": libpq_url(url), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return subprocess.run(["bash", "-e", "-c", CHECK_APP], cwd=checkout, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def other_clients(url: URL) -> int:
    return scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def test_the_guide_shows_the_commands_this_test_runs() -> None:
    for command in (
        "pg_restore --no-owner",
        "baseline-bridge status",
        "baseline-bridge plan --legacy-timezone Asia/Tokyo --out bridge-plan.json",
        "baseline-bridge apply --plan bridge-plan.json",
        "baseline-bridge check-app src --probe --driver both",
        'pg_dump -Fc -f before-bridge.dump "$DATABASE_URL"',
        "nakamura-init-db",
        "pg_restore --clean --create -d postgres before-bridge.dump",
    ):
        assert command in RUNBOOK, command
    order = [RUNBOOK.index(h) for h in ("### 5.1 Rehearse", "### 5.2 Check the application", "### 5.3 Production",
                                        "### 5.4 Roll back")]
    assert order == sorted(order)
    production = RUNBOOK.split("### 5.3", 1)[1].split("### 5.4", 1)[0]
    steps = [production.index(s) for s in ("**Stop the application**", "baseline-bridge apply --plan",
                                           "nakamura-init-db", "**Start the release that passed `check-app --probe`**")]
    assert steps == sorted(steps), "5.3: stop the application, bridge, deploy, start the fixed release"
    assert CHECK_APP == 'baseline-bridge check-app src --probe --driver both --database-url "$DATABASE_URL"'
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Check your application", 1)[1]
    assert f"```sh\n{CHECK_APP}\n```" in readme  # the README shows the same gate


def _steps(plan_file: Path) -> list[tuple[str, str]]:
    return [(s["action"], s["object"]) for s in json.loads(plan_file.read_text())["steps"]]


def test_rollout_rehearsal_then_production_then_roll_back(make_db: Callable[[], URL], tmp_path: Path) -> None:
    production, rehearsal = make_db(), make_db()
    build(production, "S7", rows=120, n=6)
    original = fingerprint(production)
    prod_dump = tmp_path / "prod.dump"
    unfixed, fixed = release(tmp_path / "unfixed", fixed=False), release(tmp_path / "fixed", fixed=True)
    # The running (unfixed) release, as a client of production, until 5.3 stops it.
    running = psycopg.connect(libpq_url(production), application_name=APPLICATION)

    # 5.1 rehearse: restore a production dump into the rehearsal database.
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(prod_dump), libpq_url(production)], check=True,
                   capture_output=True)
    subprocess.run([pg_bin("pg_restore"), "--no-owner", "-d", libpq_url(rehearsal), str(prod_dump)], check=True,
                   capture_output=True)
    status = bridge_in_process(rehearsal, "status")
    assert status.returncode == 0 and "legacy revision 006" in status.stdout, status.stdout
    rehearsal_plan = tmp_path / "rehearsal-plan.json"
    plan = bridge_in_process(rehearsal, "plan", "--legacy-timezone", TOKYO, "--out", str(rehearsal_plan))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    applied = bridge_in_process(rehearsal, "apply", "--plan", str(rehearsal_plan))
    assert applied.returncode == 0, applied.stderr
    assert deploy_in_process(rehearsal).returncode == 0
    assert "(at head)" in bridge_in_process(rehearsal, "status").stdout

    # 5.2 the release that will run afterwards, against the rehearsed database: the guide's line.
    mistaken = guide_check_app(unfixed, rehearsal)
    assert mistaken.returncode == 3, mistaken.stdout + mistaken.stderr
    assert "values_callable" in mistaken.stdout and "SkillRecord (business_skills): fails" in mistaken.stdout
    passed = guide_check_app(fixed, rehearsal)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "round trips on asyncpg, psycopg, rolled back" in passed.stdout.splitlines()[0]
    assert passed.stdout.splitlines()[-1].startswith("compatible: every checked mapping round-trips")
    tried = start(fixed, rehearsal)  # then start it on the copy and try its reads and writes
    assert tried.returncode == 0, tried.stdout + tried.stderr

    # The rehearsal never touched production.
    assert fingerprint(production) == original

    # 5.3 production: 1. stop the application, 2. back up, plan, apply exactly that plan, deploy.
    assert other_clients(production) == 1
    running.close()
    assert other_clients(production) == 0, "nothing is connected while the bridge runs"
    dump = tmp_path / "before-bridge.dump"
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(dump), libpq_url(production)], check=True,
                   capture_output=True)
    plan_file = tmp_path / "bridge-plan.json"
    assert bridge_in_process(production, "plan", "--legacy-timezone", TOKYO, "--out", str(plan_file)).returncode == 0
    assert _steps(plan_file) == _steps(rehearsal_plan), "production's plan is the rehearsed one"
    assert fingerprint(production) == original
    assert bridge_in_process(production, "apply", "--plan", str(plan_file)).returncode == 0
    assert version_rows(production) == ["0001"]
    init = deploy_in_process(production)
    assert init.returncode == 0, init.stderr
    assert f"(was 0001; applied {', '.join(f'{n:04d}' for n in range(2, int(head_revision()) + 1))})" in init.stdout
    assert f"at revision {head_revision()} (at head)" in bridge_in_process(production, "status").stdout
    # 3. start the release that passed check-app --probe; the old one no longer works there.
    started = start(fixed, production)
    assert started.returncode == 0, started.stdout + started.stderr
    old = start(unfixed, production)
    assert old.returncode == 1 and 'invalid input value for enum skill_category: "SALES"' in old.stdout

    # 5.4 roll back: the dump recreates the database exactly as it was (the archive
    # schema and the new tables go with the dropped database).
    maintenance = production.set(database="postgres")
    subprocess.run([pg_bin("pg_restore"), "--clean", "--create", "-d", libpq_url(maintenance), str(dump)],
                   check=True, capture_output=True)
    assert fingerprint(production) == original
    assert scalar(production, "SELECT to_regnamespace('legacy_archive')") is None
    assert version_rows(production) == ["006"]


def test_the_fixed_release_does_not_work_before_the_bridge(make_db: Callable[[], URL], tmp_path: Path) -> None:
    """Why 5.3's order: the fixed release cannot start before the bridge (and the old one cannot after it,
    above), so the application is stopped across the bridge and the fixed release started after it."""
    url = make_db()
    build(url, "S7", rows=20, n=6)
    fixed = release(tmp_path / "fixed", fixed=True)
    early = start(fixed, url)
    assert early.returncode == 1 and 'invalid input value for enum task_status: "in_progress"' in early.stdout
    assert guide_check_app(fixed, url).returncode == 3  # and check-app --probe says so on such a copy


def test_a_lost_version_row_is_recovered_by_the_deploy_itself(db_url: URL) -> None:
    # MIGRATION_GUIDE.md 5.4, "A lost version row".
    from .helpers import execute_sql, upgrade

    upgrade(db_url, "head")
    execute_sql(db_url, "DELETE FROM alembic_version")
    before = fingerprint(db_url)
    status = bridge_in_process(db_url, "status")
    assert "not versioned" in status.stdout and "nothing that differs" in status.stdout, status.stdout
    plan = bridge_in_process(db_url, "plan")
    assert "archive" not in plan.stdout, plan.stdout  # nothing is moved away
    assert fingerprint(db_url) == before
    deployed = deploy_in_process(db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert version_rows(db_url) == [head_revision()]
    assert fingerprint(db_url)[0] == before[0]  # the schema as it was
