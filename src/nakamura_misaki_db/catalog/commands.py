"""The command tags a statement runs, as event triggers see them (``ALTER TABLE``, ``CREATE INDEX``, ...).

Read from the statement's text: its leading keywords, and for a ``DO`` block the
DDL statements inside it (they fire event triggers just the same). Over-reading
is harmless here: a tag too many names a trigger that would not have fired,
which the operator can allow by name; a tag too few would let one fire unannounced.
"""

from __future__ import annotations

import re

_OBJECTS = ("MATERIALIZED VIEW", "EVENT TRIGGER", "TABLE", "INDEX", "TYPE", "SCHEMA", "VIEW", "EXTENSION",
            "TRIGGER", "FUNCTION", "PROCEDURE", "POLICY", "RULE", "SEQUENCE", "DOMAIN")
_DDL = re.compile(r"\b(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+)?(?:TEMP(?:ORARY)?\s+)?("
                  + "|".join(o.replace(" ", r"\s+") for o in _OBJECTS) + r")\b", re.IGNORECASE)
_OTHER = {"COMMENT": "COMMENT", "GRANT": "GRANT", "REVOKE": "REVOKE", "REINDEX": "REINDEX",
          "SECURITY": "SECURITY LABEL"}


def command_tags(statement: str) -> set[str]:
    """The tags of ``statement`` (empty for DML, SET, SELECT, LOCK: no event trigger fires on those)."""
    text = statement.strip()
    head = text.split(None, 1)[0].upper() if text else ""
    if head == "DO" or head.startswith("DO$"):
        return {_tag(m) for m in _DDL.finditer(text)}
    if head in _OTHER:
        return {_OTHER[head]}
    match = _DDL.match(text)
    return {_tag(match)} if match else set()


def _tag(match: re.Match[str]) -> str:
    return f"{match[1].upper()} {' '.join(match[2].upper().split())}"
