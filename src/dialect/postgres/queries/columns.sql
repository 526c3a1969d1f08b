-- Columns of tables, views and materialized views, with what their type and default depend on.
SELECT n.nspname AS schema, c.relname AS table_name, c.relkind::text AS relkind, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       -- A default cannot read a column, so it is deparsed without the table as context: with it,
       -- pg_get_expr opens every table (a relation cache entry each, 40% of this query's time).
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) END AS default_expr,
       CASE WHEN a.attgenerated = 's' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated_expr,
       a.attidentity::text AS identity,
       CASE WHEN a.attidentity <> '' THEN (
           -- The options of the identity's sequence that differ from the defaults for its type.
           SELECT NULLIF(concat_ws(' ',
               CASE WHEN s.seqincrement <> 1 THEN 'INCREMENT BY ' || s.seqincrement END,
               CASE WHEN s.seqmin <> CASE WHEN s.seqincrement > 0 THEN 1 ELSE l.lo END THEN 'MINVALUE ' || s.seqmin END,
               CASE WHEN s.seqmax <> CASE WHEN s.seqincrement > 0 THEN l.hi ELSE -1 END THEN 'MAXVALUE ' || s.seqmax END,
               CASE WHEN s.seqstart <> CASE WHEN s.seqincrement > 0 THEN s.seqmin ELSE s.seqmax END
                    THEN 'START WITH ' || s.seqstart END,
               CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END,
               CASE WHEN s.seqcycle THEN 'CYCLE' END), '')
           FROM pg_depend d
           JOIN pg_sequence s ON s.seqrelid = d.objid
           CROSS JOIN LATERAL (SELECT CASE s.seqtypid WHEN 'int2'::regtype THEN -32768::numeric
                                                     WHEN 'int4'::regtype THEN -2147483648::numeric
                                                     ELSE -9223372036854775808::numeric END AS lo,
                                      CASE s.seqtypid WHEN 'int2'::regtype THEN 32767::numeric
                                                     WHEN 'int4'::regtype THEN 2147483647::numeric
                                                     ELSE 9223372036854775807::numeric END AS hi) l
           WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
             AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
       ) END AS identity_options,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,
       ds.description AS comment,
       CASE WHEN et.typtype IN ('e', 'd', 'c', 'r') AND etn.nspname <> 'pg_catalog'
            THEN etn.nspname END AS type_schema,
       CASE WHEN et.typtype IN ('e', 'd', 'c', 'r') AND etn.nspname <> 'pg_catalog'
            THEN et.typname END AS type_name,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation AND cn.nspname <> 'pg_catalog'
            THEN cn.nspname END AS collation_schema,
       co.collname AS collation_name,
       CASE WHEN ad.oid IS NULL THEN '[]' ELSE COALESCE(sd.sequences, '[]') END AS sequences
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
-- The sequences a default uses, gathered in one grouped pass rather than one subquery per default.
LEFT JOIN (SELECT d.objid,
                  json_agg(json_build_array(sn.nspname, sc.relname) ORDER BY sn.nspname, sc.relname)::text AS sequences
           FROM pg_depend d
           JOIN pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
           JOIN pg_namespace sn ON sn.oid = sc.relnamespace
           WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
           GROUP BY d.objid) sd ON sd.objid = ad.oid
LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
-- Grouped by relation in column order: the reader finds each row's table by name, so sorting by
-- names here would only cost time.
ORDER BY a.attrelid, a.attnum
