-- Looks the type up by schema + name (not to_regtype, which also resolves
-- search_path and would accept a same-named table row type).
    SELECT t.oid, t.typtype, t.typarray INTO v_type, v_kind, v_array
      FROM pg_catalog.pg_type t
      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = v_schema AND t.typname = v_name;
