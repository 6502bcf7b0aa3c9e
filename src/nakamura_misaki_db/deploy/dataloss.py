"""The deploy refuses what loses data: checked before the first step of a run changes anything.

Called once by ``alembic_env`` (every ``alembic upgrade`` / ``downgrade`` and
``nakamura-init-db`` go through it), after the state check and before ``run_migrations``.
For each step of the run on a revision after the safety baseline, the step's function is
captured offline (``authoring.capture``: the statements and operations it would run) and the
data-loss rules are applied to it: ``drop-table``, ``drop-column``, ``rename-as-drop-create``,
``type-narrow`` and ``enum-label-removal``. Each such operation's data is then counted on the
database itself (``authoring.datafacts``, exact, in the run's first transaction), with the
enum labels and column types read from its catalog rather than from the chain. Any row that
would be lost refuses the whole run (``Refused``: exit 3, nothing changed), naming the
revision, the operation and the rows, unless the revision names that operation in its reviewed
``SAFETY_REVIEWED``. A downgrade run with ``-x allow_data_loss=true`` (the operator's explicit
decision, as for the guarded downgrades of 0001-0007) is not checked.

An operation after a guard (``revision_api.refuse_when``) is left to the guard, whose count is
the precise condition; it refuses at run time, also exit 3. The check sees the database as it
is before the run: a column added and dropped within one run holds nothing yet.

A run with no step after the baseline costs nothing here (no capture, no query).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nakamura_misaki_db.connect.errors import Refused

DATA_LOSS_RULES = frozenset({"drop-table", "drop-column", "rename-as-drop-create", "type-narrow",
                             "enum-label-removal"})


class DataLossRefused(Refused):
    """A step of the run would lose rows or values the database holds; nothing was changed."""


def planned_steps(migration_context: Any) -> list[Any]:
    """The revision steps an ``upgrade`` or ``downgrade`` run will take (Alembic's own step function, as
    run_migrations calls it). Empty for any other command: ``check`` or ``revision --autogenerate`` hand in
    a function that runs the comparison itself, and calling it here would run it twice."""
    from alembic.runtime.migration import RevisionStep

    function = getattr(migration_context, "_migrations_fn", None)
    if function is None or getattr(function, "__module__", None) != "alembic.command" or getattr(
            function, "__name__", None) not in ("upgrade", "downgrade"):
        return []
    steps = function(migration_context.get_current_heads(), migration_context)
    return [s for s in steps if isinstance(s, RevisionStep)]


def _steps(migration_context: Any) -> list[Any]:
    from nakamura_misaki_db.authoring.safety import judged

    return [s for s in planned_steps(migration_context) if judged(s.revision.revision)]


def losses(connection: Any, migration_context: Any, *, allow_data_loss: bool = False) -> list[str]:
    """One line per operation of the run that would lose data here (empty: nothing to refuse)."""
    steps = _steps(migration_context)
    if not steps:
        return []
    from nakamura_misaki_db.authoring import optout
    from nakamura_misaki_db.authoring.capture import single
    from nakamura_misaki_db.authoring.datafacts import Facts
    from nakamura_misaki_db.authoring.rules import drops, enums, types
    from nakamura_misaki_db.authoring.rules.base import RevisionView
    from nakamura_misaki_db.authoring.sql import parse

    facts = Facts(connection, statement_timeout=None)
    found: list[str] = []
    with single(facts.enum_labels()) as recorder:
        for step in steps:
            direction = "upgrade" if step.is_upgrade else "downgrade"
            script = step.revision
            capture = recorder.run(script.module, Path(script.path), script.revision, direction,
                                   {"allow_data_loss": allow_data_loss})
            if not step.is_upgrade and allow_data_loss:
                continue
            view = RevisionView(parse(capture), None, [], facts.column_type)
            reviewed = optout.from_module(script.module)
            hazards = [h for check in (*drops.CHECKS, *types.CHECKS, *enums.CHECKS) for h in check(view)
                       if h.rule.id in DATA_LOSS_RULES and optout.key(direction, h.rule.id, h.object) not in reviewed]
            answers = facts.answer(hazards)
            for hazard in hazards:
                lost = [f for f in answers[id(hazard)] if f.count]
                if lost:
                    found.append(f"{direction} {script.revision}: {hazard.rule.id} {hazard.object} "
                                 f"({'; '.join(f.text for f in lost)}); safe pattern: {hazard.rule.safe}; "
                                 f"reviewed key: {optout.key(direction, hazard.rule.id, hazard.object)!r}")
    return found


def refuse_data_loss(connection: Any, migration_context: Any, *, allow_data_loss: bool = False) -> None:
    found = losses(connection, migration_context, allow_data_loss=allow_data_loss)
    if found:
        raise DataLossRefused(
            f"this run would lose data the database holds, in {len(found)} operation(s): " + " | ".join(found)
            + ". Nothing was changed. Keep the data with the safe pattern, or, if losing it is intended and "
              "reviewed, name the operation in the revision's SAFETY_REVIEWED with the reason "
              "(MIGRATION_GUIDE.md 11.2).")
