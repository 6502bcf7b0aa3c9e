"""Test helpers: run the real commands, and take snapshots that prove "nothing changed"."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from nakamura_misaki_db.connect.urls import with_password

from . import warm_start

REPO = Path(__file__).resolve().parents[1]
ALEMBIC_INI = REPO / "alembic.ini"
# NAKAMURA_TEST_COLD_START=1: every command with a fresh interpreter, as before warm starts (to compare).
COLD_START = os.environ.get("NAKAMURA_TEST_COLD_START") == "1"


def admin_engine(server_url: URL) -> sa.Engine:
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def pg_bin(name: str) -> str:
    """A client program of the embedded server's release (the machine's own psql may be older)."""
    from . import servers

    try:
        return str(servers.bin_path() / name)
    except ImportError:  # external server: rely on PATH
        return name


def libpq_url(url: URL) -> str:
    return with_password(url.set(drivername="postgresql"))


def database_url_text(url: URL | str) -> str:
    """What DATABASE_URL holds for ``url``: a string as given (any form a user writes), a URL with its password."""
    return url if isinstance(url, str) else with_password(url)


def run(args: list[str], url: URL | str | None, *, env: dict[str, str] | None = None,
        cwd: Path | str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a command with DATABASE_URL set (unless ``url`` is None): a console script of ours or
    ``python -m alembic`` from a warm interpreter (tests/warm_start.py), anything else with exec."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url is not None:
        full_env["DATABASE_URL"] = database_url_text(url)
    full_env.update(env or {})
    if not COLD_START and warm_start.warmable(args, full_env):
        return warm_start.run(args, full_env, str(cwd or REPO), timeout)
    return subprocess.run(args, env=full_env, cwd=cwd or REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)


def alembic(url: URL | str | None, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), *args], url,
               env=env, timeout=timeout)


def execute_sql(url: URL, sql: str) -> None:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        eng.dispose()


def scalar(url: URL, sql: str, **params):
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        eng.dispose()


def rows(url: URL, sql: str, **params) -> list[tuple]:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        eng.dispose()


_DUMP_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\restrict.*|\\unrestrict.*)$")


def schema_dump(url: URL, *schemas: str) -> str:
    """``pg_dump --schema-only`` without comments and session settings."""
    args = [pg_bin("pg_dump"), "--schema-only", "--no-owner", "--no-privileges"]
    for s in schemas:
        args += ["--schema", s]
    out = subprocess.run([*args, libpq_url(url)], capture_output=True, text=True, check=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.strip() and not _DUMP_NOISE.match(ln)]
    return "\n".join(lines)


def row_checksums(url: URL) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every user table."""
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    result: dict[str, tuple[int, str]] = {}
    try:
        with eng.connect() as conn:
            tables = conn.execute(sa.text(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema')"
                " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2")).all()
            for schema, table in tables:
                count, digest = conn.execute(sa.text(
                    f'SELECT count(*), coalesce(md5(string_agg(t::text, \'|\' ORDER BY t::text)), \'\')'
                    f' FROM "{schema}"."{table}" t')).one()
                result[f"{schema}.{table}"] = (count, digest)
    finally:
        eng.dispose()
    return result


def fingerprint(url: URL) -> tuple[str, dict[str, tuple[int, str]]]:
    """Catalog plus data: equal fingerprints mean nothing changed."""
    return schema_dump(url), row_checksums(url)


def alembic_config(url: URL, script_location: Path | None = None):
    """The repository's alembic.ini, pointed at ``url`` (in-process runs).

    ``script_location``: another copy of ``alembic/`` (a temp versions dir with an extra revision).
    """
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["database_url"] = url
    # env.py would apply alembic.ini's logging to the whole test process (handlers bound
    # to pytest's captured stderr); the CLI tests check the log lines instead.
    cfg.attributes["configure_logger"] = False
    return cfg


def script_directory(script_location: Path | None = None):
    """The revisions as Alembic sees them: read from the scripts, never hard-coded in a test."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config(str(ALEMBIC_INI))
    if script_location is not None:
        cfg.set_main_option("script_location", str(script_location))
    return ScriptDirectory.from_config(cfg)


def revision_chain(script_location: Path | None = None) -> list[str]:
    """Every revision id, base first: 0001, 0002, ..."""
    return [r.revision for r in reversed(list(script_directory(script_location).walk_revisions()))]


def head_revision(script_location: Path | None = None) -> str:
    return revision_chain(script_location)[-1]


def next_revision_number(script_location: Path | None = None) -> str:
    """The guide's numbering rule (MIGRATION_GUIDE.md: four digits, one after the head), from the scripts."""
    return f"{int(head_revision(script_location)) + 1:04d}"


def copy_repository(dest: Path, *, sources: bool = False, tests: bool = False) -> Path:
    """A working copy of the repository's migration setup in ``dest`` (created).

    Always alembic.ini, alembic/ and pyproject.toml (the ruff rules the post-write
    hooks apply). ``sources``: src/ too, for a copy whose models change (run it with
    PYTHONPATH=<copy>/src so env.py imports them). ``tests``: tests/ too.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ALEMBIC_INI, dest / "alembic.ini")
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    shutil.copytree(REPO / "alembic", dest / "alembic", ignore=ignore)
    if sources:
        shutil.copytree(REPO / "src", dest / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    if tests:
        shutil.copytree(REPO / "tests", dest / "tests", ignore=ignore)
    return dest


def without_write_hooks(ini: Path) -> None:
    """Drop the [post_write_hooks] section: what the template alone writes (installed use has no hooks)."""
    text = ini.read_text(encoding="utf-8")
    start = text.index("[post_write_hooks]")
    end = text.index("\n[", start + 1)
    ini.write_text(text[:start] + text[end + 1:], encoding="utf-8")


WIDGET_MODEL = '''

class Widget{n}(Base):
    __tablename__ = "widgets{n}"
    __table_args__ = (
        sa.PrimaryKeyConstraint("widget_id", name="widgets{n}_pkey"),
        sa.Index("ix_widgets{n}_name", "name"),
    )

    widget_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid())
    name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[TaskStatus] = mapped_column(_enum_type(TaskStatus, "task_status"))
    created_at: Mapped[datetime] = mapped_column(TSTZ, server_default=sa.text("now()"))
'''


def change_models(copy: Path) -> str:
    """In a copy with sources: a new table (widgets) and a new task_status label (on_hold).

    Returns the suffix used: "" the first time, "2", "3", ... in a copy whose models
    already went through this (the revision-dependent tests run inside such a copy).
    """
    models = copy / "src" / "nakamura_misaki_db" / "schema" / "models.py"
    text = models.read_text(encoding="utf-8")
    marker = '    IN_PROGRESS = "in_progress"\n'
    assert marker in text, "models.py no longer has TaskStatus.IN_PROGRESS; update tests/helpers.change_models"
    n = next(s for s in ("", *map(str, range(2, 100))) if f'"widgets{s}"' not in text)
    label = f'    ON_HOLD{n} = "on_hold{n}"\n'
    models.write_text(text.replace(marker, marker + label, 1) + WIDGET_MODEL.format(n=n), encoding="utf-8")
    return n


def ruff(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=cwd or REPO, capture_output=True, text=True,
                          check=False, timeout=60)


def upgrade(url: URL, target: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), target)


def version_rows(url: URL) -> list[str] | None:
    if scalar(url, "SELECT to_regclass('public.alembic_version')") is None:
        return None
    return [r[0] for r in rows(url, "SELECT version_num FROM alembic_version")]


APP_TABLES = ("tasks", "conversations", "employees", "business_skills", "employee_skills",
              "slack_users", "handoffs")


def app_checksums(url: URL) -> dict[str, tuple[int, str]]:
    return {k: v for k, v in row_checksums(url).items() if k != "public.alembic_version"}


def dump_without_version(url: URL) -> str:
    """Schema dump minus alembic_version (a plain-SQL database has none)."""
    blocks = schema_dump(url, "public").split(";")
    return ";".join(b for b in blocks if "alembic_version" not in b)


def build_legacy(url: URL, state: str, *, rows: int | None = None, long_user_ids: bool = False,
                 duplicate_ratio: float | None = None, sql: str | None = None, **options) -> dict[str, int]:
    """Build a legacy state in ``url`` (fill it with ``rows`` rows, then run ``sql``) in one transaction;
    return the rows inserted per table."""
    from nakamura_misaki_db.legacy.sample_data import populate
    from nakamura_misaki_db.legacy.states import build_state

    inserted: dict[str, int] = {}
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            build_state(conn, state, **options)
            if rows:
                extra = {} if duplicate_ratio is None else {"duplicate_ratio": duplicate_ratio}
                inserted = populate(conn, state, rows=rows, long_user_ids=long_user_ids, **extra)
            if sql:
                # Straight to the driver: hand-written SQL may hold '%' or ':' in names.
                conn.connection.driver_connection.execute(sql)
    finally:
        eng.dispose()
    return inserted


build = build_legacy


@contextmanager
def connection(url: URL) -> Iterator[Connection]:
    """A SQLAlchemy connection to ``url`` (no pool), for calling the product's library API."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def plan_of(url: URL, legacy_timezone: str | None = None):
    """The plan ``baseline-bridge plan`` would print now (read-only transaction, rolled back)."""
    from nakamura_misaki_db.bridge.plan import read_only_plan

    with connection(url) as conn:
        return read_only_plan(conn, legacy_timezone=legacy_timezone)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def captured(main: Callable[[list[str]], int], argv: list[str]) -> Outcome:
    """``main(argv)``, a console script's entry point, with what it prints captured as a process's would be."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's --help, --version and usage errors end the process this way
            code = _exit_code(exc)
    return Outcome(code, out.getvalue(), err.getvalue())


def _with_url(args: tuple[str, ...], url: URL | None) -> list[str]:
    return [*args, *(["--database-url", with_password(url)] if url is not None else [])]


def bridge_cli(url: URL | None, *args: str) -> Outcome:
    """``baseline-bridge ARGS [--database-url URL]`` in this process (same entry point, no start-up cost)."""
    from nakamura_misaki_db.bridge.cli import main

    return captured(main, _with_url(args, url))


# The migration lock's key as the docs define it (the ASCII bytes "nakamisa", big-endian), written
# here rather than imported: a test that held the product's constant would pass with a wrong key.
MIGRATION_LOCK_KEY = int.from_bytes(b"nakamisa", "big")
LOCK_WAITERS_SQL = (
    # pg_locks shows a bigint advisory key as (classid = high 32 bits, objid = low 32 bits, objsubid = 1).
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    f" AND classid = {MIGRATION_LOCK_KEY >> 32} AND objid = {MIGRATION_LOCK_KEY & 0xFFFFFFFF} AND objsubid = 1"
)


class MigrationLockHolder:
    """Another migration run: a session holding the migration advisory lock (the key as the docs
    define it) until ``release()`` or the end of a ``with`` block."""

    def __init__(self, url: URL) -> None:
        self._engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        self._conn: Connection | None = self._engine.connect()
        self._conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            self._conn.close()
        finally:
            self._conn = None
            self._engine.dispose()

    def __enter__(self) -> MigrationLockHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def wait_until(predicate, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 0.1 s; fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


PHASE_ONE_INDEX = "uq_conversations_user_channel"
_CONVERSATION_COLUMNS = "conversation_id, user_id, channel_id, messages::text, created_at, updated_at, last_message_at"


def _conversations_everywhere(url: URL) -> tuple[int, str]:
    """Every conversation row, in place or archived by the bridge: count and an order-independent digest."""
    union = f"SELECT {_CONVERSATION_COLUMNS} FROM public.conversations"
    if scalar(url, "SELECT to_regclass('legacy_archive.conversations_duplicates')") is not None:
        union += f" UNION ALL SELECT {_CONVERSATION_COLUMNS} FROM legacy_archive.conversations_duplicates"
    count, digest = rows(url, f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                              f" FROM ({union}) t")[0]
    return int(count), str(digest)


def phase_one_snapshot(url: URL) -> tuple:
    """What ``assert_only_phase_one_happened`` compares with: take it before the bridge runs."""
    return schema_dump(url, "public"), row_checksums(url), _conversations_everywhere(url)


def assert_only_phase_one_happened(url: URL, snapshot: tuple) -> None:
    """The database is as the snapshot except for what the bridge's first phase commits on its own:
    duplicate conversations moved to legacy_archive.conversations_duplicates (every row still there,
    in place or archived) and, after a crash, the unique index it built (a rerun adopts it).
    Everything the second phase (the all-or-nothing transaction) does must be gone.
    """
    dump, checks, conversations = snapshot
    expected = "\n".join(line for line in dump.splitlines() if PHASE_ONE_INDEX not in line)
    actual = "\n".join(line for line in schema_dump(url, "public").splitlines() if PHASE_ONE_INDEX not in line)
    assert actual == expected, "the second phase left something behind in public"
    now = row_checksums(url)
    for table, value in checks.items():
        if table != "public.conversations":
            assert now.get(table) == value, f"{table} changed"
    extra = {t for t in now if t.startswith("legacy_archive.") and t not in checks}
    assert extra <= {"legacy_archive.conversations_duplicates"}, extra
    assert _conversations_everywhere(url) == conversations, "a conversation is neither in place nor archived"


@contextmanager
def failing_with(cause: type[BaseException]) -> Iterator[list[BaseException]]:
    """``apply_plan`` fails with ``cause``: raised as it is when nothing had been committed, or, when its first
    phase had committed, as the ``RunFailed`` it is wrapped in once the run has put that phase back. Yields a
    list that holds the exception raised."""
    from nakamura_misaki_db.bridge.restore import RunFailed

    caught: list[BaseException] = []
    try:
        yield caught
    except RunFailed as exc:
        caught.append(exc)
        assert isinstance(exc.__cause__, cause), exc
        assert exc.restored is not None and exc.restored.done, exc
        assert str(exc).endswith("Nothing was changed."), exc
    except cause as exc:
        caught.append(exc)
    else:
        raise AssertionError(f"{cause.__name__} was not raised")


def without_progress(stderr: str) -> list[str]:
    """stderr's lines minus the bridge's progress lines ("[n/m] ...", "-- ...", or with --json an event object)."""
    return [ln for ln in stderr.splitlines()
            if ln.strip() and not ln.startswith(("[", "-- ", '{"event": '))]


def init_db_cli(url: URL | None, *args: str) -> Outcome:
    """``nakamura-init-db ARGS --database-url URL`` in this process (same entry point, no start-up cost)."""
    from nakamura_misaki_db.deploy.init_db import main

    return captured(main, _with_url(args, url))


def deploy_in_process(url: URL | str | None, *args: str, env: dict[str, str | None] | None = None,
                      cwd: Path = REPO) -> Outcome:
    """``DATABASE_URL=URL [ENV...] nakamura-init-db ARGS`` in this process: the URL (any form, as the unit
    passes it) and the settings read from the environment, as the deploy's oneshot is started with them."""
    from nakamura_misaki_db.deploy.init_db import main

    return _with_environment(main, url, args, env, cwd)


def bridge_in_process(url: URL | str | None, *args: str, env: dict[str, str | None] | None = None,
                      cwd: Path = REPO) -> Outcome:
    """``DATABASE_URL=URL [ENV...] baseline-bridge ARGS`` in this process, as deploy_in_process."""
    from nakamura_misaki_db.bridge.cli import main

    return _with_environment(main, url, args, env, cwd)


def _with_environment(main: Callable[[list[str]], int], url: URL | str | None, args: tuple[str, ...],
                      env: dict[str, str | None] | None, cwd: Path) -> Outcome:
    database_url = None if url is None else database_url_text(url)
    with _as_a_command_would_run(cwd, {"DATABASE_URL": database_url, **(env or {})}):
        return captured(main, list(args))


@contextmanager
def _as_a_command_would_run(cwd: Path, environ: dict[str, str | None]) -> Iterator[None]:
    """The process state a console script would start with (working directory, environment), and the
    logging setup it leaves behind (alembic.ini's fileConfig replaces the root handlers) put back after."""
    import logging

    saved_env = {name: os.environ.get(name) for name in environ}
    saved_cwd = os.getcwd()
    loggers = [logging.getLogger(name) for name in ("", "alembic", "sqlalchemy", "sqlalchemy.engine")]
    saved_logging = [(lg, lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers]
    try:
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for lg, level, handlers, propagate, disabled in saved_logging:
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate, lg.disabled = propagate, disabled


def _exit_code(exc: SystemExit) -> int:
    """What a process ending with ``exc`` returns to its parent (``sys.exit(-1)`` is 255)."""
    if exc.code is None:
        return 0
    return exc.code % 256 if isinstance(exc.code, int) else 1


def alembic_in_process(copy: Path, url: URL | str | None, *args: str) -> Outcome:
    """``alembic -c <copy>/alembic.ini ARGS`` with DATABASE_URL set, run by alembic's own command line in
    this process: the copy's env.py and revisions, without a Python start per call. For tests whose
    point is what the migrations do, not the process (those use ``run``)."""
    import traceback

    import alembic.config

    class PrintingConfig(alembic.config.Config):
        # Config's stdout defaults to the sys.stdout of when alembic was imported: what `alembic check`
        # or `history` print would bypass the capture that a process's own stdout is.
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("stdout", sys.stdout)
            super().__init__(*args, **kwargs)

    def main(argv: list[str]) -> int:
        saved, alembic.config.Config = alembic.config.Config, PrintingConfig
        try:
            alembic.config.CommandLine(prog="alembic").main(argv=argv)
            return 0
        except SystemExit as exc:
            return _exit_code(exc)
        except Exception:  # what the interpreter would print before exiting 1
            traceback.print_exc()
            return 1
        finally:
            alembic.config.Config = saved

    database_url = None if url is None else database_url_text(url)
    with _as_a_command_would_run(copy, {"DATABASE_URL": database_url}):
        return captured(main, ["-c", str(copy / "alembic.ini"), *args])


def init_db_in_copy(copy: Path, url: URL) -> Outcome:
    """``nakamura-init-db`` deploying the chain of ``copy`` (a ``with_drafts`` copy), in this process: the
    installed code with the copy's migration scripts, as ``PYTHONPATH=<copy>/src nakamura-init-db`` runs."""
    from nakamura_misaki_db.schema import revisions

    saved = revisions.script_location
    revisions.script_location = lambda: copy / "alembic"
    try:
        with _as_a_command_would_run(copy, {"DATABASE_URL": None}):
            return init_db_cli(url)
    finally:
        revisions.script_location = saved


def db_cli(*args: str) -> Outcome:
    """``nakamura-db ARGS`` in this process (same entry point, no start-up cost)."""
    from nakamura_misaki_db.devtools.cli import main

    return captured(main, list(args))


def raw_sql(url: URL, sql: str) -> None:
    """Run ``sql`` exactly as written (autocommit, no placeholder processing: PL/pgSQL may hold '%')."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(sql.encode())


def as_role(url: URL, role: str) -> URL:
    """``url`` for another role (the embedded server trusts every login on its socket: no password)."""
    return url.set(username=role, password=None)


@contextmanager
def login_role(url: URL, role: str, *setup: str) -> Iterator[URL]:
    """A role made for one test (``CREATE ROLE ... LOGIN``), then ``setup`` run as the superuser; dropped
    afterwards with everything it owns or was granted. Yields a URL that connects as it."""
    raw_sql(url, f'DROP ROLE IF EXISTS "{role}"')
    raw_sql(url, f'CREATE ROLE "{role}" LOGIN')
    try:
        for sql in setup:
            raw_sql(url, sql)
        yield as_role(url, role)
    finally:
        # A role cannot be dropped while it owns or is granted anything in the test's database.
        raw_sql(url, f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
        raw_sql(url, f'DROP OWNED BY "{role}"')
        raw_sql(url, f'DROP ROLE IF EXISTS "{role}"')


def make_invalid_index(url: URL, create_sql: str) -> None:
    """Leave an INVALID index exactly as an interrupted ``CREATE INDEX CONCURRENTLY`` does: the build waits
    for an old snapshot (a REPEATABLE READ transaction of another session) and is cancelled."""
    import threading
    import time

    import psycopg

    conninfo = libpq_url(url)
    holder = psycopg.connect(conninfo)
    holder.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    holder.execute("SELECT 1")  # takes the snapshot the build must wait out
    builder = psycopg.connect(conninfo, autocommit=True)
    failed: list[str] = []

    def build_it() -> None:
        try:
            builder.execute(create_sql)
        except psycopg.Error as exc:
            failed.append(str(exc.sqlstate))

    thread = threading.Thread(target=build_it)
    thread.start()
    with psycopg.connect(conninfo, autocommit=True) as admin:
        deadline = time.monotonic() + 30
        while not admin.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                (builder.info.backend_pid,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the build never waited"
            time.sleep(0.05)
        admin.execute("SELECT pg_cancel_backend(%s)", (builder.info.backend_pid,))
    thread.join(30)
    holder.rollback()
    holder.close()
    builder.close()
    assert failed == ["57014"], failed  # query_canceled: the build stopped half-way


DRAFTS = REPO / "tests" / "drafts" / "safety"


def draft_files(name: str) -> list[Path]:
    """The draft(s) of ``name`` (``H03_drop_column``; S12 is a pair), in revision order."""
    files = sorted(DRAFTS.glob(f"{name}.py")) or sorted(DRAFTS.glob(f"{name}_0*.py"))
    assert files, f"no draft {name} in {DRAFTS}"
    return files


def with_drafts(dest: Path, *names: str, texts: dict[str, str] | None = None, sources: bool = False) -> Path:
    """A copy of the migration setup in ``dest`` whose chain is this release's plus the drafts, as the
    next revisions (renumbered from the scripts' head: the drafts say 0008 on top of 0007). ``texts``:
    draft name -> its text, to use instead of the file (a variant made by a test). ``sources``: src/ too
    (``nakamura-init-db`` run with PYTHONPATH=<copy>/src deploys the copy's chain). Returns the copy."""
    copy = copy_repository(dest, sources=sources)
    versions = copy / "alembic" / "versions"
    prev, number = head_revision(), int(next_revision_number())
    for name in names:
        for path in draft_files(name):
            text = (texts or {}).get(name) or path.read_text(encoding="utf-8")
            rev = f"{number:04d}"
            text = re.sub(r'^revision: str = "\d{4}"', f'revision: str = "{rev}"', text, flags=re.M)
            text = re.sub(r'^down_revision: str \| None = "\d{4}"', f'down_revision: str | None = "{prev}"', text,
                          flags=re.M)
            (versions / f"{rev}_{name.lower()}.py").write_text(text, encoding="utf-8")
            prev, number = rev, number + 1
    return copy
