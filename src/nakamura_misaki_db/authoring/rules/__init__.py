"""The safety rules of ``nakamura-db lint``: one rule per unit, each with a stable id.

A rule reads one captured function (``upgrade()`` or ``downgrade()`` of a revision after the
safety baseline, parsed: ``authoring.sql``) and yields a ``Hazard`` per operation it finds
dangerous: the rule, the object (``tasks``, ``tasks.title``, ``task_status``), the operation
as written, and the questions the data-aware lint asks the database about it
(``authoring.datafacts``). Like squawk's or strong_migrations' checks, each rule says why the
operation is dangerous and points at the guide section with the safe pattern.

The rules live in the modules of this package, one per family; ``RULES`` lists them all by
id. An id never changes meaning: the opt-outs in revisions name it (``SAFETY_REVIEWED``, see
``authoring.optout``).
"""

from __future__ import annotations

from nakamura_misaki_db.authoring.rules import drops, enums, locks, nullability, runtime, types
from nakamura_misaki_db.authoring.rules.base import Check, Rule

_MODULES = (drops, types, nullability, locks, enums, runtime)

RULES: dict[str, Rule] = {rule.id: rule for module in _MODULES for rule in module.RULES}
CHECKS: tuple[Check, ...] = tuple(check for module in _MODULES for check in module.CHECKS)
