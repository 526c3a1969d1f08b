-- Columns of tables, views and materialized views, with what their type and default depend on, and
-- the two things about columns that other queries would otherwise read from a second scan of
-- pg_attribute: the privileges granted on them (foreign tables' columns are read for these alone) and
-- the settings the tool does not manage. Rows come in no particular order: sorting some 100,000 wide
-- rows here costs more than the reader's putting each relation's columns in `position` order.
SELECT n.nspname AS schema, c.relname AS table_name, c.relkind::text AS relkind, a.attname AS name,
       a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       a.attislocal AS local, a.attinhcount > 0 AS inherited,
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
       CASE WHEN ad.oid IS NULL THEN '[]' ELSE COALESCE(sd.sequences, '[]') END AS sequences,
       -- [grantee, privilege, grantable] for every grantee but the owner.
       CASE WHEN a.attacl IS NOT NULL THEN (
           SELECT COALESCE(json_agg(json_build_array(
                      CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END,
                      x.privilege_type, x.is_grantable)), '[]')::text
           FROM aclexplode(a.attacl) x WHERE x.grantee <> c.relowner) END AS privileges,
       CASE WHEN c.relkind <> 'f'
                 AND (a.attstattarget >= 0 OR a.attstorage <> t.typstorage OR a.attcompression <> ''
                      OR (a.atthasdef AND c.relkind = 'v'))
                 AND NOT EXISTS (SELECT 1 FROM pg_depend e
                                 WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                                   AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e')
            THEN array_remove(ARRAY[
                CASE WHEN a.attstattarget >= 0 THEN 'column statistics target' END,
                CASE WHEN a.attstorage <> t.typstorage THEN 'column storage' END,
                CASE WHEN a.attcompression <> '' THEN 'column compression' END,
                CASE WHEN a.atthasdef AND c.relkind = 'v' THEN 'view column default' END], NULL)
       END AS unmanaged_settings
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
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
