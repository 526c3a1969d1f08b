-- Columns of views. SQLite works them out by preparing the view's query, which fails for a view that
-- reads a relation or column that no longer exists; the reader then asks view by view.
SELECT s.name AS view_name, c.name
FROM main.sqlite_schema AS s, pragma_table_xinfo(s.name, 'main') AS c
WHERE s.type = 'view' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY s.name, c.cid
