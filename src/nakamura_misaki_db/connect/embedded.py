"""The embedded PostgreSQL 16 + pgvector (pgserver) used when no DATABASE_URL is set."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from nakamura_misaki_db.connect.errors import BadInput
from nakamura_misaki_db.connect.urls import DatabaseUrl

DATA_DIR_ENV = "NAKAMURA_DB_EMBEDDED_DIR"
DEFAULT_DATABASE = "nakamura_misaki"
INSTALL_HINT = "pip install 'nakamura-misaki-db[embedded]'"
# Written by `nakamura-db dev-db start` into the data dir of a server meant to outlast its commands.
LASTING_MARKER = ".nakamura-dev-db"


def default_data_dir() -> Path:
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "nakamura-misaki-db" / "pgdata"


def _ensure_runtime_dir() -> None:
    """Give pgserver a runtime directory of our own when the session has none.

    pgserver keeps its lock file and socket fallback in the user's runtime
    directory, which systemd units and CI do not have; platformdirs then warns
    on every start. A private, user-only directory under the temp dir is what
    it falls back to anyway, so name it ourselves and stay silent.
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    path = Path(tempfile.gettempdir()) / f"nakamura-db-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    # The directory may already exist with a wider mode (an earlier tool, a
    # parents=True mkdir under the umask); platformdirs would warn and ignore it.
    info = path.stat()
    if info.st_uid != os.getuid():
        # Someone else's directory under our name: never use it, take a fresh private one.
        path = Path(tempfile.mkdtemp(prefix=f"nakamura-db-runtime-{os.getuid()}-"))
    elif info.st_mode & 0o777 != 0o700:
        path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)


def import_pgserver() -> Any:
    _ensure_runtime_dir()
    try:
        import pgserver
    except ImportError:
        raise BadInput(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            f"set DATABASE_URL or run {INSTALL_HINT}"
        ) from None
    return pgserver


def start_server(data_dir: Path, *, keep_running: bool = False) -> Any:
    """Start (or reuse) a pgserver instance in ``data_dir``."""
    pgserver = import_pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / LASTING_MARKER).is_file():
        # `nakamura-db dev-db start` runs this server for others to share: pgserver
        # would stop it when this process, its last handle, exits.
        keep_running = True
    return pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")


def server_url(server: Any) -> DatabaseUrl:
    return DatabaseUrl.parse(server.get_uri(), source="embedded server")


def ensure_database(url: DatabaseUrl, name: str) -> DatabaseUrl:
    """Create database ``name`` on the server of ``url`` if it is missing; return its URL."""
    from nakamura_misaki_db.connect.connection import psycopg_connect
    from nakamura_misaki_db.schema.quoting import ident

    with psycopg_connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {ident(name)}")
    return url.with_database(name)


# Held for the life of the process: pgserver stops the server when the last
# handle in any process goes away.
_servers: dict[Path, Any] = {}


def embedded_database_url(data_dir: Path | None = None, database: str = DEFAULT_DATABASE) -> DatabaseUrl:
    data_dir = (data_dir or default_data_dir()).resolve()
    server = _servers.get(data_dir)
    if server is None:
        server = start_server(data_dir)
        _servers[data_dir] = server
    return ensure_database(server_url(server), database)
