    IF v_kind <> 'e' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'wrong_object_type',
            MESSAGE = format('PGEnum %I.%I: a type of that name exists but is not an enum '
                             '(typtype %s); rename or drop it first', v_schema, v_name, v_kind);
    END IF;
