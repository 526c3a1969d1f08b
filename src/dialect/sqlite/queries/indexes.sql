-- Indexes with their key columns: user indexes (origin 'c'), those behind UNIQUE constraints ('u') and
-- behind a primary key that is not the rowid ('pk'). Expression keys have cid -2 and no name. Each key's
-- collation and order are what the index compares with, whether written on the key or inherited.
SELECT s.name AS table_name, l.name AS index_name, l."unique" AS is_unique, l.origin, x.cid,
       x.name AS column_name, x.coll AS collation, x."desc" AS descending
FROM main.sqlite_schema AS s, pragma_index_list(s.name, 'main') AS l, pragma_index_xinfo(l.name, 'main') AS x
WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND x.key = 1
ORDER BY s.name, l.name, x.seqno
