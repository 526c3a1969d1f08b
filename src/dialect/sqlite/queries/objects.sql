-- Every object of the main schema except SQLite's own (sqlite_sequence, sqlite_stat1, sqlite_autoindex_*),
-- with what pragma_table_list says of tables: their kind ('table', 'virtual', or 'shadow' for the tables a
-- virtual table keeps its data in) and the WITHOUT ROWID and STRICT options.
SELECT s.type, s.name, s.tbl_name, coalesce(s.sql, '') AS sql, coalesce(l.type, s.type) AS kind,
       coalesce(l.wr, 0) AS without_rowid, coalesce(l.strict, 0) AS strict
FROM main.sqlite_schema AS s
LEFT JOIN pragma_table_list(s.name) AS l ON l.schema = 'main' AND s.type = 'table'
WHERE s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY s.name
