"""The one resolver: which database a command works on.

An option, else ``DATABASE_URL``, else the embedded PostgreSQL. This is the only
place that knows both the URL forms (``connect.urls``) and the embedded server
(``connect.embedded``); neither of those knows the other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from nakamura_misaki_db.connect.embedded import default_data_dir, embedded_database_url
from nakamura_misaki_db.connect.errors import BadInput
from nakamura_misaki_db.connect.urls import ENV_VAR, EXAMPLE, DatabaseUrl


def resolve_database_url(explicit: str | None = None, *, option: str = "--database-url",
                         announce: Callable[[str], Any] | None = None) -> DatabaseUrl:
    """The database every command works on: ``explicit`` (an option), else ``DATABASE_URL``,
    else the embedded PostgreSQL (announced in one line on stderr)."""
    if explicit is not None:
        return DatabaseUrl.parse(explicit, source=option)
    raw = os.environ.get(ENV_VAR)
    if raw is not None and raw.strip():
        return DatabaseUrl.parse(raw, source=ENV_VAR)
    if os.environ.get("INVOCATION_ID"):
        # systemd sets INVOCATION_ID for every unit it runs. There a missing URL is a broken unit:
        # migrating a throwaway embedded database would report success and leave production as it was.
        raise BadInput(f"{ENV_VAR} is not set, and under systemd the embedded PostgreSQL is never used: "
                       f"set {ENV_VAR} in the unit's environment (e.g. {EXAMPLE})")
    url = embedded_database_url()
    say = announce or (lambda text: print(text, file=sys.stderr))
    say(f"{ENV_VAR} is not set: using the embedded PostgreSQL in {default_data_dir()}")
    return url
