"""MIGRATION_GUIDE.md section 5, command by command, on a real incident database (S1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from nakamura_misaki_db.legacy.sample_data import populate
from nakamura_misaki_db.legacy.states import build_state
from nakamura_misaki_db.migrations import alembic_config, head_revision

from .helpers import REPO, fingerprint, libpq_url, pg_bin, run, scalar, version_rows

BIN = Path(sys.executable).parent
BRIDGE = str(BIN / "baseline-bridge")
INIT_DB = str(BIN / "nakamura-init-db")


def _build_s1(url: URL) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        build_state(conn, "S1")
        populate(conn, "S1", rows=120)
    engine.dispose()


def test_the_guide_shows_the_commands_this_test_runs() -> None:
    guide = (REPO / "MIGRATION_GUIDE.md").read_text(encoding="utf-8")
    runbook = guide.split("## 5.", 1)[1].split("\n## 6.", 1)[0]
    for command in (
        'pg_dump -Fc -f before-bridge.dump "$DATABASE_URL"',
        "baseline-bridge status",
        "baseline-bridge plan --legacy-timezone Asia/Tokyo --out bridge-plan.json",
        "baseline-bridge apply --plan bridge-plan.json --legacy-timezone Asia/Tokyo",
        "nakamura-init-db",
        "pg_restore --clean --create -d postgres before-bridge.dump",
    ):
        assert command in runbook, command


def test_production_runbook_end_to_end_and_roll_back(db_url: URL, tmp_path: Path) -> None:
    _build_s1(db_url)
    original = fingerprint(db_url)
    dump = tmp_path / "before-bridge.dump"
    plan_file = tmp_path / "bridge-plan.json"

    # 2. back up
    subprocess.run([pg_bin("pg_dump"), "-Fc", "-f", str(dump), libpq_url(db_url)], check=True,
                   capture_output=True)
    # 3. look
    status = run([BRIDGE, "status"], db_url)
    assert status.returncode == 0 and "legacy (no legacy revision recorded; no alembic_version)" in status.stdout
    # 4. plan
    plan = run([BRIDGE, "plan", "--legacy-timezone", "Asia/Tokyo", "--out", str(plan_file)], db_url)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan_file.read_text())["status"] == "ready"
    assert fingerprint(db_url) == original
    # 6. apply exactly that plan
    applied = run([BRIDGE, "apply", "--plan", str(plan_file), "--legacy-timezone", "Asia/Tokyo"], db_url)
    assert applied.returncode == 0, applied.stderr
    assert version_rows(db_url) == ["0001"]
    # 7. check and bring to head
    assert "at revision 0001" in run([BRIDGE, "status"], db_url).stdout
    init = run([INIT_DB], db_url)
    assert init.returncode == 0, init.stderr
    # every revision after the bridge's 0001, up to the head, in order
    chain = reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
    after_0001 = [r.revision for r in chain][1:]
    assert f"(was 0001; applied {', '.join(after_0001)})" in init.stdout
    assert f"at revision {head_revision()} (at head)" in run([BRIDGE, "status"], db_url).stdout

    # Roll back: the dump recreates the database exactly as it was (the archive
    # schema and the new tables go with the dropped database).
    maintenance = db_url.set(database="postgres")
    subprocess.run([pg_bin("pg_restore"), "--clean", "--create", "-d", libpq_url(maintenance), str(dump)],
                   check=True, capture_output=True)
    assert fingerprint(db_url) == original
    assert scalar(db_url, "SELECT to_regnamespace('legacy_archive')") is None
    assert version_rows(db_url) is None
