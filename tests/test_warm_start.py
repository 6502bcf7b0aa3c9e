"""The warm start the helpers use for our commands (tests/warm_start.py) gives what a fresh process gives:
each case runs the same program both ways and compares exit status, stdout and stderr; the fresh exec is
the reference, so the warm one can only pass by behaving as a real start does."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from . import warm_start
from .helpers import REPO

BIN = Path(sys.executable).parent

# A module run with -m that shows what a process is given: argv, working directory, environment,
# module search path, stdin, TZ as the C library sees it, and how it ends.
PROGRAM = textwrap.dedent("""\
    import os, sys, time
    print(sys.argv[1:], os.getcwd(), os.environ.get("SEEN"), time.strftime("%Z", time.localtime(0)),
          len(os.environ.get("LONG", "")))
    print([p for p in sys.path if "pp-" in p], sys.stdin.read() == "", file=sys.stderr)
    print("\\u5ea7 without a newline", end="")
    how = sys.argv[1]
    if how == "exit-3":
        sys.exit(3)
    if how == "exit-message":
        sys.exit("stopped: a message")
    if how == "raise":
        raise RuntimeError("an uncaught error")
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "atexit":
        import atexit
        atexit.register(lambda: print("atexit ran", flush=True))
    if how == "thread":
        import threading
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished", flush=True))).start()
    if how == "sleep":
        time.sleep(60)
""")


@pytest.fixture
def program(tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """``python -m shows_process`` from a PYTHONPATH directory, and where to run it."""
    path = tmp_path / "pp-dir"
    path.mkdir()
    (path / "shows_process.py").write_text(PROGRAM, encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(path), "SEEN": "from the command's environment", "TZ": "Asia/Tokyo",
           "LONG": "x" * 100_000}  # the request then reaches the server in more than one piece
    return [sys.executable, "-m", "shows_process"], env, cwd


@pytest.mark.parametrize("how", ["exit-0", "exit-3", "exit-message", "raise", "interrupt", "atexit", "thread"])
def test_a_warm_command_ends_as_a_fresh_process_would(program, how: str) -> None:
    args, env, cwd = program
    fresh = subprocess.run([*args, how], env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL, check=False)
    warm = warm_start.run([*args, how], env, str(cwd), timeout=60)
    assert warm.returncode == fresh.returncode
    assert warm.stdout == fresh.stdout
    # A traceback names the frames that ran it: the warm one has the server's below runpy's.
    assert _without_frames(warm.stderr) == _without_frames(fresh.stderr)
    assert fresh.stdout.startswith(f"['{how}'] {cwd} from the command's environment JST 100000\n")


def _without_frames(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith(" ")]


def test_a_warm_command_past_its_timeout_is_killed(program) -> None:
    args, env, cwd = program
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        warm_start.run([*args, "sleep"], env, str(cwd), timeout=1)
    assert time.monotonic() - started < 30


def test_our_commands_answer_warm_as_they_do_fresh(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    unreachable = {**env, "DATABASE_URL": "postgresql://app:Secret-9@127.0.0.1:1/app"}
    cases = [
        ([str(BIN / "baseline-bridge"), "--help"], env),
        ([str(BIN / "baseline-bridge"), "status"], unreachable),
        ([str(BIN / "nakamura-init-db"), "--sql"], {**env, "DATABASE_URL": "mysql://x@h/db"}),
        ([sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "heads"], env),
    ]
    for args, case_env in cases:
        assert warm_start.warmable(args, case_env), args
        fresh = subprocess.run(args, env=case_env, cwd=REPO, capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, check=False)
        warm = warm_start.run(args, case_env, str(REPO), timeout=120)
        assert (warm.returncode, warm.stdout, warm.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr), args


@pytest.mark.parametrize(("args", "env"), [
    ([sys.executable, "-c", "print(1)"], {}),
    ([sys.executable, "-m", "pytest", "--version"], {}),
    (["/bin/echo", "not python"], {}),
    ([str(BIN / "baseline-bridge"), "--help"], {"PYTHONWARNINGS": "default"}),
    ([str(BIN / "baseline-bridge"), "--help"], {"LC_ALL": "C"}),
], ids=["-c", "pytest", "another-program", "warning-filters", "locale"])
def test_what_a_fresh_interpreter_would_set_up_differently_starts_fresh(args: list[str], env: dict[str, str]) -> None:
    assert not warm_start.warmable(args, {**os.environ, **env})
