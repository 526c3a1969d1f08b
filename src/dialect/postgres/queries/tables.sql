-- Ordinary and partitioned tables, partitions with their parent and bound, the parents of children of
-- plain table inheritance (INHERITS) in their order, the replica identity, and on partitions the constraints that
-- copy their parent's (which constraints.sql leaves out): [name, parent's constraint name, validated].
-- Not sorted here: the reader sorts by name (`name` compares bytewise, as Rust strings do) for less.
SELECT n.nspname AS schema, c.relname AS name, ds.description AS comment,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       pn.nspname AS parent_schema, pc.relname AS parent_name,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       COALESCE(c.reloptions, '{}') AS reloptions,
       c.relpersistence = 'u' AS unlogged,
       COALESCE(inh.parents, '[]') AS inherits,
       c.relreplident::text AS replica_identity,
       -- The index behind REPLICA IDENTITY USING INDEX; none when it was dropped (which acts as NOTHING).
       CASE WHEN c.relreplident = 'i' THEN (SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                                            WHERE x.indrelid = c.oid AND x.indisreplident) END AS replica_index,
       COALESCE(cp.copies, '[]') AS copies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
-- The parents of inheritance children, gathered in one grouped pass (partitions name theirs above).
LEFT JOIN (SELECT ih.inhrelid,
                  json_agg(json_build_array(ipn.nspname, ipc.relname) ORDER BY ih.inhseqno)::text AS parents
           FROM pg_inherits ih
           JOIN pg_class ipc ON ipc.oid = ih.inhparent
           JOIN pg_namespace ipn ON ipn.oid = ipc.relnamespace
           JOIN pg_class ic ON ic.oid = ih.inhrelid AND NOT ic.relispartition
           GROUP BY ih.inhrelid) inh ON inh.inhrelid = c.oid
-- A check copy has its parent's name and no link to it; the others link to the constraint they copy (the copies
-- a foreign key to a partitioned table gets for its partitions link to one of the same table and are not these).
LEFT JOIN (SELECT k.conrelid,
                  json_agg(json_build_array(k.conname, COALESCE(pk.conname, k.conname), k.convalidated)
                           ORDER BY k.conname COLLATE "C")::text AS copies
           FROM pg_constraint k
           JOIN pg_class kc ON kc.oid = k.conrelid AND kc.relispartition
           JOIN pg_inherits ki ON ki.inhrelid = k.conrelid
           LEFT JOIN pg_constraint pk ON pk.oid = k.conparentid
           WHERE k.contype IN ('p', 'u', 'c', 'f', 'x')
             AND CASE WHEN k.contype = 'c' THEN NOT k.conislocal ELSE pk.conrelid = ki.inhparent END
           GROUP BY k.conrelid) cp ON cp.conrelid = c.oid
LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
  AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
