"""Trust nothing unverified (issue 22, "What to build" 3), on a real server, each state built as described.

Whatever ``alembic_version`` says, the deploy (``nakamura-init-db``, ``alembic upgrade``) and the bridge
compare the live schema with what that revision built: a version row stamped by hand on a legacy schema,
an index left INVALID by an interrupted ``CREATE INDEX CONCURRENTLY``, two rows of this chain, are refused
(exit 3) naming the differences and the command that fixes it, with the database byte-identical
(``helpers.fingerprint``: schema dump, per-table counts and row checksums). Another ``alembic_version``
on the role's search path is reported. The expected words are those of the issue and the guide.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import URL

from nakamura_misaki_db.legacy.states import alembic_version_sql

from .helpers import (
    alembic,
    bridge_cli,
    build_legacy,
    execute_sql,
    fingerprint,
    init_db_cli,
    login_role,
    make_invalid_index,
    plan_of,
    rows,
    scalar,
    upgrade,
    version_rows,
)

ZONE = "Asia/Tokyo"
BRIDGE_NEXT = ("run `baseline-bridge plan`, then `baseline-bridge apply`: the bridge reconciles the schema from the "
               "catalog, whatever alembic_version says, and records 0001; then `nakamura-init-db`")
# target-schema.md: the labels 0001 defines, and S1's (legacy-states.md), as the first difference shows them.
FIRST_DIFFERENCE = ("enum labels: task_status: expected (pending, in_progress, completed, cancelled), found "
                    "(PENDING, IN_PROGRESS, COMPLETED)")
INVALID = "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT (indisvalid AND indisready) ORDER BY 1"


def _stamped_s1(url: URL, version: str) -> None:
    build_legacy(url, "S1", rows=60, sql=alembic_version_sql(version))


def test_the_head_fingerprint_is_what_the_chain_and_the_bridge_build(make_db) -> None:
    """The no-op deploy's one-query check: a database built by the chain and one bridged from S7 and
    migrated both give the fingerprint recorded for head; a drifted one does not."""
    import psycopg

    from nakamura_misaki_db.catalog.fingerprint import HEAD_FINGERPRINTS, schema_fingerprint

    from .helpers import head_revision, libpq_url

    built, bridged = make_db(), make_db()
    upgrade(built)
    build_legacy(bridged, "S7", rows=30)
    assert bridge_cli(bridged, "apply", "--legacy-timezone", ZONE).returncode == 0
    upgrade(bridged)
    seen = []
    for url in (built, bridged):
        with psycopg.connect(libpq_url(url)) as conn:
            seen.append(schema_fingerprint(conn))
    assert seen[0] == seen[1] == (HEAD_FINGERPRINTS[head_revision()], False)
    execute_sql(built, "ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL")
    with psycopg.connect(libpq_url(built)) as conn:
        assert schema_fingerprint(conn)[0] != HEAD_FINGERPRINTS[head_revision()]


def test_a_legacy_schema_stamped_0001_by_hand_is_refused_everywhere_then_bridged(db_url: URL) -> None:
    _stamped_s1(db_url, "0001")
    before = fingerprint(db_url)

    status = bridge_cli(db_url, "status")
    assert status.returncode == 0
    # (The count leaves out S1's extra indexes: not what 0001 must have built, though the bridge drops them.)
    assert re.search(r"state:     alembic_version records revision 0001 of this chain, but the schema is not what "
                     rf"0001 builds: \d+ difference\(s\) \({re.escape(FIRST_DIFFERENCE)}; ", status.stdout)
    assert f"next:      {BRIDGE_NEXT}" in status.stdout

    deploy = init_db_cli(db_url)
    assert deploy.returncode == 3, deploy.stderr
    assert deploy.stdout == ""
    assert deploy.stderr.startswith("nakamura-init-db: refused: alembic_version records revision 0001 of this "
                                    "chain, but the schema is not what 0001 builds: ")
    assert deploy.stderr.rstrip().endswith(f"Nothing was changed. Next: {BRIDGE_NEXT}.")
    cli = alembic(db_url, "upgrade", "head")
    assert cli.returncode != 0 and "but the schema is not what 0001 builds" in cli.stdout + cli.stderr
    assert fingerprint(db_url) == before

    # The bridge does not trust the row either: it plans from the catalog, and replaces the row.
    plan = plan_of(db_url, ZONE)
    assert plan.status == "ready" and len(plan.steps) > 10
    assert bridge_cli(db_url, "apply", "--legacy-timezone", ZONE).returncode == 0
    assert version_rows(db_url) == ["0001"]
    assert init_db_cli(db_url).returncode == 0
    assert bridge_cli(db_url, "status").stdout.count("on the new migration chain at revision 0007 (at head)") == 1


def test_a_legacy_schema_stamped_head_by_hand_is_not_already_at_head(db_url: URL) -> None:
    _stamped_s1(db_url, "0007")
    before = fingerprint(db_url)
    deploy = init_db_cli(db_url)
    assert deploy.returncode == 3, deploy.stdout + deploy.stderr
    assert "already at head" not in deploy.stdout
    assert "alembic_version records revision 0007 of this chain, but the schema is not what 0007 builds" \
        in deploy.stderr
    assert fingerprint(db_url) == before
    assert plan_of(db_url, ZONE).status == "ready"


def test_an_invalid_index_at_head_is_refused_by_the_deploy_and_rebuilt_by_the_bridge(db_url: URL) -> None:
    upgrade(db_url)
    execute_sql(db_url, "DROP INDEX ix_tasks_status")
    make_invalid_index(db_url, "CREATE INDEX CONCURRENTLY ix_tasks_status ON public.tasks (status)")
    assert rows(db_url, INVALID) == [("ix_tasks_status",)]
    before = fingerprint(db_url)

    deploy = init_db_cli(db_url)
    assert deploy.returncode == 3, deploy.stdout + deploy.stderr
    assert ("the schema is not what 0007 builds: 1 difference(s) (invalid index: ix_tasks_status: expected valid "
            "and ready, found INVALID or not ready") in deploy.stderr
    assert "REINDEX INDEX CONCURRENTLY public.ix_tasks_status" in deploy.stderr
    assert fingerprint(db_url) == before

    plan = plan_of(db_url)
    rebuild = [(s.action, s.object) for s in plan.steps if s.object == "ix_tasks_status"]
    assert rebuild == [("drop_index", "ix_tasks_status"), ("create_index", "ix_tasks_status")]
    assert bridge_cli(db_url, "apply").returncode == 0
    assert rows(db_url, INVALID) == []
    assert init_db_cli(db_url).returncode == 0
    assert init_db_cli(db_url).stdout.startswith("database already at head 0007, nothing to do")


def test_an_invalid_index_on_a_legacy_database_is_rebuilt_not_verified(db_url: URL) -> None:
    build_legacy(db_url, "S1", rows=60)
    execute_sql(db_url, "DROP INDEX ix_conversations_channel_id")
    make_invalid_index(db_url, "CREATE INDEX CONCURRENTLY ix_conversations_channel_id ON conversations (channel_id)")
    plan = plan_of(db_url, ZONE)
    assert [s.summary for s in plan.steps if s.object == "ix_conversations_channel_id"] == [
        "drop index ix_conversations_channel_id on conversations (INVALID; rebuilt below)",
        "create index ix_conversations_channel_id on conversations"]
    assert bridge_cli(db_url, "apply", "--legacy-timezone", ZONE).returncode == 0
    assert rows(db_url, INVALID) == []


def test_two_rows_of_this_chain_are_one_refusal_in_status_plan_and_init_db(db_url: URL) -> None:
    upgrade(db_url)
    execute_sql(db_url, "INSERT INTO alembic_version VALUES ('0001')")
    before = fingerprint(db_url)
    words = ("alembic_version holds several revisions of this chain (0001, 0007), but a database is at one: the "
             "schema is what revision 0007 builds")
    fix = "keep only the row of 0007: DELETE FROM public.alembic_version WHERE version_num <> '0007'"

    status = bridge_cli(db_url, "status")
    assert f"state:     {words}" in status.stdout and f"next:      {fix}" in status.stdout
    plan = bridge_cli(db_url, "plan")
    assert plan.returncode == 3 and words in plan.stdout and fix in plan.stdout
    deploy = init_db_cli(db_url)
    assert deploy.returncode == 3
    assert deploy.stderr == f"nakamura-init-db: refused: {words}. Nothing was changed. Next: {fix}; then " \
                            "`nakamura-init-db`.\n"
    assert fingerprint(db_url) == before

    execute_sql(db_url, "DELETE FROM public.alembic_version WHERE version_num <> '0007'")
    assert init_db_cli(db_url).stdout.startswith("database already at head 0007")


def test_an_alembic_version_elsewhere_on_the_search_path_is_reported(db_url: URL) -> None:
    # The application chain kept its version table in schema app, which its role reads first.
    build_legacy(db_url, "S7", rows=30)
    execute_sql(db_url, "CREATE SCHEMA app; ALTER TABLE public.alembic_version SET SCHEMA app")
    with login_role(db_url, "trust_app_role", f'ALTER ROLE "trust_app_role" IN DATABASE "{db_url.database}" '
                    "SET search_path = app, public", 'GRANT USAGE ON SCHEMA app TO "trust_app_role"',
                    'GRANT SELECT ON app.alembic_version TO "trust_app_role"') as app:
        assert scalar(app, "SELECT version_num FROM alembic_version") == "006"  # what the application reads
    status = bridge_cli(db_url, "status")
    note = ("another version table, app.alembic_version, holds 006: this tool reads and writes only "
            "public.alembic_version; a session whose search_path puts app before public (the application's, "
            "perhaps) reads that one.")
    assert f"also:      {note}" in status.stdout
    plan = bridge_cli(db_url, "plan", "--legacy-timezone", ZONE)
    assert f"NOTE: {note}" in plan.stdout
    assert bridge_cli(db_url, "apply", "--legacy-timezone", ZONE).returncode == 0
    deploy = init_db_cli(db_url)
    assert deploy.returncode == 0
    assert f"nakamura-init-db: note: {note}" in deploy.stderr


def test_past_the_frozen_definitions_only_what_no_revision_may_do_is_counted() -> None:
    """A revision 0008 without a frozen definition may change what 0001-0007 built (guide section 3 adds an
    enum label): with one in the chain, a changed label is not a mismatch, a missing table still is."""
    import dataclasses

    from nakamura_misaki_db.catalog.state import DbKind, classify
    from nakamura_misaki_db.schema.revision_catalog import revision_catalog
    from nakamura_misaki_db.schema.target import target_catalog

    chain = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"]
    head = revision_catalog("0007")
    labelled = dataclasses.replace(head, alembic_version=("0008",), enums={
        **head.enums, "task_status": ("pending", "in_progress", "on_hold", "completed", "cancelled")})
    assert classify(labelled, target_catalog(), chain).kind == DbKind.NEW_CHAIN
    at_0007 = dataclasses.replace(labelled, alembic_version=("0007",))
    assert classify(at_0007, target_catalog(), chain[:-1]).kind == DbKind.DRIFTED  # up to 0007: exact
    tables = {k: v for k, v in head.tables.items() if k != "notifications"}
    missing = dataclasses.replace(labelled, tables=tables)
    state = classify(missing, target_catalog(), chain)
    assert (state.kind, state.differences) == (DbKind.DRIFTED, ["missing table: notifications"])
