-- Views and materialized views with the relations and columns their query reads, from the dependency
-- records of their rewrite rule, as JSON arrays [schema, relation, column or null], the types it uses
-- (an array type counts as its element type), and their options (check_option, security_barrier,
-- security_invoker; storage parameters of materialized views).
SELECT n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized,
       pg_get_viewdef(c.oid, true) AS definition, COALESCE(c.reloptions, '{}') AS reloptions,
       obj_description(c.oid, 'pg_class') AS comment,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(rn.nspname, rc.relname, a.attname)), '[]')::text
        FROM pg_rewrite r
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                        AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
        JOIN pg_class rc ON rc.oid = d.refobjid
        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
        WHERE r.ev_class = c.oid) AS depends_on,
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(tn.nspname, ty.typname)), '[]')::text
        FROM pg_rewrite r
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                        AND d.refclassid = 'pg_type'::regclass
        JOIN pg_type dt ON dt.oid = d.refobjid
        JOIN pg_type ty ON ty.oid = CASE WHEN dt.typcategory = 'A' AND dt.typelem <> 0 THEN dt.typelem ELSE dt.oid END
        JOIN pg_namespace tn ON tn.oid = ty.typnamespace
        WHERE r.ev_class = c.oid AND tn.nspname NOT IN ('pg_catalog', 'information_schema')) AS types
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
