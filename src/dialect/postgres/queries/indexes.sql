-- Indexes that do not belong to a constraint. The definition is what follows USING in
-- pg_get_indexdef. pg_get_indexdef costs tens of microseconds per index (catalog cache misses, a scan
-- of pg_opclass per key column), so the text of an index whose keys are plain columns with their
-- default operator class and collation in default order, without INCLUDE columns, storage or
-- operator class options or NULLS NOT DISTINCT, is built here the way pg_get_indexdef writes it
-- (`btree (a, b) WHERE <pg_get_expr of the predicate>`; quote_ident quotes alike). Any other index
-- (expressions, DESC, ...) gets pg_get_indexdef's text, cut after a prefix rebuilt with the same
-- quoting rules. The indexes PostgreSQL creates on partitions for an index of their partitioned table
-- are attached to it and left out.
-- Not sorted here: the reader sorts by name (`name` compares bytewise, as Rust strings do) for less.
WITH listed AS MATERIALIZED (
    SELECT i.indexrelid, i.indrelid, i.indisunique, i.indnatts, i.indkey, i.indclass, i.indcollation, i.indoption,
           i.indpred,
           i.indexprs IS NULL AND i.indnkeyatts = i.indnatts AND ic.reloptions IS NULL
               AND NOT i.indnullsnotdistinct AS candidate,
           -- Most indexes have one key: it is checked here, by a join (pg_index's vectors count from 0).
           a1.attname IS NOT NULL AND oc1.opcdefault AND oc1.opcintype = a1.atttypid
               AND i.indcollation[0] = a1.attcollation AND i.indoption[0] = 0 AS single_key_plain,
           a1.attname AS single_key,
           n.nspname, ic.relname AS index_name, ic.relam, c.relname AS table_name, c.relkind
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a1 ON i.indnatts = 1 AND a1.attrelid = i.indrelid AND a1.attnum = i.indkey[0]
    LEFT JOIN pg_opclass oc1 ON i.indnatts = 1 AND oc1.oid = i.indclass[0]
    WHERE c.relkind IN ('r', 'm', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_inherits ih WHERE ih.inhrelid = i.indexrelid)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                        AND con.contype IN ('p', 'u', 'x'))
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), plain AS (
    -- The candidates with several keys whose every key is a plain column with the defaults above.
    SELECT l.indexrelid,
           bool_and(a.attname IS NOT NULL AND oc.opcdefault AND oc.opcintype = a.atttypid
                    AND k.coll = a.attcollation AND k.option = 0) AS plain,
           string_agg(quote_ident(a.attname), ', ' ORDER BY k.position) AS keys,
           array_agg(DISTINCT a.attname::text ORDER BY a.attname::text) AS columns
    FROM listed l
    CROSS JOIN LATERAL unnest(l.indkey::int2[], l.indclass::oid[], l.indcollation::oid[], l.indoption::int2[])
        WITH ORDINALITY k(attnum, opclass, coll, option, position)
    -- A lookup per key column (OFFSET 0 keeps it one): cheaper than hashing all of pg_attribute.
    LEFT JOIN LATERAL (SELECT a.attname, a.atttypid, a.attcollation FROM pg_attribute a
                       WHERE a.attrelid = l.indrelid AND a.attnum = k.attnum OFFSET 0) a ON true
    LEFT JOIN pg_opclass oc ON oc.oid = k.opclass
    WHERE l.candidate AND l.indnatts > 1
    GROUP BY l.indexrelid
), with_options AS MATERIALIZED (
    -- Operator class options live on the index's own attributes.
    SELECT ia.attrelid FROM pg_attribute ia
    WHERE ia.attrelid = ANY (ARRAY(SELECT indexrelid FROM listed)) AND ia.attoptions IS NOT NULL
)
SELECT l.nspname AS schema, l.index_name AS name, l.table_name, l.indisunique AS is_unique,
       CASE WHEN b.built THEN quote_ident(am.amname) || ' (' || b.keys || ')'
                              || COALESCE(' WHERE ' || pg_get_expr(l.indpred, l.indrelid), '') END AS definition,
       CASE WHEN NOT b.built THEN pg_get_indexdef(l.indexrelid) END AS full_definition,
       CASE WHEN NOT b.built THEN
           format('CREATE %sINDEX %I ON %s%I.%I USING ',
                  CASE WHEN l.indisunique THEN 'UNIQUE ' ELSE '' END, l.index_name,
                  CASE WHEN l.relkind = 'p' THEN 'ONLY ' ELSE '' END, l.nspname, l.table_name) END AS prefix,
       CASE WHEN b.built AND l.indpred IS NULL THEN b.columns ELSE
           ARRAY(SELECT DISTINCT a.attname::text
                 FROM pg_depend d
                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = l.indexrelid
                   AND d.refclassid = 'pg_class'::regclass AND d.refobjid = l.indrelid AND d.refobjsubid > 0
                 ORDER BY 1) END AS columns,
       ds.description AS comment,
       -- A partitioned table's index: the indexes attached to it down the partition tree, shallowest first.
       CASE WHEN l.relkind = 'p' THEN (
           WITH RECURSIVE tree(idx, parent, depth) AS (
               SELECT ih.inhrelid, ih.inhparent, 1 FROM pg_inherits ih WHERE ih.inhparent = l.indexrelid
               UNION ALL
               SELECT ih.inhrelid, ih.inhparent, t.depth + 1 FROM pg_inherits ih JOIN tree t ON ih.inhparent = t.idx
           )
           SELECT json_agg(json_build_array(cn.nspname, cc.relname, ci.relname, pn.nspname, pi.relname,
                                            cc.relkind = 'r', t.depth,
                                            EXISTS (SELECT 1 FROM pg_constraint k
                                                    WHERE k.conindid = t.idx AND k.conrelid = x.indrelid
                                                      AND k.contype IN ('p', 'u', 'x')))
                           ORDER BY t.depth, cn.nspname COLLATE "C", cc.relname COLLATE "C", ci.relname COLLATE "C")
           FROM tree t
           JOIN pg_class ci ON ci.oid = t.idx
           JOIN pg_index x ON x.indexrelid = t.idx
           JOIN pg_class cc ON cc.oid = x.indrelid
           JOIN pg_namespace cn ON cn.oid = cc.relnamespace
           JOIN pg_class pi ON pi.oid = t.parent
           JOIN pg_namespace pn ON pn.oid = pi.relnamespace)::text END AS partitions
FROM listed l
JOIN pg_am am ON am.oid = l.relam
LEFT JOIN plain p ON p.indexrelid = l.indexrelid
CROSS JOIN LATERAL (
    SELECT COALESCE(CASE WHEN l.indnatts = 1 THEN l.candidate AND l.single_key_plain ELSE p.plain END, false)
               AND l.indexrelid NOT IN (SELECT attrelid FROM with_options) AS built,
           CASE WHEN l.indnatts = 1 THEN quote_ident(l.single_key) ELSE p.keys END AS keys,
           CASE WHEN l.indnatts = 1 THEN ARRAY[l.single_key::text] ELSE p.columns END AS columns) b
LEFT JOIN pg_description ds ON ds.objoid = l.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
