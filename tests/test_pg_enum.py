"""PGEnum against a real PostgreSQL 16: statements, catalog reads and autogenerate."""

from __future__ import annotations

import enum
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations, render_python_code
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import UpgradeOps
from alembic.runtime.migration import MigrationContext
from alembic_utils.pg_extension import PGExtension
from alembic_utils.replaceable_entity import register_entities, registry
from alembic_utils.reversible_op import CreateOp, DropOp, ReplaceOp, ReversibleOp
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.pg_enum import PGEnum, enum_drop_comparator, register_enum_drop_detection

from .helpers import execute_sql, fingerprint, rows, scalar

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def run(url: URL, *statements: sa.TextClause) -> None:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.begin() as conn:
            for stmt in statements:
                conn.execute(stmt)
    finally:
        eng.dispose()


def replace(url: URL, entity: PGEnum) -> None:
    run(url, *entity.to_sql_statement_create_or_replace())


def db_labels(url: URL, qualified: str) -> list[str]:
    return [r[0] for r in rows(
        url,
        "SELECT enumlabel FROM pg_enum WHERE enumtypid = CAST(:t AS regtype)"
        " ORDER BY enumsortorder",
        t=qualified,
    )]


def relfilenode(url: URL, table: str) -> int:
    return scalar(url, "SELECT relfilenode FROM pg_class WHERE oid = CAST(:t AS regclass)", t=table)


def refusal(url: URL, entity: PGEnum) -> str:
    with pytest.raises(sa.exc.DBAPIError) as info:
        replace(url, entity)
    return str(info.value.orig)


# ---------------------------------------------------------------------------
# create / drop
# ---------------------------------------------------------------------------


def test_create_on_empty_db_creates_labels_in_order(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    assert db_labels(db_url, "public.task_status") == ["todo", "doing", "done"]


def test_create_twice_is_a_noop_and_leaves_an_existing_type_alone(db_url: URL) -> None:
    status = PGEnum("public", "task_status", labels=["todo", "doing", "done"])
    run(db_url, status.to_sql_statement_create())
    before = fingerprint(db_url)

    run(db_url, status.to_sql_statement_create())
    other = PGEnum("public", "task_status", labels=["open", "closed"])
    run(db_url, other.to_sql_statement_create())

    assert fingerprint(db_url) == before
    assert db_labels(db_url, "public.task_status") == ["todo", "doing", "done"]


def test_create_refuses_a_non_enum_type_of_the_same_name(db_url: URL) -> None:
    execute_sql(db_url, "CREATE DOMAIN public.task_status AS text")
    with pytest.raises(sa.exc.DBAPIError) as info:
        run(db_url, PGEnum("public", "task_status", labels=["a"]).to_sql_statement_create())
    assert "PGEnum public.task_status" in str(info.value.orig)
    assert "exists but is not an enum" in str(info.value.orig)


def test_create_in_another_schema_with_awkward_names(db_url: URL) -> None:
    execute_sql(db_url, 'CREATE SCHEMA "Sales Dept"')
    entity = PGEnum('"Sales Dept"', 'Deal "Stage"', labels=["lead", "won"])
    assert (entity.schema, entity.signature) == ("Sales Dept", 'Deal "Stage"')
    run(db_url, entity.to_sql_statement_create())
    assert db_labels(db_url, '"Sales Dept"."Deal ""Stage"""') == ["lead", "won"]


def test_drop_is_if_exists_and_cascade_is_optional(db_url: URL) -> None:
    entity = PGEnum("public", "task_status", labels=["todo"])
    assert str(entity.to_sql_statement_drop()) == 'DROP TYPE IF EXISTS "public"."task_status"'
    assert str(entity.to_sql_statement_drop(cascade=True)) == (
        'DROP TYPE IF EXISTS "public"."task_status" CASCADE'
    )
    run(db_url, entity.to_sql_statement_drop())  # nothing to drop: no error
    run(db_url, entity.to_sql_statement_create())
    run(db_url, entity.to_sql_statement_drop())
    assert scalar(db_url, "SELECT to_regtype('public.task_status')") is None


# ---------------------------------------------------------------------------
# reading: from_database, from_sql, definition
# ---------------------------------------------------------------------------


def test_from_database_reads_labels_in_sort_order_including_japanese(db_url: URL) -> None:
    execute_sql(db_url, """
        CREATE TYPE public.category AS ENUM ('顧客対応', 'その他');
        ALTER TYPE public.category ADD VALUE '査定・修理' BEFORE 'その他';
        ALTER TYPE public.category ADD VALUE '見積' BEFORE '顧客対応';
        CREATE SCHEMA other;
        CREATE TYPE other.priority AS ENUM ('low', 'high');
        CREATE DOMAIN public.not_an_enum AS text;
        CREATE TYPE public.owned_by_extension AS ENUM ('x');
        ALTER EXTENSION plpgsql ADD TYPE public.owned_by_extension;
    """)
    eng = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            public = PGEnum.from_database(conn, schema="public")
            everything = PGEnum.from_database(conn)
    finally:
        eng.dispose()

    assert [(e.schema, e.signature, e.labels) for e in public] == [
        ("public", "category", ("見積", "顧客対応", "査定・修理", "その他")),
    ]
    assert [(e.schema, e.signature, e.labels) for e in everything] == [
        ("other", "priority", ("low", "high")),
        ("public", "category", ("見積", "顧客対応", "査定・修理", "その他")),
    ]
    assert public[0].definition == "ENUM ('見積', '顧客対応', '査定・修理', 'その他')"
    assert public[0].identity == "PGEnum: public.category"


def test_from_sql_parses_create_type() -> None:
    entity = PGEnum.from_sql("""
        create type "My Schema"."TaskStatus" as enum (
            'todo',  -- a comment
            'it''s', E'back\\\\slash', '顧客対応'
        );
    """)
    assert (entity.schema, entity.signature) == ("My Schema", "TaskStatus")
    assert entity.labels == ("todo", "it's", "back\\slash", "顧客対応")

    folded = PGEnum.from_sql("CREATE TYPE Status AS ENUM ()")
    assert (folded.schema, folded.signature, folded.labels) == ("public", "status", ())

    with pytest.raises(ValueError, match="expected AS"):
        PGEnum.from_sql("CREATE TYPE status ENUM ('a')")
    with pytest.raises(ValueError, match="expected a quoted label"):
        PGEnum.from_sql("CREATE TYPE status AS ENUM (a)")


def test_definition_round_trips_with_quotes_colons_and_backslashes() -> None:
    labels = ["it's", "a:b", ":name", "x::y", "p\\:q", "100%", "査定・修理"]
    entity = PGEnum("public", "odd", labels=labels)
    assert entity.definition == (
        "ENUM ('it''s', 'a:b', ':name', 'x::y', E'p\\\\:q', '100%', '査定・修理')"
    )
    again = PGEnum("public", "odd", entity.definition)
    assert again.labels == tuple(labels)
    assert again.definition == entity.definition
    # a definition with a terminating semicolon and odd spacing is the same thing
    assert PGEnum("public", "odd", "enum('a' ,'b');").labels == ("a", "b")


def test_constructor_validation() -> None:
    with pytest.raises(TypeError) as missing:
        PGEnum("public", "x")
    assert str(missing.value) == "PGEnum needs a definition (\"ENUM ('a', 'b')\") or labels=[...]"
    with pytest.raises(ValueError, match="listed twice"):
        PGEnum("public", "x", labels=["a", "a"])
    with pytest.raises(ValueError, match="longer than 63 bytes"):
        PGEnum("public", "x", labels=["あ" * 22])  # 66 bytes in UTF-8
    with pytest.raises(ValueError, match="disagree"):
        PGEnum("public", "x", "ENUM ('a')", labels=["b"])
    assert PGEnum("public", "x", "ENUM ('a')", labels=["a"]).labels == ("a",)


def test_labels_with_quote_colon_and_percent_work_in_the_database(db_url: URL) -> None:
    labels = ["it's", "a:b", ":name", "x::y", "p\\:q", "100%", "$pgenum$", "顧客対応"]
    entity = PGEnum("public", "odd", labels=labels)
    stmt = entity.to_sql_statement_create()
    assert stmt.compile().params == {}  # no ':name' taken for a bind parameter
    run(db_url, stmt)
    assert db_labels(db_url, "public.odd") == labels

    grown = PGEnum("public", "odd", labels=[*labels[:2], "c:d", *labels[2:]])
    replace_stmt = next(grown.to_sql_statement_create_or_replace())
    assert replace_stmt.compile().params == {}
    run(db_url, replace_stmt)
    assert db_labels(db_url, "public.odd") == [*labels[:2], "c:d", *labels[2:]]


def test_from_python_enum() -> None:
    class Category(enum.StrEnum):
        SUPPORT = "顧客対応"
        REPAIR = "査定・修理"
        ALIAS = "顧客対応"  # an alias: not a separate label

    by_value = PGEnum.from_python_enum(Category, "category")
    assert (by_value.schema, by_value.signature) == ("public", "category")
    assert by_value.labels == ("顧客対応", "査定・修理")
    by_name = PGEnum.from_python_enum(Category, "category", "app", use_values=False)
    assert (by_name.schema, by_name.labels) == ("app", ("SUPPORT", "REPAIR"))

    class Numbers(enum.Enum):
        ONE = 1

    with pytest.raises(TypeError, match="use_values=False"):
        PGEnum.from_python_enum(Numbers, "numbers")


def test_render_self_for_migration_is_python_that_rebuilds_the_entity() -> None:
    entity = PGEnum("public", "Task-Status", labels=["it's", "a:b", "顧客対応"],
                    renames={"old's": "it's"})
    code = entity.render_self_for_migration()
    namespace: dict[str, object] = {"PGEnum": PGEnum}
    exec(code, namespace)
    rebuilt = namespace["public_task_status"]
    assert isinstance(rebuilt, PGEnum)
    assert (rebuilt.schema, rebuilt.signature) == ("public", "Task-Status")
    assert rebuilt.labels == ("it's", "a:b", "顧客対応")
    assert rebuilt.renames == {"old's": "it's"}
    assert "renames=" not in PGEnum("public", "x", labels=["a"]).render_self_for_migration()
    assert PGEnum.render_import_statement().startswith(
        "from nakamura_misaki_db.revision_api import PGEnum"
    )


# ---------------------------------------------------------------------------
# replace
# ---------------------------------------------------------------------------


@pytest.fixture
def tasks(db_url: URL) -> URL:
    """A type in use: public.task_status on public.tasks.status, with rows."""
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, """
        CREATE TABLE public.tasks (id int PRIMARY KEY, status public.task_status);
        CREATE INDEX tasks_status ON public.tasks (status);
        INSERT INTO public.tasks VALUES (1, 'todo'), (2, 'done'), (3, NULL);
    """)
    return db_url


def statuses(url: URL) -> list[tuple[int, str | None]]:
    return rows(url, "SELECT id, status::text FROM public.tasks ORDER BY id")


def test_replace_creates_a_missing_type(db_url: URL) -> None:
    replace(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert db_labels(db_url, "public.task_status") == ["todo", "done"]


def test_replace_adds_a_label_in_the_middle_without_rewriting(tasks: URL) -> None:
    node = relfilenode(tasks, "public.tasks")
    index_node = relfilenode(tasks, "public.tasks_status")

    target = PGEnum("public", "task_status", labels=["todo", "doing", "review", "done"])
    replace(tasks, target)

    assert db_labels(tasks, "public.task_status") == ["todo", "doing", "review", "done"]
    assert relfilenode(tasks, "public.tasks") == node
    assert relfilenode(tasks, "public.tasks_status") == index_node
    assert statuses(tasks) == [(1, "todo"), (2, "done"), (3, None)]
    # the new label sorts where it was put
    execute_sql(tasks, "INSERT INTO public.tasks VALUES (4, 'review')")
    assert [r[0] for r in rows(tasks, "SELECT id FROM public.tasks WHERE status IS NOT NULL "
                                      "ORDER BY status")] == [1, 4, 2]

    before = fingerprint(tasks)
    replace(tasks, target)
    assert fingerprint(tasks) == before


def test_replace_adds_several_labels_first_middle_and_last(tasks: URL) -> None:
    node = relfilenode(tasks, "public.tasks")
    target = PGEnum("public", "task_status",
                    labels=["backlog", "icebox", "todo", "doing", "done", "archived"])
    replace(tasks, target)
    assert db_labels(tasks, "public.task_status") == [
        "backlog", "icebox", "todo", "doing", "done", "archived"]
    assert relfilenode(tasks, "public.tasks") == node

    before = fingerprint(tasks)
    replace(tasks, target)
    assert fingerprint(tasks) == before


def test_replace_adds_a_first_label_before_the_existing_first(tasks: URL) -> None:
    statement = str(next(PGEnum("public", "task_status", labels=["new", "todo"])
                         .to_sql_statement_create_or_replace()))
    assert "ADD VALUE %L BEFORE %L" in statement

    replace(tasks, PGEnum("public", "task_status", labels=["backlog", "todo", "doing", "done"]))
    assert db_labels(tasks, "public.task_status") == ["backlog", "todo", "doing", "done"]


def test_replace_renames_labels_and_rows_follow(tasks: URL) -> None:
    node = relfilenode(tasks, "public.tasks")
    target = PGEnum("public", "task_status", labels=["未着手", "doing", "完了"],
                    renames={"todo": "未着手", "done": "完了"})
    replace(tasks, target)

    assert db_labels(tasks, "public.task_status") == ["未着手", "doing", "完了"]
    assert statuses(tasks) == [(1, "未着手"), (2, "完了"), (3, None)]
    assert relfilenode(tasks, "public.tasks") == node

    before = fingerprint(tasks)
    replace(tasks, target)
    assert fingerprint(tasks) == before


def test_replace_refuses_to_remove_a_used_label_and_changes_nothing(tasks: URL) -> None:
    before = fingerprint(tasks)
    message = refusal(tasks, PGEnum("public", "task_status", labels=["todo", "doing"]))

    assert "PGEnum public.task_status: cannot remove label(s) 'done'" in message
    assert "rows still use them in public.tasks.status ('done')" in message
    assert "renames={old: new}" in message
    assert "migrate those rows" in message
    assert fingerprint(tasks) == before


def test_replace_removes_an_unused_label_by_rebuilding_and_keeps_rows(tasks: URL) -> None:
    execute_sql(tasks, """
        CREATE TABLE public.history (task_id int, old public.task_status, new public.task_status);
        INSERT INTO public.history VALUES (1, 'todo', 'done');
    """)
    target = PGEnum("public", "task_status", labels=["todo", "done"])
    replace(tasks, target)

    assert db_labels(tasks, "public.task_status") == ["todo", "done"]
    assert statuses(tasks) == [(1, "todo"), (2, "done"), (3, None)]
    assert rows(tasks, "SELECT old::text, new::text FROM public.history") == [("todo", "done")]
    # the columns use the rebuilt type under the old name, and the scratch type is gone
    assert rows(tasks, """
        SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, NULL)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
         WHERE a.atttypid = 'public.task_status'::regtype AND c.relkind = 'r'
         ORDER BY 1, 2""") == [
        ("history", "new", "task_status"), ("history", "old", "task_status"),
        ("tasks", "status", "task_status"),
    ]
    assert scalar(tasks, "SELECT to_regtype('public.task_status__new')") is None
    assert scalar(tasks, "SELECT to_regtype('public._task_status')") == "task_status[]"
    assert scalar(tasks, "SELECT count(*) FROM pg_indexes WHERE indexname = 'tasks_status'") == 1

    before = fingerprint(tasks)
    replace(tasks, target)
    assert fingerprint(tasks) == before


def test_replace_maps_a_removed_label_with_renames(tasks: URL) -> None:
    replace(tasks, PGEnum("public", "task_status", labels=["todo", "doing", "finished"],
                          renames={"done": "finished"}))
    assert db_labels(tasks, "public.task_status") == ["todo", "doing", "finished"]
    assert statuses(tasks) == [(1, "todo"), (2, "finished"), (3, None)]


def test_replace_refuses_to_reorder_labels_while_rows_use_the_type(tasks: URL) -> None:
    before = fingerprint(tasks)
    message = refusal(tasks, PGEnum("public", "task_status", labels=["done", "doing", "todo"]))

    assert "PGEnum public.task_status: cannot reorder labels (todo, doing, done) to " \
           "(done, doing, todo) while rows use the type in public.tasks.status" in message
    assert fingerprint(tasks) == before


def test_replace_reorders_labels_of_an_unused_type(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, "CREATE TABLE public.tasks (id int, status public.task_status)")
    replace(db_url, PGEnum("public", "task_status", labels=["done", "todo", "doing"]))
    assert db_labels(db_url, "public.task_status") == ["done", "todo", "doing"]


def test_replace_rebuild_handles_partitioned_and_inherited_tables(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, """
        CREATE TABLE public.events (id int, status public.task_status) PARTITION BY RANGE (id);
        CREATE TABLE public.events_1 PARTITION OF public.events FOR VALUES FROM (0) TO (100);
        CREATE TABLE public.base (status public.task_status);
        CREATE TABLE public.derived (extra int) INHERITS (public.base);
        INSERT INTO public.events VALUES (1, 'todo'), (2, 'done');
        INSERT INTO public.derived VALUES ('doing', 1);
    """)
    message = refusal(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert "rows still use them in public.derived.status ('doing')" in message

    execute_sql(db_url, "DELETE FROM public.derived")
    replace(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert db_labels(db_url, "public.task_status") == ["todo", "done"]
    assert rows(db_url, "SELECT id, status::text FROM public.events ORDER BY id") == [
        (1, "todo"), (2, "done")]


def test_replace_refuses_a_rebuild_of_a_partition_key(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, """
        CREATE TABLE public.events (status public.task_status) PARTITION BY LIST (status);
        CREATE TABLE public.events_todo PARTITION OF public.events FOR VALUES IN ('todo');
    """)
    message = refusal(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert "used by: partition key of table public.events" in message


def test_replace_refuses_a_rebuild_when_a_column_has_a_default(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, "CREATE TABLE public.tasks "
                        "(id int, status public.task_status DEFAULT 'todo')")
    before = fingerprint(db_url)
    message = refusal(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert "PGEnum public.task_status: changing labels (todo, doing, done) to (todo, done) " \
           "needs a rebuild of the type, but it is used by:" in message
    assert "default of column public.tasks.status" in message
    assert fingerprint(db_url) == before


def test_replace_refuses_a_rebuild_when_used_by_arrays_or_domains(db_url: URL) -> None:
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"])
        .to_sql_statement_create())
    execute_sql(db_url, """
        CREATE TABLE public.boards (id int, allowed public.task_status[]);
        CREATE DOMAIN public.open_status AS public.task_status CHECK (VALUE <> 'done');
    """)
    before = fingerprint(db_url)
    message = refusal(db_url, PGEnum("public", "task_status", labels=["todo", "done"]))
    assert "column allowed of table boards" in message
    assert "type open_status" in message
    assert fingerprint(db_url) == before


# ---------------------------------------------------------------------------
# autogenerate
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    registry.clear()
    yield
    registry.clear()


def autogenerate(url: URL, *, include_schemas: bool = False) -> list[object]:
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_schemas": include_schemas, "target_metadata": sa.MetaData()}
            )
            script = produce_migrations(context, sa.MetaData())
            # the rendered migration must be valid Python
            for direction in (script.upgrade_ops, script.downgrade_ops):
                code = "def migrate():\n" + render_python_code(direction)
                compile(code, "<migration>", "exec")
            # tables in the database are not in the empty MetaData; only entity ops matter here
            return [op for op in script.upgrade_ops.ops if isinstance(op, ReversibleOp)]
    finally:
        eng.dispose()


def summary(ops: list[object]) -> list[tuple[str, str]]:
    """(alembic-utils op kind, entity): PGEnum's ops subclass CreateOp/ReplaceOp/DropOp only to print shorter."""
    def kind(op: object) -> str:
        return next(c.__name__ for c in type(op).__mro__ if c.__module__.startswith("alembic_utils"))
    return [(kind(op), op.target.identity) for op in ops]  # type: ignore[attr-defined]


def test_autogenerate_detects_a_new_enum(db_url: URL) -> None:
    status = PGEnum("public", "task_status", labels=["todo", "done"])
    register_entities([status], entity_types=[PGEnum])
    before = fingerprint(db_url)
    ops = autogenerate(db_url)
    assert summary(ops) == [("CreateOp", "PGEnum: public.task_status")]
    assert isinstance(ops[0], CreateOp)
    assert ops[0].target.labels == ("todo", "done")
    assert fingerprint(db_url) == before  # autogenerate only looked


def test_autogenerate_detects_an_added_label(tasks: URL) -> None:
    register_entities([PGEnum("public", "task_status", labels=["todo", "doing", "review", "done"])],
                      entity_types=[PGEnum])
    before = fingerprint(tasks)
    ops = autogenerate(tasks)
    assert summary(ops) == [("ReplaceOp", "PGEnum: public.task_status")]
    assert isinstance(ops[0], ReplaceOp)
    assert ops[0].target.labels == ("todo", "doing", "review", "done")
    assert fingerprint(tasks) == before


def test_autogenerate_detects_a_reorder_of_the_same_labels(db_url: URL) -> None:
    # The same three labels in another order: PostgreSQL sorts and compares enum values by that
    # order (ORDER BY status, status < 'done'), so a reorder is a change, not a no-op.
    run(db_url, PGEnum("public", "task_status", labels=["todo", "doing", "done"]).to_sql_statement_create())
    register_entities([PGEnum("public", "task_status", labels=["doing", "todo", "done"])], entity_types=[PGEnum])
    ops = autogenerate(db_url)
    assert summary(ops) == [("ReplaceOp", "PGEnum: public.task_status")]
    assert ops[0].target.labels == ("doing", "todo", "done")


def test_autogenerate_detects_a_dropped_enum(db_url: URL) -> None:
    for e in (PGEnum("public", "task_status", labels=["todo"]),
              PGEnum("public", "old_kind", labels=["x", "y"])):
        run(db_url, e.to_sql_statement_create())
    register_entities([PGEnum("public", "task_status", labels=["todo"])], entity_types=[PGEnum])
    ops = autogenerate(db_url)
    assert summary(ops) == [("DropOp", "PGEnum: public.old_kind")]  # exactly one
    assert isinstance(ops[0], DropOp)
    assert ops[0].target.labels == ("x", "y")


def test_autogenerate_drop_detection_with_include_schemas(db_url: URL) -> None:
    execute_sql(db_url, "CREATE SCHEMA crm; CREATE TYPE crm.stage AS ENUM ('lead')")
    register_entities([], entity_types=[PGEnum])
    assert summary(autogenerate(db_url)) == []  # no entity schema observed
    assert summary(autogenerate(db_url, include_schemas=True)) == [
        ("DropOp", "PGEnum: crm.stage")]


def test_autogenerate_no_op_when_the_registered_enum_matches(tasks: URL) -> None:
    register_entities([PGEnum("public", "task_status", labels=["todo", "doing", "done"])],
                      entity_types=[PGEnum])
    assert summary(autogenerate(tasks)) == []


def test_autogenerate_ignores_enums_unless_pgenum_is_an_allowed_type(db_url: URL) -> None:
    run(db_url, PGEnum("public", "old_kind", labels=["x"]).to_sql_statement_create())
    register_entities([PGEnum("public", "task_status", labels=["todo"])],
                      entity_types=[PGExtension])
    assert summary(autogenerate(db_url)) == []


def test_autogenerate_with_default_entity_types_emits_one_drop_op(db_url: URL) -> None:
    # alembic-utils 0.8.8 counts imported subclasses as allowed and looks for
    # their drops itself; the two comparators together must not drop twice.
    for e in (PGEnum("public", "task_status", labels=["todo"]),
              PGEnum("public", "old_kind", labels=["x"])):
        run(db_url, e.to_sql_statement_create())
    register_entities([PGEnum("public", "task_status", labels=["todo", "done"])])
    assert summary(autogenerate(db_url)) == [
        ("ReplaceOp", "PGEnum: public.task_status"),
        ("DropOp", "PGEnum: public.old_kind"),
    ]


def drop_comparator_ops(url: URL, schemas: set[str | None], existing: list[object], **opts: object) -> list[object]:
    """Run only our comparator, as alembic would, on a real connection."""
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"target_metadata": sa.MetaData(), **opts})  # include_schemas: alembic's default
            upgrade_ops = UpgradeOps(list(existing))
            enum_drop_comparator(AutogenContext(context, sa.MetaData()), upgrade_ops, schemas)
            return list(upgrade_ops.ops)
    finally:
        eng.dispose()


def test_enum_drop_comparator_on_its_own(db_url: URL) -> None:
    execute_sql(db_url, """
        CREATE SCHEMA crm;
        CREATE TYPE crm.stage AS ENUM ('lead');
        CREATE TYPE crm.kept AS ENUM ('x');
        CREATE TYPE public.elsewhere AS ENUM ('x');
    """)
    register_entities([PGEnum("crm", "kept", labels=["x"])], entity_types=[PGEnum])
    ops = drop_comparator_ops(db_url, {None}, [])
    assert summary(ops) == [("DropOp", "PGEnum: crm.stage")]
    assert ops[0].target.labels == ("lead",)  # type: ignore[attr-defined]

    # schemas handed over by alembic are observed too
    assert summary(drop_comparator_ops(db_url, {None, "public"}, [])) == [
        ("DropOp", "PGEnum: crm.stage"), ("DropOp", "PGEnum: public.elsewhere")]
    # a DropOp already emitted (by alembic-utils) is not repeated
    already = DropOp(PGEnum("crm", "stage", labels=["lead"]))
    assert drop_comparator_ops(db_url, {None}, [already]) == [already]

    registry.clear()
    register_entities([PGEnum("crm", "kept", labels=["x"])], entity_types=[PGExtension])
    assert drop_comparator_ops(db_url, {None}, []) == []


def test_enum_drop_comparator_with_include_schemas_and_a_filter_on_reflected_objects(db_url: URL) -> None:
    execute_sql(db_url, "CREATE SCHEMA sales; CREATE TYPE sales.stage AS ENUM ('lead'); "
                        "CREATE TYPE sales.tier AS ENUM ('gold')")
    register_entities([PGEnum("public", "task_status", labels=["todo"])], entity_types=[PGEnum])
    # Without include_schemas (unset: alembic's default; or False) only the schemas alembic hands over and
    # the registered ones are looked at.
    assert drop_comparator_ops(db_url, {None}, []) == []
    assert drop_comparator_ops(db_url, {None}, [], include_schemas=False) == []
    # With it, every schema the inspector lists is.
    assert summary(drop_comparator_ops(db_url, {None}, [], include_schemas=True)) == [
        ("DropOp", "PGEnum: sales.stage"), ("DropOp", "PGEnum: sales.tier")]

    # include_object is asked about the database's enum as a reflected object, as alembic does for tables.
    asked: list[tuple[str, bool]] = []

    def include_object(obj: object, name: str, type_: str, reflected: bool, compare_to: object) -> bool:
        asked.append((name, reflected))
        return not (reflected and name == "sales.stage")

    ops = drop_comparator_ops(db_url, {None}, [], include_schemas=True, include_object=include_object)
    assert summary(ops) == [("DropOp", "PGEnum: sales.tier")]  # the one filtered out does not stop the rest
    assert ("sales.stage", True) in asked


def test_autogenerate_respects_include_object(db_url: URL) -> None:
    run(db_url, PGEnum("public", "old_kind", labels=["x"]).to_sql_statement_create())
    register_entities([PGEnum("public", "task_status", labels=["todo"])], entity_types=[PGEnum])

    def include_object(obj: object, name: str, type_: str, reflected: bool,
                       compare_to: object) -> bool:
        return not (type_ == "pg_enum" and name == "public.old_kind")

    eng = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_schemas": False, "target_metadata": sa.MetaData(),
                "include_object": include_object})
            ops = [op for op in produce_migrations(context, sa.MetaData()).upgrade_ops.ops
                   if isinstance(op, ReversibleOp)]
    finally:
        eng.dispose()
    assert summary(ops) == [("CreateOp", "PGEnum: public.task_status")]


def test_replace_op_downgrade_renders_the_database_version_with_inverse_renames(tasks: URL) -> None:
    register_entities([PGEnum("public", "task_status", labels=["todo", "doing", "finished"],
                              renames={"done": "finished"})], entity_types=[PGEnum])
    ops = autogenerate(tasks)
    assert summary(ops) == [("ReplaceOp", "PGEnum: public.task_status")]
    reverted = ops[0].target._version_to_replace  # type: ignore[attr-defined]
    assert reverted.labels == ("todo", "doing", "done")
    assert reverted.renames == {"finished": "done"}

    replace(tasks, ops[0].target)  # type: ignore[attr-defined]
    assert statuses(tasks) == [(1, "todo"), (2, "finished"), (3, None)]
    replace(tasks, reverted)
    assert statuses(tasks) == [(1, "todo"), (2, "done"), (3, None)]


def test_downgrade_inverts_only_the_renames_the_upgrade_performs(tasks: URL) -> None:
    # The database has (todo, doing, done). Of the declared renames, only done -> finished happens on the way
    # up: 'gone' is not there, and 'doing' is there already (so 'todo' is kept, not renamed onto it).
    register_entities([PGEnum("public", "task_status", labels=["todo", "doing", "finished", "later"],
                              renames={"done": "finished", "gone": "later", "todo": "doing"})],
                      entity_types=[PGEnum])
    ops = autogenerate(tasks)
    reverted = ops[0].target._version_to_replace  # type: ignore[attr-defined]
    assert reverted.renames == {"finished": "done"}


def test_drop_detection_is_registered_once() -> None:
    from alembic.autogenerate import comparators

    register_enum_drop_detection()
    register_enum_drop_detection()
    # Newer alembic keeps (function, subgroup) pairs per key; 1.17.0 keeps the functions themselves.
    registered = [
        entry for fns in comparators._registry.values() for entry in (fns if isinstance(fns, list) else [fns])
        if (entry[0] if isinstance(entry, tuple) else entry) is enum_drop_comparator
    ]
    assert len(registered) == 1
