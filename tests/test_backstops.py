"""The bridge's last lines of defence, each tested on its own feature (issue 25, item 1).

Expected values come from what each test sets up (three duplicate conversations written here, a row the
test itself updates or deletes) or from the spec (legacy ids from legacy-states.md, head from the
migration scripts' file names), never from the product's functions.

Mutations each test kills (applied by hand to the source, the test seen failing, the source restored):

- conserve.check_conservation ``kept != removed`` -> ``kept > removed``:
  test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused[delete],
  test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused[update]
- conserve.check_conservation ``removed = w.deleted + w.updated`` -> ``removed = w.deleted``:
  test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused[update],
  test_a_row_changed_in_phase_two_behind_the_plans_back_is_refused[update]
- phase_one.run_phase_one without its ``check_conservation`` call (archived counts taken from the writes unchecked):
  test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused[delete],
  test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused[update]
- audit.archived_rows ``gained = n - before.get(key, 0)`` -> ``gained = n`` (rows an earlier run archived
  counted as the rerun's own): test_a_rerun_after_a_killed_run_counts_its_own_rows_and_the_leftover
- run.apply_plan, the finished run's rows added twice (``+ 2 * n``), and its ``finished_runs`` entry in the
  audit row's source_state left out: test_a_rerun_after_a_killed_run_counts_its_own_rows_and_the_leftover
- audit.archived_rows counting every table, not only the archive's (``if True:``):
  test_a_rerun_after_a_failed_run_counts_only_its_own_rows (and the killed-run test)
- conserve.check_conservation, writes to a table the plan does not move from ignored (``target is None`` branch
  off): test_a_row_changed_in_phase_two_behind_the_plans_back_is_refused[delete] and [update]
- catalog.dependents: second level followed only for ``CASCADE`` (``k.on_delete == "CASCADE"``):
  test_a_set_null_or_set_default_chain_two_levels_deep_is_refused[SET NULL] and [SET DEFAULT]
- planners.constraints ``FOLLOWING = ("CASCADE",)``: the same two, and
  test_rows_a_set_default_key_changes_are_archived_with_their_old_values
- run.check_saved_plan without the step-count check: test_a_saved_plan_with_its_last_step_deleted_is_refused
- run.check_saved_plan without the per-step comparison: test_a_saved_plan_with_two_steps_swapped_is_refused
- init_db.already_at_head ``== (head,)`` -> ``head in ...`` (a version table holding head plus a legacy id
  taken as "at head"): test_init_db_refuses_head_plus_a_legacy_id[ca1f08e0bc8a] and [001]
- restore._return_rows, the archived values of rows that stayed (``if c not in key`` -> ``if c in key``), and a
  trigger's mode set back wrong (``"A"`` -> ``"a"``: ENABLE ALWAYS came back as ENABLE):
  test_a_failure_after_phase_one_returns_every_row_as_it_was_triggers_held_off_and_set_back (found by the
  mutation run: no test had put back a SET NULL link or a trigger)

Not a mutation, a product bug these tests found: the two-level refusal never fired on a real database
(the second level's keys named their parent unqualified, the planner compared it with "schema.table");
fixed in catalog/dependents.py with the test that found it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection

from nakamura_misaki_db.bridge.run import apply_plan
from nakamura_misaki_db.connect.errors import Refused

from .helpers import (
    REPO,
    bridge_cli,
    build,
    connection,
    execute_sql,
    fingerprint,
    init_db_cli,
    rows,
    scalar,
    upgrade,
    version_rows,
)

TOKYO = "Asia/Tokyo"
DUPLICATES = "legacy_archive.conversations_duplicates"
BASE_ROWS = 40
# Three conversations that repeat the (user_id, channel_id) of three others, one day less recently active:
# the spec keeps the most recently active row, so exactly these three move to the archive.
ADD_DUPLICATES = """
INSERT INTO conversations (conversation_id, user_id, channel_id, messages, created_at, updated_at, last_message_at)
SELECT gen_random_uuid(), user_id, channel_id, messages, created_at, updated_at, last_message_at - interval '1 day'
FROM (SELECT * FROM conversations ORDER BY conversation_id LIMIT {n} OFFSET {offset}) c
"""


def _with_three_duplicates(url: URL) -> set[str]:
    """S1 without duplicates, then three written here; returns the ids that must move."""
    build(url, "S1", rows=BASE_ROWS, duplicate_ratio=0.0)
    assert scalar(url, "SELECT count(*) FROM conversations") == BASE_ROWS
    assert scalar(url, "SELECT count(DISTINCT (user_id, channel_id)) FROM conversations") == BASE_ROWS
    before = {str(r[0]) for r in rows(url, "SELECT conversation_id FROM conversations")}
    execute_sql(url, ADD_DUPLICATES.format(n=3, offset=0))
    return {str(r[0]) for r in rows(url, "SELECT conversation_id FROM conversations")} - before


def _kept_rows(url: URL, moving: set[str], n: int = 1) -> list[str]:
    """Conversations that are neither a duplicate nor the row one repeats: rows the plan must leave alone."""
    return [str(r[0]) for r in rows(
        url, "SELECT conversation_id FROM conversations c WHERE NOT EXISTS (SELECT 1 FROM conversations d"
             " WHERE d.user_id = c.user_id AND d.channel_id = c.channel_id AND d.conversation_id <> c.conversation_id)"
             " ORDER BY conversation_id DESC LIMIT :n", n=n)]


def _update(row: str) -> str:
    return f"UPDATE conversations SET channel_id = channel_id || '-x' WHERE conversation_id = '{row}'"


def _delete(row: str) -> str:
    return f"DELETE FROM conversations WHERE conversation_id = '{row}'"


def _in_phase_one(conn: Connection, sql: str) -> Callable:
    """A hook that runs ``sql`` in the bridge's own first-phase transaction, as an unforeseen trigger, rule or
    foreign key action would, just before the duplicates move (step 1)."""
    def hook(number: int, step) -> None:
        if number == 1:
            assert step.action == "archive_duplicates"
            conn.exec_driver_sql(sql)
    return hook


# -- 1, 2. row conservation, in each phase, for an UPDATE and a DELETE ------------------------------------
# PostgreSQL counts this transaction's own writes (pg_stat_xact_user_tables), so what the check sees is what
# ran in the bridge's session: the injection runs there (as a trigger, a rule or a cascade the plan did not
# foresee would). conserve.py promises a refusal naming the table and the counts, everything rolled back;
# README "All or nothing": a failure after the first phase puts it back. Either way: nothing changed.

@pytest.mark.parametrize("write", ["delete", "update"])
def test_a_row_changed_in_phase_one_behind_the_plans_back_is_refused(db_url: URL, write: str) -> None:
    [kept] = _kept_rows(db_url, _with_three_duplicates(db_url))
    sql = (_delete if write == "delete" else _update)(kept)
    before = fingerprint(db_url)
    with connection(db_url) as conn, pytest.raises(Refused) as caught:
        apply_plan(conn, legacy_timezone=TOKYO, before_step=_in_phase_one(conn, sql))
    text = str(caught.value)
    # 3 duplicates moved + the 1 row changed behind the plan's back = 4 removed or changed; 3 archived.
    assert "row conservation failed" in text, text
    assert f"public.conversations: 4 row(s) removed or changed, but 3 archived in {DUPLICATES}" in text, text
    assert fingerprint(db_url) == before
    assert version_rows(db_url) is None




@pytest.mark.parametrize("write", ["delete", "update"])
def test_a_row_changed_in_phase_two_behind_the_plans_back_is_refused(db_url: URL, write: str) -> None:
    [kept] = _kept_rows(db_url, _with_three_duplicates(db_url))
    sql = (_delete if write == "delete" else _update)(kept)
    before = fingerprint(db_url)
    with connection(db_url) as conn, pytest.raises(Refused) as caught:
        apply_plan(conn, legacy_timezone=TOKYO, before_verify=lambda: conn.exec_driver_sql(sql))
    text = str(caught.value)
    assert "row conservation failed" in text, text
    deleted, updated = (1, 0) if write == "delete" else (0, 1)
    assert (f"public.conversations: {deleted} row(s) deleted and {updated} updated by something the plan did "
            "not foresee") in text, text
    # Phase 1 had committed (three duplicates moved, the index built): the run put it back.
    assert "put it back" in text and text.endswith("Nothing was changed."), text
    assert fingerprint(db_url) == before
    assert version_rows(db_url) is None



def test_writes_of_another_session_during_phase_one_are_not_the_runs(db_url: URL) -> None:
    """conserve.py: the counts are this transaction's only, "not fooled by concurrent writers": the
    application (another session, allowed with --allow-connected-clients) updating and deleting rows while
    phase 1 runs neither stops the run nor is counted as archived by it."""
    moving = _with_three_duplicates(db_url)
    updated, deleted = _kept_rows(db_url, moving, 2)
    other = sa.create_engine(db_url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with other.connect() as app, connection(db_url) as conn:
            def the_application_writes(number: int, step) -> None:
                if number == 1:
                    app.exec_driver_sql(_update(updated))
                    app.exec_driver_sql(_delete(deleted))

            result = apply_plan(conn, legacy_timezone=TOKYO, before_step=the_application_writes,
                                allow_connected_clients=True)
    finally:
        other.dispose()
    assert result.status == "applied"
    assert result.rows_archived == {DUPLICATES: 3}
    assert {str(r[0]) for r in rows(db_url, f"SELECT conversation_id FROM {DUPLICATES}")} == moving
    # The application's own writes stand: one row changed, one gone, neither archived.
    assert scalar(db_url, "SELECT channel_id FROM conversations WHERE conversation_id = :i", i=updated).endswith("-x")
    assert scalar(db_url, "SELECT count(*) FROM conversations WHERE conversation_id = :i", i=deleted) == 0
    assert scalar(db_url, "SELECT count(*) FROM conversations") == BASE_ROWS - 1
    assert version_rows(db_url) == ["0001"]


# -- 3. the audit row of a rerun ---------------------------------------------------------------------------

def _audit(url: URL) -> list[tuple]:
    return rows(url, f"SELECT run_id::text, rows_archived, source_state, row_counts_before, row_counts_after"
                     f" FROM {DUPLICATES.split('.')[0]}.bridge_runs")


def test_a_rerun_after_a_killed_run_counts_its_own_rows_and_the_leftover(db_url: URL) -> None:
    """README "All or nothing": the next apply finishes a killed run, "counting its archived rows in its own
    audit row": the leftover (3 rows of the killed run) plus what the rerun moved itself (2 new duplicates
    written after the kill), each once."""
    from .test_reliability_crash import PausedBridge

    _with_three_duplicates(db_url)
    killed = PausedBridge(db_url, 2)  # paused before step 2 (the index build): the 3 duplicates committed
    try:
        killed.wait_paused(2)
    finally:
        killed.kill()
    from .helpers import wait_until

    wait_until(lambda: scalar(db_url, "SELECT count(*) FROM pg_stat_activity WHERE datname = :d"
                                      " AND pid <> pg_backend_pid()", d=db_url.database) == 0,
               15, "the killed run's session to end")
    assert scalar(db_url, f"SELECT count(*) FROM {DUPLICATES}") == 3
    killed_id = str(scalar(db_url, f"SELECT DISTINCT bridge_run_id::text FROM {DUPLICATES}"))
    # The application writes two more duplicates (no unique index yet): the rerun moves those itself.
    execute_sql(db_url, ADD_DUPLICATES.format(n=2, offset=10))
    in_place = BASE_ROWS + 2  # 40 + 3 - 3 moved + 2 new

    with connection(db_url) as conn:
        result = apply_plan(conn, legacy_timezone=TOKYO)
    assert result.status == "applied"
    assert result.finished_runs == [killed_id]
    assert result.rows_archived == {DUPLICATES: 5}
    [(run_id, archived, source, counts_before, counts_after)] = _audit(db_url)
    assert run_id == result.run_id
    assert archived == {DUPLICATES: 5}
    assert source["finished_runs"] == {killed_id: {DUPLICATES: 3}}
    assert counts_before[DUPLICATES] == 3 and counts_after[DUPLICATES] == 5
    assert counts_before["public.conversations"] == in_place and counts_after["public.conversations"] == BASE_ROWS
    tagged = dict(rows(db_url, f"SELECT bridge_run_id::text, count(*) FROM {DUPLICATES} GROUP BY 1"))
    assert tagged == {killed_id: 3, run_id: 2}


def test_a_rerun_after_a_failed_run_counts_only_its_own_rows(db_url: URL) -> None:
    """A run that fails after phase 1 puts it back (nothing left over): the rerun moves the three duplicates
    again and its audit row counts exactly those, finishing nobody's run."""
    moving = _with_three_duplicates(db_url)
    before = fingerprint(db_url)

    class Boom(RuntimeError):
        pass

    def fail() -> None:
        raise Boom("injected after phase 1")

    with connection(db_url) as conn, pytest.raises(Exception, match="injected after phase 1"):
        apply_plan(conn, legacy_timezone=TOKYO, before_verify=fail)
    assert fingerprint(db_url) == before
    with connection(db_url) as conn:
        result = apply_plan(conn, legacy_timezone=TOKYO)
    assert result.finished_runs == []
    assert result.rows_archived == {DUPLICATES: 3}
    [(run_id_, archived, source, counts_before, counts_after)] = _audit(db_url)
    assert run_id_ == result.run_id and archived == {DUPLICATES: 3} and "finished_runs" not in source
    assert DUPLICATES not in counts_before and counts_after[DUPLICATES] == 3
    assert {str(r[0]) for r in rows(db_url, f"SELECT conversation_id FROM {DUPLICATES}")} == moving


# -- 4. dependents through ON DELETE SET NULL / SET DEFAULT ------------------------------------------------

LINKS = """
CREATE TABLE conversation_links (
    link_id serial PRIMARY KEY,
    conversation_id uuid REFERENCES conversations (conversation_id) ON DELETE {action},
    note text NOT NULL
);
INSERT INTO conversation_links (conversation_id, note) SELECT conversation_id, 'link' FROM conversations;
"""
COMMENTS = """
CREATE TABLE link_comments (
    comment_id serial PRIMARY KEY,
    link_id int NOT NULL REFERENCES conversation_links (link_id) ON DELETE CASCADE,
    body text NOT NULL
);
INSERT INTO link_comments (link_id, body) SELECT link_id, 'comment' FROM conversation_links;
"""


@pytest.mark.parametrize("action", ["SET NULL", "SET DEFAULT"])
def test_a_set_null_or_set_default_chain_two_levels_deep_is_refused(db_url: URL, action: str) -> None:
    _with_three_duplicates(db_url)
    execute_sql(db_url, LINKS.format(action=action) + COMMENTS)
    before = fingerprint(db_url)
    plan = bridge_cli(db_url, "plan", "--legacy-timezone", TOKYO)
    assert plan.returncode == 3, plan.stdout + plan.stderr
    assert "foreign key public.link_comments.link_comments_link_id_fkey" in plan.stdout, plan.stdout
    assert (f"points at public.conversation_links, whose rows the ON DELETE {action} of "
            "public.conversation_links.conversation_links_conversation_id_fkey would change: a cascade two "
            "levels deep") in plan.stdout, plan.stdout
    applied = bridge_cli(db_url, "apply", "--legacy-timezone", TOKYO)
    assert applied.returncode == 3, applied.stdout + applied.stderr
    assert "a cascade two levels deep" in applied.stderr
    assert fingerprint(db_url) == before


def test_rows_a_set_default_key_changes_are_archived_with_their_old_values(db_url: URL) -> None:
    moving = _with_three_duplicates(db_url)
    execute_sql(db_url, LINKS.format(action="SET DEFAULT"))
    links_before = {(r[0], str(r[1])) for r in rows(db_url, "SELECT link_id, conversation_id FROM conversation_links")}
    with connection(db_url) as conn:
        result = apply_plan(conn, legacy_timezone=TOKYO)
    assert result.status == "applied"
    archived = {(r[0], str(r[1])) for r in rows(
        db_url, "SELECT link_id, conversation_id FROM legacy_archive.conversation_links_cascade")}
    assert archived == {(i, c) for i, c in links_before if c in moving} and len(archived) == 3
    now = {(r[0], r[1]) for r in rows(db_url, "SELECT link_id, conversation_id FROM conversation_links")}
    assert {i for i, _ in now} == {i for i, _ in links_before}  # no link lost
    assert {i for i, c in now if c is None} == {i for i, _ in archived}  # the default (NULL) on exactly those


# -- 5. a saved plan cut short or reordered ----------------------------------------------------------------

def _saved_plan(url: URL, path: Path) -> dict:
    result = bridge_cli(url, "plan", "--legacy-timezone", TOKYO, "--out", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(path.read_text(encoding="utf-8"))


def _apply_tampered(url: URL, path: Path, data: dict):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return bridge_cli(url, "apply", "--plan", str(path))


def test_a_saved_plan_with_its_last_step_deleted_is_refused(db_url: URL, tmp_path: Path) -> None:
    _with_three_duplicates(db_url)
    data = _saved_plan(db_url, tmp_path / "plan.json")
    steps = len(data["steps"])
    del data["steps"][-1]
    before = fingerprint(db_url)
    result = _apply_tampered(db_url, tmp_path / "cut.json", data)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"the saved plan has {steps - 1} step(s); this database needs {steps}" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert fingerprint(db_url) == before


def test_a_saved_plan_with_two_steps_swapped_is_refused(db_url: URL, tmp_path: Path) -> None:
    _with_three_duplicates(db_url)
    data = _saved_plan(db_url, tmp_path / "plan.json")
    first, second = data["steps"][0], data["steps"][1]
    assert (first["action"], second["action"]) == ("archive_duplicates", "build_unique_index")
    data["steps"][0], data["steps"][1] = second, first
    before = fingerprint(db_url)
    result = _apply_tampered(db_url, tmp_path / "swapped.json", data)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"step 1 of the saved plan ({second['action']} {second['object']}) differs" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert fingerprint(db_url) == before


# -- 6. nakamura-init-db on head plus a legacy id ----------------------------------------------------------

def _head_from_the_scripts() -> str:
    """The newest revision by the migration scripts' own file names (NNNN_name.py)."""
    ids = [m[1] for p in (REPO / "alembic" / "versions").glob("*.py") if (m := re.match(r"(\d{4})_", p.name))]
    return max(ids)


@pytest.mark.parametrize("legacy_id", ["ca1f08e0bc8a", "001"])  # ids of the legacy chain (legacy-states.md)
def test_init_db_refuses_head_plus_a_legacy_id(db_url: URL, legacy_id: str) -> None:
    head = _head_from_the_scripts()
    upgrade(db_url, "head")
    assert version_rows(db_url) == [head]
    execute_sql(db_url, f"INSERT INTO alembic_version VALUES ('{legacy_id}')")
    before = fingerprint(db_url)
    result = init_db_cli(db_url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "at head" not in result.stdout, result.stdout
    assert result.stderr.startswith("nakamura-init-db: refused: "), result.stderr
    assert "Nothing was changed" in result.stderr
    assert fingerprint(db_url) == before
    assert sorted(version_rows(db_url) or []) == sorted([head, legacy_id])


# -- 6. a failure after phase 1: everything it committed put back as it was --------------------------------

STAMP_ON_WRITE = """
CREATE FUNCTION stamp_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now() + interval '1 year'; RETURN NEW; END $$;
CREATE TRIGGER conversations_stamp BEFORE INSERT OR UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION stamp_updated_at();
CREATE TRIGGER conversations_stamp_always BEFORE INSERT OR UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION stamp_updated_at();
ALTER TABLE conversations ENABLE ALWAYS TRIGGER conversations_stamp_always;
CREATE TRIGGER conversations_stamp_replica BEFORE INSERT OR UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION stamp_updated_at();
ALTER TABLE conversations ENABLE REPLICA TRIGGER conversations_stamp_replica;
"""


def test_a_failure_after_phase_one_returns_every_row_as_it_was_triggers_held_off_and_set_back(db_url: URL) -> None:
    """README "All or nothing": the duplicates come back, the SET NULL links get their conversation back
    (the rows stayed, their archived values return), and the table's triggers (one of each enabled mode)
    neither fire on the return nor stay changed: the fingerprint (pg_dump prints each trigger's mode, the
    checksums every value) is the one from before."""
    moving = _with_three_duplicates(db_url)
    execute_sql(db_url, LINKS.format(action="SET NULL") + STAMP_ON_WRITE)
    before = fingerprint(db_url)

    def fail() -> None:
        # Phase 1 did commit: the duplicates are in the archive and their links lost their conversation.
        assert scalar(db_url, f"SELECT count(*) FROM {DUPLICATES}") == 3
        assert scalar(db_url, "SELECT count(*) FROM conversation_links WHERE conversation_id IS NULL") == 3
        raise RuntimeError("injected after phase 1")

    with connection(db_url) as conn, pytest.raises(Exception, match="injected after phase 1") as caught:
        apply_plan(conn, legacy_timezone=TOKYO, before_verify=fail)
    assert fingerprint(db_url) == before
    assert {str(r[0]) for r in rows(db_url, "SELECT conversation_id FROM conversation_links")} >= moving
    text = str(caught.value)
    returned = re.search(r"3 row\(s\) returned from legacy_archive\.conversations_duplicates to public\.conversations"
                         r" \(trigger\(s\) ([\w, ]+) held off meanwhile\)", text)
    assert returned, text
    assert sorted(returned[1].split(", ")) == ["conversations_stamp", "conversations_stamp_always",
                                               "conversations_stamp_replica"], text
    assert "3 row(s) returned from legacy_archive.conversation_links_cascade to public.conversation_links" in text


# -- 7. a saved plan read back: all of it, and only a plan this version wrote ------------------------------

@pytest.mark.parametrize("zone", [TOKYO, None], ids=["ready", "refused"])
def test_a_saved_plan_reads_back_as_the_very_plan_that_was_saved(db_url: URL, tmp_path: Path,
                                                                 zone: str | None) -> None:
    from nakamura_misaki_db.bridge.plan import Plan

    _with_three_duplicates(db_url)
    path = tmp_path / "plan.json"
    result = bridge_cli(db_url, "plan", "--out", str(path), *(["--legacy-timezone", zone] if zone else []))
    assert result.returncode == (0 if zone else 3), result.stdout + result.stderr
    saved = json.loads(path.read_text(encoding="utf-8"))
    # The refused plan has what a ready one lacks (refusals, and no zone): both must survive the round trip.
    assert bool(saved["refusals"]) is (zone is None) and saved["steps"] and saved["differences"]
    assert Plan.from_dict(saved).to_dict() == saved


@pytest.mark.parametrize("field", ["format", "target_revision"])
def test_a_plan_file_of_another_format_or_target_is_refused_as_bad_input(db_url: URL, tmp_path: Path,
                                                                        field: str) -> None:
    _with_three_duplicates(db_url)
    data = _saved_plan(db_url, tmp_path / "plan.json")
    data[field] = "9999"
    before = fingerprint(db_url)
    result = _apply_tampered(db_url, tmp_path / "other.json", data)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the plan file was not written by this version of baseline-bridge" in result.stderr
    assert fingerprint(db_url) == before
