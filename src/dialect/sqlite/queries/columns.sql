-- Columns of tables, hidden (generated) columns included.
SELECT s.name AS table_name, c.name, c.type AS data_type, c."notnull" AS not_null, c.dflt_value AS default_expr,
       c.pk, c.hidden
FROM main.sqlite_schema AS s, pragma_table_xinfo(s.name, 'main') AS c
WHERE s.type = 'table' AND s.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY s.name, c.cid
