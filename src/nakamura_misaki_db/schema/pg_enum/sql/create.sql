-- PGEnum: create the type if it is missing; an existing enum is left alone. Rendered by pg_enum/statements.py: each @name@ is replaced by a
-- quoted literal or identifier (nakamura_misaki_db.quoting); nothing else is substituted.
DECLARE
    v_schema constant text := @schema@;
    v_name   constant text := @name@;
    v_type   oid;
    v_kind   "char";
    v_array  oid;
BEGIN
@find_type@
    IF v_type IS NULL THEN
        CREATE TYPE @qualified@ AS ENUM (@labels@);
        RETURN;
    END IF;
@not_an_enum@
END
