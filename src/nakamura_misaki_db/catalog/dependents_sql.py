"""The catalog queries ``catalog.dependents`` runs: every object that depends on what the bridge touches."""

from __future__ import annotations

VIEWS_SQL = """
WITH RECURSIVE deps AS (
    SELECT DISTINCT r.ev_class AS view_oid
      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = ANY(:roots) AND r.ev_class <> d.refobjid
    UNION
    SELECT r.ev_class
      FROM deps JOIN pg_depend d ON d.refobjid = deps.view_oid AND d.refclassid = 'pg_class'::regclass
      JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
     WHERE r.ev_class <> deps.view_oid
)
SELECT v.oid, n.nspname, v.relname, v.relkind = 'm', pg_get_viewdef(v.oid, true),
       coalesce(v.reloptions, '{}'::text[]), pg_get_userbyid(v.relowner),
       (SELECT coalesce(json_agg(json_build_array(
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                   a.privilege_type, a.is_grantable) ORDER BY a.grantee, a.privilege_type), '[]'::json)
          FROM aclexplode(coalesce(v.relacl, acldefault('r', v.relowner))) a
         WHERE a.grantee <> v.relowner),
       obj_description(v.oid, 'pg_class'),
       ARRAY(SELECT DISTINCT d.refobjid::bigint FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
              JOIN pg_class o ON o.oid = d.refobjid
              WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class = v.oid AND o.relkind IN ('v', 'm')
                AND d.refobjid <> v.oid),
       EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = v.oid AND r.rulename <> '_RETURN'),
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = v.oid AND NOT t.tgisinternal)
  FROM deps JOIN pg_class v ON v.oid = deps.view_oid JOIN pg_namespace n ON n.oid = v.relnamespace
 WHERE v.relkind IN ('v', 'm')
"""

DIRECT_VIEW_COLUMNS_SQL = """
SELECT DISTINCT t.relname, a.attname, r.ev_class
  FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
  JOIN pg_class t ON t.oid = d.refobjid
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = ANY(:roots) AND d.refobjsubid > 0 AND r.ev_class <> t.oid
"""

COLUMN_USES_SQL = """
SELECT 'trigger', n.nspname || '.' || t.relname || '.' || tg.tgname, t.relname, a.attname,
       pg_get_triggerdef(tg.oid, true)
  FROM pg_depend d JOIN pg_trigger tg ON tg.oid = d.objid AND d.classid = 'pg_trigger'::regclass
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE d.refobjid = ANY(:roots) AND d.refobjsubid > 0 AND NOT tg.tgisinternal
UNION ALL
SELECT 'policy', n.nspname || '.' || t.relname || '.' || p.polname, t.relname, a.attname,
       'CREATE POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(n.nspname) || '.'
       || quote_ident(t.relname) || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
  FROM pg_depend d JOIN pg_policy p ON p.oid = d.objid AND d.classid = 'pg_policy'::regclass
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE d.refobjid = ANY(:roots) AND d.refobjsubid > 0
UNION ALL
SELECT 'rule', n.nspname || '.' || t.relname || '.' || r.rulename, t.relname, a.attname, pg_get_ruledef(r.oid, true)
  FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid AND d.classid = 'pg_rewrite'::regclass
  JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE d.refobjid = ANY(:roots) AND d.refobjsubid > 0 AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'generated column', n.nspname || '.' || t.relname || '.' || g.attname, t.relname, a.attname,
       pg_get_expr(ad.adbin, ad.adrelid)
  FROM pg_depend d JOIN pg_class t ON t.oid = d.objid AND d.classid = 'pg_class'::regclass
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute g ON g.attrelid = t.oid AND g.attnum = d.objsubid AND g.attgenerated <> ''
  JOIN pg_attrdef ad ON ad.adrelid = t.oid AND ad.adnum = g.attnum
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
 WHERE d.refobjid = ANY(:roots) AND d.refobjid = d.objid AND d.refobjsubid > 0
UNION ALL
SELECT 'foreign key', cn.nspname || '.' || c.relname || '.' || con.conname, t.relname, a.attname,
       pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class t ON t.oid = con.confrelid
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(con.confkey)
 WHERE con.contype = 'f' AND con.confrelid = ANY(:roots)
"""

REFERENCING_SQL = """
SELECT cn.nspname, c.relname, con.conname,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       t.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.confdeltype, pg_get_constraintdef(con.oid), tn.nspname
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE con.contype = 'f' AND con.confrelid = ANY(:roots) AND con.conrelid <> con.confrelid
 ORDER BY 1, 2, 3
"""

# tgtype bits (pg_trigger.h): 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE.
TRIGGERS_SQL = """
SELECT n.nspname, t.relname, tg.tgname, tg.tgtype::int, tg.tgenabled <> 'D', pg_get_triggerdef(tg.oid, true)
  FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE tg.tgrelid = ANY(:roots) AND NOT tg.tgisinternal
 ORDER BY 1, 2, 3
"""

RULES_SQL = """
SELECT n.nspname, t.relname, r.rulename, r.ev_type, pg_get_ruledef(r.oid, true)
  FROM pg_rewrite r JOIN pg_class t ON t.oid = r.ev_class JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE r.ev_class = ANY(:roots) AND r.rulename <> '_RETURN'
"""

RLS_SQL = """
SELECT t.relname FROM pg_class t
 WHERE t.oid = ANY(:roots) AND t.relrowsecurity
   AND NOT (pg_has_role(t.relowner, 'USAGE') AND NOT t.relforcerowsecurity)
   AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
"""

# Text that can spell a label or name a table: routine bodies, view definitions, trigger
# definitions, policies, check constraints and column defaults, in every schema of the application.
SOURCES_SQL = """
SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       p.prosrc
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname <> ALL(:skip) AND l.lanname IN ('plpgsql', 'sql')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                     AND d.deptype = 'e')
UNION ALL
SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, n.nspname || '.' || c.relname,
       pg_get_viewdef(c.oid, true)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm') AND n.nspname <> ALL(:skip)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.deptype = 'e')
UNION ALL
SELECT 'trigger', n.nspname || '.' || c.relname || '.' || tg.tgname, pg_get_triggerdef(tg.oid, true)
  FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT tg.tgisinternal AND n.nspname <> ALL(:skip)
UNION ALL
SELECT 'policy', n.nspname || '.' || c.relname || '.' || p.polname,
       coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname <> ALL(:skip)
UNION ALL
SELECT 'check constraint', n.nspname || '.' || c.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE con.contype = 'c' AND n.nspname <> ALL(:skip)
UNION ALL
SELECT 'default', n.nspname || '.' || c.relname || '.' || a.attname, pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE n.nspname <> ALL(:skip)
"""

# Dependents of an enum type other than plain table columns (and its own array type): a
# rebuild (DROP TYPE) would fail on them. Mirrors PGEnum's own run-time check.
TYPE_USES_SQL = """
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend d JOIN pg_type t ON t.oid = to_regtype(:t)
 WHERE d.refclassid = 'pg_type'::regclass
   AND (d.refobjid = t.typarray
        OR (d.refobjid = t.oid
            AND NOT (d.classid = 'pg_type'::regclass AND d.objid = t.typarray)
            AND NOT (d.classid = 'pg_class'::regclass AND d.objsubid > 0
                     AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.objid AND c.relkind IN ('r', 'p'))
                     AND NOT EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.adrelid = d.objid
                                       AND ad.adnum = d.objsubid))))
 ORDER BY 1
"""

