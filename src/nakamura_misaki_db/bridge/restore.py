"""All or nothing across the phases: put back what phase 1 committed when a later step fails.

Phase 1 commits on its own (duplicate rows moved to the archive, a unique index
built ``CONCURRENTLY``) so that writers never wait for it; phase 2 is one
transaction and rolls itself back. So when anything after phase 1 fails (a lock
timeout, a lost connection, a permission, an event trigger, Ctrl-C), the run
puts phase 1 back, on a fresh connection:

1. the indexes it built (or left INVALID) are dropped ``CONCURRENTLY``, waits bounded;
2. in one transaction, the rows it moved return from the archive (``bridge_run_id`` =
   this run) to their tables, parents first; archive tables and the ``legacy_archive``
   schema it created go, if nothing else is in them;
3. the touched tables are compared with what they held before phase 1 (row count
   and an order-independent checksum of every row, taken in the planning transaction).

``Restored`` says which of the two happened: put back and verified, or what is
left and why (then ``baseline-bridge status`` names it and a rerun finishes it).
A killed process restores nothing: that is ``bridge.leftovers``'s case.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.bridge.archive import ARCHIVE_SCHEMA
from nakamura_misaki_db.bridge.steps import Action, Step
from nakamura_misaki_db.connect.errors import EXIT_ERROR, MigrationError, Refused
from nakamura_misaki_db.connect.locking import lock_timeout_setting
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.quoting import ident

_DIGEST = "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM {table} AS t"


def _quoted(name: str) -> str:
    schema, _, table = name.partition(".")
    return ident(schema, table)


def digest(conn: Connection, table: str) -> tuple[int, str]:
    """Row count and an order-independent checksum of every row of ``table`` (one scan, no lock on writers)."""
    count, checksum = conn.execute(sa.text(_DIGEST.format(table=_quoted(table)))).one()
    return int(count), str(checksum)


@dataclass
class Committed:
    """What phase 1 of run ``run_id`` commits, and what the database held before it: enough to put it back."""

    run_id: str
    moves: dict[str, str]  # source table -> archive table, parents first
    deleted_from: set[str]  # sources whose rows the move deletes (the others, children, a foreign key changes)
    builds: list[str]  # unique indexes phase 1 builds
    schema_existed: bool
    tables_existed: set[str]
    before: dict[str, tuple[int, str]]  # source -> digest before phase 1
    clients_allowed: bool = False
    moved: dict[str, int] = field(default_factory=dict)  # archive table -> rows moved (once committed)
    started: list[str] = field(default_factory=list)  # builds begun (a failed one may leave an INVALID index)

    @property
    def anything(self) -> bool:
        return bool(self.moved) or bool(self.started)

    @classmethod
    def take(cls, conn: Connection, run_id: str, steps: list[Step], clients_allowed: bool) -> Committed:
        moves: dict[str, str] = {}
        deleted: set[str] = set()
        for step in steps:
            if step.action == Action.ARCHIVE_DUPLICATES:
                moves.update(step.moves)
                deleted.add(next(iter(step.moves)))  # the step's own table comes first
        builds = [s.object for s in steps if s.action == Action.BUILD_UNIQUE_INDEX]
        schema = conn.execute(sa.text("SELECT to_regnamespace(:s)"), {"s": ARCHIVE_SCHEMA}).scalar() is not None
        existing = {t for t in moves.values()
                    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": _quoted(t)}).scalar() is not None}
        before = {source: digest(conn, source) for source in moves}
        return cls(run_id, moves, deleted, builds, schema, existing, before, clients_allowed)


@dataclass
class Restored:
    done: bool
    actions: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.done:
            return " ".join(["Phase 1 had committed on its own; this run put it back: " + "; ".join(self.actions)
                             + ".", *self.verified, "Nothing was changed."])
        did = f" It put back: {'; '.join(self.actions)}." if self.actions else ""
        return ("Phase 1 had committed on its own, and this run could not put all of it back ("
                + "; ".join(self.problems) + f").{did} Left: " + "; ".join(self.left)
                + ". `baseline-bridge status` names what is left; rerun `baseline-bridge apply` to finish it.")


def restore(connect: Callable[[], Connection], committed: Committed, lock_timeout: str | None) -> Restored:
    """Put back what ``committed`` records, on a connection of its own, and check the touched tables."""
    out = Restored(done=True)
    try:
        conn = connect()
    except Exception as exc:
        out.done = False
        out.problems.append(f"cannot connect: {_first_line(exc)}")
        out.left = _what_phase_one_left(committed)
        return out
    try:
        blocked = _drop_indexes(conn, committed, lock_timeout, out)
        if committed.moved and not blocked:
            _return_rows(conn, committed, lock_timeout, out)
        elif committed.moved:
            out.done = False
            out.problems.append("the rows cannot return while that unique index enforces uniqueness")
            out.left += [f"{n:,} row(s) moved by run {committed.run_id} in {archive}"
                         for archive, n in committed.moved.items()]
        if out.done:
            _verify(conn, committed, out)
    except Exception as exc:
        out.done = False
        out.problems.append(_first_line(exc))
        out.left = out.left or _what_phase_one_left(committed)
    finally:
        with contextlib.suppress(Exception):
            conn.close()
    return out


def _drop_indexes(conn: Connection, committed: Committed, lock_timeout: str | None, out: Restored) -> bool:
    """Drop the indexes phase 1 began; True when one is still there (and may block the rows' return)."""
    from nakamura_misaki_db.bridge.bounded import run_bounded, waited_for

    blocked = False
    for name in reversed(committed.started):
        qualified = ident("public", name)
        if conn.execute(sa.text("SELECT to_regclass(:i)"), {"i": qualified}).scalar() is None:
            conn.rollback()
            continue
        conn.rollback()
        why = ""
        try:
            run_bounded(conn, [ddl.drop_index_concurrently(name)], lock_timeout)
        except Exception as exc:
            watch = waited_for(exc)
            why = _first_line(exc) + (f" (waiting for {watch.blockers})" if watch and watch.blockers else "")
        state = conn.execute(sa.text(
            "SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'INVALID' END FROM pg_index i"
            " WHERE i.indexrelid = to_regclass(:i)"), {"i": qualified}).scalar()
        conn.rollback()
        if state is None:
            out.actions.append(f"index {name} dropped")
        else:
            blocked = True
            out.done = False
            out.problems.append(f"index {name} could not be dropped: {why or 'it is still there'}")
            out.left.append(f"index {name} on its table ({state}; DROP INDEX CONCURRENTLY public.{name} removes it)")
    return blocked


def _columns(conn: Connection, table: str) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.text(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0"
        " AND NOT attisdropped ORDER BY attnum"), {"t": _quoted(table)})]


def _primary_key(conn: Connection, table: str) -> list[str]:
    return [str(r[0]) for r in conn.execute(sa.text(
        "SELECT quote_ident(a.attname) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = CAST(:t AS regclass) AND i.indisprimary"
        " ORDER BY array_position(i.indkey, a.attnum)"), {"t": _quoted(table)})]


def _return_rows(conn: Connection, committed: Committed, lock_timeout: str | None, out: Restored) -> None:
    """One transaction: every moved row back where it was, then what this run created in the archive goes."""
    with conn.begin():
        conn.execute(sa.text("SELECT set_config('lock_timeout', :v, true)"), {"v": lock_timeout_setting(lock_timeout)})
        returned: dict[str, int] = {}
        for source, archive in committed.moves.items():
            cols = ", ".join(_columns(conn, source))
            key = _primary_key(conn, source)
            # Rows a foreign key changed (ON DELETE SET NULL) are still there: they get their archived values
            # back. Rows it deleted (CASCADE), and the duplicates themselves, are inserted again.
            update = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols.split(", ") if c not in key)
            conflict = (f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
                        if key and update and source not in committed.deleted_from else "")
            # The rows come back as they were: a trigger of the table (an updated_at, an audit log) must not
            # fire on their return. Those enabled are held off for this statement, and set back as they were.
            triggers = [(str(r[0]), str(r[1])) for r in conn.execute(sa.text(
                "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"
                " AND tgenabled <> 'D'"), {"t": _quoted(source)})]
            for name, _ in triggers:
                conn.execute(sa.text(f"ALTER TABLE {_quoted(source)} DISABLE TRIGGER {ident(name)}"))
            moved = conn.execute(sa.text(
                f"WITH back AS (DELETE FROM {_quoted(archive)} WHERE bridge_run_id = CAST(:run AS uuid) RETURNING *)"
                f" INSERT INTO {_quoted(source)} ({cols}) SELECT {cols} FROM back{conflict}"),
                {"run": committed.run_id}).rowcount
            for name, mode in triggers:
                again = {"A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}.get(mode, "ENABLE")
                conn.execute(sa.text(f"ALTER TABLE {_quoted(source)} {again} TRIGGER {ident(name)}"))
            held = f" (trigger(s) {', '.join(n for n, _ in triggers)} held off meanwhile)" if triggers else ""
            out.actions.append(f"{moved:,} row(s) returned from {archive} to {source}{held}")
            returned[archive] = returned.get(archive, 0) + moved
        short = {a: n for a, n in committed.moved.items() if returned.get(a, 0) != n}
        if short:
            raise RuntimeError("rows returned differ from rows moved: " + ", ".join(
                f"{a}: {returned.get(a, 0):,} of {n:,}" for a, n in short.items()))
        for archive in dict.fromkeys(committed.moves.values()):
            if archive in committed.tables_existed:
                continue
            if conn.execute(sa.text(f"SELECT NOT EXISTS (SELECT 1 FROM {_quoted(archive)})")).scalar():
                conn.execute(sa.text(f"DROP TABLE {_quoted(archive)}"))
                out.actions.append(f"{archive} dropped (this run created it)")
        if not committed.schema_existed:
            left = conn.execute(sa.text("SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(:s)"),
                                {"s": ARCHIVE_SCHEMA}).scalar()
            if not left:
                conn.execute(sa.text(f"DROP SCHEMA {ident(ARCHIVE_SCHEMA)} RESTRICT"))
                out.actions.append(f"schema {ARCHIVE_SCHEMA} dropped (this run created it)")


def _verify(conn: Connection, committed: Committed, out: Restored) -> None:
    with conn.begin():
        for source, then in committed.before.items():
            now = digest(conn, source)
            if now == then:
                out.verified.append(f"Verified: {source} holds exactly the rows it held before ({now[0]:,} rows, "
                                    "same checksum).")
            else:
                # Not this run's doing: its own rows are all back (counted as they returned). Say so, with
                # what the comparison shows, rather than claim the table is as it was.
                allowed = " (--allow-connected-clients)" if committed.clients_allowed else ""
                out.verified.append(f"{source} holds {now[0]:,} rows ({then[0]:,} before, checksum "
                                    f"{'equal' if now[1] == then[1] else 'different'}): another session wrote to "
                                    f"it during the run{allowed}; every row this run had moved is back.")


def _what_phase_one_left(committed: Committed) -> list[str]:
    left = [f"{n:,} row(s) moved by run {committed.run_id} in {archive}" for archive, n in committed.moved.items()]
    left += [f"index {name} (built or left INVALID by this run)" for name in committed.started]
    return left


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    text = getattr(diag, "message_primary", None) or str(orig) or type(exc).__name__
    return (text.strip().splitlines() or [type(exc).__name__])[0]


class RunFailed(MigrationError):
    """A run failed after phase 1 committed: the message says what happened to it (put back, or what is left)."""

    def __init__(self, message: str, exit_code: int, restored: Restored | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.restored = restored


class RunRefused(RunFailed, Refused):
    """The same, when what failed was a refusal (verification, row conservation): exit 3."""


def run_failed(message: str, cause: BaseException, restored: Restored | None = None) -> RunFailed:
    """The error for ``cause``, keeping a refusal a refusal."""
    if isinstance(cause, Refused):
        return RunRefused(message, cause.exit_code, restored)
    return RunFailed(message, cause.exit_code if isinstance(cause, MigrationError) else EXIT_ERROR, restored)


__all__ = ["Committed", "Restored", "RunFailed", "RunRefused", "digest", "restore", "run_failed"]
