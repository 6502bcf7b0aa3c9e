"""The no-op deploy's schema check: one query, psycopg alone, against a fingerprint of what head builds.

``nakamura-init-db`` runs on every deploy, and the usual answer is "already at
head". That answer must not trust ``alembic_version`` alone, yet must stay
cheap (no SQLAlchemy, no Alembic, no models: see bench/). So one query reads
the version rows and an md5 of every catalog row of ``public`` a comparison
looks at: tables, columns (type, nullability, default, collation), constraints
(``pg_get_constraintdef``), indexes (``pg_get_indexdef``, marked when INVALID or
not ready), enum labels and where ``vector`` lives, sorted, so column order and
OIDs do not matter. It also says whether another ``alembic_version`` exists.

Equal to ``HEAD_FINGERPRINTS[head]`` (what a database built by this chain gives,
checked by the tests on a real server) means the schema is exactly head's. Any
other answer is not a refusal: the deploy takes the full path, where the
catalog is compared object by object with the frozen definitions
(``catalog.state``) and a real difference is refused, named. So a server whose
catalog prints something differently only costs a slower deploy, never a
wrong one.
"""

from __future__ import annotations

from typing import Any

# head revision -> fingerprint of the schema this chain builds at head (tests/test_trust.py checks it).
HEAD_FINGERPRINTS: dict[str, str] = {
    "0007": "8d59c05ad4fbcc966ae223a0c1af19db",
}

FINGERPRINT_SQL = """
WITH rels AS (
    SELECT c.oid, c.relname FROM pg_class c
     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'alembic_version'
), parts AS (
    SELECT 'T ' || r.relname AS k FROM rels r
    UNION ALL
    SELECT 'C ' || r.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                   THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION ALL
    SELECT 'K ' || r.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid)
      FROM rels r JOIN pg_constraint con ON con.conrelid = r.oid
     -- PostgreSQL 18 records NOT NULL as constraints too; attnotnull already says it
     WHERE con.contype <> 'n'
    UNION ALL
    SELECT 'I ' || r.relname || '.' || ic.relname || ' ' || pg_get_indexdef(i.indexrelid)
           || CASE WHEN i.indisvalid AND i.indisready THEN '' ELSE ' INVALID' END
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    UNION ALL
    SELECT 'E ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
    UNION ALL
    SELECT 'X ' || x.extname || ' ' || x.extnamespace::regnamespace::text FROM pg_extension x
     WHERE x.extname = 'vector'
)
SELECT (SELECT md5(string_agg(k, E'\\n' ORDER BY k COLLATE "C")) FROM parts),
       EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = 'alembic_version' AND c.relkind IN ('r', 'p', 'v')
                  AND c.relnamespace <> 'public'::regnamespace)
"""


def schema_fingerprint(conn: Any) -> tuple[str, bool]:
    """(md5 of public's catalog as compared, whether another alembic_version exists) on a psycopg connection."""
    digest, others = conn.execute(FINGERPRINT_SQL).fetchone()
    return str(digest), bool(others)


def is_head(conn: Any, head: str) -> bool:
    """Is the schema exactly what ``head`` builds, with no other version table around? (False: look closer.)"""
    expected = HEAD_FINGERPRINTS.get(head)
    if not expected:
        return False
    digest, others = schema_fingerprint(conn)
    return digest == expected and not others
