-- Row-level security policies, with the functions, relations and columns their expressions use (its own
-- table's columns too: PostgreSQL refuses to change the type of a column a policy reads).
SELECT n.nspname AS schema, c.relname AS table_name, p.polname AS name, p.polpermissive AS permissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r.oid)::text END
             FROM unnest(p.polroles) r(oid) ORDER BY 1) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr,
       obj_description(p.oid, 'pg_policy') AS comment,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(fn.nspname, f.proname,
                                 pg_get_function_identity_arguments(f.oid))), '[]')::text
        FROM pg_depend d
        JOIN pg_proc f ON f.oid = d.refobjid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_proc'::regclass
          AND fn.nspname NOT IN ('pg_catalog', 'information_schema')) AS functions,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(rn.nspname, rc.relname)), '[]')::text
        FROM pg_depend d
        JOIN pg_class rc ON rc.oid = d.refobjid
        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid <> p.polrelid) AS relations,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(rn.nspname, rc.relname, a.attname)), '[]')::text
        FROM pg_depend d
        JOIN pg_class rc ON rc.oid = d.refobjid
        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass
          AND d.refobjsubid > 0) AS columns
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, c.relname, p.polname
