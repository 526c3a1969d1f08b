-- Domains, with the user-defined base type and collation they need and their CHECK constraints as a
-- JSON array of [name, definition, validated], by name. Domains that belong to extensions are left out.
SELECT n.nspname AS schema, t.typname AS name,
       format_type(t.typbasetype, t.typtypmod) AS data_type,
       pg_get_expr(t.typdefaultbin, 0) AS default_expr,
       t.typnotnull AS not_null,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,
       CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation AND cn.nspname <> 'pg_catalog'
            THEN cn.nspname END AS collation_schema,
       co.collname AS collation_name,
       CASE WHEN et.typtype IN ('e', 'd', 'c', 'r') AND etn.nspname <> 'pg_catalog'
            THEN etn.nspname END AS type_schema,
       et.typname AS type_name,
       (SELECT COALESCE(json_agg(json_build_array(con.conname, pg_get_constraintdef(con.oid), con.convalidated)
                                 ORDER BY con.conname), '[]')::text
        FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c') AS constraints,
       -- Functions its CHECK constraints and its default call (the default's are recorded on the type).
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(fn.nspname, f.proname,
                                                            pg_get_function_identity_arguments(f.oid))), '[]')::text
        FROM pg_depend d
        JOIN pg_proc f ON f.oid = d.refobjid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE d.refclassid = 'pg_proc'::regclass AND d.deptype = 'n'
          AND ((d.classid = 'pg_type'::regclass AND d.objid = t.oid)
               OR (d.classid = 'pg_constraint'::regclass
                   AND d.objid IN (SELECT con.oid FROM pg_constraint con WHERE con.contypid = t.oid)))
          AND fn.nspname NOT IN ('pg_catalog', 'information_schema')) AS functions,
       obj_description(t.oid, 'pg_type') AS comment
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type bt ON bt.oid = t.typbasetype
JOIN pg_type et ON et.oid = CASE WHEN bt.typcategory = 'A' AND bt.typelem <> 0 THEN bt.typelem ELSE bt.oid END
JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'd'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
