-- Re-create each CHECK constraint whose stored form PostgreSQL deparses
-- as = ANY ((ARRAY[...])::text[]) from its own definition, once: the
-- result is the form a dump and restore gives, and stays so (see NOTES.md).
DO $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT c.conname, c.conrelid::regclass AS tbl, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'c' AND n.nspname IN ('public', 'mlflow_auth')
          AND pg_get_constraintdef(c.oid) LIKE '%= ANY ((ARRAY[%'
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s',
                       r.tbl, r.conname, r.conname, r.def);
    END LOOP;
END $$;
