-- Privileges on schemas, tables (and views, sequences) and functions (and procedures, aggregates), one row per grantee and
-- privilege, from the ACLs (or the object's defaults when it has none). The owner's own privileges are
-- left out. Extension members are left out. Privileges on columns come with the columns query.
WITH managed AS (
    SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), extension_member AS (
    -- Through the reference index: the members of extensions, not a scan of all of pg_depend.
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
), acl AS (
    SELECT 'schema' AS kind, m.nspname AS schema, NULL::name AS name, NULL AS arguments,
           m.nspowner AS owner, m.nspacl IS NULL AS implicit,
           (aclexplode(COALESCE(m.nspacl, acldefault('n'::"char", m.nspowner)))).*
    FROM managed m
    UNION ALL
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, m.nspname, c.relname, NULL,
           c.relowner, c.relacl IS NULL,
           (aclexplode(COALESCE(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)))).*
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      -- Without an ACL a relation has the default one, which grants to its owner only: nothing to list.
      AND c.relacl IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, m.nspname, p.proname,
           pg_get_function_identity_arguments(p.oid), p.proowner, p.proacl IS NULL,
           (aclexplode(COALESCE(p.proacl, acldefault('f'::"char", p.proowner)))).*
    FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p', 'a')
      AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
)
SELECT kind, schema, name::text AS name, arguments,
       CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee)::text END AS grantee,
       privilege_type AS privilege, is_grantable AS grantable, implicit
FROM acl
WHERE grantee <> owner
ORDER BY 1, 2, 3, 4, 5, 6
