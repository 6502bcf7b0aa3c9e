"""The embedded default: no DATABASE_URL needed to try the tool, and a clear hint without the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import URL

from .helpers import ALEMBIC_INI, REPO, head_revision, rows, run, upgrade

BIN = Path(sys.executable).parent


def test_alembic_without_database_url_uses_the_embedded_server_and_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "embedded"
    env = {"NAKAMURA_DB_EMBEDDED_DIR": str(data_dir)}
    up = run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "upgrade", "head"], None, env=env)
    assert up.returncode == 0, up.stderr
    notices = [ln for ln in up.stderr.splitlines() if "DATABASE_URL is not set" in ln]
    assert len(notices) == 1 and str(data_dir) in notices[0]
    current = run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), "current"], None, env=env)
    assert current.returncode == 0 and f"{head_revision()} (head)" in current.stdout
    assert (data_dir / "PG_VERSION").read_text().strip() == "16"


def test_without_the_embedded_extra_the_error_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['pgserver'] = None\n"  # import pgserver -> ImportError
        "from nakamura_misaki_db.deploy.init_db import main; sys.exit(main([]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False,
                            env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 2
    assert "pip install 'nakamura-misaki-db[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_tells_the_whole_story(tmp_path: Path, db_url: URL) -> None:
    result = run([str(BIN / "baseline-bridge"), "demo", "--rows", "60", "--keep", str(tmp_path / "pg")], None,
                 timeout=300)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "refused, and nothing was changed" in out
    assert "baseline-bridge plan --legacy-timezone Asia/Tokyo" in out
    assert "verified: no difference from revision 0001 is left" in out
    table = out.split("7. before and after", 1)[1]
    row = next(ln for ln in table.splitlines() if ln.startswith("task_status labels"))
    assert "PENDING, IN_PROGRESS, COMPLETED" in row
    # Production's likely state (S7: stamped 006 by the application's own chain), and the
    # application's later tables keep their rows.
    assert "alembic_version holds '006'" in out
    projects = next(ln for ln in table.splitlines() if ln.startswith("rows: projects"))
    assert projects.split()[2] == projects.split()[3] != "-"
    # It ends where a rollout must: check-app fails on the member-name mistake, passes with the fix.
    ending = out.split("8. before the switch", 1)[1]
    mistaken, fixed = ending.split("demo_app.fixed:Base", 1)
    assert "persists the member names of TaskStatus" in mistaken and "not compatible" in mistaken
    assert "values_callable" in mistaken
    assert "\n  compatible" in fixed
    # after: head's labels, as the scripts build them on a database of our own
    upgrade(db_url, "head")
    labels = [label for (label,) in rows(db_url, "SELECT unnest(enum_range(NULL::task_status))::text")]
    assert row.rstrip().endswith(", ".join(labels))
    row = next(ln for ln in table.splitlines() if ln.startswith("alembic_version"))
    assert row.split()[1] == "006" and row.rstrip().endswith(head_revision())
