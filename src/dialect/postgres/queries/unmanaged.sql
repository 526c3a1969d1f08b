-- Objects the tool does not manage yet. They are listed so that nothing is ignored silently.
WITH managed AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), extension_member AS (
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.deptype = 'e'
)
SELECT kind, schema, name FROM (
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END AS kind,
           m.nspname AS schema, m.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name
    FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
    WHERE p.prokind IN ('a', 'w') AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)

    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type' WHEN 'm' THEN 'multirange type'
                          ELSE 'composite type' END,
           m.nspname, m.nspname || '.' || t.typname
    FROM pg_type t JOIN managed m ON m.oid = t.typnamespace
    WHERE (t.typtype IN ('d', 'r')
           OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
      AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT CASE WHEN c.relkind = 'p' THEN 'partitioned table'
                WHEN c.relkind = 'f' THEN 'foreign table'
                WHEN c.relispartition THEN 'partition'
                ELSE 'inheriting table' END,
           m.nspname, m.nspname || '.' || c.relname
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE (c.relkind IN ('p', 'f') OR c.relispartition
           OR (c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)))
      AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    UNION ALL
    SELECT 'rule', m.nspname, m.nspname || '.' || c.relname || '.' || r.rulename
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN managed m ON m.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN'

    UNION ALL
    SELECT 'collation', m.nspname, m.nspname || '.' || co.collname
    FROM pg_collation co JOIN managed m ON m.oid = co.collnamespace
    UNION ALL
    SELECT 'statistics object', m.nspname, m.nspname || '.' || s.stxname
    FROM pg_statistic_ext s JOIN managed m ON m.oid = s.stxnamespace
) objects
ORDER BY kind, name
