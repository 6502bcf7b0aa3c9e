"""DATABASE_URL handling: accepted forms, bad input, unreachable servers, no password leaks."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.errors import BadInput
from nakamura_misaki_db.urls import masked, parse_database_url, redact, with_password

from .helpers import alembic, version_rows

SECRET = "s3cr3t-Marker-7731"


def test_each_accepted_form_becomes_psycopg() -> None:
    for raw in (
        f"postgresql://app:{SECRET}@db.example:5432/nakamura_misaki",
        f"postgres://app:{SECRET}@db.example:5432/nakamura_misaki",
        f"postgresql+psycopg://app:{SECRET}@db.example:5432/nakamura_misaki",
        f"postgresql+asyncpg://app:{SECRET}@db.example:5432/nakamura_misaki",
    ):
        url = parse_database_url(raw)
        assert url.drivername == "postgresql+psycopg"
        assert (url.host, url.port, url.database, url.username) == (
            "db.example", 5432, "nakamura_misaki", "app")
        assert SECRET not in masked(url)


def test_asyncpg_ssl_parameter_becomes_sslmode() -> None:
    url = parse_database_url("postgresql+asyncpg://app@db/x?ssl=require")
    assert dict(url.query) == {"sslmode": "require"}


@pytest.mark.parametrize("raw", ["not a url", f"://app:{SECRET}@", ""])
def test_malformed_url_is_bad_input_without_echo(raw: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_database_url(raw)
    assert SECRET not in str(err.value)
    assert "postgresql://" in str(err.value)


def test_non_postgres_url_is_bad_input() -> None:
    with pytest.raises(BadInput, match="only PostgreSQL"):
        parse_database_url("sqlite:///x.db")


def test_redact_removes_password_everywhere() -> None:
    url = parse_database_url(f"postgresql://app:{SECRET}@h/d")
    text = f"failed for {with_password(url)} with password {SECRET}"
    assert SECRET not in redact(text, url)


def _with_secret(url: URL) -> URL:
    # Local trust auth ignores the password, so the marker rides along harmlessly.
    return url.set(password=SECRET)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg",
                                    "postgresql+asyncpg"])
def test_alembic_upgrade_works_with_each_form(db_url: URL, scheme: str) -> None:
    url = _with_secret(db_url).set(drivername=scheme)
    result = alembic(url.render_as_string(hide_password=False), "upgrade", "0001")
    assert result.returncode == 0, result.stderr
    assert version_rows(db_url) == ["0001"]
    assert SECRET not in result.stdout + result.stderr


def test_malformed_url_fails_in_one_clear_line() -> None:
    result = alembic(f"postgresql://app:{SECRET}@host:notaport/db", "upgrade", "head")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert SECRET not in out
    assert "Traceback" not in out
    failed = [ln for ln in out.splitlines() if ln.startswith("FAILED:")]
    assert len(failed) == 1 and "DATABASE_URL" in failed[0]


def test_unreachable_server_fails_in_one_clear_line() -> None:
    result = alembic(f"postgresql://app:{SECRET}@127.0.0.1:1/db", "upgrade", "head")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert SECRET not in out
    assert "Traceback" not in out
    failed = [ln for ln in out.splitlines() if ln.startswith("FAILED:")]
    assert len(failed) == 1
    assert "cannot connect to postgresql+psycopg://app:***@127.0.0.1:1/db" in failed[0]
    assert "connection refused" in failed[0]
