-- Triggers defined by users (not the internal ones behind foreign keys, nor the clones a partition
-- inherits from its parent), as pg_get_triggerdef renders them, with the function they call, the
-- functions their WHEN condition calls and the columns they name (UPDATE OF, WHEN).
SELECT n.nspname AS schema, c.relname AS table_name, t.tgname AS name,
       pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled,
       obj_description(t.oid, 'pg_trigger') AS comment,
       fn.nspname AS function_schema, f.proname AS function_name,
       pg_get_function_identity_arguments(f.oid) AS function_arguments,
       ARRAY(SELECT DISTINCT a.attname::text
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid
               AND d.refclassid = 'pg_class'::regclass AND d.refobjid = t.tgrelid AND d.refobjsubid > 0
             ORDER BY 1) AS columns,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(wn.nspname, w.proname,
                                 pg_get_function_identity_arguments(w.oid))), '[]')::text
        FROM pg_depend d
        JOIN pg_proc w ON w.oid = d.refobjid
        JOIN pg_namespace wn ON wn.oid = w.pronamespace
        WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_proc'::regclass
          AND d.refobjid <> t.tgfoid AND wn.nspname NOT IN ('pg_catalog', 'information_schema')) AS when_functions
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc f ON f.oid = t.tgfoid
JOIN pg_namespace fn ON fn.oid = f.pronamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname, t.tgname
