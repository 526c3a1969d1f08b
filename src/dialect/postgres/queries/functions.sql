-- Functions and procedures, as pg_get_functiondef renders them, and aggregates (not window functions), as
-- CREATE OR REPLACE AGGREGATE built from pg_aggregate the way pg_dump writes it (PostgreSQL has no
-- pg_get_functiondef for them: options at their defaults are left out), with the types, relations and
-- functions they depend on (an aggregate's support functions among them). Extension members are left out.
-- An array type (`t[]` as an argument or result) counts as its element type: that is the object a plan
-- creates or drops. `created` orders functions by creation (OIDs are handed out in increasing order): a
-- body in a string calls only functions that existed when it was created and checked.
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS arguments,
       p.oid::int8 AS created, p.oid::regprocedure::text AS call_signature,
       p.prokind::text AS kind,
       CASE WHEN p.prokind = 'a' THEN
           'CREATE OR REPLACE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)
           || '(' || CASE WHEN p.pronargs = 0 AND ag.aggkind = 'n' THEN '*' ELSE pg_get_function_arguments(p.oid) END
           || ') ('
           || concat_ws(', ',
                  'SFUNC = ' || ag.aggtransfn::regproc,
                  'STYPE = ' || format_type(ag.aggtranstype, NULL),
                  'SSPACE = ' || NULLIF(ag.aggtransspace, 0),
                  'FINALFUNC = ' || NULLIF(ag.aggfinalfn, 0)::regproc,
                  CASE WHEN ag.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
                  'FINALFUNC_MODIFY = ' || CASE WHEN ag.aggfinalmodify <> CASE ag.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
                                                THEN CASE ag.aggfinalmodify WHEN 'r' THEN 'READ_ONLY'
                                                                            WHEN 's' THEN 'SHAREABLE'
                                                                            ELSE 'READ_WRITE' END END,
                  'COMBINEFUNC = ' || NULLIF(ag.aggcombinefn, 0)::regproc,
                  'SERIALFUNC = ' || NULLIF(ag.aggserialfn, 0)::regproc,
                  'DESERIALFUNC = ' || NULLIF(ag.aggdeserialfn, 0)::regproc,
                  'INITCOND = ' || quote_literal(ag.agginitval),
                  'MSFUNC = ' || NULLIF(ag.aggmtransfn, 0)::regproc,
                  'MINVFUNC = ' || NULLIF(ag.aggminvtransfn, 0)::regproc,
                  'MSTYPE = ' || format_type(NULLIF(ag.aggmtranstype, 0), NULL),
                  'MSSPACE = ' || NULLIF(ag.aggmtransspace, 0),
                  'MFINALFUNC = ' || NULLIF(ag.aggmfinalfn, 0)::regproc,
                  CASE WHEN ag.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
                  'MFINALFUNC_MODIFY = ' || CASE WHEN ag.aggmtransfn <> 0 AND ag.aggmfinalmodify <> CASE ag.aggkind WHEN 'n' THEN 'r' ELSE 'w' END
                                                 THEN CASE ag.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY'
                                                                              WHEN 's' THEN 'SHAREABLE'
                                                                              ELSE 'READ_WRITE' END END,
                  'MINITCOND = ' || quote_literal(ag.aggminitval),
                  'SORTOP = OPERATOR(' || quote_ident(son.nspname) || '.' || so.oprname || ')',
                  'PARALLEL = ' || CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' END,
                  CASE WHEN ag.aggkind = 'h' THEN 'HYPOTHETICAL' END)
           || ')'
       ELSE pg_get_functiondef(p.oid) END AS definition,
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
LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
LEFT JOIN pg_operator so ON so.oid = ag.aggsortop
LEFT JOIN pg_namespace son ON son.oid = so.oprnamespace
WHERE p.prokind IN ('f', 'p', 'a')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  -- Extension members are never managed; constructors of range and multirange types (deptype 'i')
  -- belong to their type.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, 3
