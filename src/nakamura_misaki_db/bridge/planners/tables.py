"""Plan one existing target table (removals, defaults, columns, additions), and create the missing ones."""

from __future__ import annotations

from nakamura_misaki_db.bridge.planners.columns import plan_columns, plan_defaults
from nakamura_misaki_db.bridge.planners.constraints import plan_additions, plan_removals
from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference
from nakamura_misaki_db.schema import ddl, target
from nakamura_misaki_db.schema.shapes import Catalog, Table


def plan_table(actual: Table, expected: Table, differences: list[Difference], facts: DataFacts,
               enums: dict[str, tuple[str, ...]], legacy_timezone: str | None, run_id: str) -> Planned:
    """Steps for one table, in the order that makes the least work: removals first (less to rebuild),
    then the column rewrite, then what reads the rewritten table."""
    mine = [d for d in differences if d.table == actual.name]
    out, missing_indexes = plan_removals(actual, mine)
    out.extend(plan_defaults(actual, mine))
    out.extend(plan_columns(actual, expected, mine, facts, enums, legacy_timezone))
    out.extend(plan_additions(actual, mine, missing_indexes, facts, run_id))
    return out


def plan_create_tables(actual: Catalog, expected: Catalog, archived: set[str]) -> Planned:
    out = Planned()
    for name in expected.tables:
        if name in actual.tables and name not in archived:
            continue
        reason = (f"{name} was moved to the archive" if name in archived
                  else f"the target has table {name}; the database does not")
        out.add(Step(Action.CREATE_TABLE, name, f"create table {name} with its indexes and constraints",
                     ddl.create_table(target.table(name)), reason, Safety.CATALOG_ONLY, name, 0,
                     [f"new table {name}"]))
    return out
