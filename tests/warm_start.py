"""A command started from a warm interpreter: the same process a console script would be, without paying
for Python's start and the imports of SQLAlchemy, Alembic and psycopg again (about 0.45 s of CPU each time,
most of the suite's CPU on two cores).

One server per test process (started on first use) imports those libraries once and then waits. For each
command it forks: the child is a real process of its own, with the command's argv, environment, working
directory, stdin from /dev/null, stdout and stderr to the caller's files, its own exit status, signals and
atexit handlers. It then runs the console script (or ``-m`` module) as the interpreter would, so an
uncaught exception prints its traceback and exits 1 as it would there. Our own package is not imported
before the fork: it is imported by the command, from the path the command's environment gives it, so a
copy's sources (``PYTHONPATH``) and every environment variable read at import are the command's own.

What differs from a fresh start is only what the interpreter fixes at its start: ``PYTHON*`` variables
(warning filters, bytecode, hash seed...) and the locale. A command whose environment changes any of them,
that runs another interpreter (an installed wheel's venv) or another program runs with a real
``exec`` instead (see ``warmable``); so do the tests whose point is a fresh interpreter (Python warnings
on a first screen, ``--debug``), which call ``subprocess`` themselves.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# What a console script of this project and `python -m alembic` import before any work is done.
PRELOAD = ("sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.postgresql", "psycopg",
           "alembic", "alembic.config", "alembic.script", "alembic.autogenerate", "alembic.command",
           "alembic_utils.pg_extension", "alembic_utils.replaceable_entity", "argparse", "json", "logging.config")
# Modules run with `-m` that gain from a warm start (pytest and ruff start their own worlds).
MODULES = ("alembic", "nakamura_misaki_db")
# Read once at the interpreter's start: a command whose environment differs here needs a fresh one.
FIXED_AT_START = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE")
BIN = Path(sys.executable).parent


def _fixed_at_start(name: str) -> bool:
    return (name.startswith("PYTHON") and name != "PYTHONPATH") or name in FIXED_AT_START


# The server starts with these, whatever a test has set in os.environ since.
_FIXED = {name: value for name, value in os.environ.items() if _fixed_at_start(name)}


def warmable(args: list[str], env: dict[str, str]) -> bool:
    """Whether ``args`` with ``env`` can start warm: this interpreter, a console script of its venv or an
    ``-m`` module of ours or alembic's, and nothing in the environment the interpreter reads at its start
    changed (PYTHONPATH aside, which the warm child applies as the interpreter would)."""
    if not args:
        return False
    if args[0] == sys.executable:
        if len(args) < 3 or args[1] != "-m" or args[2].split(".")[0] not in MODULES:
            return False
    elif not _console_script(args[0]):
        return False
    return {name: value for name, value in env.items() if _fixed_at_start(name)} == _FIXED


def _console_script(path: str) -> bool:
    """A script of this venv's bin whose first line runs this venv's interpreter."""
    script = Path(path)
    if script.parent != BIN or not script.is_file():
        return False
    with script.open("rb") as f:
        first = f.readline()
    return first.startswith(b"#!") and Path(first[2:].decode().strip()).parent == BIN


def run(args: list[str], env: dict[str, str], cwd: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """As ``subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(_server())
        request = json.dumps({"args": args, "env": env, "cwd": str(cwd)}).encode()
        socket.send_fds(conn, [request + b"\n"], [out.fileno(), err.fileno()])
        reply = conn.makefile("r", encoding="utf-8")
        pid = int(reply.readline())
        conn.settimeout(timeout)
        try:
            line = reply.readline()
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            raise subprocess.TimeoutExpired(args, timeout) from None
        if not line:
            raise RuntimeError(f"the warm-start server lost the command {args}")
        code = int(line)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, code, _text(out.read()), _text(err.read()))


def _text(data: bytes) -> str:
    # As subprocess's text=True: the locale's encoding, universal newlines.
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


_lock = threading.Lock()
_address: str | None = None


def _server() -> str:
    global _address
    with _lock:
        if _address is None:
            directory = tempfile.mkdtemp(prefix="warm-start-")
            address = os.path.join(directory, "socket")
            # Its stdin is our pipe: when this process ends, the server reads EOF and ends too.
            server = subprocess.Popen([sys.executable, __file__, address], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=_server_environment(), cwd="/")
            if server.stdout.readline() != b"ready\n":
                raise RuntimeError("the warm-start server did not start")

            def stop() -> None:
                server.stdin.close()
                server.wait(timeout=10)
                os.unlink(address)
                os.rmdir(directory)

            atexit.register(stop)
            _address = address
        return _address


def _server_environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not _fixed_at_start(name) and name != "PYTHONPATH"}
    return {**env, **_FIXED}


# -- the server (this file run as a script) ---------------------------------------------------------------


def serve(address: str) -> dict:
    """Wait for commands; return only in a forked command process, with its request."""
    import gc
    import importlib
    import select

    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # only a head start: the command imports what is missing
            importlib.import_module(name)
    gc.freeze()  # the collector in a command leaves the shared objects alone: fewer pages copied
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # each command's supervisor reaps itself
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready:
            os._exit(0)
        conn, _ = listener.accept()
        message, fds, _, _ = socket.recv_fds(conn, 1 << 16, 2)
        while not message.endswith(b"\n"):  # a stream: a long environment may come in pieces
            piece = conn.recv(1 << 16)
            if not piece:
                break
            message += piece
        if os.fork() == 0:  # the supervisor: starts the command, reports its pid and exit status
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            pid = os.fork()
            if pid == 0:
                conn.close()
                request = json.loads(message)
                request["fds"] = fds
                return request
            for fd in fds:
                os.close(fd)
            conn.sendall(f"{pid}\n".encode())
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(f"{code}\n".encode())
            finally:
                os._exit(0)
        conn.close()
        for fd in fds:
            os.close(fd)


def become(request: dict) -> None:
    """This forked process becomes the command, as the interpreter would have started it."""
    import runpy
    import time

    out, err = request["fds"]
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()  # TZ is read by the C library once; a fresh start would read the command's
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    args = request["args"]
    site = [p for p in sys.path[1:] if p not in extra]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if args[0] == sys.executable:  # python -m module ...
            sys.path[:] = [os.getcwd(), *extra, *site]
            sys.argv = ["-m", *args[3:]]
            runpy.run_module(args[2], run_name="__main__", alter_sys=True)
        else:  # a console script
            sys.path[:] = [str(Path(args[0]).resolve().parent), *extra, *site]
            sys.argv = list(args)
            runpy.run_path(args[0], run_name="__main__")
    except SystemExit as exc:
        code = _exit_status(exc)
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
        _exit(None)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    else:
        code = 0
    _exit(code)


def _exit_status(exc: SystemExit) -> int:
    """The status the interpreter exits with for ``exc``, printing a message as it does."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    print(exc.code, file=sys.stderr)
    return 1


def _exit(code: int | None) -> None:
    """End as the interpreter ends (non-daemon threads joined, atexit handlers run, streams flushed), but
    without tearing down every module: freeing the preloaded libraries' objects would touch each page the
    fork shares with the server and cost longer than the command (0.3 s of a 0.31 s ``--help``).
    ``None``: end as an uncaught KeyboardInterrupt does, by SIGINT."""
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code is None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code or 0)

if __name__ == "__main__":
    become(serve(sys.argv[1]))
