-- PGEnum: bring an existing type to the target labels (renames, merges, in-place adds, guarded rebuild). Rendered by pg_enum/statements.py: each @name@ is replaced by a
-- quoted literal or identifier (nakamura_misaki_db.quoting); nothing else is substituted.
DECLARE
    v_schema   constant text   := @schema@;
    v_name     constant text   := @name@;
    v_target   constant text[] := ARRAY[@target@]::text[];
    v_from     constant text[] := ARRAY[@rename_from@]::text[];
    v_to       constant text[] := ARRAY[@rename_to@]::text[];
    v_type     oid;
    v_kind     "char";
    v_array    oid;
    v_current  text[];
    v_removed  text[];
    v_reorder  boolean;
    v_blockers text[];
    v_removed_in text[] := ARRAY[]::text[];
    v_rows_in  text[] := ARRAY[]::text[];
    v_used     text[];
    v_merge_from text[] := ARRAY[]::text[];
    v_merge_to   text[] := ARRAY[]::text[];
    v_checked  text[];
    v_any      boolean;
    v_col      record;
    v_tab      record;
    v_tmp      text;
    v_comment  text;
    i          integer;
BEGIN
@find_type@
    -- 1. missing: create it with the target labels, nothing else to do.
    IF v_type IS NULL THEN
        CREATE TYPE @qualified@ AS ENUM (@labels@);
        RETURN;
    END IF;
@not_an_enum@

    -- 2. declared renames (catalog only). Skipped when already done. When the new
    --    label exists too, it is a merge: the rebuild below writes the new label into
    --    the rows holding the old one (and the old one is removed).
    FOR i IN 1 .. cardinality(v_from) LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
                    WHERE e.enumtypid = v_type AND e.enumlabel = v_from[i]) THEN
            IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e
                            WHERE e.enumtypid = v_type AND e.enumlabel = v_to[i]) THEN
                EXECUTE format('ALTER TYPE %I.%I RENAME VALUE %L TO %L',
                               v_schema, v_name, v_from[i], v_to[i]);
            ELSIF v_to[i] = ANY (v_target) AND NOT (v_from[i] = ANY (v_target)) THEN
                v_merge_from := v_merge_from || v_from[i];
                v_merge_to := v_merge_to || v_to[i];
            END IF;
        END IF;
    END LOOP;

    v_current := ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                        WHERE e.enumtypid = v_type ORDER BY e.enumsortorder);
    v_removed := ARRAY(SELECT c FROM unnest(v_current) WITH ORDINALITY AS u(c, o)
                        WHERE NOT (c = ANY (v_target)) ORDER BY o);
    v_reorder := ARRAY(SELECT c FROM unnest(v_current) WITH ORDINALITY AS u(c, o)
                        WHERE c = ANY (v_target) ORDER BY o)
                 IS DISTINCT FROM
                 ARRAY(SELECT c FROM unnest(v_target) WITH ORDINALITY AS u(c, o)
                        WHERE c = ANY (v_current) ORDER BY o);

    -- 3. labels removed or reordered: PostgreSQL cannot do that in place, so
    --    rebuild the type and rewrite the table columns that use it.
    IF cardinality(v_removed) > 0 OR v_reorder THEN
        -- Anything but a plain table column (and the type's own array type)
        -- would need hand-written handling: refuse rather than guess.
        v_blockers := ARRAY(
            SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
              FROM pg_catalog.pg_depend d
             WHERE d.refclassid = 'pg_catalog.pg_type'::regclass
               AND (d.refobjid = v_array
                    OR (d.refobjid = v_type
                        AND NOT (d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = v_array)
                        AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objsubid > 0
                                 AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                              WHERE c.oid = d.objid AND c.relkind IN ('r', 'p')))))
             ORDER BY 1);
        v_blockers := v_blockers || ARRAY(
            SELECT format('default of column %I.%I.%I', n.nspname, c.relname, a.attname)
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped AND a.atthasdef
             ORDER BY 1);
        -- PostgreSQL cannot change the type of a partition key column.
        v_blockers := v_blockers || ARRAY(
            SELECT format('partition key of table %I.%I', n.nspname, c.relname)
              FROM pg_catalog.pg_partitioned_table pt
              JOIN pg_catalog.pg_class c ON c.oid = pt.partrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = pt.partrelid AND a.atttypid = v_type
                              AND a.attnum = ANY (pt.partattrs::int2[]))
             ORDER BY 1);
        IF cardinality(v_blockers) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'dependent_objects_still_exist',
                MESSAGE = format(
                    'PGEnum %I.%I: changing labels (%s) to (%s) needs a rebuild of the type, '
                    'but it is used by: %s. A rebuild only handles plain table columns without '
                    'a default; drop or change those objects first (e.g. ALTER COLUMN ... '
                    'DROP DEFAULT), rerun, then restore them',
                    v_schema, v_name, array_to_string(v_current, ', '),
                    array_to_string(v_target, ', '), array_to_string(v_blockers, '; '));
        END IF;

        -- Hold off writers between the row checks and the rewrite.
        FOR v_tab IN
            SELECT DISTINCT n.nspname, c.relname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind IN ('r', 'p')
             ORDER BY 1, 2
        LOOP
            EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', v_tab.nspname, v_tab.relname);
        END LOOP;

        FOR v_col IN
            SELECT n.nspname, c.relname, a.attname
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND c.relkind = 'r'
             ORDER BY 1, 2, 3
        LOOP
            -- merged labels are not lost: the rebuild maps them
            v_checked := ARRAY(SELECT c FROM unnest(v_removed) AS u(c) WHERE NOT (c = ANY (v_merge_from)));
            IF cardinality(v_checked) > 0 THEN
                EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM ONLY %I.%I '
                               'WHERE %I::text = ANY ($1) ORDER BY 1)::text[]',
                               v_col.attname, v_col.nspname, v_col.relname, v_col.attname)
                   INTO v_used USING v_checked;
                IF cardinality(v_used) > 0 THEN
                    v_removed_in := v_removed_in || format('%I.%I.%I (%s)',
                        v_col.nspname, v_col.relname, v_col.attname,
                        (SELECT string_agg(quote_literal(l), ', ') FROM unnest(v_used) AS l));
                END IF;
            END IF;
            IF v_reorder THEN
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %I.%I WHERE %I IS NOT NULL)',
                               v_col.nspname, v_col.relname, v_col.attname)
                   INTO v_any;
                IF v_any THEN
                    v_rows_in := v_rows_in || format('%I.%I.%I',
                        v_col.nspname, v_col.relname, v_col.attname);
                END IF;
            END IF;
        END LOOP;

        -- NM001: a refusal (exit 3 from every command), not a failure.
        IF cardinality(v_removed_in) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'NM001',
                MESSAGE = format(
                    'refused: PGEnum %I.%I: cannot remove label(s) %s: rows still use them in %s. '
                    'Merge each removed label into a kept one with renames={old: new}, or '
                    'migrate those rows to another label first, then rerun. Nothing of this '
                    'revision was changed',
                    v_schema, v_name,
                    (SELECT string_agg(quote_literal(l), ', ') FROM unnest(v_checked) AS l),
                    array_to_string(v_removed_in, ', '));
        END IF;
        IF cardinality(v_rows_in) > 0 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'NM001',
                MESSAGE = format(
                    'refused: PGEnum %I.%I: cannot reorder labels (%s) to (%s) while rows use the type '
                    'in %s: a rebuild would change how stored values sort and compare. Keep '
                    'the existing order (new labels may go anywhere), or migrate or empty '
                    'those rows first, then rerun. Nothing of this revision was changed',
                    v_schema, v_name, array_to_string(v_current, ', '),
                    array_to_string(v_target, ', '), array_to_string(v_rows_in, ', '));
        END IF;

        v_tmp := v_name || '__new';
        IF octet_length(v_tmp) > 63 THEN
            v_tmp := 'pgenum_' || v_type::text || '__new';
        END IF;
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_type t
                     JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                    WHERE n.nspname = v_schema AND t.typname = v_tmp) THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = format('PGEnum %I.%I: cannot rebuild, the scratch type %I.%I exists; '
                                 'drop it and rerun', v_schema, v_name, v_schema, v_tmp);
        END IF;
        EXECUTE format('CREATE TYPE %I.%I AS ENUM (%s)', v_schema, v_tmp,
            coalesce((SELECT string_agg(quote_literal(l), ', ' ORDER BY o)
                        FROM unnest(v_target) WITH ORDINALITY AS u(l, o)), ''));
        -- One ALTER TABLE per table (one rewrite); inherited columns follow their parent.
        FOR v_tab IN
            SELECT n.nspname, c.relname,
                   string_agg(CASE WHEN cardinality(v_merge_from) = 0
                                   THEN format('ALTER COLUMN %I TYPE %I.%I USING %I::text::%I.%I',
                                               a.attname, v_schema, v_tmp, a.attname, v_schema, v_tmp)
                                   -- merged labels: the kept label, looked up by the old one
                                   ELSE format('ALTER COLUMN %I TYPE %I.%I USING coalesce((%L::text[])'
                                               '[array_position(%L::text[], %I::text)], %I::text)::%I.%I',
                                               a.attname, v_schema, v_tmp, v_merge_to, v_merge_from,
                                               a.attname, a.attname, v_schema, v_tmp) END,
                              ', ' ORDER BY a.attnum) AS alters
              FROM pg_catalog.pg_attribute a
              JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE a.atttypid = v_type AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attinhcount = 0 AND c.relkind IN ('r', 'p')
             GROUP BY n.nspname, c.relname
             ORDER BY 1, 2
        LOOP
            EXECUTE format('ALTER TABLE %I.%I %s', v_tab.nspname, v_tab.relname, v_tab.alters);
        END LOOP;
        v_comment := pg_catalog.obj_description(v_type, 'pg_type');
        EXECUTE format('DROP TYPE %I.%I', v_schema, v_name);
        EXECUTE format('ALTER TYPE %I.%I RENAME TO %I', v_schema, v_tmp, v_name);
        IF v_comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON TYPE %I.%I IS %L', v_schema, v_name, v_comment);
        END IF;
        RETURN;
    END IF;

    -- 4. add missing labels in place, in target order (no table rewrite).
    FOR i IN 1 .. cardinality(v_target) LOOP
        IF NOT (v_target[i] = ANY (v_current)) THEN
            IF i > 1 THEN
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L AFTER %L',
                               v_schema, v_name, v_target[i], v_target[i - 1]);
            ELSIF cardinality(v_current) > 0 THEN
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L BEFORE %L',
                               v_schema, v_name, v_target[i], v_current[1]);
            ELSE
                EXECUTE format('ALTER TYPE %I.%I ADD VALUE %L', v_schema, v_name, v_target[i]);
            END IF;
        END IF;
    END LOOP;
END
