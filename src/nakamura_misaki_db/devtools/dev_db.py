"""A lasting development database: an embedded PostgreSQL 16 + pgvector (pgserver).

``start`` leaves the server running after the command exits (unlike the
embedded server ``alembic`` starts when DATABASE_URL is unset, which stops
with its process), so every later command can share it through the printed
``DATABASE_URL``. Data lives in ``NAKAMURA_DB_EMBEDDED_DIR`` if set, else
``$XDG_DATA_HOME/nakamura-misaki-db/dev`` (``~/.local/share/...``). It listens
on a Unix socket only, with trust authentication: the URL has no password.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from nakamura_misaki_db.connect.embedded import (
    DATA_DIR_ENV,
    DEFAULT_DATABASE,
    INSTALL_HINT,
    LASTING_MARKER,
    ensure_database,
    import_pgserver,
    server_url,
    start_server,
)
from nakamura_misaki_db.connect.errors import BadInput, MigrationError
from nakamura_misaki_db.connect.urls import DatabaseUrl


def dev_data_dir() -> Path:
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(base) / "nakamura-misaki-db" / "dev").resolve()


@dataclass(frozen=True)
class DevDatabase:
    data_dir: Path
    running: bool
    pid: int | None = None
    url: DatabaseUrl | None = None  # the application database on it, without a password (there is none)

    def export_line(self) -> str:
        assert self.url is not None
        return f"export DATABASE_URL={shlex.quote(libpq_url(self.url))}"


def libpq_url(url: DatabaseUrl) -> str:
    """``postgresql://user@/db?host=...``: what psql, pg_dump and every command here accept.

    Built without a password on purpose, so it is safe to print (the server
    trusts local connections and has none).
    """
    params = {k: v for k, v in url.params.items() if k != "password"}
    return DatabaseUrl(params).masked().replace("postgresql+psycopg://", "postgresql://", 1)


def _postmaster(data_dir: Path):
    try:
        import_pgserver()  # names the runtime directory first: no warning on import
        from pgserver.utils import PostmasterInfo
    except (ImportError, BadInput):
        raise BadInput(f"the embedded PostgreSQL is not installed: run {INSTALL_HINT}") from None
    if not (data_dir / "postmaster.pid").is_file():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(data_dir)
    except (OSError, ValueError, AssertionError):
        return None  # a half-written or stale pid file: not a running server
    return info if info is not None and info.is_running() else None


def status(data_dir: Path | None = None) -> DevDatabase:
    data_dir = data_dir or dev_data_dir()
    info = _postmaster(data_dir)
    if info is None:
        return DevDatabase(data_dir, running=False)
    url = DatabaseUrl.parse(info.get_uri(database=DEFAULT_DATABASE), source="embedded server")
    return DevDatabase(data_dir, running=True, pid=info.pid, url=url)


def start(data_dir: Path | None = None) -> tuple[DevDatabase, bool]:
    """Start the server (or find it running); (its state, whether this call started it)."""
    data_dir = data_dir or dev_data_dir()
    was_running = _postmaster(data_dir) is not None
    if not data_dir.parent.is_dir():
        data_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = start_server(data_dir, keep_running=True)
    except MigrationError:
        raise
    except Exception as exc:  # pgserver's own failures: initdb, pg_ctl, permissions
        raise MigrationError(f"cannot start the development database in {data_dir}: "
                             f"{type(exc).__name__}: {exc} (see {data_dir / 'log'})") from None
    # A marker tells embedded servers started later in this directory (alembic
    # without DATABASE_URL) not to stop this one when they exit.
    (data_dir / LASTING_MARKER).write_text("started by nakamura-db dev-db start\n", encoding="utf-8")
    url = ensure_database(server_url(server), DEFAULT_DATABASE)
    return DevDatabase(data_dir, running=True, pid=server.get_pid(), url=url), not was_running


def stop(data_dir: Path | None = None) -> bool:
    """Stop the server; False when it was not running."""
    data_dir = data_dir or dev_data_dir()
    if _postmaster(data_dir) is None:
        (data_dir / LASTING_MARKER).unlink(missing_ok=True)
        return False
    import subprocess

    from pgserver._commands import pg_ctl

    # pgserver runs the server as the "pgserver" system user when started by root.
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "stop"], pgdata=data_dir, user=user, timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise MigrationError(f"cannot stop the development database in {data_dir}: {exc}") from None
    (data_dir / LASTING_MARKER).unlink(missing_ok=True)
    return True
