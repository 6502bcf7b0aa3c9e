"""Plan enum types: create missing ones; rename legacy spellings, add missing labels in place; rebuild only
when no row uses a label that would go or move."""

from __future__ import annotations

from dataclasses import dataclass

from nakamura_misaki_db.bridge.steps import Action, Planned, Safety, Step, access_exclusive
from nakamura_misaki_db.catalog.facts import DataFacts
from nakamura_misaki_db.diff import Difference, DiffKind
from nakamura_misaki_db.schema import ddl
from nakamura_misaki_db.schema.legacy_chain import LEGACY_LABELS
from nakamura_misaki_db.schema.pg_enum import PGEnum
from nakamura_misaki_db.schema.pg_enum.labels import additions
from nakamura_misaki_db.schema.target import enum as target_enum


@dataclass(frozen=True)
class EnumChange:
    """How ``current`` labels become ``target``: pure arithmetic on two label lists and the legacy map."""

    renames: tuple[tuple[str, str], ...]
    extras: tuple[str, ...]  # labels (after renames) the target does not have
    reordered: bool

    @property
    def needs_rebuild(self) -> bool:
        return bool(self.extras) or self.reordered

    def labels_to_probe(self, current: list[str]) -> list[str]:
        # Rows still hold today's spellings (renames have not run): look for those.
        return list(current) if self.reordered else list(self.extras)


def enum_change(name: str, current: list[str], target: list[str]) -> EnumChange:
    mapping = LEGACY_LABELS.get(name, {})
    renames = tuple((old, mapping[old]) for old in current
                    if old not in target and mapping.get(old) in target and mapping[old] not in current)
    renamed = dict(renames)
    after = [renamed.get(label, label) for label in current]
    extras = tuple(label for label in after if label not in target)
    kept = [label for label in after if label in target]
    reordered = kept != [label for label in target if label in kept]
    return EnumChange(renames, extras, reordered)


def labels_to_probe(differences: list[Difference]) -> dict[str, list[str]]:
    """Enum type -> labels whose use the facts must count (only for changes that need a rebuild)."""
    out: dict[str, list[str]] = {}
    for d in differences:
        if d.kind == DiffKind.ENUM_LABELS:
            change = enum_change(d.object, list(d.actual), list(d.expected))
            if change.needs_rebuild:
                out[d.object] = change.labels_to_probe(list(d.actual))
    return out


def plan_enums(differences: list[Difference], facts: DataFacts, rows: dict[str, int]) -> Planned:
    """``rows``: estimated rows per public table (for the rebuild's cost)."""
    out = Planned()
    for d in differences:
        if d.kind == DiffKind.MISSING_ENUM:
            out.add(Step(Action.CREATE_ENUM, d.object, f"create enum {d.object} {tuple(d.expected)}",
                         [ddl.create_enum(target_enum(d.object))], f"the target has enum {d.object}",
                         Safety.CATALOG_ONLY, locks=["none"]))
    for d in differences:
        if d.kind == DiffKind.ENUM_LABELS:
            out.extend(_plan_labels(d.object, list(d.actual), list(d.expected), facts, rows))
    return out


def _plan_labels(name: str, current: list[str], target: list[str], facts: DataFacts,
                 rows: dict[str, int]) -> Planned:
    out = Planned()
    change = enum_change(name, current, target)
    columns = facts.enum_columns.get(name, [])
    tables = sorted({t if s == "public" else f"{s}.{t}" for s, t, _ in columns})
    lock = [f"ACCESS EXCLUSIVE on type {name}"]

    if change.needs_rebuild:
        use = facts.label_use.get(name, {})
        if use:
            where = ", ".join(f"{k} ({v:,} rows)" for k, v in use.items())
            problem = (f"labels {list(change.extras)} are not in the target {target} and no mapping applies"
                       if change.extras else f"labels are in another order than the target {target}")
            out.refuse(f"enum {name}", f"{problem} and rows use them: {where}",
                       "update those rows to target labels (or add a mapping), then plan again")
            return out
        entity = PGEnum(schema="public", signature=name, labels=tuple(target), renames=dict(change.renames))
        out.add(Step(
            Action.REBUILD_ENUM, name,
            f"rebuild enum {name} as {tuple(target)} (no row uses the labels it drops or moves)",
            ddl.replace_enum(entity), f"{name} has labels {current}; target {target}",
            Safety.REWRITES if tables else Safety.CATALOG_ONLY,
            ", ".join(tables) or None, sum(rows.get(t, 0) for t in tables),
            lock + [access_exclusive(t) for t in tables],
        ))
        return out

    for old, new in change.renames:
        out.add(Step(
            Action.RENAME_ENUM_LABEL, f"{name}.{old}", f"rename label {old} -> {new} of enum {name}",
            [ddl.rename_enum_value(name, old, new)],
            f"legacy spelling {old!r} of target label {new!r}", Safety.CATALOG_ONLY, locks=lock,
        ))
    renamed = dict(change.renames)
    for add in additions([renamed.get(label, label) for label in current], target):
        position = (f"before {add.before}" if add.before is not None
                    else f"after {add.after}" if add.after is not None else "")
        out.add(Step(
            Action.ADD_ENUM_LABEL, f"{name}.{add.label}", f"add label {add.label} to enum {name} {position}".strip(),
            [ddl.add_enum_value(name, add.label, before=add.before, after=add.after)],
            f"the target's {name} has {add.label!r}", Safety.CATALOG_ONLY, locks=lock,
        ))
    return out
