"""Plan the ``vector`` extension: create it, or move it to the target's schema."""

from __future__ import annotations

from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.target import extension


def plan_extension(differences: list[Difference]) -> Planned:
    out = Planned()
    for d in differences:
        if d.kind == DiffKind.MISSING_EXTENSION:
            out.add(Step(Action.CREATE_EXTENSION, d.object, f"create extension {d.object}",
                         [ddl.create_extension(extension(d.object))],
                         f"the target needs extension {d.object} (may require a superuser)",
                         Safety.CATALOG_ONLY, locks=["none on tables"]))
        elif d.kind == DiffKind.EXTENSION_SCHEMA:
            out.add(Step(Action.MOVE_EXTENSION, d.object, f"move extension {d.object} to schema {d.expected}",
                         [ddl.move_extension(d.object, str(d.expected))],
                         f"extension {d.object} lives in {d.actual}, the target has it in {d.expected}",
                         Safety.CATALOG_ONLY, locks=["objects of the extension"]))
    return out
