"""Planners, one per object kind, each a pure function of (catalog, differences, facts) -> steps + refusals.

- ``extension``: the vector extension;
- ``archive``: tables that move to the archive whole;
- ``enums``: enum types and labels;
- ``columns``: defaults and the one ALTER TABLE per table;
- ``constraints``: constraints and indexes, duplicates archived before a unique constraint;
- ``tables``: one table's steps in order, and the tables to create;
- ``dependents``: views, triggers, policies, rules, functions and foreign keys around those steps.

``assemble`` puts them in the order apply runs them.
"""

from __future__ import annotations

from nakamura_misaki_db.bridge.planners.archive import plan_archives
from nakamura_misaki_db.bridge.planners.constraints import plan_foreign_keys
from nakamura_misaki_db.bridge.planners.dependents import plan_dependents, touched_by
from nakamura_misaki_db.bridge.planners.enums import plan_enums
from nakamura_misaki_db.bridge.planners.extension import plan_extension
from nakamura_misaki_db.bridge.planners.tables import plan_create_tables, plan_table
from nakamura_misaki_db.bridge.steps import Action, Planned, Safety
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema.shapes import Catalog

# A table's writers wait from its first lock until commit: the expensive
# tables go first so the cheap ones hold their locks briefly.
_RANK = {Safety.REWRITES: 0, Safety.VALIDATES: 1, Safety.BUILDS_INDEX: 1, Safety.ARCHIVES: 1,
         Safety.CATALOG_ONLY: 2}


def assemble(actual: Catalog, expected: Catalog, differences: list[Difference], facts: DataFacts,
             moving: dict[str, str], legacy_timezone: str | None, run_id: str) -> Planned:
    out = Planned()
    for d in differences:
        if d.kind == DiffKind.LATER_OBJECT_DIFFERS:
            # The later revision that creates it would refuse it during the next deploy: refuse now.
            out.refuse(d.object, f"should be {d.expected}, but: {d.actual}",
                       "make it match that definition (or rename it out of the way) before the bridge, then plan "
                       "again; the revision would otherwise refuse it on the next deploy")
    out.extend(plan_extension(differences))
    out.extend(plan_archives(actual, moving, facts))
    rows = {name: t.estimated_rows or 0 for name, t in actual.tables.items()}
    out.extend(plan_enums(differences, facts, rows))

    groups: list[Planned] = []
    for name, expected_table in expected.tables.items():
        table = actual.tables.get(name)
        if table is None or name in moving:
            continue
        groups.append(plan_table(table, expected_table, differences, facts, expected.enums, legacy_timezone, run_id))
        out.refusals.extend(groups[-1].refusals)
    # Ranked by what runs inside the transaction (phase 2): the table rewritten longest goes first,
    # so no slow step runs while another table waits behind a lock taken earlier for nothing.
    def rank(group: Planned) -> tuple[int, int]:
        inside = [s for s in group.steps if s.phase == 2]
        return (min((_RANK[s.safety] for s in inside), default=3), -max((s.rows or 0 for s in inside), default=0))

    groups.sort(key=rank)
    # Phase 1, before the transaction and without table locks: move duplicates away, then build the
    # unique indexes CONCURRENTLY. Phase 2 attaches them in a moment, after the slow steps.
    phase_one = [s for action in (Action.ARCHIVE_DUPLICATES, Action.BUILD_UNIQUE_INDEX)
                 for group in groups for s in group.steps if s.action == action]
    out.steps[:0] = phase_one
    for group in groups:
        out.steps.extend(s for s in group.steps if s.phase == 2)
    out.extend(plan_create_tables(actual, expected, set(moving)))
    out.extend(plan_foreign_keys(actual, differences, set(moving), facts))
    # Last: keep what depends on these steps working, or refuse naming it.
    return plan_dependents(out, touched_by(actual, differences, moving, facts), facts.dependents)
