-- Indexes that do not belong to a constraint. The definition is what follows USING in
-- pg_get_indexdef, cut after a prefix rebuilt with the same quoting rules. The indexes PostgreSQL
-- creates on partitions for an index of their partitioned table are attached to it and left out.
SELECT n.nspname AS schema, ic.relname AS name, c.relname AS table_name, i.indisunique AS is_unique,
       pg_get_indexdef(i.indexrelid) AS full_definition,
       format('CREATE %sINDEX %I ON %s%I.%I USING ',
              CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END, ic.relname,
              CASE WHEN c.relkind = 'p' THEN 'ONLY ' ELSE '' END, n.nspname, c.relname) AS prefix,
       ARRAY(SELECT DISTINCT a.attname::text
             FROM pg_depend d
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
               AND d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indrelid AND d.refobjsubid > 0
             ORDER BY 1) AS columns,
       ds.description AS comment
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds ON ds.objoid = i.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE c.relkind IN ('r', 'm', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype IN ('p', 'u', 'x'))
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
ORDER BY n.nspname, ic.relname
