-- ALTER DEFAULT PRIVILEGES entries, one row per grantee and privilege. An entry for a schema adds to
-- the defaults; an entry for the whole database replaces the built-in defaults (acldefault), so it is
-- read as its differences from them: privileges granted beyond them, and built-in ones taken away.
WITH entry AS (
    SELECT d.defaclrole AS role, n.nspname AS schema, d.defaclobjtype AS kind, d.defaclacl AS acl,
           acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END, d.defaclrole) AS builtin
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
    WHERE d.defaclnamespace = 0
       OR (n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
           AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[])))
), granted AS (
    SELECT e.role, e.schema, e.kind, a.grantee, a.privilege_type, a.is_grantable, false AS revoked
    FROM entry e, aclexplode(e.acl) a
    WHERE e.schema IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM aclexplode(e.builtin) b
                      WHERE b.grantee = a.grantee AND b.privilege_type = a.privilege_type
                        AND b.is_grantable = a.is_grantable)
), revoked AS (
    SELECT e.role, e.schema, e.kind, b.grantee, b.privilege_type, false AS is_grantable, true AS revoked
    FROM entry e, aclexplode(e.builtin) b
    WHERE e.schema IS NULL
      AND NOT EXISTS (SELECT 1 FROM aclexplode(e.acl) a
                      WHERE a.grantee = b.grantee AND a.privilege_type = b.privilege_type)
)
SELECT pg_get_userbyid(role)::text AS role, schema::text AS schema, kind::text AS kind,
       CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee)::text END AS grantee,
       privilege_type AS privilege, is_grantable AS grantable, revoked
FROM (SELECT * FROM granted UNION ALL SELECT * FROM revoked) rows
ORDER BY 1, 2 NULLS FIRST, 3, 4, 5
