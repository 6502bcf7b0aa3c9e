"""Engines and connections with errors a user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from .errors import ConnectionFailed
from .urls import masked, redact

CONNECT_TIMEOUT_S = 10


def make_engine(url: URL) -> Engine:
    # NullPool: every command is a short-lived process; pooling only keeps
    # sessions (and their advisory locks) alive longer than intended.
    return sa.create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "nakamura-db"},
    )


def describe_connect_error(exc: BaseException, url: URL) -> str:
    """One line that says why connecting failed, with no password in it."""
    orig = getattr(exc, "orig", None) or exc
    detail = str(orig).strip().splitlines()
    first = next((line for line in detail if line.strip()), type(orig).__name__)
    lowered = str(orig).lower()
    if "password authentication failed" in lowered:
        first = "password authentication failed (check the user and password)"
    elif "does not exist" in lowered and "database" in lowered:
        first = f'database "{url.database}" does not exist (create it first)'
    elif "could not translate host name" in lowered or "name or service not known" in lowered:
        first = f'unknown host "{url.host}"'
    elif "connection refused" in lowered:
        first = "connection refused (is PostgreSQL running and listening on that port?)"
    elif "timeout expired" in lowered:
        first = f"no answer within {CONNECT_TIMEOUT_S}s"
    return redact(f"cannot connect to {masked(url)}: {first}", url)


@contextmanager
def connect(url: URL, engine: Engine | None = None) -> Iterator[Connection]:
    """Connect, turning driver errors into one readable ``ConnectionFailed`` line."""
    engine = engine or make_engine(url)
    try:
        conn = engine.connect()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise ConnectionFailed(describe_connect_error(exc, url)) from None
    try:
        yield conn
    finally:
        conn.close()
        engine.dispose()


def describe_sql_error(exc: BaseException, *urls: URL | None) -> str:
    """One line for a database error, with the server's hint and what to do when we know it."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    hint = getattr(diag, "message_hint", None)
    text = f"database error: {primary}" + (f" ({hint})" if hint else "")
    if getattr(orig, "sqlstate", None) == "42501":  # insufficient_privilege
        if "extension" in primary:
            text += (". A superuser must create it once: CREATE EXTENSION vector; then retry. "
                     "Nothing was changed.")
        else:
            text += (". The migration role needs CREATE on schema public (GRANT CREATE ON SCHEMA public TO "
                     "<role>) or must own the application's tables. Nothing was changed.")
    return redact(text, *urls)
