-- Enum types in schemas matching the LIKE pattern :schema; types owned by extensions are left out.
SELECT n.nspname AS schema_name,
       t.typname AS type_name,
       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
              WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname LIKE :schema
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e')
 ORDER BY n.nspname, t.typname
