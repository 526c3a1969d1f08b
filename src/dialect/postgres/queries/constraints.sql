-- Table constraints (NOT NULL lives on the column). Foreign keys carry their target. Constraints a
-- partition inherits from its parent (and the copies PostgreSQL makes for foreign keys to and from
-- partitioned tables) belong to the parent's constraint and are left out.
SELECT n.nspname AS schema, c.relname AS table_name, con.conname AS name, con.contype::text AS kind,
       pg_get_constraintdef(con.oid) AS definition, con.convalidated AS validated,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord) AS columns,
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord) AS ref_columns,
       COALESCE(ty.types, '[]') AS types,
       ds.description AS comment
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
-- The types a constraint uses, gathered in one grouped pass rather than one subquery per constraint.
LEFT JOIN (SELECT d.objid, json_agg(DISTINCT jsonb_build_array(tn.nspname, t.typname))::text AS types
           FROM pg_depend d
           JOIN pg_type t ON t.oid = d.refobjid
           JOIN pg_namespace tn ON tn.oid = t.typnamespace
           WHERE d.classid = 'pg_constraint'::regclass AND d.refclassid = 'pg_type'::regclass
             AND tn.nspname <> 'pg_catalog' AND tn.nspname <> 'information_schema'
           GROUP BY d.objid) ty ON ty.objid = con.oid
LEFT JOIN pg_description ds ON ds.objoid = con.oid AND ds.classoid = 'pg_constraint'::regclass AND ds.objsubid = 0
WHERE con.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p')
  AND con.conparentid = 0 AND con.conislocal
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, c.relname, con.conname
