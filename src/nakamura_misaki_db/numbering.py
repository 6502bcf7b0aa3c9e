"""Revision ids are four-digit numbers: 0001, 0002, ... assigned by env.py."""

from __future__ import annotations

import re
from typing import Any

from alembic.script import ScriptDirectory

REVISION_ID = re.compile(r"^\d{4}$")


def next_revision_id(script: ScriptDirectory) -> str:
    numbers = [int(r.revision) for r in script.walk_revisions() if REVISION_ID.match(r.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def number_new_revision(context: Any, revision: Any, directives: list[Any]) -> None:
    """``process_revision_directives`` hook: give the new script the next number."""
    if not directives:
        return
    script = context.script or ScriptDirectory.from_config(context.config)
    new_id = next_revision_id(script)
    for directive in directives:
        if getattr(directive, "rev_id", None) is not None:
            directive.rev_id = new_id
