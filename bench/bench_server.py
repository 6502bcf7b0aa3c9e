"""The server a benchmark runs on: BENCH_DATABASE_URL if set, else an embedded PostgreSQL 16 of its own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import parse_database_url, with_password


@contextmanager
def server() -> Iterator[URL]:
    external = os.environ.get("BENCH_DATABASE_URL")
    if external:
        yield parse_database_url(external, source="BENCH_DATABASE_URL")
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="nakamura-bench-") as tmp:
        srv = pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        try:
            yield parse_database_url(srv.get_uri(), source="embedded")
        finally:
            srv.cleanup()


def libpq(url: URL) -> str:
    """The URL as libpq takes it (psycopg.connect, DATABASE_URL of a child process). Never print this."""
    return with_password(url.set(drivername="postgresql"))
