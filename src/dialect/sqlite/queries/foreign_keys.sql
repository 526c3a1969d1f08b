-- Foreign keys, one row per column pair; "to" is NULL when the parent's primary key is implied.
SELECT s.name AS table_name, f.id, f."table" AS ref_table, f."from" AS column_name, f."to" AS ref_column,
       f.on_update, f.on_delete
FROM main.sqlite_schema AS s, pragma_foreign_key_list(s.name, 'main') AS f
WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY s.name, f.id, f.seq
