"""Connections: one pinned session setup for every command, and errors a user can act on.

Every connection any command opens runs with ``search_path = public``, no
``statement_timeout`` and ``row_security = off``, set in the startup packet so
they win over role- and database-level settings (``ALTER ROLE ... SET
search_path``): a schema named after the role must not receive our tables, a
role's short statement timeout must not cancel a migration half-way (lock
waits are bounded by ``lock_timeout`` instead), and a row level security
policy that would hide rows from the role makes a query fail instead of
silently reading fewer rows (what ``pg_dump`` does: a hidden row is an error,
never a zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from nakamura_misaki_db.connect.errors import ConnectionFailed
from nakamura_misaki_db.connect.urls import DatabaseUrl, redact

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy.engine import URL, Connection, Engine

CONNECT_TIMEOUT_S = 10
APPLICATION_NAME = "nakamura-db"
TARGET_SCHEMA = "public"
SESSION_OPTIONS = f"-c search_path={TARGET_SCHEMA} -c statement_timeout=0 -c row_security=off"


def connect_kwargs(url: DatabaseUrl) -> dict[str, Any]:
    """psycopg.connect() arguments for ``url`` with the pinned session settings."""
    options = " ".join(x for x in (url.params.get("options", ""), SESSION_OPTIONS) if x)
    extra: dict[str, Any] = {"options": options}
    extra.setdefault("connect_timeout", url.params.get("connect_timeout") or CONNECT_TIMEOUT_S)
    extra.setdefault("application_name", url.params.get("application_name") or APPLICATION_NAME)
    return {"conninfo": url.conninfo(), **extra}


def psycopg_connect(url: DatabaseUrl, **kwargs: Any) -> psycopg.Connection:
    """A plain psycopg connection (the light path: no SQLAlchemy), errors made readable."""
    import psycopg

    try:
        return psycopg.connect(**connect_kwargs(url), **kwargs)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(describe_connect_error(exc, url)) from None


def make_engine(url: DatabaseUrl | URL) -> Engine:
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    target = DatabaseUrl.of(url)

    def creator() -> Any:
        import psycopg

        return psycopg.connect(**connect_kwargs(target))

    # NullPool: every command is a short-lived process; pooling only keeps
    # sessions (and their advisory locks) alive longer than intended.
    return sa.create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool)


def describe_connect_error(exc: BaseException, url: DatabaseUrl) -> str:
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
    return redact(f"cannot connect to {url.masked()}: {first}", url)


@contextmanager
def connect(url: DatabaseUrl | URL, engine: Engine | None = None) -> Iterator[Connection]:
    """A SQLAlchemy connection, turning driver errors into one readable ``ConnectionFailed`` line."""
    import sqlalchemy as sa

    target = DatabaseUrl.of(url)
    engine = engine or make_engine(target)
    try:
        conn = engine.connect()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise ConnectionFailed(describe_connect_error(exc, target)) from None
    try:
        yield conn
    finally:
        conn.close()
        engine.dispose()


def run_sql(conn: Connection, statement: str) -> int:
    """Execute one statement exactly as written; return its row count.

    Straight to the driver with no parameters, so neither ``:name`` nor ``%``
    is read as a placeholder (names and labels may contain both).
    """
    import psycopg
    import sqlalchemy as sa

    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(statement)
        return cursor.rowcount
    except psycopg.Error as exc:
        # The same exception SQLAlchemy would raise, so callers handle one family of errors.
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from None
    finally:
        cursor.close()


def describe_sql_error(exc: BaseException, *urls: DatabaseUrl | URL | None) -> str:
    """One line for a database error, with the server's hint and what to do when we know it."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    hint = getattr(diag, "message_hint", None)
    text = f"database error: {primary}" + (f" ({hint})" if hint else "")
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == "42501":  # insufficient_privilege
        if "row-level security" in primary:
            text += (". Row level security would hide rows of that table from this role, and every session of "
                     "these tools runs with row_security = off so that a hidden row is an error, never a silent "
                     "zero. Use a role with BYPASSRLS, or the table's owner when the table does not FORCE row "
                     "level security. Nothing was changed.")
        elif "extension" in primary:
            text += (". A superuser must create it once: CREATE EXTENSION vector; then retry. "
                     "Nothing was changed.")
        else:
            text += (". The migration role needs CREATE on schema public (GRANT CREATE ON SCHEMA public TO "
                     "<role>) or must own the application's tables. Nothing was changed.")
    elif sqlstate == "57014":  # query_canceled: statement_timeout set somewhere we do not pin
        text += (". A statement_timeout cancelled it; the transaction was rolled back, nothing was changed. "
                 "Unset it for the migration role (ALTER ROLE ... RESET statement_timeout) and retry.")
    return redact(text, *urls)
