"""Bad input and secrets: every failure is one clear line, the documented exit code, no traceback
(unless --debug), nothing changed, and the password is never shown.

Each unusable URL goes to ``baseline-bridge status`` and the plain ``alembic`` CLI as
real processes (the other commands take it in this process, below); ``--database-url``,
``--debug`` and the secrets of a whole journey run through the real console scripts
(``baseline-bridge``, ``nakamura-init-db``) and ``alembic``: there, what the
interpreter, a library's warning or a log handler might print is part of what is
checked. Plan files, time zones, durations and missing privileges
are decisions of the commands' own code: those call the same entry points in this
process (``in_process``), with DATABASE_URL set as a process would have it. Every
URL handed to a command carries the password ``MARKER`` (local trust auth ignores
it; a server that checks it is used for the wrong password), and no output, JSON
document, saved plan or audit row may contain it.

Documented exit codes: 0 ok, 1 error (connection, SQL, lock timeout), 2 bad
usage or input (URL, time zone, plan file, durations), 3 refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from nakamura_misaki_db.connect.urls import with_password
from nakamura_misaki_db.schema.revisions import head_revision

from .conftest import PasswordRole
from .helpers import (
    ALEMBIC_INI,
    REPO,
    Outcome,
    admin_engine,
    bridge_in_process,
    build,
    deploy_in_process,
    fingerprint,
    rows,
    scalar,
    version_rows,
    without_progress,
)

BIN = Path(sys.executable).parent
INIT_DB = str(BIN / "nakamura-init-db")
BRIDGE = str(BIN / "baseline-bridge")
ALEMBIC = [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI)]

MARKER = "BiMarkerPw5820"  # the password of every URL handed to a command; must never be shown

BRIDGE_PREFIX = "baseline-bridge: "
INIT_PREFIX = "nakamura-init-db: "


# -- helpers --------------------------------------------------------------------------------


def marked(url: URL) -> str:
    """``url`` with the marker as its password, as a string a child process can use."""
    return with_password(url.set(password=MARKER))


def cli(args: list[str], database_url: str | None, *, cwd: Path | None = None, timeout: float = 90,
        **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "NAKAMURA_BRIDGE_PAUSE_BEFORE_STEP", "MIGRATION_LOCK_TIMEOUT",
                        "MIGRATION_LOCK_WAIT")}
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return subprocess.run(args, env=env, cwd=cwd or REPO, capture_output=True, text=True, timeout=timeout,
                          check=False)


def cli_many(calls: Sequence[tuple[list[str], str | None, dict]], timeout: float = 90,
             ) -> list[subprocess.CompletedProcess[str]]:
    """Several independent commands, two at a time (the machine has two cores and is shared)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(cli, args, url, timeout=timeout, **kw) for args, url, kw in calls]
        return [f.result(timeout=timeout * len(calls)) for f in futures]


def in_process(args: list[str], database_url: str | None, *, cwd: Path = REPO, **extra: str) -> Outcome:
    """``cli``'s command through its entry point in this process (no interpreter start per call)."""
    command, *rest = args
    call = {BRIDGE: bridge_in_process, INIT_DB: deploy_in_process}[command]
    unset: dict[str, str | None] = dict.fromkeys(("NAKAMURA_BRIDGE_PAUSE_BEFORE_STEP", "MIGRATION_LOCK_TIMEOUT",
                                                  "MIGRATION_LOCK_WAIT"))  # as cli() leaves them out
    return call(database_url, *rest, env={**unset, **extra}, cwd=cwd)


def in_process_many(calls: Sequence[tuple[list[str], str | None, dict]]) -> list[Outcome]:
    return [in_process(args, url, **kw) for args, url, kw in calls]


def no_secret(*texts: str) -> None:
    for text in texts:
        assert MARKER not in text, text


def one_line(result: subprocess.CompletedProcess[str] | Outcome, prefix: str) -> str:
    """stderr is exactly one line, starting with ``prefix``, without a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = without_progress(result.stderr)  # the bridge's progress lines aside
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), result.stderr
    return lines[0]


def one_message(result: subprocess.CompletedProcess[str] | Outcome, prefix: str) -> str:
    """stderr (progress aside) is one message starting with ``prefix``, without a traceback: one line, or a
    preflight refusal's problem list (each problem and its fix indented under the first line), as one line."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = without_progress(result.stderr) + [ln for ln in result.stderr.splitlines() if ln.startswith("  ")]
    lines = [ln for ln in result.stderr.splitlines() if ln in lines]
    assert lines and lines[0].startswith(prefix), result.stderr
    assert all(ln.startswith("  ") for ln in lines[1:]), result.stderr
    return " ".join(ln.strip() for ln in lines)


def server_objects(server_url: URL) -> tuple[list, list]:
    """Databases and roles of the whole server: a failed connection must not create any."""
    return (rows(server_url, "SELECT datname FROM pg_database ORDER BY 1"),
            rows(server_url, "SELECT rolname FROM pg_roles ORDER BY 1"))


def _external() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


# -- URLs that cannot work: every CLI --------------------------------------------------------------


@dataclass(frozen=True)
class UrlCase:
    code: int
    phrase: str  # the message must say this


URL_CASES: dict[str, UrlCase] = {
    "malformed": UrlCase(2, "not a valid database URL"),
    "sqlite": UrlCase(2, "only PostgreSQL is supported"),
    "mysql_with_password": UrlCase(2, "only PostgreSQL is supported"),
    "unknown_host": UrlCase(1, 'unknown host "nonexistent.invalid"'),
    "refused_port": UrlCase(1, "connection refused"),
    "missing_database": UrlCase(1, "does not exist"),
    "wrong_password": UrlCase(1, "password authentication failed"),
}

COMMANDS: dict[str, list[str]] = {
    "bridge_status": [BRIDGE, "status"],
    "bridge_plan_json": [BRIDGE, "plan", "--json", "--legacy-timezone", "Asia/Tokyo"],
    "bridge_apply_json": [BRIDGE, "apply", "--json", "--legacy-timezone", "Asia/Tokyo"],
    "init_db": [INIT_DB],
    "alembic_upgrade": [*ALEMBIC, "upgrade", "head"],
}
# Each URL case starts these as real processes: our console script and alembic's. The others run through
# their entry points in this process; init-db's real script meets bad URLs below (on the command line and
# with --debug), and every command's on the whole journey with the marker.
REAL_PROCESS = ("bridge_status", "alembic_upgrade")


def url_for(case: str, server_url: URL, request: pytest.FixtureRequest) -> str:
    if case == "malformed":
        return f"postgresql://app:{MARKER}@db.example:notaport/app"
    if case == "sqlite":
        return "sqlite:///x.db"
    if case == "mysql_with_password":
        return f"mysql://app:{MARKER}@localhost/app"
    if case == "unknown_host":
        return f"postgresql://app:{MARKER}@nonexistent.invalid:5432/app"
    if case == "refused_port":
        return f"postgresql://app:{MARKER}%40%3A%2F@127.0.0.1:1/app"  # special characters, percent-encoded
    if case == "missing_database":
        return marked(server_url.set(database=f"rel_missing_{uuid.uuid4().hex[:8]}"))
    if case == "wrong_password":
        role: PasswordRole = request.getfixturevalue("password_role")
        return marked(server_url.set(username=role.name, database="postgres"))
    raise AssertionError(case)


def check_failure(result: subprocess.CompletedProcess[str] | Outcome, command: str, case: UrlCase) -> None:
    no_secret(result.stdout, result.stderr)
    if command == "alembic_upgrade":
        # Not our CLI: its exit code is alembic's; the message is still ours and one line.
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert case.phrase in result.stdout + result.stderr
        return
    assert result.returncode == case.code, (result.stdout, result.stderr)
    line = one_line(result, INIT_PREFIX + "error: " if command == "init_db" else BRIDGE_PREFIX)
    assert case.phrase in line
    if command.endswith("_json"):  # the error is also a JSON document on stdout
        doc = json.loads(result.stdout)
        assert doc["status"] == "error"
        assert doc["exit_code"] == case.code
        assert case.phrase in doc["error"]
    else:
        assert result.stdout == ""


@pytest.mark.parametrize("case", list(URL_CASES))
def test_unusable_url(pg_server_url: URL, request: pytest.FixtureRequest, tmp_path: Path, case: str) -> None:
    """Every command (bridge status / plan --json / apply --json, init-db, alembic upgrade) fails the same way."""
    raw = url_for(case, pg_server_url, request)
    before = server_objects(pg_server_url)

    results = dict(zip(REAL_PROCESS, cli_many([(COMMANDS[name], raw, {"cwd": tmp_path}) for name in REAL_PROCESS]),
                       strict=True))
    results |= {name: in_process(args, raw, cwd=tmp_path) for name, args in COMMANDS.items() if name not in results}

    failures = []
    for command in COMMANDS:
        try:
            check_failure(results[command], command, URL_CASES[case])
        except AssertionError as exc:
            failures.append(f"{command}: {exc}")
    assert not failures, "\n".join(failures)
    assert server_objects(pg_server_url) == before  # no database (or role) appeared
    assert list(tmp_path.iterdir()) == []  # e.g. no sqlite file x.db


@pytest.mark.parametrize("case", ["malformed", "wrong_password"])
def test_unusable_url_on_the_command_line(pg_server_url: URL, request: pytest.FixtureRequest, case: str) -> None:
    """--database-url instead of DATABASE_URL: same line, and the argument's password is not echoed."""
    raw = url_for(case, pg_server_url, request)
    expected = URL_CASES[case]
    commands = {"bridge_status": [BRIDGE, "status", "--database-url", raw],
                "init_db": [INIT_DB, "--database-url", raw]}
    results = cli_many([(args, None, {}) for args in commands.values()])
    for command, result in zip(commands, results, strict=True):
        check_failure(result, command, expected)
        if case == "malformed":
            assert "--database-url" in result.stderr  # names where the bad URL came from


@pytest.mark.parametrize("case", ["malformed", "refused_port", "missing_database", "wrong_password"])
def test_debug_shows_a_traceback_but_still_no_secret(pg_server_url: URL, request: pytest.FixtureRequest,
                                                     case: str) -> None:
    raw = url_for(case, pg_server_url, request)
    code = URL_CASES[case].code
    for result in cli_many([([BRIDGE, "status", "--debug"], raw, {}), ([INIT_DB, "--debug"], raw, {})]):
        assert result.returncode == code, result.stderr
        assert "Traceback" in result.stderr  # --debug is the way to get one
        no_secret(result.stdout, result.stderr)


# -- roles without the privileges a migration needs ----------------------------------------


class WeakRole:
    """A login role (not superuser) and the databases made for it; all dropped afterwards."""

    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
        self.name = f"rel_weak_{uuid.uuid4().hex[:8]}"
        self.databases: list[str] = []
        with admin_engine(server_url).connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {self.name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")

    def database(self, *, owner: bool, with_vector: bool) -> tuple[URL, URL]:
        """(superuser URL, the weak role's URL) of a new empty database."""
        name = f"t_weak_{uuid.uuid4().hex[:12]}"
        owner_sql = f" OWNER {self.name}" if owner else ""
        with admin_engine(self.server_url).connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{owner_sql}')
        self.databases.append(name)
        admin = self.server_url.set(database=name)
        if with_vector:
            with admin_engine(admin).connect() as conn:
                conn.exec_driver_sql("CREATE EXTENSION vector")
        return admin, admin.set(username=self.name)

    def drop(self) -> None:
        with admin_engine(self.server_url).connect() as conn:
            for name in self.databases:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {self.name}")


@pytest.fixture
def weak_role(pg_server_url: URL) -> Iterator[WeakRole]:
    role = WeakRole(pg_server_url)
    try:
        yield role
    finally:
        role.drop()


def test_role_without_create_privilege(weak_role: WeakRole) -> None:
    # vector is installed (by a superuser), so the only thing missing is CREATE on schema public
    # (PostgreSQL 15+ no longer grants it to PUBLIC).
    admin, weak = weak_role.database(owner=False, with_vector=True)
    assert scalar(weak, "SELECT has_schema_privilege('public', 'CREATE')") is False
    before = fingerprint(admin)

    init, apply = in_process_many([([INIT_DB], marked(weak), {}), ([BRIDGE, "apply"], marked(weak), {})])

    failures = []
    for result, prefix in ((init, INIT_PREFIX), (apply, BRIDGE_PREFIX)):
        no_secret(result.stdout, result.stderr)
        assert result.returncode in (1, 3), (result.stdout, result.stderr)
        line = one_message(result, prefix)
        # It must say which privilege is missing, on what: CREATE on schema public.
        if "public" not in line or not re.search(r"\bCREATE\b", line):
            failures.append(f"does not name the missing privilege (CREATE on schema public): {line}")
    assert version_rows(admin) is None
    assert fingerprint(admin) == before  # nothing created
    assert not failures, "\n".join(failures)


def test_server_without_creatable_pgvector(weak_role: WeakRole) -> None:
    # This is how a missing / uncreatable pgvector looks to us: the database has no vector
    # extension and CREATE EXTENSION vector fails. The role owns the (empty) database, so it may
    # create tables, but not this untrusted extension: only a superuser can. (A server whose
    # packages lack pgvector altogether fails the same statement with 'extension "vector" is not
    # available'; the embedded server is shared, so that variant is not simulated here.)
    admin, weak = weak_role.database(owner=True, with_vector=False)
    assert scalar(weak, "SELECT has_schema_privilege('public', 'CREATE')") is True
    assert scalar(admin, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 0
    before = fingerprint(admin)

    init, apply = in_process_many([([INIT_DB], marked(weak), {}), ([BRIDGE, "apply"], marked(weak), {})])

    failures = []
    for result, prefix in ((init, INIT_PREFIX), (apply, BRIDGE_PREFIX)):
        no_secret(result.stdout, result.stderr)
        assert result.returncode != 0, (result.stdout, result.stderr)
        line = one_message(result, prefix)
        if "vector" not in line or "superuser" not in line:
            failures.append(f"does not say that a superuser must create the vector extension: {line}")
    assert version_rows(admin) is None
    assert scalar(admin, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 0
    assert fingerprint(admin) == before  # nothing created
    assert not failures, "\n".join(failures)


# -- plan files, time zones, durations ------------------------------------------------------


def test_corrupt_plan_files(make_db, tmp_path: Path) -> None:
    db = make_db()
    build(db, "S1", rows=100)
    good = tmp_path / "good.json"
    made = in_process([BRIDGE, "plan", "--legacy-timezone", "Asia/Tokyo", "--out", str(good)], marked(db))
    assert made.returncode == 0, made.stderr
    no_secret(made.stdout, made.stderr, good.read_text())
    text = good.read_text()
    before = fingerprint(db)

    plan = json.loads(text)
    variants: dict[str, bytes] = {
        "garbage": b"{this is not json",
        "truncated": text[: len(text) // 2].encode(),
        "binary": b"\xff\xfe\x00\x01\x02",
        "a_list": b"[]",
        "wrong_format": json.dumps({**plan, "format": 99}).encode(),
        "malformed_step": json.dumps({**plan, "steps": [{"action": "stamp"}]}).encode(),
    }
    for name, content in variants.items():
        (tmp_path / f"{name}.json").write_bytes(content)
    results = in_process_many([([BRIDGE, "apply", "--plan", str(tmp_path / f"{name}.json")], marked(db), {})
                        for name in variants])
    for name, result in zip(variants, results, strict=True):
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        line = one_line(result, BRIDGE_PREFIX)
        assert "plan" in line, (name, line)
        no_secret(result.stdout, result.stderr)

    missing, unwritable, other_zone = in_process_many([
        ([BRIDGE, "apply", "--plan", str(tmp_path / "nope.json")], marked(db), {}),
        ([BRIDGE, "plan", "--legacy-timezone", "Asia/Tokyo", "--out", str(tmp_path / "no" / "such" / "dir.json")],
         marked(db), {}),
        ([BRIDGE, "apply", "--plan", str(good), "--legacy-timezone", "UTC"], marked(db), {}),
    ])
    assert missing.returncode == 2
    assert "does not exist" in one_line(missing, BRIDGE_PREFIX)

    assert unwritable.returncode == 2, unwritable.stderr
    assert "cannot write" in one_line(unwritable, BRIDGE_PREFIX)

    assert other_zone.returncode == 2, other_zone.stderr
    assert "--legacy-timezone" in one_line(other_zone, BRIDGE_PREFIX)

    assert fingerprint(db) == before


def test_plan_from_another_database_is_refused(make_db, tmp_path: Path) -> None:
    source, other = make_db(), make_db()
    build(source, "S1", rows=100)
    build(other, "S2", rows=100)
    saved = tmp_path / "plan.json"
    made = in_process([BRIDGE, "plan", "--legacy-timezone", "Asia/Tokyo", "--out", str(saved)], marked(source))
    assert made.returncode == 0, made.stderr
    before_source, before_other = fingerprint(source), fingerprint(other)

    result = in_process([BRIDGE, "apply", "--plan", str(saved), "--json"], marked(other))

    assert result.returncode == 3, (result.stdout, result.stderr)
    line = one_line(result, BRIDGE_PREFIX)
    assert "another database" in line or "changed since the plan was made" in line
    assert "Nothing was changed" in line
    assert json.loads(result.stdout)["exit_code"] == 3
    no_secret(result.stdout, result.stderr, saved.read_text())
    assert fingerprint(other) == before_other
    assert fingerprint(source) == before_source


def test_unknown_legacy_timezone(db_url: URL) -> None:
    build(db_url, "S1", rows=100)
    before = fingerprint(db_url)
    commands = ([BRIDGE, "plan", "--legacy-timezone", "Mars/Olympus_Mons"],
                [BRIDGE, "apply", "--legacy-timezone", "Mars/Olympus_Mons"],
                [BRIDGE, "apply", "--json", "--legacy-timezone", "Mars/Olympus_Mons"])
    for args, result in zip(commands, in_process_many([(a, marked(db_url), {}) for a in commands]), strict=True):
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        line = one_line(result, BRIDGE_PREFIX)
        assert "Mars/Olympus_Mons" in line and "time zone" in line
        no_secret(result.stdout, result.stderr)
    assert fingerprint(db_url) == before


def test_bad_durations(db_url: URL) -> None:
    build(db_url, "S1", rows=100)
    before = fingerprint(db_url)
    cases = [
        ([BRIDGE, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-timeout", "soon"], {}, BRIDGE_PREFIX),
        ([BRIDGE, "apply", "--legacy-timezone", "Asia/Tokyo", "--lock-wait", "-1"], {}, BRIDGE_PREFIX),
        ([BRIDGE, "apply", "--legacy-timezone", "Asia/Tokyo"], {"MIGRATION_LOCK_TIMEOUT": "forever"}, BRIDGE_PREFIX),
        ([INIT_DB, "--lock-timeout", "soon"], {}, INIT_PREFIX),
        ([INIT_DB], {"MIGRATION_LOCK_TIMEOUT": "forever"}, INIT_PREFIX),
        ([INIT_DB], {"MIGRATION_LOCK_WAIT": "10 parsecs"}, INIT_PREFIX),
    ]
    results = in_process_many([(args, marked(db_url), env) for args, env, _ in cases])
    for (args, env, prefix), result in zip(cases, results, strict=True):
        assert result.returncode == 2, (args, env, result.stdout, result.stderr)
        assert "duration" in one_line(result, prefix)
        no_secret(result.stdout, result.stderr)
    assert fingerprint(db_url) == before


# -- secrets on the paths that work -----------------------------------------------------------


def test_marker_password_never_leaks_on_the_whole_journey(db_url: URL, tmp_path: Path) -> None:
    """S1 with data: refused by alembic and init-db, then status, plan, apply, upgrade; all with the marker."""
    build(db_url, "S1", rows=100)
    url = marked(db_url)
    outputs: list[str] = []

    def step(args: list[str], code: int | None = 0, **kw) -> subprocess.CompletedProcess[str]:
        result = cli(args, url, **kw)
        outputs.extend([result.stdout, result.stderr])
        if code is not None:
            assert result.returncode == code, (args, result.stdout, result.stderr)
        return result

    # Read-only or refused, so independent of each other: two at a time.
    first = cli_many([
        ([*ALEMBIC, "upgrade", "head"], url, {}),
        ([INIT_DB], url, {}),
        ([BRIDGE, "status"], url, {}),
        ([BRIDGE, "status", "--json", "--database-url", url], None, {}),
    ])
    refused_alembic, refused_init, status_text, status_json = first
    for result in first:
        outputs.extend([result.stdout, result.stderr])
    assert status_text.returncode == 0 and status_json.returncode == 0, (status_text.stderr, status_json.stderr)
    assert "***" in status_text.stdout  # the URL is shown, masked
    assert json.loads(status_json.stdout)["database"].count("***") == 1
    assert refused_alembic.returncode != 0
    assert "baseline-bridge" in refused_alembic.stdout + refused_alembic.stderr
    assert refused_init.returncode == 3, refused_init.stderr
    one_line(refused_init, INIT_PREFIX + "refused: ")

    saved = tmp_path / "plan.json"
    step([BRIDGE, "plan", "--json", "--sql", "--legacy-timezone", "Asia/Tokyo", "--out", str(saved)])
    applied = step([BRIDGE, "apply", "--plan", str(saved), "--json"])
    assert json.loads(applied.stdout)["status"] == "applied"
    step([*ALEMBIC, "upgrade", "head"])
    step([INIT_DB])

    assert version_rows(db_url) == [head_revision()]
    audit = rows(db_url, "SELECT b::text FROM legacy_archive.bridge_runs b")
    assert len(audit) == 1
    no_secret(*outputs, saved.read_text(), audit[0][0])
