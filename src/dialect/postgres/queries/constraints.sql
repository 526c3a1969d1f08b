-- Table constraints (NOT NULL lives on the column). Foreign keys carry their target. Constraints an
-- inheritance child or a partition inherits from its parent (and the copies PostgreSQL makes for foreign keys to and from
-- partitioned tables) belong to the parent's constraint and are left out.
-- The definition of primary keys, unique constraints without INCLUDE columns and foreign keys is built
-- here the way pg_get_constraintdef writes it (`FOREIGN KEY (a) REFERENCES s.t(id) ON DELETE CASCADE`;
-- quote_ident quotes alike, and with search_path set to pg_catalog the target is always qualified):
-- pg_get_constraintdef costs tens of microseconds per constraint in catalog lookups. Checks, exclusion
-- constraints and the rest get pg_get_constraintdef's text.
-- Not sorted here: the reader sorts by name (`name` compares bytewise, as Rust strings do) for less.
SELECT n.nspname AS schema, c.relname AS table_name, con.conname AS name, con.contype::text AS kind,
       -- The built text is NULL for every other constraint, which then takes pg_get_constraintdef's.
       COALESCE(CASE WHEN con.contype = 'f' AND con.confdelsetcols IS NULL THEN
                         'FOREIGN KEY (' || lists.list || ') REFERENCES '
                         || quote_ident(fn.nspname) || '.' || quote_ident(fc.relname) || '(' || lists.ref_list || ')'
                         || CASE con.confmatchtype WHEN 'f' THEN ' MATCH FULL' WHEN 'p' THEN ' MATCH PARTIAL' ELSE '' END
                         || CASE con.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                                 WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT'
                                                 ELSE '' END
                         || CASE con.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                                                 WHEN 'n' THEN ' ON DELETE SET NULL' WHEN 'd' THEN ' ON DELETE SET DEFAULT'
                                                 ELSE '' END
                     WHEN con.contype IN ('p', 'u') AND ix.indnatts = cardinality(con.conkey) THEN
                         CASE con.contype WHEN 'p' THEN 'PRIMARY KEY ' ELSE 'UNIQUE ' END
                         || CASE WHEN con.contype = 'u' AND ix.indnullsnotdistinct THEN 'NULLS NOT DISTINCT ' ELSE '' END
                         || '(' || lists.list || ')' END
                || CASE WHEN con.condeferrable THEN ' DEFERRABLE' ELSE '' END
                || CASE WHEN con.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
                || CASE WHEN NOT con.convalidated THEN ' NOT VALID' ELSE '' END,
                pg_get_constraintdef(con.oid)) AS definition,
       con.convalidated AS validated,
       COALESCE(key.names, '{}') AS columns,
       fn.nspname AS ref_schema, fc.relname AS ref_table,
       COALESCE(key.ref_names, '{}') AS ref_columns,
       COALESCE(ty.types, '[]') AS types,
       ds.description AS comment
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index ix ON ix.indexrelid = con.conindid AND con.contype IN ('p', 'u')
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
-- The key columns in order. Most keys have one column, found by a plain join; only longer keys take a
-- subquery each (one per constraint cost more than the rest of the query).
LEFT JOIN pg_attribute a1 ON a1.attrelid = con.conrelid AND a1.attnum = con.conkey[1]
LEFT JOIN pg_attribute fa1 ON fa1.attrelid = con.confrelid AND fa1.attnum = con.confkey[1]
CROSS JOIN LATERAL (
    SELECT CASE WHEN cardinality(con.conkey) = 1 THEN array_remove(ARRAY[a1.attname::text], NULL)
                ELSE ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
                           ORDER BY k.ord) END AS names,
           CASE WHEN con.contype <> 'f' THEN NULL
                WHEN cardinality(con.confkey) = 1 THEN array_remove(ARRAY[fa1.attname::text], NULL)
                ELSE ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
                           ORDER BY k.ord) END AS ref_names
) key
-- The same names quoted as the definition shows them.
CROSS JOIN LATERAL (
    SELECT CASE WHEN cardinality(key.names) = 1 THEN quote_ident(key.names[1])
                ELSE (SELECT string_agg(quote_ident(n), ', ' ORDER BY o) FROM unnest(key.names) WITH ORDINALITY x(n, o))
           END AS list,
           CASE WHEN cardinality(key.ref_names) = 1 THEN quote_ident(key.ref_names[1])
                ELSE (SELECT string_agg(quote_ident(n), ', ' ORDER BY o) FROM unnest(key.ref_names) WITH ORDINALITY x(n, o))
           END AS ref_list
) lists
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
  -- A check an inheritance child repeats from its parent is the parent's (merged into one).
  AND (con.coninhcount = 0 OR c.relispartition)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
