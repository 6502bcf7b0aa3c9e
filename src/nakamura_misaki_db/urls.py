"""Database URLs: accept the forms the deploy uses, speak psycopg 3, never show a password."""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .errors import BadInput

# The application itself connects with asyncpg; migrations always use psycopg 3,
# so every accepted spelling is rewritten to the same driver.
ACCEPTED_DRIVERS = frozenset(
    {
        "postgresql",
        "postgres",
        "postgresql+psycopg",
        "postgresql+asyncpg",
        "postgresql+psycopg2",
    }
)
MIGRATION_DRIVER = "postgresql+psycopg"
EXAMPLE = "postgresql://USER:PASSWORD@HOST:5432/DBNAME"


def parse_database_url(raw: str, *, source: str = "DATABASE_URL") -> URL:
    """Return a psycopg URL for ``raw`` or raise ``BadInput`` (without echoing ``raw``).

    ``raw`` is never echoed: a malformed URL may still contain a password.
    """
    text = (raw or "").strip()
    if not text:
        raise BadInput(f"{source} is empty; expected a URL like {EXAMPLE}")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise BadInput(
            f"{source} is not a valid database URL; expected a URL like {EXAMPLE}"
        ) from None
    if url.drivername not in ACCEPTED_DRIVERS:
        scheme = url.drivername.split("+")[0]
        raise BadInput(
            f"{source} uses '{scheme}', but only PostgreSQL is supported; "
            f"expected a URL like {EXAMPLE}"
        )
    query = dict(url.query)
    # asyncpg spells TLS as ?ssl=...; libpq (psycopg) calls it sslmode.
    if "ssl" in query and "sslmode" not in query:
        query["sslmode"] = query.pop("ssl")
    query.pop("prepared_statement_cache_size", None)
    return url.set(drivername=MIGRATION_DRIVER, query=query)


def url_from_env(var: str = "DATABASE_URL") -> URL | None:
    raw = os.environ.get(var)
    if raw is None or not raw.strip():
        return None
    return parse_database_url(raw, source=var)


def masked(url: URL | str) -> str:
    """The URL as it may be shown: password replaced by ``***``."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def with_password(url: URL) -> str:
    """The URL as a string a child process can use. Never print this."""
    return url.render_as_string(hide_password=False)


def redact(text: str, *urls: URL | None) -> str:
    """Remove every password of ``urls`` from ``text`` (driver messages can echo DSNs)."""
    for url in urls:
        if url is None or not url.password:
            continue
        password = str(url.password)
        text = text.replace(password, "***")
        text = text.replace(url.render_as_string(hide_password=False), masked(url))
    return text
