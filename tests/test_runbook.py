"""MIGRATION_GUIDE.md section 5, the rollout, command by command: rehearse on a restored copy of production
(state S7, the most likely one), check the application release against the rehearsed database, then
production, then roll back."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge import demo_app
from nakamura_misaki_db.schema.revisions import head_revision

from .helpers import REPO, build, fingerprint, libpq_url, pg_bin, run, scalar, version_rows

BIN = Path(sys.executable).parent
BRIDGE = str(BIN / "baseline-bridge")
INIT_DB = str(BIN / "nakamura-init-db")
TOKYO = "Asia/Tokyo"


def test_the_guide_shows_the_commands_this_test_runs() -> None:
    guide = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")
    runbook = guide.split("## 5.", 1)[1].split("\n## 6.", 1)[0]
    for command in (
        "pg_restore --no-owner",
        "baseline-bridge status",
        "baseline-bridge plan --legacy-timezone Asia/Tokyo --out bridge-plan.json",
        "baseline-bridge apply --plan bridge-plan.json",
        "baseline-bridge check-app",
        'pg_dump -Fc -f before-bridge.dump "$DATABASE_URL"',
        "nakamura-init-db",
        "pg_restore --clean --create -d postgres before-bridge.dump",
    ):
        assert command in runbook, command
    order = [runbook.index(h) for h in ("### 5.1 Rehearse", "### 5.2 Check the application", "### 5.3 Production",
                                        "### 5.4 Roll back")]
    assert order == sorted(order)


def _steps(plan_file: Path) -> list[tuple[str, str]]:
    return [(s["action"], s["object"]) for s in json.loads(plan_file.read_text())["steps"]]


def test_rollout_rehearsal_then_production_then_roll_back(make_db: Callable[[], URL], tmp_path: Path) -> None:
    production, rehearsal = make_db(), make_db()
    build(production, "S7", rows=120, n=6)
    original = fingerprint(production)
    prod_dump = tmp_path / "prod.dump"

    # 5.1 rehearse: restore a production dump into the rehearsal database.
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(prod_dump), libpq_url(production)], check=True,
                   capture_output=True)
    subprocess.run([pg_bin("pg_restore"), "--no-owner", "-d", libpq_url(rehearsal), str(prod_dump)], check=True,
                   capture_output=True)
    status = run([BRIDGE, "status"], rehearsal)
    assert status.returncode == 0 and "legacy revision 006" in status.stdout, status.stdout
    rehearsal_plan = tmp_path / "rehearsal-plan.json"
    plan = run([BRIDGE, "plan", "--legacy-timezone", TOKYO, "--out", str(rehearsal_plan)], rehearsal)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    applied = run([BRIDGE, "apply", "--plan", str(rehearsal_plan)], rehearsal)
    assert applied.returncode == 0, applied.stderr
    assert run([INIT_DB], rehearsal).returncode == 0
    assert "(at head)" in run([BRIDGE, "status"], rehearsal).stdout

    # 5.2 the application release that will run afterwards, against the rehearsed database.
    mistaken = run([BRIDGE, "check-app", demo_app.MISTAKEN], rehearsal)
    assert mistaken.returncode == 3 and "values_callable" in mistaken.stdout
    fixed = run([BRIDGE, "check-app", demo_app.FIXED], rehearsal)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr

    # The rehearsal never touched production.
    assert fingerprint(production) == original

    # 5.3 production: back up, plan, apply exactly that plan, deploy.
    dump = tmp_path / "before-bridge.dump"
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(dump), libpq_url(production)], check=True,
                   capture_output=True)
    plan_file = tmp_path / "bridge-plan.json"
    assert run([BRIDGE, "plan", "--legacy-timezone", TOKYO, "--out", str(plan_file)], production).returncode == 0
    assert _steps(plan_file) == _steps(rehearsal_plan), "production's plan is the rehearsed one"
    assert fingerprint(production) == original
    assert run([BRIDGE, "apply", "--plan", str(plan_file)], production).returncode == 0
    assert version_rows(production) == ["0001"]
    init = run([INIT_DB], production)
    assert init.returncode == 0, init.stderr
    assert f"(was 0001; applied {', '.join(f'{n:04d}' for n in range(2, int(head_revision()) + 1))})" in init.stdout
    assert f"at revision {head_revision()} (at head)" in run([BRIDGE, "status"], production).stdout

    # 5.4 roll back: the dump recreates the database exactly as it was (the archive
    # schema and the new tables go with the dropped database).
    maintenance = production.set(database="postgres")
    subprocess.run([pg_bin("pg_restore"), "--clean", "--create", "-d", libpq_url(maintenance), str(dump)],
                   check=True, capture_output=True)
    assert fingerprint(production) == original
    assert scalar(production, "SELECT to_regnamespace('legacy_archive')") is None
    assert version_rows(production) == ["006"]


def test_a_lost_version_row_is_recovered_by_the_deploy_itself(db_url: URL) -> None:
    # MIGRATION_GUIDE.md 5.4, "A lost version row".
    from .helpers import execute_sql, upgrade

    upgrade(db_url, "head")
    execute_sql(db_url, "DELETE FROM alembic_version")
    before = fingerprint(db_url)
    status = run([BRIDGE, "status"], db_url)
    assert "not versioned" in status.stdout and "nothing that differs" in status.stdout, status.stdout
    plan = run([BRIDGE, "plan"], db_url)
    assert "archive" not in plan.stdout, plan.stdout  # nothing is moved away
    assert fingerprint(db_url) == before
    deployed = run([INIT_DB], db_url)
    assert deployed.returncode == 0, deployed.stderr
    assert version_rows(db_url) == [head_revision()]
    assert fingerprint(db_url)[0] == before[0]  # the schema as it was
