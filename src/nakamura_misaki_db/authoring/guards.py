"""A refusal written as SQL: ``revision_api.refuse_when``, the guard before a step that loses data.

A guard is a ``DO`` block that counts the rows the next step would lose and, when there are any,
raises ``NM001`` (``connect.errors.REFUSAL_SQLSTATE``) with a message starting ``refused:``.
Being SQL, it refuses the same way online and in a ``--sql`` script piped into psql (psql stops
at the error, so the revision's COMMIT never runs), where a Python check of the rows cannot run
at all. Every entry point turns ``NM001`` into exit 3.

Its first line, ``-- nakamura-db guard: RULE OBJECT``, tells lint (``authoring.sql``) and the
deploy's data-loss refusal that the step on OBJECT after it is covered: the guard's own count
is the precise condition (e.g. "full_name differs from real_name somewhere"), which a generic
"the column holds values" would get wrong.
"""

from __future__ import annotations

from nakamura_misaki_db.connect.errors import REFUSAL_SQLSTATE
from nakamura_misaki_db.schema.quoting import literal


def _exists(obj: str) -> str:
    """The SQL test that OBJECT (``table`` or ``table.column``, in public) is there to count."""
    parts = obj.removeprefix("public.").split(".")
    table = literal(f"public.{parts[0]}")
    if len(parts) == 1:
        return f"to_regclass({table}) IS NOT NULL"
    return (f"EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass({table}) "
            f"AND attname = {literal(parts[1])} AND NOT attisdropped)")


def guard_sql(rule: str, obj: str, count_sql: str, message: str) -> str:
    """The ``DO`` block: when ``obj`` exists and ``count_sql`` (a query giving one count) is above 0, refuse."""
    if not rule.replace("-", "").isalpha() or any(c.isspace() for c in obj):
        raise ValueError(f"a guard names a rule id and one object: {rule!r} {obj!r}")
    tag = "$nm_guard$"
    if tag in count_sql or tag in message:
        raise ValueError(f"the guard's SQL and message may not contain {tag}")
    # format() reads % as its own: the message's are doubled.
    text = literal(f"refused: {message.replace('%', '%%')}: %s row(s). Nothing of this revision was changed.")
    return f"""DO {tag}
DECLARE
    n bigint;
BEGIN
    -- nakamura-db guard: {rule} {obj.removeprefix("public.")}
    IF {_exists(obj)} THEN
        SELECT ({count_sql.strip().rstrip(";")}) INTO n;
        IF n > 0 THEN
            RAISE EXCEPTION USING ERRCODE = {literal(REFUSAL_SQLSTATE)},
                MESSAGE = format({text}, to_char(n, 'FM999,999,999,999,999'));
        END IF;
    END IF;
END {tag}"""
