"""PGEnum under ``--sql``, in-process: the statements written for each operation.

The end-to-end proof (the script piped into psql builds the same schema as an
online upgrade) is in test_offline_sql.py; it runs Alembic as a command, so the
mutation run cannot see it. These tests drive the same operations through an
offline MigrationContext configured as alembic/env.py configures it, and
compare the script with statements written here by hand from the guide
(section 6: static SQL where the outcome does not depend on data, a live-database
block where it does).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations.base import Operations as BaseOperations
from alembic_utils import reversible_op
from alembic_utils.pg_extension import PGExtension
from alembic_utils.reversible_op import CreateOp, DropOp, ReplaceOp, RevertOp
from sqlalchemy.engine import URL

from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.pg_enum.offline import (
    KNOWN_LABELS,
    _static_replace,
    create_type_sql,
    register_offline_rendering,
    remember,
)

# Also run at the lowest supported versions (.ci/run, .ci/lowest.txt: the application's pins).
pytestmark = pytest.mark.lowest

LIVE_BLOCK = "DO $pgenum$"


def offline_ops(known: dict[tuple[str, str], tuple[str, ...] | None] | None = None) -> tuple[Operations, io.StringIO]:
    out = io.StringIO()
    opts: dict[str, object] = {"as_sql": True, "output_buffer": out, "literal_binds": True}
    if known is not None:
        opts[KNOWN_LABELS] = dict(known)
    context = MigrationContext.configure(dialect_name="postgresql", opts=opts,
                                         dialect_opts={"paramstyle": "named"})
    return Operations(context), out


def live_blocks(script: str) -> list[str]:
    return re.findall(r"^DO \$pgenum\$\n.*?\n\$pgenum\$;$", script, re.S | re.M)


def statements(script: str) -> list[str]:
    """The script's SQL statements (comments dropped), one per entry, without the trailing ';'.

    PGEnum's live block (a DO body with its own statements and comments) is one entry, LIVE_BLOCK."""
    script = re.sub(r"^DO \$pgenum\$\n.*?\n\$pgenum\$;$", LIVE_BLOCK + ";", script, flags=re.S | re.M)
    sql = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    return [chunk.strip() for chunk in sql.split(";\n") if chunk.strip()]


def comments(script: str) -> str:
    return "\n".join(line for line in script.splitlines() if line.startswith("--"))


# -- the pure part ----------------------------------------------------------------------


def test_create_type_sql_quotes_names_and_labels() -> None:
    assert create_type_sql("public", "task_status", ["todo", "it's"]) == (
        'CREATE TYPE "public"."task_status" AS ENUM (\'todo\', \'it\'\'s\')')


def test_static_replace_adds_before_the_first_and_after_the_previous_label() -> None:
    assert _static_replace("public", "s", ["a", "b"], ["z", "a", "c", "b"], {}) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'z' BEFORE 'a'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'a'",
    ]


def test_static_replace_adds_consecutive_labels_after_each_other() -> None:
    assert _static_replace("public", "s", ["a"], ["a", "b", "c"], {}) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'b'",
    ]


def test_static_replace_adds_two_labels_at_the_front_in_target_order() -> None:
    assert _static_replace("public", "s", ["c"], ["a", "b", "c"], {}) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'a' BEFORE 'c'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
    ]


def test_static_replace_on_a_type_without_labels_adds_plainly() -> None:
    assert _static_replace("public", "s", [], ["a", "b"], {}) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'a'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
    ]


def test_static_replace_renames_in_place_then_adds() -> None:
    assert _static_replace("public", "s", ["a", "b"], ["a", "b2", "c"], {"b": "b2"}) == [
        "ALTER TYPE \"public\".\"s\" RENAME VALUE 'b' TO 'b2'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'b2'",
    ]


def test_static_replace_skips_a_rename_already_done_and_one_whose_new_label_exists() -> None:
    assert _static_replace("public", "s", ["a", "b2"], ["a", "b2"], {"b": "b2"}) == []
    # 'b' and 'b2' both there: the rename would collide, so 'b' is a removal: a rebuild.
    assert _static_replace("public", "s", ["a", "b", "b2"], ["a", "b2"], {"b": "b2"}) is None


def test_static_replace_ignores_a_rename_of_a_label_that_is_not_there() -> None:
    assert _static_replace("public", "s", ["a"], ["a", "y"], {"x": "y"}) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'y' AFTER 'a'",
    ]


def test_static_replace_needs_a_rebuild_for_a_removal_or_a_new_order() -> None:
    assert _static_replace("public", "s", ["a", "b"], ["a"], {}) is None
    assert _static_replace("public", "s", ["a", "b"], ["b", "a"], {}) is None
    assert _static_replace("public", "s", ["a", "b", "c"], ["a", "c", "b", "d"], {}) is None


def test_static_replace_with_nothing_to_change_is_empty() -> None:
    assert _static_replace("public", "s", ["a", "b"], ["a", "b"], {}) == []


# -- through Alembic's offline context ----------------------------------------------------


def test_create_of_an_unknown_type_is_a_plain_create_type() -> None:
    ops, out = offline_ops()
    ops.create_entity(PGEnum("public", "task_status", labels=["todo", "done"]))
    assert statements(out.getvalue()) == ["CREATE TYPE \"public\".\"task_status\" AS ENUM ('todo', 'done')"]


def test_create_of_a_type_the_script_made_already_writes_nothing() -> None:
    ops, out = offline_ops({("public", "task_status"): ("todo", "done")})
    ops.create_entity(PGEnum("public", "task_status", labels=["todo", "done", "later"]))
    assert statements(out.getvalue()) == []
    assert comments(out.getvalue()) == ("-- enum public.task_status exists already with labels ('todo', 'done'): "
                                        "created only if missing, nothing to do.")


def test_replace_of_a_known_type_is_static_and_in_place() -> None:
    ops, out = offline_ops({("public", "s"): ("a", "b")})
    ops.replace_entity(PGEnum("public", "s", labels=["z", "a", "c", "b2"], renames={"b": "b2"}))
    assert statements(out.getvalue()) == [
        "ALTER TYPE \"public\".\"s\" RENAME VALUE 'b' TO 'b2'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'z' BEFORE 'a'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'a'",
    ]
    assert comments(out.getvalue()) == ("-- enum public.s: ('a', 'b')\n--   -> ('z', 'a', 'c', 'b2')\n"
                                        "-- in place: catalog only, no table is rewritten, whatever the rows hold.")


def test_a_second_replace_starts_from_the_labels_the_first_left() -> None:
    ops, out = offline_ops({("public", "s"): ("a",)})
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b", "c"]))
    assert statements(out.getvalue()) == [
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'b'",
    ]


def test_replace_to_the_same_labels_says_there_is_nothing_to_do() -> None:
    ops, out = offline_ops({("public", "s"): ("a", "b")})
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    assert statements(out.getvalue()) == []
    assert comments(out.getvalue()) == "-- enum public.s has the labels ('a', 'b') already: nothing to do."


def test_a_removed_label_needs_the_live_block_and_says_why() -> None:
    ops, out = offline_ops({("public", "s"): ("a", "b")})
    ops.replace_entity(PGEnum("public", "s", labels=["a"]))
    script = out.getvalue()
    assert comments(script) == (
        "-- enum public.s: ('a', 'b')\n--   -> ('a')\n"
        "-- NEEDS A LIVE DATABASE: a removed or reordered label rebuilds the type and every column using\n"
        "-- it, refused while rows use a removed label; only the rows can tell. The block below decides\n"
        "-- when the script runs (or run this revision online: alembic upgrade).")
    assert statements(script) == [LIVE_BLOCK]
    [block] = live_blocks(script)
    assert "v_target   constant text[] := ARRAY['a']::text[];" in block
    assert "%%" not in block  # named paramstyle, as env.py configures it: format() strings intact


def test_a_type_whose_labels_the_script_does_not_know_needs_the_live_block() -> None:
    ops, out = offline_ops()
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    script = out.getvalue()
    assert comments(script) == (
        "-- enum public.s -> ('a', 'b'):\n"
        "-- NEEDS A LIVE DATABASE: this script does not know the type's labels before this revision (it\n"
        "-- starts after the revision that last set them). The block below reads the catalog when the\n"
        "-- script runs: renames and new labels in place; a removed or reordered label rebuilds the type,\n"
        "-- refused while rows use a removed label. `nakamura-init-db --sql` writes static statements for\n"
        "-- a given database.")
    assert statements(script) == [LIVE_BLOCK]
    [block] = live_blocks(script)
    assert "v_target   constant text[] := ARRAY['a', 'b']::text[];" in block


def test_after_the_live_block_the_script_knows_the_target_labels() -> None:
    ops, out = offline_ops()
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b", "c"]))
    assert statements(out.getvalue()) == [LIVE_BLOCK, "ALTER TYPE \"public\".\"s\" ADD VALUE 'c' AFTER 'b'"]


def test_create_then_replace_in_one_script_starts_from_the_created_labels() -> None:
    ops, out = offline_ops()
    ops.create_entity(PGEnum("public", "s", labels=["a"]))
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    assert statements(out.getvalue()) == ["CREATE TYPE \"public\".\"s\" AS ENUM ('a')",
                                          "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'"]


def test_a_drop_with_cascade_says_cascade() -> None:
    ops, out = offline_ops({("public", "s"): ("a",)})
    ops.drop_entity(PGEnum("public", "s", labels=["a"]), cascade=True)
    assert statements(out.getvalue()) == ['DROP TYPE IF EXISTS "public"."s" CASCADE']


def test_drop_then_create_creates_again() -> None:
    ops, out = offline_ops({("public", "s"): ("a",)})
    ops.drop_entity(PGEnum("public", "s", labels=["a"]))
    ops.create_entity(PGEnum("public", "s", labels=["x"]))
    assert statements(out.getvalue()) == ['DROP TYPE IF EXISTS "public"."s"',
                                          "CREATE TYPE \"public\".\"s\" AS ENUM ('x')"]


def test_a_replace_of_a_type_known_to_be_dropped_creates_it() -> None:
    ops, out = offline_ops({("public", "s"): None})
    ops.replace_entity(PGEnum("public", "s", labels=["a"]))
    assert statements(out.getvalue()) == ["CREATE TYPE \"public\".\"s\" AS ENUM ('a')"]


def test_remember_records_labels_and_drops() -> None:
    ops, out = offline_ops()
    context = ops.get_context()
    remember(context, "public", "s", ["a", "b"])
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    remember(context, "public", "t", None)
    ops.replace_entity(PGEnum("public", "t", labels=["x"]))
    assert statements(out.getvalue()) == ["CREATE TYPE \"public\".\"t\" AS ENUM ('x')"]


def test_labels_seeded_through_the_config_are_used() -> None:
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    from .helpers import REPO

    config = Config(str(REPO / "alembic.ini"))
    config.attributes[KNOWN_LABELS] = {("public", "s"): ["a"], ("public", "gone"): None}
    out = io.StringIO()
    with EnvironmentContext(config, ScriptDirectory.from_config(config)) as env:
        env.configure(url="postgresql+psycopg://", as_sql=True, output_buffer=out, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
        ops = Operations(env.get_context())
        ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
        ops.replace_entity(PGEnum("public", "gone", labels=["x"]))
    assert statements(out.getvalue()) == ["ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
                                          "CREATE TYPE \"public\".\"gone\" AS ENUM ('x')"]


ONLINE = {CreateOp: reversible_op.create_entity, DropOp: reversible_op.drop_entity,
          ReplaceOp: reversible_op.replace_or_revert_entity, RevertOp: reversible_op.replace_or_revert_entity}


@pytest.fixture
def alembic_utils_own_rendering() -> Iterator[None]:
    """The registry as alembic-utils leaves it (our package registers at import): restored afterwards."""
    registry = BaseOperations._to_impl._registry
    saved = {op_class: registry[(op_class, "default")] for op_class in ONLINE}
    for op_class, online in ONLINE.items():
        registry[(op_class, "default")] = online
    try:
        yield
    finally:
        for op_class, implementation in saved.items():
            registry[(op_class, "default")] = implementation


def test_registration_routes_each_operation_once(alembic_utils_own_rendering: None) -> None:
    register_offline_rendering()
    first = {op_class: BaseOperations._to_impl._registry[(op_class, "default")] for op_class in ONLINE}
    register_offline_rendering()  # a second import or call changes nothing
    assert {op_class: BaseOperations._to_impl._registry[(op_class, "default")] for op_class in ONLINE} == first
    docs = {op_class.__name__: implementation.__doc__ for op_class, implementation in first.items()}
    assert docs == {
        "CreateOp": "PGEnum offline: static SQL (pg_enum.offline); otherwise create_entity.",
        "DropOp": "PGEnum offline: static SQL (pg_enum.offline); otherwise drop_entity.",
        "ReplaceOp": "PGEnum offline: static SQL (pg_enum.offline); otherwise replace_or_revert_entity.",
        "RevertOp": "PGEnum offline: static SQL (pg_enum.offline); otherwise replace_or_revert_entity.",
    }
    assert all(implementation.offline_aware is True for implementation in first.values())

    # Registered for some operations only (a release that routed CreateOp already): the others still are.
    registry = BaseOperations._to_impl._registry
    for op_class in (DropOp, ReplaceOp, RevertOp):
        registry[(op_class, "default")] = ONLINE[op_class]
    register_offline_rendering()
    assert registry[(CreateOp, "default")] is first[CreateOp]
    assert all(getattr(registry[(op_class, "default")], "offline_aware", False) for op_class in ONLINE)

    ops, out = offline_ops({("public", "s"): ("a",)})
    ops.create_entity(PGEnum("public", "t", labels=["x"]))
    ops.replace_entity(PGEnum("public", "s", labels=["a", "b"]))
    ops.drop_entity(PGEnum("public", "t", labels=["x"]))
    ops.create_entity(PGExtension("public", "vector"))  # not an enum: alembic-utils' own statement
    assert statements(out.getvalue()) == [
        "CREATE TYPE \"public\".\"t\" AS ENUM ('x')",
        "ALTER TYPE \"public\".\"s\" ADD VALUE 'b' AFTER 'a'",
        'DROP TYPE IF EXISTS "public"."t"',
        'CREATE EXTENSION "vector" WITH SCHEMA "public";',  # alembic-utils ends its own statement with ';'
    ]


def test_online_operations_are_not_rendered_statically(alembic_utils_own_rendering: None, db_url: URL) -> None:
    register_offline_rendering()
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TYPE public.s AS ENUM ('a', 'b')")
            ops = Operations(MigrationContext.configure(conn))
            # Online, create is idempotent (rendered, it would be a plain CREATE TYPE, which fails here) ...
            ops.create_entity(PGEnum("public", "s", labels=["a", "b"]))
            # ... and a replace reads the catalog when it runs.
            ops.replace_entity(PGEnum("public", "s", labels=["a", "b", "c"]))
            labels = conn.exec_driver_sql("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
                                          "WHERE enumtypid = 'public.s'::regtype").scalar()
    finally:
        engine.dispose()
    assert labels == "a,b,c"
