-- Functions and procedures (not aggregates or window functions), as pg_get_functiondef renders them,
-- with the types, relations and functions they depend on. Extension members are left out. An array type
-- (`t[]` as an argument or result) counts as its element type: that is the object a plan creates or drops.
-- `created` orders functions by creation (OIDs are handed out in increasing order): a body in a string
-- calls only functions that existed when it was created and checked.
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       p.oid::int8 AS created, p.oid::regprocedure::text AS call_signature,
       p.prokind::text AS kind, pg_get_functiondef(p.oid) AS definition,
       pg_get_function_arguments(p.oid) AS signature,
       COALESCE(pg_get_function_result(p.oid), '') AS returns,
       obj_description(p.oid, 'pg_proc') AS comment,
       l.lanname AS language, CASE WHEN p.prosqlbody IS NULL THEN p.prosrc END AS source,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(tn.nspname, ty.typname)), '[]')::text
        FROM pg_depend d
        JOIN pg_type dt ON dt.oid = d.refobjid
        JOIN pg_type ty ON ty.oid = CASE WHEN dt.typcategory = 'A' AND dt.typelem <> 0 THEN dt.typelem ELSE dt.oid END
        JOIN pg_namespace tn ON tn.oid = ty.typnamespace
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_type'::regclass
          AND tn.nspname NOT IN ('pg_catalog', 'information_schema')) AS types,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(rn.nspname, rc.relname, a.attname)), '[]')::text
        FROM pg_depend d
        JOIN pg_class rc ON rc.oid = d.refobjid
        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass
          AND rn.nspname NOT IN ('pg_catalog', 'information_schema')) AS relations,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(fn.nspname, f.proname,
                                 pg_get_function_identity_arguments(f.oid))), '[]')::text
        FROM pg_depend d
        JOIN pg_proc f ON f.oid = d.refobjid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_proc'::regclass
          AND f.oid <> p.oid AND fn.nspname NOT IN ('pg_catalog', 'information_schema')) AS functions
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prokind IN ('f', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  -- Extension members are never managed; constructors of range and multirange types (deptype 'i')
  -- belong to their type.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, 3
