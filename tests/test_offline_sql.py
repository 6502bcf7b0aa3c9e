"""Offline SQL: `alembic upgrade ... --sql` with no database, and `nakamura-init-db --sql`, which only reads.

The proof that the offline script is right: piped into psql (PostgreSQL 16,
ON_ERROR_STOP) on an empty database it builds a schema identical, by pg_dump, to
an online `alembic upgrade head`. Revisions and the head are read from the
script directory, so every new revision is covered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from nakamura_misaki_db.deploy.offline import EMPTY_DATABASE_HEADER
from nakamura_misaki_db.legacy.states import build_state

from .helpers import (
    MIGRATION_LOCK_KEY,
    REPO,
    Outcome,
    alembic,
    alembic_in_process,
    deploy_in_process,
    execute_sql,
    fingerprint,
    head_revision,
    libpq_url,
    pg_bin,
    revision_chain,
    run,
    schema_dump,
    upgrade,
    version_rows,
)

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

INIT_DB = str(Path(sys.executable).parent / "nakamura-init-db")
PASSWORD_MARKER = "pw-Marker-51e0"
CLOSED_PORT = f"postgresql://deploy:{PASSWORD_MARKER}@127.0.0.1:1/nakamura_misaki"
CHAIN = revision_chain()
HEAD = head_revision()


def psql(url: URL, sql: str) -> subprocess.CompletedProcess[str]:
    """Run a script the way an operator would: psql -v ON_ERROR_STOP=1, PostgreSQL 16's psql."""
    return subprocess.run([pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", libpq_url(url)],
                          input=sql, capture_output=True, text=True, timeout=120, check=False)


def offline(*args: str) -> Outcome:
    """`alembic ... --sql` with DATABASE_URL at a closed port: nothing may try to connect. Alembic's own
    command line in this process; test_upgrade_head_sql_needs_no_database runs the real process."""
    return alembic_in_process(REPO, CLOSED_PORT, *args)


def init_db_sql(url: URL | str) -> Outcome:
    return deploy_in_process(url, "--sql")


@pytest.fixture(scope="module")
def online_head_dump(pg_server_url: URL) -> str:
    """pg_dump of a database brought to head by the ordinary online upgrade."""
    import uuid

    from .helpers import admin_engine

    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_server_url.set(database=name)
    try:
        upgrade(url, "head")
        return schema_dump(url)
    finally:
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- alembic --sql ------------------------------------------------------------------


def test_upgrade_head_sql_needs_no_database(tmp_path: Path) -> None:
    embedded = tmp_path / "embedded-must-not-start"
    result = alembic(CLOSED_PORT, "upgrade", "head", "--sql", env={"NAKAMURA_DB_EMBEDDED_DIR": str(embedded)})
    assert result.returncode == 0, result.stderr
    sql = result.stdout
    # Session settings first, then one transaction (the bridged chain 0001-0007 is all or nothing:
    # MIGRATION_GUIDE.md 11.12; later revisions alone get one each), then the unlock.
    assert sql.lstrip().startswith("SET search_path = public;")
    assert sql.rstrip().endswith(f"COMMIT;\n\nSELECT pg_advisory_unlock({MIGRATION_LOCK_KEY});")
    assert sql.count("BEGIN;") == sql.count("COMMIT;") == 1
    assert EMPTY_DATABASE_HEADER in sql
    for prev, rev in zip(["", *CHAIN], CHAIN, strict=False):
        assert f"-- Running upgrade {prev} -> {rev}" in sql
    assert "cannot connect" not in result.stderr and PASSWORD_MARKER not in sql + result.stderr
    assert not embedded.exists()
    # ... nor does it need DATABASE_URL at all (and starts no embedded server without it).
    unset = run([sys.executable, "-m", "alembic", "upgrade", "head", "--sql"], None,
                env={"NAKAMURA_DB_EMBEDDED_DIR": str(embedded)})
    assert unset.returncode == 0, unset.stderr
    assert unset.stdout == sql
    assert not embedded.exists()


def test_offline_script_builds_the_same_schema_as_online_upgrade(db_url: URL, online_head_dump: str) -> None:
    sql = offline("upgrade", "head", "--sql").stdout
    applied = psql(db_url, sql)
    assert applied.returncode == 0, applied.stderr
    assert version_rows(db_url) == [HEAD]
    assert schema_dump(db_url) == online_head_dump


def test_offline_range_renders_only_the_later_revisions(db_url: URL, online_head_dump: str) -> None:
    result = offline("upgrade", f"{CHAIN[0]}:head", "--sql")
    assert result.returncode == 0, result.stderr
    assert EMPTY_DATABASE_HEADER not in result.stdout
    assert "-- Running upgrade  -> 0001" not in result.stdout
    assert f"-- Running upgrade {CHAIN[0]} -> {CHAIN[1]}" in result.stdout
    # Each guarded revision (its script calls nakamura_misaki_db.deploy.guarded) says what its plain statements
    # assume, and what it does online instead.
    guarded = sorted(p.name[:4] for p in (REPO / "alembic" / "versions").glob("*.py")
                     if "guarded" in p.read_text(encoding="utf-8") and p.name[:4] != CHAIN[0])
    assert guarded, "no guarded revision after 0001"
    for rev in guarded:
        assert (f"-- revision {rev}, offline: plain statements for a database at the previous revision (none of "
                "these objects exist yet).\n\n-- Online, this revision reads the catalog first: it adopts identical "
                "objects and refuses different ones.") in result.stdout, rev
    upgrade(db_url, CHAIN[0])
    applied = psql(db_url, result.stdout)
    assert applied.returncode == 0, applied.stderr
    assert version_rows(db_url) == [HEAD]
    assert schema_dump(db_url) == online_head_dump


def test_the_script_takes_the_migration_lock_and_the_lock_timeout(tmp_path: Path) -> None:
    result = offline("-x", "lock_timeout=30s", "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    # (and pins the schema, as every online connection does). Session settings, before the first
    # BEGIN: they must last through every revision's own transaction.
    assert lines[:5] == ["SET search_path = public;", "SET lock_timeout = '10min';",
                         f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY});", "SET lock_timeout = '30s';", "BEGIN;"]
    assert lines[-1] == f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY});"


def test_a_bad_lock_timeout_is_refused_offline_too() -> None:
    result = offline("-x", "lock_timeout=soon", "upgrade", "head", "--sql")
    assert result.returncode != 0
    assert "must be a duration like 500ms, 5s or 2min" in result.stderr


def test_the_empty_database_script_fails_whole_on_a_database_that_is_not_empty(db_url: URL) -> None:
    # The header says "for an EMPTY database": elsewhere it stops at the first
    # statement that meets an existing object, and its one transaction changes nothing.
    upgrade(db_url, "head")
    before = fingerprint(db_url)
    applied = psql(db_url, offline("upgrade", "head", "--sql").stdout)
    assert applied.returncode != 0
    assert "already exists" in applied.stderr
    assert fingerprint(db_url) == before


def test_downgrade_of_0001_cannot_be_written_ahead_of_time() -> None:
    result = offline("downgrade", f"{CHAIN[0]}:base", "--sql")
    assert result.returncode != 0
    assert "revision 0001's downgrade cannot be written as SQL ahead of time" in result.stderr
    # Later revisions' downgrades render fine.
    if len(CHAIN) > 1:
        later = offline("downgrade", f"{HEAD}:{CHAIN[0]}", "--sql")
        assert later.returncode == 0, later.stderr
        assert f"-- Running downgrade {CHAIN[1]} -> {CHAIN[0]}" in later.stdout


# -- nakamura-init-db --sql ------------------------------------------------------------


def test_init_db_sql_on_an_empty_database_runs_nothing_and_its_sql_builds_head(
        db_url: URL, online_head_dump: str) -> None:
    before = fingerprint(db_url)
    result = init_db_sql(db_url)
    assert result.returncode == 0, result.stderr
    assert fingerprint(db_url) == before  # read, never written
    assert version_rows(db_url) is None
    first = result.stdout.splitlines()[0]
    assert first.startswith("-- What a deploy would run on postgresql+psycopg://") and "(empty)" in first
    assert EMPTY_DATABASE_HEADER in result.stdout
    applied = psql(db_url, result.stdout)
    assert applied.returncode == 0, applied.stderr
    assert schema_dump(db_url) == online_head_dump


def test_init_db_sql_from_a_revision_renders_only_what_is_left(db_url: URL, online_head_dump: str) -> None:
    upgrade(db_url, CHAIN[0])
    before = fingerprint(db_url)
    result = init_db_sql(db_url)
    assert result.returncode == 0, result.stderr
    assert fingerprint(db_url) == before
    assert f"(at revision {CHAIN[0]})" in result.stdout.splitlines()[0]
    assert EMPTY_DATABASE_HEADER not in result.stdout
    assert "-- Running upgrade  -> 0001" not in result.stdout
    assert psql(db_url, result.stdout).returncode == 0
    assert version_rows(db_url) == [HEAD]
    assert schema_dump(db_url) == online_head_dump


def test_init_db_sql_at_head_has_nothing_to_run(db_url: URL) -> None:
    upgrade(db_url, "head")
    before = fingerprint(db_url)
    result = init_db_sql(db_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"is at head {HEAD}: a deploy would run nothing.\n")
    assert fingerprint(db_url) == before


def test_init_db_sql_on_part_of_0001_creates_only_what_is_missing(db_url: URL, online_head_dump: str) -> None:
    execute_sql(db_url, "CREATE TYPE task_status AS ENUM ('pending', 'in_progress', 'completed', 'cancelled')")
    before = fingerprint(db_url)
    result = init_db_sql(db_url)
    assert result.returncode == 0, result.stderr
    assert fingerprint(db_url) == before
    assert "holding part of revision 0001" in result.stdout.splitlines()[0]
    assert "-- Revision 0001 on this database: create the " in result.stdout
    part_0001 = result.stdout.split("-- Running upgrade 0001 ->")[0]
    assert "'skill_category'" in part_0001
    assert "'task_status'" not in part_0001  # the type that exists is not created again
    assert psql(db_url, result.stdout).returncode == 0
    assert schema_dump(db_url) == online_head_dump


@pytest.mark.parametrize("how", ["legacy-schema", "legacy-revision-id"])
def test_init_db_sql_on_a_legacy_database_says_it_needs_the_bridge(db_url: URL, how: str) -> None:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        build_state(conn, "S1" if how == "legacy-schema" else "S2")
    engine.dispose()
    before = fingerprint(db_url)
    result = init_db_sql(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("nakamura-init-db: refused: ")
    assert "baseline-bridge plan" in result.stderr and "Nothing was changed" in result.stderr
    assert fingerprint(db_url) == before


def test_init_db_sql_on_a_newer_release_is_refused(db_url: URL) -> None:
    upgrade(db_url, "head")
    execute_sql(db_url, "UPDATE alembic_version SET version_num = '0999'")
    result = init_db_sql(db_url)
    assert result.returncode == 3  # refused, as the deploy itself refuses it
    assert "revision 0999, which this release does not know" in result.stderr
    assert result.stdout == ""


def test_init_db_sql_without_a_server_is_exit_1_without_the_password() -> None:
    result = init_db_sql(CLOSED_PORT)
    assert result.returncode == 1
    assert result.stderr.startswith("nakamura-init-db: error: cannot connect to "
                                    "postgresql+psycopg://deploy:***@127.0.0.1:1/")
    assert PASSWORD_MARKER not in result.stdout + result.stderr


def test_init_db_help_mentions_sql() -> None:
    result = run([INIT_DB, "--help"], None)
    assert result.returncode == 0
    assert "--sql" in result.stdout and "run nothing" in result.stdout



# -- PGEnum offline: static SQL where the outcome does not depend on data ----------------------

ENUM_REVISION = '''"""Offline enum test: {what}."""

from alembic import op

from nakamura_misaki_db.revision_api import PGEnum

revision = "{rev}"
down_revision = "{prev}"


def upgrade(**kw: object) -> None:
{upgrade}


def downgrade(**kw: object) -> None:
{downgrade}
'''


def _entity(labels: tuple[str, ...], renames: dict[str, str] | None = None, name: str = "task_status") -> str:
    return f"PGEnum(schema='public', signature={name!r}, labels={labels!r}, renames={renames or {}!r})"


def head_labels(pg_server_url: URL) -> tuple[str, ...]:
    """task_status as the chain leaves it (read from a database at head, never spelled out here)."""
    import uuid

    from .helpers import admin_engine, rows

    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin_engine(pg_server_url).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_server_url.set(database=name)
    try:
        upgrade(url, "head")
        return tuple(r[0] for r in rows(url, "SELECT unnest(enum_range(NULL::task_status))::text"))
    finally:
        with admin_engine(pg_server_url).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def enum_chain(tmp_path_factory: pytest.TempPathFactory, pg_server_url: URL) -> tuple[Path, tuple[str, ...], str, str]:
    """A copy of alembic/ with two more revisions after head: N changes task_status in place (a label
    before the first, one in the middle, the last renamed) and creates a type; N+1 removes a label."""
    import shutil

    labels = head_labels(pg_server_url)
    location = tmp_path_factory.mktemp("enum-chain") / "alembic"
    shutil.copytree(REPO / "alembic", location, ignore=shutil.ignore_patterns("__pycache__"))
    first, *middle, last = labels
    in_place = ("zz_first", first, "zz_middle", *middle, "zz_renamed")
    n, n1 = f"{int(HEAD) + 1:04d}", f"{int(HEAD) + 2:04d}"
    (location / "versions" / f"{n}_enum_in_place.py").write_text(ENUM_REVISION.format(
        what="in place", rev=n, prev=HEAD,
        upgrade=f"    op.replace_entity({_entity(in_place, {last: 'zz_renamed'})})\n"
                f"    op.create_entity({_entity(('a', 'b'), name='zz_kind')})",
        downgrade=f"    op.drop_entity({_entity(('a', 'b'), name='zz_kind')})\n"
                  f"    op.replace_entity({_entity(labels, {'zz_renamed': last})})"), encoding="utf-8")
    removed = tuple(label for label in in_place if label != "zz_middle")
    (location / "versions" / f"{n1}_enum_removal.py").write_text(ENUM_REVISION.format(
        what="a removal", rev=n1, prev=n, upgrade=f"    op.replace_entity({_entity(removed)})",
        downgrade=f"    op.replace_entity({_entity(in_place)})"), encoding="utf-8")
    return location, labels, n, n1


def _offline_with(location: Path, target: str, known: dict | None = None) -> str:
    """`alembic upgrade TARGET --sql` on ``location`` in process (``known``: labels as nakamura-init-db seeds them)."""
    import io

    from alembic import command

    from nakamura_misaki_db.schema.pg_enum.offline import KNOWN_LABELS

    from .helpers import alembic_config

    buffer = io.StringIO()
    cfg = alembic_config(CLOSED_PORT, location)
    cfg.output_buffer = buffer
    if known is not None:
        cfg.attributes[KNOWN_LABELS] = known
    command.upgrade(cfg, target, sql=True)
    return buffer.getvalue()


def _part(sql: str, prev: str, rev: str) -> str:
    return sql.split(f"-- Running upgrade {prev} -> {rev}", 1)[1].split("-- Running upgrade", 1)[0]


def test_enum_changes_render_as_static_sql_offline_and_build_the_same_schema(
        enum_chain, make_db) -> None:
    location, labels, n, n1 = enum_chain
    first, *_, last = labels
    sql = _offline_with(location, "head")
    assert 'CREATE TYPE "public"."task_status" AS ENUM (' in sql.split("-- Running upgrade 0001 ->")[0]
    in_place = _part(sql, HEAD, n)
    assert "DO $pgenum" not in in_place and "NEEDS A LIVE DATABASE" not in in_place
    assert f"ALTER TYPE \"public\".\"task_status\" RENAME VALUE '{last}' TO 'zz_renamed';" in in_place
    assert f"ALTER TYPE \"public\".\"task_status\" ADD VALUE 'zz_first' BEFORE '{first}';" in in_place
    assert f"ALTER TYPE \"public\".\"task_status\" ADD VALUE 'zz_middle' AFTER '{first}';" in in_place
    assert "CREATE TYPE \"public\".\"zz_kind\" AS ENUM ('a', 'b');" in in_place
    # Removing a label depends on the rows: said plainly, left to the block that reads them.
    removal = _part(sql, n, n1)
    assert "NEEDS A LIVE DATABASE: a removed or reordered label rebuilds the type" in removal
    assert "DO $pgenum" in removal

    offline_db, online_db = make_db(), make_db()
    applied = psql(offline_db, sql)
    assert applied.returncode == 0, applied.stderr
    from alembic import command

    from .helpers import alembic_config

    command.upgrade(alembic_config(online_db, location), "head")
    assert schema_dump(offline_db) == schema_dump(online_db)
    assert version_rows(offline_db) == [n1]


def test_a_range_that_does_not_know_the_labels_says_so_and_still_runs(enum_chain, make_db) -> None:
    location, labels, n, _n1 = enum_chain
    sql = _offline_with(location, f"{HEAD}:head")
    part = _part(sql, HEAD, n)
    assert "NEEDS A LIVE DATABASE: this script does not know the type's labels before this revision" in part
    assert "DO $pgenum" in part
    at_head, online_db = make_db(), make_db()
    upgrade(at_head, "head")
    applied = psql(at_head, sql)
    assert applied.returncode == 0, applied.stderr
    from alembic import command

    from .helpers import alembic_config

    command.upgrade(alembic_config(online_db, location), "head")
    assert schema_dump(at_head) == schema_dump(online_db)
    # With the labels the database holds (what nakamura-init-db --sql seeds), the same range is static.
    seeded = _part(_offline_with(location, f"{HEAD}:head", {("public", "task_status"): labels}), HEAD, n)
    assert "DO $pgenum" not in seeded and "ADD VALUE 'zz_middle'" in seeded


def test_init_db_sql_seeds_the_labels_it_reads(enum_chain, db_url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    from nakamura_misaki_db.connect.urls import DatabaseUrl
    from nakamura_misaki_db.deploy.offline import deploy_sql
    from nakamura_misaki_db.schema import revisions as migrations

    location, _labels, n, _n1 = enum_chain
    upgrade(db_url, "head")
    monkeypatch.setattr(migrations, "script_location", lambda: location)
    sql = deploy_sql(DatabaseUrl.of(db_url))
    assert f"(at revision {HEAD})" in sql.splitlines()[0]
    part = _part(sql, HEAD, n)
    assert "DO $pgenum" not in part and "ADD VALUE 'zz_first' BEFORE" in part
    assert psql(db_url, sql).returncode == 0
