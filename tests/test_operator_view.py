"""What the operator sees during the one production run: a line per step with its lock (live on a terminal,
plain in the journal), JSON events for machines, who holds a lock the bridge waits for, a summary worth
keeping, and no Python warnings on a clean first screen."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from .helpers import (
    build,
    connection,
    fingerprint,
    plan_of,
    run,
    with_password,
    without_progress,
)

BIN = Path(sys.executable).parent
BRIDGE = str(BIN / "baseline-bridge")
TOKYO = "Asia/Tokyo"
STEP_LINE = re.compile(r"^\[(\d+)/(\d+)\] (.+) \.\.\. (\d+\.\d\d) s")


def test_the_journal_gets_one_plain_line_per_step_with_its_lock(db_url: URL) -> None:
    build(db_url, "S1", rows=60)
    with connection(db_url) as conn:  # the planner's row estimate comes from the statistics
        conn.exec_driver_sql("ANALYZE tasks")
    plan = plan_of(db_url, TOKYO)
    result = run([BRIDGE, "apply", "--legacy-timezone", TOKYO], db_url)  # stderr is a pipe
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    steps = [m for m in map(STEP_LINE.match, result.stderr.splitlines()) if m]
    assert [int(m[1]) for m in steps] == list(range(1, len(plan.steps) + 1))
    assert {int(m[2]) for m in steps} == {len(plan.steps)}
    by_number = {int(m[1]): m[3] for m in steps}
    for number, step in enumerate(plan.steps, start=1):
        assert step.summary in by_number[number]
        strong = [lock for lock in step.locks if lock.startswith(("ACCESS EXCLUSIVE", "SHARE"))]
        if strong:
            assert strong[0] in by_number[number], (number, by_number[number])
    rewrite = next(m for m in steps if "alter columns of tasks" in m[3])
    assert "(ACCESS EXCLUSIVE on tasks)" in rewrite.string
    assert rewrite.string.endswith(", ~60 row(s) (estimate)")  # ALTER reports no count: the estimate, labelled
    # The summary: total time, how long writers waited per table, the audit row and how to see it again.
    out = result.stdout
    assert re.search(r"applied:  \d+ step\(s\) in \d+\.\d\ds", out)
    assert re.search(r"writers waited \(ACCESS EXCLUSIVE held until commit\): tasks \d+\.\d\ds", out)
    run_id = re.search(r"audit: legacy_archive.bridge_runs, run_id ([0-9a-f-]{36})", out)[1]
    status = run([BRIDGE, "status"], db_url)
    assert f"last bridge run: {run_id}" in status.stdout


def test_a_terminal_sees_each_step_live(db_url: URL) -> None:
    build(db_url, "S1", rows=60)
    primary, secondary = pty.openpty()
    env = {**os.environ, "DATABASE_URL": with_password(db_url)}
    proc = subprocess.Popen([BRIDGE, "apply", "--legacy-timezone", TOKYO], env=env, stdout=subprocess.PIPE,
                            stderr=secondary, text=True)
    os.close(secondary)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(primary, 4096)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(primary)
    screen = b"".join(chunks).decode()
    assert proc.returncode == 0, screen
    assert "\x1b[K" in screen  # a running step's line is cleared and replaced by its final line
    plain = re.sub(r"\x1b\[K", "", screen).replace("\r\n", "\n")
    finals = [ln.split("\r")[-1] for ln in plain.split("\n")]
    assert len([ln for ln in finals if STEP_LINE.match(ln)]) == len(plan_of_applied(screen))


def plan_of_applied(screen: str) -> list[str]:
    total = {int(m[2]) for m in re.finditer(r"\[(\d+)/(\d+)\]", screen)}
    assert len(total) == 1
    return [str(n) for n in range(total.pop())]


def test_json_events_parse_and_count_the_plans_steps(db_url: URL) -> None:
    build(db_url, "S1", rows=60)
    plan = plan_of(db_url, TOKYO)
    result = run([BRIDGE, "apply", "--legacy-timezone", TOKYO, "--json"], db_url)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    finished = [e for e in events if e["event"] == "step_finished"]
    assert len(finished) == len(plan.steps)
    assert [(e["action"], e["object"]) for e in finished] == [(s.action, s.object) for s in plan.steps]
    assert {e["event"] for e in events} >= {"planning", "phase", "step_started", "step_finished", "finishing"}
    assert json.loads(result.stdout)["status"] == "applied"  # stdout: the result, one document


def test_quiet_prints_only_the_result(db_url: URL) -> None:
    build(db_url, "S1", rows=30)
    result = run([BRIDGE, "apply", "--legacy-timezone", TOKYO, "--quiet"], db_url)
    assert result.returncode == 0 and result.stderr == ""
    assert "applied:" in result.stdout


def test_waiting_for_a_lock_names_who_holds_it_then_gives_up_cleanly(db_url: URL) -> None:
    build(db_url, "S1", rows=60)
    before = fingerprint(db_url)
    holder = sa.create_engine(db_url, poolclass=sa.pool.NullPool,
                              connect_args={"application_name": "nakamura-misaki-app"})
    conn = holder.connect()
    try:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("SELECT count(*) FROM tasks")  # ACCESS SHARE on tasks, held until we end
        holder_pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        result = run([BRIDGE, "apply", "--legacy-timezone", TOKYO, "--lock-timeout", "3s", "--allow-connected-clients"],
                     db_url)
    finally:
        conn.exec_driver_sql("ROLLBACK")
        conn.close()
        holder.dispose()
    assert result.returncode == 1, result.stdout + result.stderr
    waiting = [ln for ln in result.stderr.splitlines() if "waiting" in ln and "for a lock" in ln]
    assert waiting, result.stderr
    assert f"pid {holder_pid} (nakamura-misaki-app)" in waiting[0]
    assert "alter columns of tasks" in waiting[0] or "tasks" in waiting[0]
    [error] = without_progress(result.stderr)
    assert error.startswith("baseline-bridge: ") and "lock_timeout=3s" in error
    assert f"held by pid {holder_pid} (nakamura-misaki-app)" in error  # the final word names it too
    assert error.endswith("Nothing was changed.")
    assert fingerprint(db_url) == before  # phase 1 was put back


@pytest.mark.parametrize("command", [
    [BRIDGE, "demo", "--rows", "20"],
    [BRIDGE, "status"],
    [BRIDGE, "plan"],
    [str(BIN / "nakamura-init-db")],
    [sys.executable, "-m", "alembic", "current"],
    [str(BIN / "nakamura-db"), "dev-db", "status"],
], ids=["demo", "status", "plan", "init-db", "alembic-current", "dev-db-status"])
def test_no_python_warning_without_a_runtime_directory(command: list[str], tmp_path: Path) -> None:
    # As under systemd or CI: no XDG_RUNTIME_DIR, no DATABASE_URL (the embedded server starts).
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "DATABASE_URL")}
    env["NAKAMURA_DB_EMBEDDED_DIR"] = str(tmp_path / "embedded")
    env["PYTHONWARNINGS"] = "default"  # a warning would be shown, not swallowed by an interpreter default
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False,
                            cwd=Path(__file__).resolve().parents[1])
    # A Python warning prints "<file>:<line>: <Category>Warning: ..." (or a traceback); none may appear.
    assert not re.search(r"\w+Warning\b|warnings\.warn|Traceback", result.stderr), result.stderr
    assert result.returncode in (0, 1), result.stderr  # dev-db status exits 1 when no dev server runs


def test_a_runtime_directory_left_with_a_wide_mode_is_made_private(tmp_path: Path) -> None:
    # CI met this: our runtime directory already existed with mode 0755 (made by an earlier
    # run under another umask) and platformdirs warned "has mode 0755, not 0700" on every start.
    import tempfile

    runtime = Path(tempfile.gettempdir()) / f"nakamura-db-runtime-{os.getuid()}"
    runtime.mkdir(exist_ok=True)
    runtime.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "DATABASE_URL")}
    env["NAKAMURA_DB_EMBEDDED_DIR"] = str(tmp_path / "embedded")
    env["PYTHONWARNINGS"] = "default"
    result = subprocess.run([str(BIN / "nakamura-db"), "dev-db", "status"], env=env, capture_output=True,
                            text=True, timeout=180, check=False)
    assert "Warning" not in result.stderr, result.stderr
    assert runtime.stat().st_mode & 0o777 == 0o700


def test_the_spinner_thread_never_outlives_a_step() -> None:
    import io

    from nakamura_misaki_db.bridge.apply import Rows
    from nakamura_misaki_db.bridge.progress import Lines
    from nakamura_misaki_db.bridge.steps import Step

    stream = io.StringIO()
    lines = Lines(stream, tty=True)
    step = Step("alter_columns", "tasks", "rewrite tasks", [], "why", "rewrites table", "tasks", 10,
                ["ACCESS EXCLUSIVE on tasks"])
    before = threading.active_count()
    lines.step_started(1, 1, step)
    time.sleep(0.5)
    lines.step_finished(1, 1, step, 0.5, Rows(10, estimated=False))
    assert threading.active_count() == before
    text = stream.getvalue()
    assert "\r[1/1] rewrite tasks (ACCESS EXCLUSIVE on tasks) |" in text  # live: spinner and seconds so far
    assert text.endswith("[1/1] rewrite tasks (ACCESS EXCLUSIVE on tasks) ... 0.50 s, 10 row(s)\n")


def test_plan_says_what_it_reads_while_it_reads(db_url: URL) -> None:
    build(db_url, "S1", rows=30)
    result = run([BRIDGE, "plan", "--legacy-timezone", TOKYO], db_url)
    assert result.returncode == 0, result.stderr
    said = [ln.removeprefix("-- ") for ln in result.stderr.splitlines() if ln.startswith("-- ")]
    assert said[0] == "reading the catalog"
    assert any(re.match(r"\d+ difference\(s\) from 0001; checking the rows", ln) for ln in said), said
    assert any(ln.startswith("reading what depends on") for ln in said), said
    quiet = run([BRIDGE, "plan", "--legacy-timezone", TOKYO, "--quiet"], db_url)
    assert quiet.returncode == 0 and quiet.stderr == ""

    def same(text: str) -> str:  # each plan has its own id and creation time
        return re.sub(r"[0-9a-f-]{36}|\d{4}-\d\d-\d\dT[\d:+]+", "", text)

    assert same(quiet.stdout) == same(result.stdout)
