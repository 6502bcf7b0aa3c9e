"""Property: random extra objects over random legacy states. apply either refuses with the database unchanged,
or succeeds with every row accounted for and every extra object still working.

Real PostgreSQL; each example builds a fresh database. Derandomized (the same examples every run, see the
hypothesis profiles in conftest.py); explore locally with ``--hypothesis-profile explore``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import URL

from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.connect.errors import Refused

from .helpers import admin_engine, build, connection, fingerprint, rows, scalar

TOKYO = "Asia/Tokyo"
ARCHIVE = "legacy_archive"
STATES = [("S1", {}), ("S2", {}), ("S3", {"version": "ca1f08e0bc8a", "base": "S1"}),
          ("S4", {"version": "b0bbf866ebc2"})]


def _child(action: str) -> str:
    return (f"CREATE TABLE extra_child_{action.replace(' ', '_').lower()} (id serial PRIMARY KEY,"
            f" conversation_id uuid REFERENCES conversations ON DELETE {action});"
            f" INSERT INTO extra_child_{action.replace(' ', '_').lower()} (conversation_id)"
            " SELECT conversation_id FROM conversations ORDER BY md5(conversation_id::text) LIMIT 25;")


EXTRAS: dict[str, str] = {
    "view over tasks.title": "CREATE VIEW extra_titles AS SELECT id, title FROM tasks;",
    "view over a view": "CREATE VIEW extra_titles2 AS SELECT title FROM tasks; "
                        "CREATE VIEW extra_titles3 AS SELECT title FROM extra_titles2;",
    "view comparing the enum": "CREATE VIEW extra_open AS SELECT id FROM tasks WHERE status = "
                               "(SELECT enumlabel FROM pg_enum WHERE enumtypid = 'task_status'::regtype "
                               "ORDER BY enumsortorder LIMIT 1)::task_status;",
    "view comparing a label as text": "CREATE VIEW extra_done AS SELECT id FROM tasks"
                                      " WHERE status::text = 'COMPLETED';",
    "materialized view": "CREATE MATERIALIZED VIEW extra_mat AS SELECT title FROM tasks;",
    "function spelling a label": "CREATE FUNCTION extra_is_done(s text) RETURNS boolean"
                                 " LANGUAGE plpgsql AS $$ BEGIN RETURN s = 'COMPLETED'; END $$;",
    "harmless function": "CREATE FUNCTION extra_answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;",
    "delete trigger": "CREATE FUNCTION extra_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;"
                      " CREATE TRIGGER extra_on_delete BEFORE DELETE ON conversations FOR EACH ROW"
                      " EXECUTE FUNCTION extra_keep();",
    "child ON DELETE CASCADE": _child("CASCADE"),
    "child ON DELETE SET NULL": _child("SET NULL"),
    "child ON DELETE NO ACTION": _child("NO ACTION"),
    "child ON DELETE RESTRICT": _child("RESTRICT"),
}


def _fresh_db(server: URL) -> tuple[URL, Callable[[], None]]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    with admin_engine(server).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin_engine(server).connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return server.set(database=name), drop


def _children(url: URL) -> dict[str, int]:
    return {t: int(scalar(url, f"SELECT count(*) FROM {t}")) for (t,) in rows(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'extra_child_%'")}


@given(state=st.sampled_from(STATES), extras=st.sets(st.sampled_from(sorted(EXTRAS)), min_size=1, max_size=4))
def test_apply_refuses_unchanged_or_keeps_everything(pg_server_url: URL, state, extras: set[str]) -> None:
    url, drop = _fresh_db(pg_server_url)
    try:
        name, options = state
        build(url, name, rows=40, sql=" ".join(EXTRAS[e] for e in sorted(extras)), **options)
        before = fingerprint(url)
        children_before = _children(url)
        views = [r[0] for r in rows(url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")]
        functions = [r[0] for r in rows(url, "SELECT proname FROM pg_proc WHERE proname LIKE 'extra_%'")]
        try:
            with connection(url) as conn:
                applied = apply_plan(conn, legacy_timezone=TOKYO)
        except Refused:
            assert fingerprint(url) == before
            return
        assert applied.status == "applied"
        # Every extra object is still there and answers.
        for view in views:
            assert scalar(url, f"SELECT count(*) >= 0 FROM {view}") is True, view
        assert sorted(r[0] for r in rows(url, "SELECT proname FROM pg_proc WHERE proname LIKE 'extra_%'")) == sorted(
            functions)
        # Every row of every child table is accounted for: in place, or archived by this run.
        for table, n in children_before.items():
            archived = scalar(url, "SELECT to_regclass(:t)", t=f"{ARCHIVE}.{table}_cascade")
            moved = int(scalar(url, f"SELECT count(*) FROM {ARCHIVE}.{table}_cascade")) if archived else 0
            here = int(scalar(url, f"SELECT count(*) FROM {table}"))
            if table.endswith("cascade"):
                assert here + moved == n, (table, here, moved, n)
            else:
                assert here == n, (table, here, n)
    finally:
        drop()
