"""Where a missing enum label goes in place: one rule for the offline script and the bridge's planner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Addition(NamedTuple):
    """``ALTER TYPE ... ADD VALUE label`` BEFORE ``before`` or AFTER ``after`` (neither: the type has no label)."""

    label: str
    before: str | None
    after: str | None


def additions(labels: Sequence[str], target: Sequence[str]) -> list[Addition]:
    """The target labels missing from ``labels`` (renames already applied), in target order.

    The target's first label goes BEFORE the first label there; any other AFTER the target label just
    before it, which is there already or was added by the addition before: so each lands in its target
    place without moving (or rewriting) anything. Only valid when ``labels`` keeps the target's order.
    """
    out: list[Addition] = []
    for i, label in enumerate(target):
        if label in labels:
            continue
        if i > 0:
            out.append(Addition(label, None, target[i - 1]))
        else:
            out.append(Addition(label, labels[0] if labels else None, None))
    return out
