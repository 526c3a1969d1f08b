-- Range types. The operator class and collation are given only when they are not the subtype's
-- defaults; the multirange type PostgreSQL creates alongside belongs to the range type.
SELECT n.nspname AS schema, t.typname AS name,
       format_type(r.rngsubtype, NULL) AS subtype,
       CASE WHEN NOT opc.opcdefault THEN quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END AS subtype_opclass,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation AND cn.nspname <> 'pg_catalog'
            THEN cn.nspname END AS collation_schema,
       co.collname AS collation_name,
       CASE WHEN r.rngsubdiff <> 0 THEN quote_ident(pn.nspname) || '.' || quote_ident(p.proname) END AS subtype_diff,
       CASE WHEN et.typtype IN ('e', 'd', 'c', 'r') AND etn.nspname <> 'pg_catalog'
            THEN etn.nspname END AS type_schema,
       et.typname AS type_name,
       obj_description(t.oid, 'pg_type') AS comment,
       -- The functions it needs: its subtype_diff, its canonical function.
       (SELECT COALESCE(json_agg(DISTINCT jsonb_build_array(fn.nspname, f.proname,
                                                            pg_get_function_identity_arguments(f.oid))), '[]')::text
        FROM pg_depend d
        JOIN pg_proc f ON f.oid = d.refobjid
        JOIN pg_namespace fn ON fn.oid = f.pronamespace
        WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_proc'::regclass
          AND d.deptype = 'n' AND fn.nspname NOT IN ('pg_catalog', 'information_schema')) AS functions
FROM pg_range r
JOIN pg_type t ON t.oid = r.rngtypid
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_type st ON st.oid = r.rngsubtype
JOIN pg_type et ON et.oid = CASE WHEN st.typcategory = 'A' AND st.typelem <> 0 THEN st.typelem ELSE st.oid END
JOIN pg_namespace etn ON etn.oid = et.typnamespace
JOIN pg_opclass opc ON opc.oid = r.rngsubopc
JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
LEFT JOIN pg_collation co ON co.oid = r.rngcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_proc p ON p.oid = r.rngsubdiff
LEFT JOIN pg_namespace pn ON pn.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
