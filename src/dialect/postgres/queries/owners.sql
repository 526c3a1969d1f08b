-- The owner of every object whose ownership can be changed on its own: schemas, tables, views,
-- materialized views, foreign tables, free-standing sequences (not identity or serial ones, which follow
-- their table), functions, procedures, aggregates, and enum, composite, range and domain types. Extension members are
-- left out. Also the session's role, which owns what a migration creates.
WITH managed AS (
    SELECT n.oid, n.nspname, n.nspowner FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), extension_member AS (
    -- Through the reference index: the members of extensions, not a scan of all of pg_depend.
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT 'session' AS kind, NULL::text AS schema, NULL::text AS name, NULL::text AS arguments,
       current_user::text AS owner
UNION ALL
SELECT 'schema', m.nspname::text, NULL, NULL, pg_get_userbyid(m.nspowner)::text
FROM managed m
WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_namespace'::regclass AND e.objid = m.oid)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                      ELSE 'table' END,
       m.nspname::text, c.relname::text, NULL, pg_get_userbyid(c.relowner)::text
FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
  -- Sequences owned by a column, looked up from the sequences (a probe each) rather than by hashing
  -- every automatic dependency between relations.
  AND c.oid NOT IN (SELECT d.objid FROM pg_sequence s
                    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                    WHERE d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, m.nspname::text, p.proname::text,
       pg_get_function_identity_arguments(p.oid), pg_get_userbyid(p.proowner)::text
FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p', 'a')
  AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, m.nspname::text, t.typname::text, NULL,
       pg_get_userbyid(t.typowner)::text
FROM pg_type t JOIN managed m ON m.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
ORDER BY 1, 2, 3, 4
