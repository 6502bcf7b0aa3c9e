"""The reviewed opt-out: ``SAFETY_REVIEWED`` in a revision, one entry per operation, with its reason.

::

    SAFETY_REVIEWED = {
        "drop-column tasks.estimated_hours": "archived in legacy_archive.tasks_estimated_hours_0008 "
                                             "by the same statement; reviewed by ... on ...",
        "downgrade: drop-column tasks.team_id": "...",
    }

A key is a finding's rule id and object, as ``nakamura-db lint`` prints them (``downgrade: ``
first for an operation of ``downgrade()``); the value says why it is safe here. Lint shows the
reason next to the finding instead of failing; the deploy's data-loss refusal lets the operation
through. There is no global switch: each reviewed operation is named in its own revision, so the
review is read in the same diff as the operation. A key that matches no finding is itself a
finding (``stale-opt-out``). Read with ``ast`` (lint never imports a revision for this) or from the
loaded module (the deploy).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NAME = "SAFETY_REVIEWED"
DOWNGRADE = "downgrade: "


def normalize(key: str) -> str:
    """One spelling per key: single spaces, and ``public.`` (the schema every revision works in) dropped."""
    words = key.split()
    prefix = ""
    if words and words[0] == DOWNGRADE.strip():
        prefix, words = DOWNGRADE, words[1:]
    words = [w.removeprefix("public.") for w in words]
    return prefix + " ".join(words)


def key(direction: str, rule: str, obj: str) -> str:
    return normalize(f"{DOWNGRADE if direction == 'downgrade' else ''}{rule} {obj}")


def _clean(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {normalize(str(k)): " ".join(str(v).split()) for k, v in value.items()}


def from_file(path: Path) -> tuple[dict[str, str], str | None]:
    """(reviewed opt-outs, problem): the problem says why the literal cannot be read (else None)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return {}, None  # reported by the syntax-error rule
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == NAME for t in targets) and node.value is not None:
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                return {}, f"{NAME} must be a literal dict of str to str"
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                      for k, v in value.items()):
                return {}, f"{NAME} must be a literal dict of str to str, each with a reason"
            return _clean(value), None
    return {}, None


def from_module(module: Any) -> dict[str, str]:
    return _clean(getattr(module, NAME, None))
