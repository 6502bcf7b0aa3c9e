"""DATABASE_URL handling: accepted forms, bad input, unreachable servers, no password leaks."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.errors import BadInput
from nakamura_misaki_db.connect.urls import masked, parse_database_url, redact, with_password

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


# -- pure: the one resolver, the shown form, the SQLAlchemy form (expected values from README's URL table) --

def test_an_explicit_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from nakamura_misaki_db.connect.resolve import resolve_database_url

    monkeypatch.setenv("DATABASE_URL", "postgresql://env_user@envhost/envdb")
    url = resolve_database_url("postgresql://opt_user@opthost:6543/optdb")
    assert (url.username, url.host, url.port, url.database) == ("opt_user", "opthost", 6543, "optdb")
    # A bad explicit URL is named by the option it came from, not by DATABASE_URL (which is fine).
    with pytest.raises(BadInput, match=r"^--target-url is not a valid database URL"):
        resolve_database_url("nonsense", option="--target-url")


@pytest.mark.parametrize("value", ["postgresql://env_user@envhost/envdb", "  postgresql://env_user@envhost/envdb "])
def test_database_url_is_used_when_no_option_is_given(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from nakamura_misaki_db.connect.resolve import resolve_database_url

    monkeypatch.setenv("DATABASE_URL", value)
    url = resolve_database_url(None, announce=lambda text: pytest.fail(f"announced {text!r}"))
    assert (url.username, url.host, url.database) == ("env_user", "envhost", "envdb")
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/d")
    with pytest.raises(BadInput, match=r"^DATABASE_URL uses 'mysql', but only PostgreSQL is supported"):
        resolve_database_url(None)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_under_systemd_a_missing_database_url_is_an_error_not_the_embedded_server(
        monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    from nakamura_misaki_db.connect.resolve import resolve_database_url

    if value is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", value)
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    with pytest.raises(BadInput) as caught:
        resolve_database_url(None, announce=lambda text: pytest.fail(f"announced {text!r}"))
    assert str(caught.value) == (
        "DATABASE_URL is not set, and under systemd the embedded PostgreSQL is never used: set DATABASE_URL in "
        "the unit's environment (e.g. postgresql://USER:PASSWORD@HOST:5432/DBNAME)")


def test_every_parsable_url_given_or_in_the_environment_is_a_password_to_scrub(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nakamura_misaki_db.connect.urls import candidate_urls

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:envpw@h/d")
    found = candidate_urls("postgresql://u:optpw@h/d", None, "", "not a url")
    assert [u.password for u in found] == ["optpw", "envpw"]
    monkeypatch.delenv("DATABASE_URL")
    assert [u.password for u in candidate_urls("postgresql://u:optpw@h/d")] == ["optpw"]


@pytest.mark.parametrize(("raw", "shown"), [
    ("postgresql://app:pw@db.example:5433/nakamura?sslmode=require",
     "postgresql+psycopg://app:***@db.example:5433/nakamura?sslmode=require"),
    ("postgresql://app@db.example/nakamura", "postgresql+psycopg://app@db.example/nakamura"),
    ("postgresql://:pw@db.example/nakamura", "postgresql+psycopg://:***@db.example/nakamura"),
    ("postgresql://app:pw@[::1]:5432/nakamura", "postgresql+psycopg://app:***@[::1]:5432/nakamura"),
    ("postgresql://app@/nakamura?host=/run/postgresql", "postgresql+psycopg://app@/nakamura?host=%2Frun%2Fpostgresql"),
    ("postgresql://app@h1,h2/nakamura", "postgresql+psycopg://app@/nakamura?host=h1%2Ch2"),
    ("postgresql://us%40er:pw@h/na%2Fme", "postgresql+psycopg://us%40er:***@h/na%2Fme"),
    ("postgresql://app@h", "postgresql+psycopg://app@h/"),
    ("host=h user=app password=pw dbname=d", "postgresql+psycopg://app:***@h/d"),
])
def test_the_shown_form_keeps_everything_but_the_password(raw: str, shown: str) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse(raw)
    assert url.masked() == shown
    assert str(url) == shown and repr(url) == f"DatabaseUrl({shown!r})"


@pytest.mark.parametrize(("raw", "host", "port", "query"), [
    ("postgresql://app:pw@db.example:5433/nakamura?sslmode=require", "db.example", 5433, {"sslmode": "require"}),
    ("postgresql://app:pw@/nakamura?host=/run/postgresql", None, None, {"host": "/run/postgresql"}),
    ("postgresql://app:pw@h1,h2/nakamura", None, None, {"host": "h1,h2"}),
    ("postgresql+asyncpg://app:pw@h/nakamura?ssl=require&command_timeout=60", "h", None, {"sslmode": "require"}),
])
def test_the_sqlalchemy_form_is_the_same_target_on_psycopg(raw: str, host: str | None, port: int | None,
                                                            query: dict[str, str]) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse(raw).sqlalchemy_url()
    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.password, url.host, url.port, url.database) == ("app", "pw", host, port, "nakamura")
    assert dict(url.query) == query


def test_with_database_changes_only_the_database() -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse("postgresql://app:pw@h:5433/one?sslmode=require")
    other = url.with_database("two")
    assert other.params == {**url.params, "dbname": "two"} and url.database == "one"


def test_redaction_covers_the_raw_and_both_encoded_forms_longest_first() -> None:
    from nakamura_misaki_db.connect.urls import redact_secrets

    text = "a p w@/x b p%20w%40%2Fx c p+w%40%2Fx d pw"
    assert redact_secrets(text, ["p w@/x", "pw"]) == "a *** b *** c *** d ***"
    # The longer secret goes first, so a shorter one inside it cannot leave its tail behind.
    assert redact_secrets("token ab1", ["b", "ab1"]) == "token ***"  # ("b" sorts after "ab1": length decides)
    # A URL that is missing or does not parse does not stop the ones after it from being scrubbed.
    assert redact("pw1 pw2", None, "postgresql://u:pw1@h/d", "not a url", "postgresql://u:pw2@h/d") == "*** ***"
    assert redact("no password here", "postgresql://app@h/d", None, "not a url") == "no password here"


def test_several_hosts_keep_their_ports() -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse("postgresql://app:pw@h1:5432,h2:5433/nakamura")
    assert url.masked() == "postgresql+psycopg://app:***@/nakamura?host=h1%2Ch2&port=5432%2C5433"
    assert dict(url.sqlalchemy_url().query) == {"host": "h1,h2", "port": "5432,5433"}


def test_a_multi_host_url_reaches_the_server(db_url: URL) -> None:
    # libpq's failover form (the same server twice here): parsed, shown and connected without losing a port.
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.urls import DatabaseUrl

    one = DatabaseUrl.of(db_url)
    params = {**one.params, "host": f"{one.host},{one.host}"}
    if one.params.get("port"):
        params["port"] = f"{one.params['port']},{one.params['port']}"
    twice = DatabaseUrl(params)
    assert "***" in twice.masked() or twice.password is None
    engine = sa.create_engine(twice.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar() == one.database
    engine.dispose()


def test_sqlalchemys_multihost_form_tries_the_first_host_too(db_url: URL) -> None:
    # ?host=LIVE&host=DEAD in SQLAlchemy's form: libpq alone would keep only DEAD and fail; rewritten, it tries
    # LIVE first and connects. LIVE is this test server (a socket directory or a name, with its port).
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.urls import DatabaseUrl

    one = DatabaseUrl.of(db_url)
    port = one.params.get("port", "5432")
    live, dead = f"{one.host}:{port}", f"/nonexistent-nakamura-socket-dir:{port}"
    raw = (f"postgresql+asyncpg://{quote(one.username or '', safe='')}:{quote(one.password or '', safe='')}@/"
           f"{one.database}?host={quote(live, safe='/:')}&host={quote(dead, safe='/:')}")
    url = DatabaseUrl.parse(raw)
    assert (url.host, url.params["port"]) == (f"{one.host},/nonexistent-nakamura-socket-dir", f"{port},{port}")
    engine = sa.create_engine(url.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar() == one.database
    engine.dispose()


def test_url_from_env_reads_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from nakamura_misaki_db.connect.urls import url_from_env

    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://tester@testhost/testdb")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert url_from_env("TEST_DATABASE_URL").host == "testhost"
    assert url_from_env() is None
    monkeypatch.setenv("DATABASE_URL", "   ")
    assert url_from_env() is None
    monkeypatch.setenv("TEST_DATABASE_URL", "nonsense")
    with pytest.raises(BadInput, match=r"^TEST_DATABASE_URL is not a valid database URL"):
        url_from_env("TEST_DATABASE_URL")


def test_a_sqlalchemy_url_with_a_space_in_a_query_value_keeps_it(db_url: URL) -> None:
    # SQLAlchemy renders the space as '+', which libpq would read literally ("+statement_timeout").
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.of(db_url.set(query={**db_url.query, "options": "-c statement_timeout=1234"}))
    assert url.params["options"] == "-c statement_timeout=1234"
    engine = sa.create_engine(url.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "1234ms"
    engine.dispose()


def test_masked_never_echoes_what_it_cannot_parse() -> None:
    assert masked("mysql://root:hunter2@db/x") == "<unparseable URL>"
    assert masked("postgresql://app:hunter2@db/x") == "postgresql+psycopg://app:***@db/x"


def test_a_url_without_a_host_and_the_compatibility_parser() -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse("postgresql:///nakamura").sqlalchemy_url()
    assert (url.host, url.database, dict(url.query)) == (None, "nakamura", {})
    assert parse_database_url("postgresql://app:pw@h/d").drivername == "postgresql+psycopg"
    with pytest.raises(BadInput, match=r"^DATABASE_URL is not a valid database URL"):
        parse_database_url("nonsense")


def test_without_any_url_the_embedded_server_is_used_and_announced(
        tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # README: no DATABASE_URL and no option -> the embedded PostgreSQL, said in one line on stderr.
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.resolve import resolve_database_url

    data_dir = tmp_path / "embedded"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.setenv("NAKAMURA_DB_EMBEDDED_DIR", str(data_dir))
    said: list[str] = []
    try:
        url = resolve_database_url(None, announce=said.append)
        assert said == [f"DATABASE_URL is not set: using the embedded PostgreSQL in {data_dir}"]
        assert capsys.readouterr().err == ""
        engine = sa.create_engine(url.sqlalchemy_url(), poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == url.database == "nakamura_misaki"
        engine.dispose()
        # Without a callback the same line goes to stderr (the server is already running: no second start).
        assert resolve_database_url(None) == url
        assert capsys.readouterr().err == f"DATABASE_URL is not set: using the embedded PostgreSQL in {data_dir}\n"
    finally:
        # Stopped here, not at process exit: a process that ends without atexit (a forked mutation run) would
        # leave the server running.
        from nakamura_misaki_db.connect import embedded

        server = embedded._servers.pop(data_dir.resolve(), None)
        if server is not None:
            server.cleanup()


def test_a_bad_url_given_as_the_option_is_named_as_the_option() -> None:
    from nakamura_misaki_db.connect.resolve import resolve_database_url

    with pytest.raises(BadInput, match=r"^--database-url is not a valid database URL"):
        resolve_database_url("nonsense")


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql:///nakamura", "postgresql+psycopg:///nakamura"),  # no host: libpq's default socket
    ("postgresql://db.example/nakamura", "postgresql+psycopg://db.example/nakamura"),  # no user, no userinfo
    ("postgresql://a%2Fb:secret@h/d", "postgresql+psycopg://a%2Fb:***@h/d"),  # a '/' in the user stays encoded
    ("port=5433 dbname=d", "postgresql+psycopg://:5433/d"),  # a port without a host: libpq's default socket
])
def test_masked_forms_without_host_or_user_and_with_a_slash_in_the_user(url: str, shown: str) -> None:
    assert masked(url) == shown


EXAMPLE_URL = "postgresql://USER:PASSWORD@HOST:5432/DBNAME"  # README's form, quoted in every refusal


@pytest.mark.parametrize(("given", "why"), [
    ("postgresql://u:pw@h:abc/d", "is not a valid database URL (its port is not a number); expected a URL like "
                                  f"{EXAMPLE_URL}"),
    ("host=h port=54x2 dbname=d", "is not a valid database URL (its port is not a number); expected a URL like "
                                  f"{EXAMPLE_URL}"),
    ("host=u@h dbname=d", f"has an '@' inside the user or password: percent-encode it as %40 (expected a URL like "
                          f"{EXAMPLE_URL})"),
    ("postgresql://u:p@ss@h/d", f"has an '@' inside the user or password: percent-encode it as %40 (expected a URL "
                                f"like {EXAMPLE_URL})"),
    ("postgresql://u:pw@h/d?nonsense_param=1", "is not a valid database URL (parameter 'nonsense_param' is not "
                                               f"valid here); expected a URL like {EXAMPLE_URL}"),
    ("host=h bogus=1", f"is not a valid database URL (option 'bogus' is not valid here); expected a URL like "
                       f"{EXAMPLE_URL}"),
    # libpq names no parameter: nothing in parentheses.
    ("postgresql://u:pw@h/d%zz", f"is not a valid database URL; expected a URL like {EXAMPLE_URL}"),
    # An '@' in the user too: said as such, before libpq reads the rest as a port.
    ("postgresql://u@x:p@ss@h/d", f"has an '@' inside the user or password: percent-encode it as %40 (expected a "
                                  f"URL like {EXAMPLE_URL})"),
    ("mysql+pymysql://u:pw@h/d", f"uses 'mysql', but only PostgreSQL is supported; expected a URL like {EXAMPLE_URL}"),
    ("", f"is empty; expected a URL like {EXAMPLE_URL}"),
    ("   ", f"is empty; expected a URL like {EXAMPLE_URL}"),
])
def test_each_malformed_url_is_refused_with_its_reason_and_never_its_secret(given: str, why: str) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    with pytest.raises(BadInput) as err:
        DatabaseUrl.parse(given)
    assert str(err.value) == f"DATABASE_URL {why}"
    assert "pw" not in str(err.value) and "p@ss" not in str(err.value)


def test_asyncpg_ssl_becomes_sslmode_unless_sslmode_is_given_and_empty_parts_are_skipped() -> None:
    assert masked("postgresql://u:pw@h/d?ssl=require") == "postgresql+psycopg://u:***@h/d?sslmode=require"
    assert masked("postgresql://u:pw@h/d?&sslmode=verify-full&ssl=true") == (
        "postgresql+psycopg://u:***@h/d?sslmode=verify-full")


def test_with_password_of_a_sqlalchemy_url_keeps_the_password_for_a_child_process() -> None:
    import sqlalchemy as sa

    assert with_password(sa.engine.make_url("postgresql+psycopg://u:s3cret@h/d")) == (
        "postgresql+psycopg://u:s3cret@h/d")
    # Ours too, in the SQLAlchemy form a child alembic reads, password and all.
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    assert with_password(DatabaseUrl.parse("postgres://u:s3cret@h:5433/d")) == "postgresql+psycopg://u:s3cret@h:5433/d"


# -- the query string: what libpq is given ------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "params"), [
    # A '?' inside a value is part of the value: only the first one starts the query.
    ("postgresql://u@h/d?application_name=why?not", {"application_name": "why?not"}),
    # asyncpg's own parameters are dropped wherever they stand; what follows them is kept.
    ("postgresql+asyncpg://u@h/d?command_timeout=60&application_name=bot&statement_cache_size=0&sslmode=require",
     {"application_name": "bot", "sslmode": "require"}),
    # ?ssl= yields to an explicit sslmode wherever it stands; what follows it is kept.
    ("postgresql+asyncpg://u@h/d?ssl=true&application_name=bot&sslmode=verify-full",
     {"application_name": "bot", "sslmode": "verify-full"}),
    # Nothing left after the dropped ones: no query at all, the database name as it was.
    ("postgresql+asyncpg://u@h/d?command_timeout=60", {}),
])
def test_query_parameters_are_read_one_by_one(raw: str, params: dict[str, str]) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    assert DatabaseUrl.parse(raw).params == {"user": "u", "host": "h", "dbname": "d", **params}


@pytest.mark.parametrize(("raw", "host", "port"), [
    # SQLAlchemy's multihost form (the application's asyncpg URL may use it): libpq would keep only the
    # last host=, so it is rewritten to libpq's own lists, the same hosts in the same order.
    ("postgresql+asyncpg://u:pw@/d?host=db1:5432&host=db2:5433", "db1,db2", "5432,5433"),
    ("postgresql+psycopg://u:pw@/d?host=db1&host=db2&port=5432,5433", "db1,db2", "5432,5433"),
    ("postgresql://u:pw@/d?host=db1:5432&host=db2", "db1,db2", "5432,"),
    ("postgresql://u:pw@/d?host=%2Frun%2Fa&host=/run/b", "/run/a,/run/b", None),
    # One host with its port, SQLAlchemy's spelling of ?host=db1&port=5433.
    ("postgresql://u:pw@/d?host=db1:5433", "db1", "5433"),
    ("postgresql://u:pw@/d?host=db1%3A5433", "db1", "5433"),
    # A socket directory or a plain name is one host, as before.
    ("postgresql://u:pw@/d?host=/run/postgresql", "/run/postgresql", None),
    ("postgresql://u:pw@/d?host=db1&port=5433", "db1", "5433"),
    ("postgresql://u:pw@/d?host=::1", "::1", None),  # an IPv6 address is not a host:port pair
])
def test_sqlalchemys_multihost_form_becomes_libpqs_host_and_port_lists(raw: str, host: str, port: str | None) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    url = DatabaseUrl.parse(raw)
    assert (url.params.get("host"), url.params.get("port"), url.database, url.password) == (host, port, "d", "pw")


def test_the_two_multihost_forms_mixed_are_refused() -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    with pytest.raises(BadInput) as err:
        DatabaseUrl.parse("postgresql://u:pw@/d?host=db1:5432&host=db2&port=5433")
    assert str(err.value) == ("DATABASE_URL mixes the two multihost forms: use host=h1:p1&host=h2:p2 or "
                              "host=h1,h2&port=p1,p2 (expected a URL like postgresql://USER:PASSWORD@HOST:5432/DBNAME)")


def test_a_sqlalchemy_url_keeps_every_host_and_is_named_url_in_errors() -> None:
    import sqlalchemy as sa

    from nakamura_misaki_db.connect.urls import DatabaseUrl

    multi = DatabaseUrl.of(sa.engine.make_url("postgresql+asyncpg://u:p w@/d?host=db1:5432&host=db2:5433"))
    assert multi.params == {"user": "u", "password": "p w", "dbname": "d", "host": "db1,db2", "port": "5432,5433"}
    plain = DatabaseUrl.of(sa.engine.URL.create("postgresql", username="u", password="pw", host="h", database="d"))
    assert plain.params == {"user": "u", "password": "pw", "host": "h", "dbname": "d"}
    with pytest.raises(BadInput) as err:
        DatabaseUrl.of(sa.engine.URL.create("mysql", username="u", password="pw", host="h", database="d"))
    assert str(err.value) == ("URL uses 'mysql', but only PostgreSQL is supported; expected a URL like "
                              "postgresql://USER:PASSWORD@HOST:5432/DBNAME")


@pytest.mark.parametrize(("raw", "params"), [
    # Only the user info is checked for a stray '@': a database name or a query value may hold one.
    ("postgresql://app:pw@h/team@eu", {"dbname": "team@eu"}),
    ("postgresql://app:pw@h/ops@eu/main", {"dbname": "ops@eu/main"}),
    ("postgresql://app:pw@h?application_name=me@home?yes", {"application_name": "me@home?yes"}),
])
def test_an_at_sign_outside_the_user_info_is_not_a_mistake(raw: str, params: dict[str, str]) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl

    assert DatabaseUrl.parse(raw).params == {"user": "app", "password": "pw", "host": "h", **params}
