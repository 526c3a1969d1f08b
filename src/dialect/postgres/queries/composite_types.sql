-- Composite types made with CREATE TYPE … AS (not the row types of tables), with their attributes as
-- a JSON array of [name, type, collation, type schema, type name, collation schema, collation name].
SELECT n.nspname AS schema, t.typname AS name,
       obj_description(t.oid, 'pg_type') AS comment,
       (SELECT COALESCE(json_agg(json_build_array(
                   a.attname, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                        THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                   CASE WHEN et.typtype IN ('e', 'd', 'c', 'r') AND etn.nspname <> 'pg_catalog'
                        THEN etn.nspname END,
                   et.typname,
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation AND cn.nspname <> 'pg_catalog'
                        THEN cn.nspname END,
                   co.collname) ORDER BY a.attnum), '[]')::text
        FROM pg_attribute a
        JOIN pg_type at ON at.oid = a.atttypid
        JOIN pg_type et ON et.oid = CASE WHEN at.typcategory = 'A' AND at.typelem <> 0 THEN at.typelem ELSE at.oid END
        JOIN pg_namespace etn ON etn.oid = et.typnamespace
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
WHERE t.typtype = 'c'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY n.nspname, t.typname
