"""The open-world planner (bridge/planners/dependents.py) as a pure function: dependents built by hand.

Each test sets up what ``dependents.inspect_dependents`` would have read
around the plan (a foreign key into a table, a function naming it, a view
over a column ...) and says, from the module's docstring and section 7 of
MIGRATION_GUIDE.md, which refusal (object, problem, what to do) or which
wrapped step must come out.
"""

from __future__ import annotations

import dataclasses

import pytest

from nakamura_misaki_db.bridge.steps import Refusal
from nakamura_misaki_db.catalog.dependents import Dependents, ReferencingKey, ViewDef
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.catalog.mentions import Mention

from .catalogs import tasks
from .test_planners import _full, _plan


def _key(schema: str, table: str, name: str, ref_table: str, on_delete: str = "NO ACTION",
         columns: tuple[str, ...] = ("note_id",), ref_columns: tuple[str, ...] = ("id",),
         affected_rows: int = 0) -> ReferencingKey:
    return ReferencingKey(schema, table, name, columns, ref_table, ref_columns, on_delete,
                          f"FOREIGN KEY ({', '.join(columns)}) REFERENCES {ref_table}({', '.join(ref_columns)})",
                          affected_rows)


def _legacy(*names: str):
    """The target plus legacy-only tables (S4's notes, sessions): each moves to the archive."""
    return _full(**{n: dataclasses.replace(tasks(), name=n) for n in names})


# -- a table that moves to the archive -----------------------------------------------------------

def test_a_foreign_key_into_a_table_that_moves_to_the_archive_is_refused() -> None:
    deps = Dependents(referencing=[_key("public", "reminders", "reminders_note_id_fkey", "public.notes")])
    planned = _plan(_legacy("notes"), DataFacts(dependents=deps))
    assert [s.action for s in planned.steps] == ["archive_table"]
    assert planned.refusals == [Refusal(
        "foreign key public.reminders.reminders_note_id_fkey",
        "points into notes, which must move to the archive",
        "drop or rework public.reminders.reminders_note_id_fkey first, then plan again")]


def test_a_foreign_key_between_two_tables_that_both_move_is_not_refused() -> None:
    # sessions moves too: the key goes to the archive with both ends.
    deps = Dependents(referencing=[_key("public", "sessions", "sessions_note_id_fkey", "public.notes")])
    planned = _plan(_legacy("notes", "sessions"), DataFacts(dependents=deps))
    assert sorted(s.object for s in planned.steps) == ["notes", "sessions"]
    assert planned.refusals == []


def test_a_key_from_another_schema_is_refused_even_if_a_moving_public_table_has_its_name() -> None:
    # audit.sessions stays where it is; only public.sessions moves with notes.
    deps = Dependents(referencing=[_key("audit", "sessions", "sessions_note_id_fkey", "public.notes")])
    planned = _plan(_legacy("notes", "sessions"), DataFacts(dependents=deps))
    assert [r.object for r in planned.refusals] == ["foreign key audit.sessions.sessions_note_id_fkey"]


def test_a_key_into_a_table_that_stays_is_no_concern_of_the_archived_one() -> None:
    deps = Dependents(referencing=[_key("public", "reminders", "reminders_task_id_fkey", "public.tasks")])
    planned = _plan(_legacy("notes"), DataFacts(dependents=deps))
    assert [s.action for s in planned.steps] == ["archive_table"]
    assert planned.refusals == []


def test_a_function_that_names_a_table_moving_to_the_archive_is_refused_with_its_text() -> None:
    mention = Mention("function", "public.count_notes()", "notes", "SELECT count(*) FROM notes")
    other = Mention("function", "public.count_sessions()", "sessions", "SELECT count(*) FROM sessions")
    deps = Dependents(table_mentions={"notes": [mention], "sessions": [other]})
    planned = _plan(_legacy("notes"), DataFacts(dependents=deps))
    assert planned.refusals == [Refusal(
        "function public.count_notes()",
        "names table notes, which moves to legacy_archive: it would fail when it runs (SELECT count(*) FROM notes)",
        "change or drop it before the bridge (the table will be legacy_archive.notes), then plan again")]


def test_referencing_into_lists_only_the_keys_into_that_table() -> None:
    from nakamura_misaki_db.bridge.planners.dependents import referencing_into

    into_notes = _key("public", "reminders", "reminders_note_id_fkey", "public.notes")
    into_tasks = _key("public", "reminders", "reminders_task_id_fkey", "public.tasks")
    deps = Dependents(referencing=[into_notes, into_tasks])
    assert referencing_into(deps, "notes") == [into_notes]
    assert referencing_into(deps, "sessions") == []


# -- duplicates moving out of conversations: what follows them (ON DELETE CASCADE / SET NULL / SET DEFAULT) --

def _moving_duplicates_with(table=None, **dependents):
    """A plan moving conversations' duplicates (3 keys, 5 extra rows), with these dependents around it."""
    from nakamura_misaki_db.catalog.facts import Duplicates

    from .catalogs import conversations, with_rows

    actual = _full(conversations=table or with_rows(dataclasses.replace(conversations(), uniques=())))
    facts = DataFacts(duplicates={("conversations", ("user_id", "channel_id")): Duplicates(3, 5)},
                      dependents=Dependents(**dependents))
    return _plan(actual, facts)


def _duplicates_plan(*keys: ReferencingKey, table=None):
    return _moving_duplicates_with(table, referencing=list(keys))


def test_rows_that_follow_moved_duplicates_are_archived_with_them_and_their_writers_wait() -> None:
    cascade = _key("public", "reminders", "reminders_conversation_id_fkey", "public.conversations", "CASCADE",
                   columns=("conversation_id",))
    set_null = _key("crm", "calls", "calls_conversation_id_fkey", "public.conversations", "SET NULL",
                    columns=("conversation_id",))
    elsewhere = _key("public", "notes", "notes_task_id_fkey", "public.tasks", "CASCADE", columns=("task_id",))
    no_action = _key("public", "links", "links_conversation_id_fkey", "public.conversations", "NO ACTION",
                     columns=("conversation_id",))
    planned = _duplicates_plan(cascade, set_null, elsewhere, no_action)
    [move] = [s for s in planned.steps if s.action == "archive_duplicates"]
    # Only keys into conversations whose ON DELETE changes rows follow; each gets its own archive table.
    assert move.moves == {
        "public.conversations": "legacy_archive.conversations_duplicates",
        "public.reminders": "legacy_archive.reminders_cascade",
        "crm.calls": "legacy_archive.crm_calls_cascade",
    }
    assert move.locks == ["ROW EXCLUSIVE on conversations (writers are not blocked)",
                          "SHARE on public.reminders (its writers wait)",
                          "SHARE on crm.calls (its writers wait)"]
    sql = "\n".join(move.sql)
    assert '"public"."reminders"' in sql and '"crm"."calls"' in sql
    assert '"links"' not in sql and '"notes"' not in sql


def test_the_row_kept_among_duplicates_is_the_most_recently_active_then_by_key() -> None:
    # legacy-states.md: keep the most recently active row (last_message_at, else updated_at, else created_at);
    # MIGRATION_GUIDE.md section 7: no such column (or no key to break ties) is refused.
    from nakamura_misaki_db.bridge.planners.constraints import keep_by
    from nakamura_misaki_db.schema.shapes import Unique

    from .catalogs import conversations

    table = conversations()

    def without(*names: str):
        return dataclasses.replace(table, columns=tuple(c for c in table.columns if c.name not in names))

    assert keep_by(table) == ["last_message_at", "conversation_id"]
    assert keep_by(without("last_message_at")) == ["updated_at", "conversation_id"]
    assert keep_by(without("last_message_at", "updated_at")) == ["created_at", "conversation_id"]
    assert keep_by(without("last_message_at", "updated_at", "created_at")) is None
    assert keep_by(dataclasses.replace(table, primary_key=None)) is None
    two = dataclasses.replace(table, primary_key=Unique("pk", ("user_id", "channel_id")))
    assert keep_by(two) == ["last_message_at", "user_id", "channel_id"]


def test_each_row_that_follows_keeps_why_it_was_archived() -> None:
    # legacy-states.md: nothing is dropped without a record; the archive's archived_because says why.
    cascade = _key("public", "reminders", "reminders_conversation_id_fkey", "public.conversations", "CASCADE",
                   columns=("conversation_id",))
    [move] = [s for s in _duplicates_plan(cascade).steps if s.action == "archive_duplicates"]
    assert ("'ON DELETE CASCADE of public.reminders.reminders_conversation_id_fkey: these rows pointed at "
            "duplicate rows of public.conversations that this run moved'") in "\n".join(move.sql)


# -- duplicates moving out of conversations: triggers, rules and row security on the deletes --------------------

def test_an_enabled_delete_trigger_on_the_table_losing_duplicates_is_refused() -> None:
    from nakamura_misaki_db.catalog.dependents import Trigger

    fires = Trigger("public", "conversations", "log_deletes", frozenset({"DELETE", "UPDATE"}), True,
                    "CREATE TRIGGER log_deletes AFTER DELETE OR UPDATE ON conversations ...")
    harmless = [
        Trigger("public", "conversations", "stamp", frozenset({"INSERT", "UPDATE"}), True, "stamp"),
        Trigger("public", "conversations", "off", frozenset({"DELETE"}), False, "off"),
        Trigger("public", "tasks", "log_task_deletes", frozenset({"DELETE"}), True, "elsewhere"),
    ]
    planned = _moving_duplicates_with(triggers=[*harmless, fires])
    assert planned.refusals == [Refusal(
        "trigger public.conversations.log_deletes",
        "fires when rows of conversations are deleted, and the bridge moves duplicate rows out of conversations "
        "(CREATE TRIGGER log_deletes AFTER DELETE OR UPDATE ON conversations ...)",
        "disable it for the run (ALTER TABLE public.conversations DISABLE TRIGGER log_deletes), apply, then "
        "enable it again; or remove the duplicates by hand")]
    assert _moving_duplicates_with(triggers=harmless).refusals == []


def test_a_delete_rule_on_the_table_losing_duplicates_is_refused() -> None:
    from nakamura_misaki_db.catalog.dependents import Rule

    rewrites = Rule("public", "conversations", "keep_forever", "DELETE", "DO INSTEAD NOTHING")
    harmless = [Rule("public", "conversations", "on_insert", "INSERT", "..."),
                Rule("public", "tasks", "no_task_deletes", "DELETE", "...")]
    planned = _moving_duplicates_with(rules=[*harmless, rewrites])
    assert planned.refusals == [Refusal(
        "rule public.conversations.keep_forever",
        "rewrites deletes on conversations, and the bridge moves duplicate rows out of it",
        "drop the rule for the run and recreate it afterwards, or remove the duplicates by hand")]
    assert _moving_duplicates_with(rules=harmless).refusals == []


def test_row_security_on_the_table_losing_duplicates_is_refused() -> None:
    planned = _moving_duplicates_with(row_security=["conversations"])
    assert planned.refusals == [Refusal(
        "table conversations",
        "has row level security that this role does not bypass: the bridge must see every row to move the "
        "duplicates",
        # (issue 22: not "run as the owner" to the owner of a table that FORCEs it)
        "use a role with BYPASSRLS, or the table's owner when the table does not FORCE row level security")]
    assert _moving_duplicates_with(row_security=["tasks"]).refusals == []


# -- plan_unique over duplicates: the rows it reports, and no column to choose the row kept -------------------

def _unique_plan(table):
    from nakamura_misaki_db.catalog.facts import Duplicates

    from .test_planners import _unique_planned

    facts = DataFacts(duplicates={("conversations", ("user_id", "channel_id")): Duplicates(3, 5)})
    return _unique_planned(table, facts)


def test_the_duplicates_step_reports_the_tables_estimated_rows() -> None:
    from .catalogs import conversations, with_rows

    table = with_rows(dataclasses.replace(conversations(), uniques=()), 1234)
    assert (_unique_plan(table).steps[0].action, _unique_plan(table).steps[0].rows) == ("archive_duplicates", 1234)
    unknown = dataclasses.replace(table, estimated_rows=None)  # never analyzed: shown as 0, not a guess
    assert (_unique_plan(unknown).steps[0].action, _unique_plan(unknown).steps[0].rows) == ("archive_duplicates", 0)


def test_duplicates_with_no_column_to_keep_the_most_recent_are_refused() -> None:
    from .catalogs import conversations, with_rows

    table = with_rows(dataclasses.replace(conversations(), uniques=()))
    table = dataclasses.replace(table, columns=tuple(
        c for c in table.columns if c.name not in ("last_message_at", "updated_at", "created_at")))
    planned = _unique_plan(table)
    assert planned.steps == []
    assert planned.refusals == [Refusal(
        "uq_conversations_user_channel",
        "3 duplicated key(s) in conversations (user_id, channel_id) and no column says which row is the most recent",
        "remove the duplicates by hand, then plan again")]


# -- a column whose type changes (tasks.due_at from timestamp to timestamptz): what uses it ---------------------

def _altering_due_at(**dependents):
    from .catalogs import TS, replace_column, with_rows

    actual = _full(tasks=with_rows(replace_column(tasks(), "due_at", type=TS)))
    return _plan(actual, DataFacts(dependents=Dependents(**dependents)), zone="Asia/Tokyo")


def _view(oid: int, name: str, definition: str, *, reads: tuple[int, ...] = (), owner: str = "app",
          **changes) -> ViewDef:
    view = ViewDef(oid, "public", name, False, definition, (), owner, (), None, reads, False, False)
    return dataclasses.replace(view, **changes)


def test_an_object_using_the_altered_column_is_refused_with_its_definition() -> None:
    from nakamura_misaki_db.catalog.dependents import ColumnUse

    uses = [ColumnUse("policy", "public.tasks.due_soon", "tasks", "due_at", "(due_at < now())"),
            ColumnUse("trigger", "public.tasks.stamp", "tasks", "title", "..."),  # a column that keeps its type
            ColumnUse("trigger", "public.reminders.r", "reminders", "due_at", "...")]  # another table's due_at
    planned = _altering_due_at(column_uses=uses)
    assert planned.refusals == [Refusal(
        "policy public.tasks.due_soon",
        "uses tasks.due_at, whose type changes; PostgreSQL cannot alter the column while it exists ((due_at < now()))",
        "drop it before the bridge and recreate it afterwards from that definition (or make it not use due_at), "
        "then plan again")]


def test_views_over_the_altered_column_are_dropped_and_recreated_around_it_readers_last() -> None:
    due = _view(1, "due_tasks", " SELECT id, due_at FROM tasks;", grants=(("reporting", "SELECT", False),),
                comment="for the dashboard")
    overdue = _view(2, "overdue", "SELECT id FROM due_tasks WHERE due_at < now()", reads=(1,), owner="analyst")
    other = _view(3, "titles", "SELECT title FROM tasks")  # reads tasks, not due_at
    planned = _altering_due_at(views={1: due, 2: overdue, 3: other}, column_views={("tasks", "due_at"): [1]},
                               current_user="app", superuser=True)
    assert planned.refusals == []
    [alter] = planned.steps
    assert alter.sql[:2] == ['DROP VIEW "public"."overdue"', 'DROP VIEW "public"."due_tasks"']
    assert alter.sql[-5:] == [
        'CREATE VIEW "public"."due_tasks" AS SELECT id, due_at FROM tasks',
        'GRANT SELECT ON "public"."due_tasks" TO "reporting"',
        "COMMENT ON VIEW \"public\".\"due_tasks\" IS 'for the dashboard'",
        'CREATE VIEW "public"."overdue" AS SELECT id FROM due_tasks WHERE due_at < now()',
        'ALTER VIEW "public"."overdue" OWNER TO "analyst"',
    ]
    assert alter.dependents[-2:] == [
        f"view public.{name}: dropped and recreated from its own definition around the ALTER (owner, grants, "
        "options and comment kept)" for name in ("due_tasks", "overdue")]


@pytest.mark.parametrize(("changes", "problem"), [
    ({"materialized": True}, "is a materialized view (its data would have to be rebuilt)"),
    ({"extra_rules": True}, "has rules or INSTEAD OF triggers of its own"),
    ({"triggers": True}, "has rules or INSTEAD OF triggers of its own"),
    ({"owner": "analyst"}, "is owned by analyst; recreating it needs that role or a superuser"),
])
def test_a_view_the_bridge_cannot_recreate_is_refused_and_nothing_is_wrapped(changes, problem) -> None:
    due = _view(1, "due_tasks", "SELECT id,\n   due_at FROM tasks", **changes)
    planned = _altering_due_at(views={1: due}, column_views={("tasks", "due_at"): [1]}, current_user="app")
    assert planned.refusals == [Refusal(
        "view public.due_tasks",
        f"reads tasks.due_at, whose type changes, and {problem}",
        "drop it before the bridge and recreate it afterwards (its definition: SELECT id, due_at FROM tasks), or "
        "run the bridge as its owner")]
    assert not any(sql.startswith(("DROP VIEW", "CREATE VIEW")) for s in planned.steps for sql in s.sql)


def test_a_superuser_recreates_a_view_another_role_owns() -> None:
    due = _view(1, "due_tasks", "SELECT id, due_at FROM tasks", owner="analyst")
    planned = _altering_due_at(views={1: due}, column_views={("tasks", "due_at"): [1]}, current_user="postgres",
                               superuser=True)
    assert planned.refusals == []
    assert planned.steps[0].sql[0] == 'DROP VIEW "public"."due_tasks"'


# -- keys into the table losing duplicates that do not follow, and cascades two levels deep -------------------

def test_a_no_action_key_with_rows_pointing_at_duplicates_is_refused_and_one_without_is_listed() -> None:
    pointing = _key("public", "links", "links_conversation_id_fkey", "public.conversations", "NO ACTION",
                    columns=("conversation_id",), ref_columns=("conversation_id",), affected_rows=1200)
    idle = _key("crm", "calls", "calls_conversation_id_fkey", "public.conversations", "RESTRICT",
                columns=("conversation_id",), ref_columns=("conversation_id",))
    planned = _duplicates_plan(pointing, idle)
    assert planned.refusals == [Refusal(
        "foreign key public.links.links_conversation_id_fkey",
        "1,200 row(s) of public.links point at duplicate rows of conversations that the bridge would move to the "
        "archive (ON DELETE NO ACTION)",
        "point those rows at the row that is kept for each (conversation_id), or remove them, then plan again")]
    [move] = [s for s in planned.steps if s.action == "archive_duplicates"]
    assert "foreign key crm.calls.calls_conversation_id_fkey (ON DELETE RESTRICT): no row points at the rows that " \
           "move" in move.dependents


def test_a_cascade_two_levels_deep_is_refused() -> None:
    cascade = _key("public", "reminders", "reminders_conversation_id_fkey", "public.conversations", "CASCADE",
                   columns=("conversation_id",), affected_rows=7)
    deeper = _key("public", "alerts", "alerts_reminder_id_fkey", "public.reminders", "CASCADE",
                  columns=("reminder_id",))
    unrelated = _key("public", "alerts", "alerts_task_id_fkey", "public.tasks", "CASCADE", columns=("task_id",))
    planned = _moving_duplicates_with(referencing=[cascade], second_level=[unrelated, deeper])
    assert planned.refusals == [Refusal(
        "foreign key public.alerts.alerts_reminder_id_fkey",
        "points at public.reminders, whose rows the ON DELETE CASCADE of "
        "public.reminders.reminders_conversation_id_fkey would change: a cascade two levels deep",
        "remove the duplicates of conversations by hand (deciding what happens to the rows that point at them), "
        "then plan again")]
    [move] = [s for s in planned.steps if s.action == "archive_duplicates"]
    assert ("foreign key public.reminders.reminders_conversation_id_fkey (ON DELETE CASCADE): ~7 row(s) pointing "
            "at moved rows are copied to legacy_archive.reminders_cascade first") in move.dependents


# -- labels the bridge renames, enums it rebuilds, unique constraints it drops ---------------------------------

def test_objects_spelling_a_renamed_label_are_refused_with_what_would_happen() -> None:
    fails = Mention("function", "public.done_count()", "COMPLETED", "WHERE status = 'COMPLETED'")
    misses = Mention("view", "public.open_tasks", "PENDING", "WHERE status = 'PENDING'")
    planned = _plan(_full(), DataFacts(dependents=Dependents(label_mentions={"task_status": [fails, misses]})))
    assert planned.refusals == [
        Refusal("function public.done_count()",
                "spells the label COMPLETED of task_status, which the bridge renames; it would fail at run time "
                "(WHERE status = 'COMPLETED')",
                "make it spell the target label (or compare case-insensitively, e.g. lower(status::text)) before "
                "the bridge, then plan again"),
        Refusal("view public.open_tasks",
                "spells the label PENDING of task_status, which the bridge renames; it would silently stop "
                "matching rows (WHERE status = 'PENDING')",
                "make it spell the target label (or compare case-insensitively, e.g. lower(status::text)) before "
                "the bridge, then plan again"),
    ]


@pytest.mark.parametrize(("kind", "effect"), [
    # Code run on a write compares with a label that no longer exists: an error, at run time.
    ("function", "would fail at run time"), ("trigger", "would fail at run time"),
    ("default", "would fail at run time"),
    # A query filter keeps working but matches nothing.
    ("view", "would silently stop matching rows"), ("policy", "would silently stop matching rows"),
])
def test_what_an_old_label_spelling_would_do_depends_on_the_kind_of_object(kind: str, effect: str) -> None:
    mention = Mention(kind, "public.tasks.x", "IN_PROGRESS", "status = 'IN_PROGRESS'")
    planned = _plan(_full(), DataFacts(dependents=Dependents(label_mentions={"task_status": [mention]})))
    assert [(r.object, r.problem) for r in planned.refusals] == [(
        f"{kind} public.tasks.x",
        f"spells the label IN_PROGRESS of task_status, which the bridge renames; it {effect} "
        "(status = 'IN_PROGRESS')")]


def test_an_enum_to_rebuild_that_other_objects_use_is_refused_naming_them() -> None:
    uses = ["function public.f(task_status)", "default of column public.notes.kind"]
    planned = _plan(_full(), DataFacts(dependents=Dependents(type_uses={"task_status": uses})))
    assert planned.refusals == [Refusal(
        "enum task_status",
        "must be rebuilt, but is used by: function public.f(task_status); default of column public.notes.kind",
        "drop or change those objects first (a rebuild only handles plain table columns without a default), then "
        "plan again")]


def test_a_key_that_needs_a_unique_constraint_the_target_drops_is_refused() -> None:
    from nakamura_misaki_db.schema.shapes import Unique

    extra = dataclasses.replace(tasks(), uniques=(*tasks().uniques, Unique("uq_tasks_title", ("title",))))
    needs = _key("public", "notes", "notes_task_title_fkey", "public.tasks", columns=("task_title",),
                 ref_columns=("title",))
    other = _key("public", "notes", "notes_task_id_fkey", "public.tasks", columns=("task_id",), ref_columns=("id",))
    planned = _plan(_full(tasks=extra), DataFacts(dependents=Dependents(referencing=[other, needs])))
    assert planned.refusals == [Refusal(
        "foreign key public.notes.notes_task_title_fkey",
        "needs the unique constraint uq_tasks_title on tasks, which the target does not have",
        "drop or rework public.notes.notes_task_title_fkey first, then plan again")]



def test_a_refusal_names_every_altered_column_and_cuts_a_long_definition_at_300_characters() -> None:
    from .catalogs import TS, replace_column, with_rows

    both = replace_column(replace_column(tasks(), "due_at", type=TS), "completed_at", type=TS)
    long_definition = "SELECT id, due_at FROM tasks WHERE " + " OR ".join(f"id = {i}" for i in range(60))
    due = _view(1, "due_tasks", long_definition, materialized=True)
    deps = Dependents(views={1: due}, column_views={("tasks", "due_at"): [1]}, current_user="app")
    planned = _plan(_full(tasks=with_rows(both)), DataFacts(dependents=deps), zone="Asia/Tokyo")
    [refusal] = planned.refusals
    assert refusal.problem.startswith("reads tasks.completed_at, due_at, whose type changes, and is a materialized")
    assert refusal.remedy == (f"drop it before the bridge and recreate it afterwards (its definition: "
                           f"{long_definition[:300]}), or run the bridge as its owner")


def test_a_view_is_recreated_with_its_options() -> None:
    due = _view(1, "due_tasks", "SELECT id, due_at FROM tasks", options=("security_barrier=true",))
    planned = _altering_due_at(views={1: due}, column_views={("tasks", "due_at"): [1]}, current_user="app")
    assert planned.steps[0].sql[-1] == ('CREATE VIEW "public"."due_tasks" WITH (security_barrier=true) AS '
                                        "SELECT id, due_at FROM tasks")


def test_keys_into_other_tables_do_not_stop_the_look_at_the_keys_that_follow() -> None:
    elsewhere = _key("public", "notes", "notes_task_id_fkey", "public.tasks", "CASCADE", columns=("task_id",))
    pointing = _key("public", "links", "links_conv_fkey", "public.conversations", "NO ACTION",
                    columns=("user_ref", "channel_ref"), ref_columns=("user_id", "channel_id"), affected_rows=2)
    planned = _duplicates_plan(elsewhere, pointing)
    assert [r.remedy for r in planned.refusals] == [
        "point those rows at the row that is kept for each (user_id, channel_id), or remove them, then plan again"]


def test_moved_duplicates_carry_this_runs_id_and_the_step_says_why_it_runs_first() -> None:
    # legacy-states.md: archived rows keep the id of the run that moved them (the audit row names it).
    [move] = [s for s in _duplicates_plan().steps if s.action == "archive_duplicates"]
    assert "'00000000-0000-4000-8000-0000000000aa'" in move.sql[-1]  # the run id _plan gives
    assert move.reason == (
        "unique constraint uq_conversations_user_channel cannot be added while duplicates exist (committed on its "
        "own before the index is built, without a table lock: writers keep going; the rows stay in the archive "
        "with this run's id even if a later step fails)")


def test_touched_by_is_what_the_plan_will_touch_read_from_the_differences_and_facts() -> None:
    from nakamura_misaki_db.bridge.planners.dependents import touched_by
    from nakamura_misaki_db.catalog.facts import Duplicates
    from nakamura_misaki_db.diff import diff
    from nakamura_misaki_db.schema.shapes import Unique

    from .catalogs import TS, conversations, replace_column, with_rows
    from .test_planners import TARGET

    # task_status spells a legacy label (renamed in place); skill_category has one no mapping covers (rebuilt).
    enums = {"task_status": ("pending", "in_progress", "COMPLETED", "cancelled"),
             "skill_category": (*TARGET.enums["skill_category"], "juggling")}
    extra_unique = dataclasses.replace(tasks(), uniques=(Unique("uq_tasks_title", ("title",)),))
    actual = dataclasses.replace(_full(
        tasks=with_rows(replace_column(extra_unique, "due_at", type=TS)),
        conversations=with_rows(dataclasses.replace(conversations(), uniques=())),
        notes=dataclasses.replace(tasks(), name="notes")), enums={**TARGET.enums, **enums})
    facts = DataFacts(duplicates={("conversations", ("user_id", "channel_id")): Duplicates(3, 5),
                                  ("notes", ("id",)): Duplicates(1, 1),  # moves to the archive whole
                                  ("tasks", ("title",)): Duplicates(0, 0)})  # no duplicated key
    touched = touched_by(actual, diff(actual, TARGET), {"notes": "legacy_archive.notes"}, facts)
    assert touched.altered_columns == (("tasks", "due_at"),)
    assert touched.renamed_labels == {"task_status": ("COMPLETED",)}
    assert touched.rebuilt_enums == ("skill_category",)
    assert touched.losing_rows == {"conversations": ("user_id", "channel_id")}
    assert touched.moving == ("notes",)
    assert touched.dropped_uniques == (("tasks", "uq_tasks_title", ("title",)),)
