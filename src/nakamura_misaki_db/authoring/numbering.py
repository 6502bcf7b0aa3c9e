"""Revision ids are four-digit numbers: 0001, 0002, ... assigned by env.py."""

from __future__ import annotations

import re
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError

REVISION_ID = re.compile(r"^\d{4}$")


def next_revision_id(script: ScriptDirectory) -> str:
    numbers = [int(r.revision) for r in script.walk_revisions() if REVISION_ID.match(r.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def requested_rev_id(context: Any) -> str | None:
    """The ``--rev-id`` the user gave (``alembic revision --rev-id``), if any.

    Read from the command's own arguments, not from the directive: Alembic fills
    the directive with a random hex id when none is given, and a random id that
    happens to be all digits must not pass for a requested one.
    """
    revision_context = getattr(context, "opts", {}).get("revision_context")
    command_args = getattr(revision_context, "command_args", None) or {}
    return command_args.get("rev_id") or None


def number_new_revision(context: Any, revision: Any, directives: list[Any]) -> None:
    """``process_revision_directives`` hook: give the new script the next number.

    ``--rev-id`` is honoured when it is that number and refused otherwise
    (before any file is written): a hand-picked id would break the sequence
    that lint, the tests and every deploy rely on.
    """
    if not directives:
        return
    script = context.script or ScriptDirectory.from_config(context.config)
    new_id = next_revision_id(script)
    requested = requested_rev_id(context)
    if requested is not None and requested != new_id:
        raise CommandError(
            f"--rev-id {requested} refused: revision ids are assigned in sequence and the next one is "
            f"{new_id}. Leave --rev-id out (the number is assigned for you) or pass --rev-id {new_id}. "
            "No file was written."
        )
    for directive in directives:
        if getattr(directive, "rev_id", None) is not None:
            directive.rev_id = new_id
