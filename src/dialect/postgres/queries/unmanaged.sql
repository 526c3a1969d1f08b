-- Objects the tool does not manage yet. They are listed so that nothing is ignored silently. The reader
-- adds the columns' settings from the columns query and sorts the list.
WITH managed AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), extension_member AS (
    -- Through the reference index: the members of extensions, not a scan of all of pg_depend.
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT kind, schema, name FROM (
    -- Aggregates are managed; window functions can only be written in C.
    SELECT 'window function' AS kind,
           m.nspname AS schema, m.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name
    FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
    WHERE p.prokind = 'w' AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)

    UNION ALL
    -- Domains, composite and range types, partitioned tables, partitions and collations are managed.
    SELECT CASE WHEN c.relkind = 'f' THEN 'foreign table' ELSE 'inheriting table' END,
           m.nspname, m.nspname || '.' || c.relname
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE (c.relkind = 'f'
           OR (c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)))
      AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    UNION ALL
    SELECT 'rule', m.nspname, m.nspname || '.' || c.relname || '.' || r.rulename
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN managed m ON m.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN'

    UNION ALL
    SELECT 'statistics object', m.nspname, m.nspname || '.' || s.stxname
    FROM pg_statistic_ext s JOIN managed m ON m.oid = s.stxnamespace

    UNION ALL
    -- Settings of tables that the model does not hold (the columns query reports those of columns).
    SELECT 'replica identity ' || CASE c.relreplident WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing' ELSE 'index' END,
           m.nspname, m.nspname || '.' || c.relname
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
) objects
