"""PGEnum label removal: rows that hold a removed label fail the rebuild, or would lose their value.

Judged from the operation (``op.replace_entity(PGEnum(...))``) and the labels the type held
before it (the capture's offline record of what the chain left), not from SQL: PGEnum's
rebuild builds its statements at run time (``EXECUTE format(...)``). A label mapped with
``renames={old: new}`` is not removed: to a new label it is a rename (catalog only), to a
label the type already has it is a merge (the rebuild writes ``new`` into the rows holding
``old``), MIGRATION_GUIDE.md section 3.
"""

from __future__ import annotations

from collections.abc import Iterator

from alembic_utils.reversible_op import ReplaceOp, RevertOp

from nakamura_misaki_db.authoring.rules.base import (
    ERROR,
    GUIDE,
    WARNING,
    Hazard,
    Question,
    RevisionView,
    Rule,
)
from nakamura_misaki_db.schema.pg_enum import PGEnum

ENUM_LABEL_REMOVAL = Rule(
    "enum-label-removal", ERROR,
    "removing an enum label rebuilds the type; a row still holding the label fails the deploy, and a "
    "release that still writes it fails after the deploy",
    f'{GUIDE} 11.10 "Removing an enum label"')
ENUM_REBUILD = Rule(
    "enum-rebuild", WARNING,
    "merging or reordering labels rebuilds the type: every table with a column of it is rewritten under "
    "ACCESS EXCLUSIVE",
    f'{GUIDE} 11.10 "Removing an enum label"')
RULES = (ENUM_LABEL_REMOVAL, ENUM_REBUILD)


def removed_labels(target: PGEnum, before: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """(labels removed outright, labels merged into another: old -> new) going from ``before`` to ``target``."""
    kept = set(target.labels)
    merged = {old: new for old, new in target.renames.items() if old in before and new in before and new in kept}
    renamed = {old for old, new in target.renames.items() if old in before and new not in before}
    removed = [label for label in before if label not in kept and label not in merged and label not in renamed]
    return removed, merged


def _added_by_other(view: RevisionView, target: PGEnum) -> set[str]:
    """Labels of ``target``'s type that the revision's upgrade adds (when judging its downgrade)."""
    if view.direction != "downgrade" or view.other is None:
        return set()
    out: set[str] = set()
    for record in view.other.capture.ops:
        other = getattr(record.op, "target", None)
        if isinstance(other, PGEnum) and (other.schema, other.signature) == (target.schema, target.signature):
            out |= set(other.labels) - set(record.labels_before or ())
    return out


def check_enums(view: RevisionView) -> Iterator[Hazard]:
    for record in view.parsed.capture.ops:
        op = record.op
        target = getattr(op, "target", None)
        if not isinstance(op, ReplaceOp | RevertOp) or not isinstance(target, PGEnum):
            continue
        name = target.signature if target.schema == "public" else f"{target.schema}.{target.signature}"
        shown = f"replace_entity(PGEnum {name} labels={list(target.labels)})"
        if record.labels_before is None:
            continue  # the type's labels before are unknown here: the deploy's check reads them
        removed, merged = removed_labels(target, record.labels_before)
        if removed:
            added_here = _added_by_other(view, target)
            level = WARNING if set(removed) <= added_here else None
            detail = "removes " + ", ".join(map(repr, removed))
            if level:  # the downgrade of a revision that adds the label: only rows written since hold it
                detail += " (added by upgrade(): the rows written since)"
            yield Hazard(ENUM_LABEL_REMOVAL, name, shown, detail,
                         [Question("labels", "", None, (target.schema, target.signature, tuple(removed)))], level)
        if merged:
            yield Hazard(ENUM_REBUILD, name, shown,
                         "merges " + ", ".join(f"{old!r} into {new!r}" for old, new in merged.items()))


CHECKS = (check_enums,)
