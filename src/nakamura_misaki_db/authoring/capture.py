"""What a revision's ``upgrade()`` / ``downgrade()`` would run, read without a database.

The safety lint and the deploy's data-loss check judge the operations Alembic would run, not
the file's text: a helper call (``guarded_upgrade``, ``PGEnum``) or a ``DO`` block is seen for
the statements it emits. Each function runs in an offline ``MigrationContext`` (``as_sql``,
as ``alembic upgrade --sql`` does), and two records are kept at once:

- the rendered statements, in order, each with the transaction it falls in: every revision is
  its own transaction (env.py: ``transaction_per_migration``), and ``autocommit_block()``
  writes ``COMMIT;`` / ``BEGIN;`` around its statements, each of which then commits alone;
- the operation objects (``op.*`` calls, through a wrapped ``Operations.invoke``), which carry
  what SQL text loses: an ``alter_column``'s ``existing_type``, a PGEnum's labels before the
  change (the offline label record of ``pg_enum.offline``), a dropped table's reflected columns.

An exception raised by the function is kept with the revision file's line: offline, the bind
is Alembic's ``MockConnection``, so ``bind.scalar(...)`` or ``sa.inspect(bind)`` fail there
exactly as they fail under ``alembic upgrade --sql`` (a revision with no offline branch).
Offline the revision's own ``as_sql`` branch runs, not its online one.
"""

from __future__ import annotations

import copy
import io
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.pg_enum import offline as pg_enum_offline


@dataclass(frozen=True)
class Statement:
    sql: str  # as rendered, without the terminating ';'
    transaction: int  # statements with the same number share a transaction
    autocommit: bool  # inside autocommit_block(): committed on its own
    op_index: int | None  # the top-level operation (index into Capture.ops) that wrote it


@dataclass(frozen=True)
class OpRecord:
    op: Any  # an alembic MigrateOperation (or alembic-utils ReversibleOp)
    depth: int  # 0: called by the revision; more: called by another operation
    labels_before: tuple[str, ...] | None = None  # PGEnum: what the type held before (None: unknown)


@dataclass(frozen=True)
class RunError:
    kind: str  # the exception's class name
    message: str
    line: int | None  # line of the revision file where it was raised (None: not in that file)

    @property
    def needs_a_database(self) -> bool:
        """Raised because offline there is no database to ask (``bind.scalar``, ``sa.inspect``)."""
        text = f"{self.kind} {self.message}"
        return "MockConnection" in text or "NoInspectionAvailable" in text or "No inspection system" in text


@dataclass
class Capture:
    revision: str
    direction: str  # "upgrade" or "downgrade"
    path: Path
    statements: list[Statement] = field(default_factory=list)
    ops: list[OpRecord] = field(default_factory=list)
    error: RunError | None = None

    @property
    def function(self) -> str:
        return f"{self.direction}()"


class _Recorder:
    """One offline context; captures one function at a time, carrying PGEnum's label record across them."""

    def __init__(self, labels: dict[tuple[str, str], Sequence[str] | None] | None = None) -> None:
        self.buffer = io.StringIO()
        # Alembic announces every context it configures ("Generating static SQL"): nothing is
        # generated for anyone here, so the deploy's log does not say so.
        chatter = logging.getLogger("alembic.runtime.migration")
        saved = chatter.level
        chatter.setLevel(logging.WARNING)
        try:
            self.context = MigrationContext.configure(
                dialect_name="postgresql",
                opts={"as_sql": True, "output_buffer": self.buffer, "literal_binds": True,
                      "transactional_ddl": True},
            )
        finally:
            chatter.setLevel(saved)
        for (schema, name), known in (labels or {}).items():
            pg_enum_offline.remember(self.context, schema, name, known)
        self._capture: Capture | None = None
        self._transaction = 0
        self._autocommit = False
        self._current_op: int | None = None
        self.context.impl.static_output = self._output  # type: ignore[method-assign]

    # -- what the context writes ------------------------------------------------------------

    def _output(self, text: str) -> None:
        capture = self._capture
        stripped = text.strip()
        if capture is None or not stripped or stripped.startswith("--"):
            return
        if stripped == "COMMIT;":  # autocommit_block() begins: what came before is committed
            self._transaction += 1
            self._autocommit = True
            return
        if stripped == "BEGIN;":  # autocommit_block() ends: a new transaction
            self._transaction += 1
            self._autocommit = False
            return
        if self._autocommit:
            self._transaction += 1  # each statement of an autocommit block commits on its own
        capture.statements.append(Statement(stripped.removesuffix(";").strip(), self._transaction,
                                            self._autocommit, self._current_op))

    def _operations(self, capture: Capture) -> Operations:
        operations = Operations(self.context)
        real = operations.invoke
        depth = [0]

        def invoke(operation: Any) -> Any:
            target = getattr(operation, "target", None)
            before = None
            if isinstance(target, PGEnum):
                known = pg_enum_offline._known(self.context).get((target.schema, target.signature))
                before = None if known is None else tuple(known)
            capture.ops.append(OpRecord(operation, depth[0], before))
            outer = self._current_op
            if depth[0] == 0:
                self._current_op = len(capture.ops) - 1
            depth[0] += 1
            try:
                return real(operation)
            finally:
                depth[0] -= 1
                self._current_op = outer

        operations.invoke = invoke  # type: ignore[method-assign]
        return operations

    # -- one function -----------------------------------------------------------------------

    def run(self, module: Any, path: Path, revision: str, direction: str, kw: dict[str, Any]) -> Capture:
        capture = Capture(revision, direction, path)
        self._capture, self._transaction, self._autocommit, self._current_op = capture, 0, False, None
        operations = self._operations(capture)
        operations._install_proxy()
        saved = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        try:
            getattr(module, direction)(**kw)
        except Exception as exc:
            capture.error = _run_error(exc, path)
        finally:
            sys.dont_write_bytecode = saved
            operations._remove_proxy()
            self._capture = None
        return capture

    def labels(self) -> dict[tuple[str, str], Any]:
        return copy.deepcopy(dict(pg_enum_offline._known(self.context)))

    def restore_labels(self, saved: dict[tuple[str, str], Any]) -> None:
        known = pg_enum_offline._known(self.context)
        known.clear()
        known.update(saved)


def _run_error(exc: BaseException, path: Path) -> RunError:
    line = None
    resolved = str(path.resolve())
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and str(Path(frame.filename).resolve()) == resolved:
            line = frame.lineno  # the innermost line of the revision file
    message = " ".join(str(exc).split()) or type(exc).__name__
    return RunError(type(exc).__name__, message, line)


@dataclass(frozen=True)
class ScriptRef:
    """A revision to capture: its id, file and loaded module (Alembic's ``Script``)."""

    revision: str
    path: Path
    module: Any


def scripts_of(versions_dir: Path) -> list[ScriptRef]:
    """The chain in ``versions_dir``, oldest first, loaded as Alembic loads it (raises when it cannot)."""
    from alembic.script import ScriptDirectory

    directory = ScriptDirectory(str(versions_dir), version_locations=[str(versions_dir)])
    saved = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        chain = list(reversed(list(directory.walk_revisions())))
    finally:
        sys.dont_write_bytecode = saved
    return [ScriptRef(s.revision, Path(s.path), s.module) for s in chain]


def capture_chain(scripts: Sequence[ScriptRef], *, judged: set[str],
                  labels: dict[tuple[str, str], Sequence[str] | None] | None = None,
                  allow_data_loss: bool = False) -> Iterator[tuple[ScriptRef, Capture, Capture | None]]:
    """Upgrade every script in order (so PGEnum knows the labels each one leaves): yield each
    script with its upgrade's capture and, for those in ``judged``, its downgrade's (run from the
    state the upgrade left), else None."""
    recorder = _Recorder(labels)
    kw = {"allow_data_loss": allow_data_loss}
    for script in scripts:
        up = recorder.run(script.module, script.path, script.revision, "upgrade", kw)
        if script.revision not in judged:
            yield script, up, None
            continue
        after = recorder.labels()
        down = recorder.run(script.module, script.path, script.revision, "downgrade", kw)
        recorder.restore_labels(after)
        yield script, up, down


@contextmanager
def single(labels: dict[tuple[str, str], Sequence[str] | None] | None = None) -> Iterator[_Recorder]:
    """A recorder for captures one at a time (the deploy's check of the steps it is about to run)."""
    yield _Recorder(labels)
