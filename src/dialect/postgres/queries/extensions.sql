-- Installed extensions, with the versions an update reaches from the installed one on this server, the
-- comment when it is not the one the extension comes with, and the types they create. pg_extension_update_paths reads the
-- extension's files and fails without them: it is asked only about extensions the server has files for.
SELECT e.extname AS name, n.nspname AS schema, e.extversion AS version, e.extrelocatable AS relocatable,
       CASE WHEN a.name IS NULL THEN '{}'::text[]
            ELSE ARRAY(SELECT p.target FROM pg_extension_update_paths(e.extname) p
                       WHERE p.source = e.extversion AND p.path IS NOT NULL ORDER BY p.target) END AS update_targets,
       NULLIF(obj_description(e.oid, 'pg_extension'), a.comment) AS comment,
       ARRAY(SELECT t.typname::text FROM pg_depend d JOIN pg_type t ON t.oid = d.objid
             WHERE d.classid = 'pg_type'::regclass AND d.refclassid = 'pg_extension'::regclass
               AND d.refobjid = e.oid AND d.deptype = 'e' ORDER BY 1) AS types
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
LEFT JOIN pg_available_extensions a ON a.name = e.extname
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname
