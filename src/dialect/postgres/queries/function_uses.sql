-- Which column defaults and generated expressions, table constraints, indexes and views call which
-- user-defined functions: one row per use, so that each can be ordered after the function it calls. The
-- expressions of a constraint's index (an exclusion constraint's) count for the constraint. Also the
-- columns each stored generated column reads (kind `generated`, in `column_read`): PostgreSQL refuses to
-- change their type while it exists.
WITH uses AS (
    SELECT d.classid, d.objid, d.refobjid AS function_oid
    FROM pg_depend d
    WHERE d.refclassid = 'pg_proc'::regclass AND d.deptype = 'n'
      AND d.classid IN ('pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_class'::regclass,
                        'pg_rewrite'::regclass)
)
SELECT objects.kind, n.nspname AS schema, objects.relation, objects.member,
       fn.nspname AS function_schema, f.proname AS function_name,
       pg_get_function_identity_arguments(f.oid) AS function_arguments, NULL::text AS column_read
FROM (
    SELECT 'column' AS kind, c.relnamespace, c.relname AS relation, a.attname::text AS member, u.function_oid
    FROM uses u
    JOIN pg_attrdef ad ON u.classid = 'pg_attrdef'::regclass AND ad.oid = u.objid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class c ON c.oid = ad.adrelid
    UNION ALL
    SELECT 'constraint', c.relnamespace, c.relname, con.conname::text, u.function_oid
    FROM uses u
    JOIN pg_constraint con ON u.classid = 'pg_constraint'::regclass AND con.oid = u.objid
    JOIN pg_class c ON c.oid = con.conrelid
    UNION ALL
    SELECT CASE WHEN con.oid IS NULL THEN 'index' ELSE 'constraint' END, ic.relnamespace,
           COALESCE(tc.relname, ic.relname), con.conname::text, u.function_oid
    FROM uses u
    JOIN pg_class ic ON u.classid = 'pg_class'::regclass AND ic.oid = u.objid AND ic.relkind IN ('i', 'I')
    LEFT JOIN pg_constraint con ON con.conindid = ic.oid AND con.contype IN ('p', 'u', 'x')
    LEFT JOIN pg_class tc ON tc.oid = con.conrelid
    UNION ALL
    SELECT 'view', c.relnamespace, c.relname, NULL, u.function_oid
    FROM uses u
    JOIN pg_rewrite r ON u.classid = 'pg_rewrite'::regclass AND r.oid = u.objid
    JOIN pg_class c ON c.oid = r.ev_class
) objects(kind, relnamespace, relation, member, function_oid)
JOIN pg_namespace n ON n.oid = objects.relnamespace
JOIN pg_proc f ON f.oid = objects.function_oid
JOIN pg_namespace fn ON fn.oid = f.pronamespace
WHERE fn.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
UNION ALL
SELECT 'generated', n.nspname, c.relname, a.attname::text, NULL, NULL, NULL, r.attname::text
FROM pg_attrdef ad
JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum AND a.attgenerated = 's'
JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.deptype = 'n'
                AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ad.adrelid AND d.refobjsubid > 0
JOIN pg_attribute r ON r.attrelid = ad.adrelid AND r.attnum = d.refobjsubid
JOIN pg_class c ON c.oid = ad.adrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
