"""The embedded PostgreSQL 16 + pgvector (pgserver) used when no DATABASE_URL is set."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .errors import BadInput
from .urls import parse_database_url

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


def start_server(data_dir: Path, *, keep_running: bool = False):
    """Start (or reuse) a pgserver instance in ``data_dir``."""
    try:
        import pgserver
    except ImportError:
        raise BadInput(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            f"set DATABASE_URL or run {INSTALL_HINT}"
        ) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / LASTING_MARKER).is_file():
        # `nakamura-db dev-db start` runs this server for others to share: pgserver
        # would stop it when this process, its last handle, exits.
        keep_running = True
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (systemd units, CI); pgserver copes.
        warnings.simplefilter("ignore")
        return pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")


def ensure_database(server_url: URL, name: str) -> URL:
    """Create database ``name`` on the server if it is missing; return its URL."""
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return server_url.set(database=name)


# Held for the life of the process: pgserver stops the server when the last
# handle in any process goes away.
_servers: dict[Path, object] = {}


def embedded_database_url(data_dir: Path | None = None, database: str = DEFAULT_DATABASE) -> URL:
    data_dir = (data_dir or default_data_dir()).resolve()
    server = _servers.get(data_dir)
    if server is None:
        server = start_server(data_dir)
        _servers[data_dir] = server
    server_url = parse_database_url(server.get_uri(), source="embedded server")
    return ensure_database(server_url, database)
