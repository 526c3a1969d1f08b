-- Every object of the main schema except SQLite's own (sqlite_sequence, sqlite_stat1, sqlite_autoindex_*).
SELECT type, name, tbl_name, coalesce(sql, '') AS sql
FROM main.sqlite_schema
WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name
