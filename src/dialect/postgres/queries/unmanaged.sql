-- Objects the tool does not manage yet. They are listed so that nothing is ignored silently. The reader
-- adds the columns' settings from the columns query and sorts the list.
WITH managed AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY ($1::text[]))
), extension_member AS (
    -- Through the reference index: the members of extensions, not a scan of all of pg_depend.
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT kind, schema, name FROM (
    -- Aggregates are managed; window functions can only be written in C.
    SELECT 'window function' AS kind,
           m.nspname AS schema, m.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name
    FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
    WHERE p.prokind = 'w' AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)

    UNION ALL
    -- Domains, composite and range types, partitioned tables, partitions, inheritance and collations are
    -- managed.
    SELECT 'foreign table', m.nspname, m.nspname || '.' || c.relname
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE c.relkind = 'f'
      AND NOT EXISTS (SELECT 1 FROM extension_member e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    UNION ALL
    SELECT 'rule', m.nspname, m.nspname || '.' || c.relname || '.' || r.rulename
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN managed m ON m.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN'

    UNION ALL
    SELECT 'statistics object', m.nspname, m.nspname || '.' || s.stxname
    FROM pg_statistic_ext s JOIN managed m ON m.oid = s.stxnamespace

    -- Kinds that views, defaults, checks and indexes can use: left out, they would make what uses them
    -- fail to load from the declared files (or from `schema inspect`'s output).
    UNION ALL
    SELECT 'operator', m.nspname, m.nspname || '.' || o.oprname || '(' || COALESCE(format_type(o.oprleft, NULL), 'NONE')
           || ', ' || COALESCE(format_type(o.oprright, NULL), 'NONE') || ')'
    FROM pg_operator o JOIN managed m ON m.oid = o.oprnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_operator'::regclass AND e.objid = o.oid)
    UNION ALL
    SELECT 'operator class', m.nspname, m.nspname || '.' || c.opcname || ' USING ' || a.amname
    FROM pg_opclass c JOIN managed m ON m.oid = c.opcnamespace JOIN pg_am a ON a.oid = c.opcmethod
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_opclass'::regclass AND e.objid = c.oid)
    UNION ALL
    SELECT 'operator family', m.nspname, m.nspname || '.' || f.opfname || ' USING ' || a.amname
    FROM pg_opfamily f JOIN managed m ON m.oid = f.opfnamespace JOIN pg_am a ON a.oid = f.opfmethod
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_opfamily'::regclass AND e.objid = f.oid)
    UNION ALL
    SELECT 'text search configuration', m.nspname, m.nspname || '.' || t.cfgname
    FROM pg_ts_config t JOIN managed m ON m.oid = t.cfgnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_ts_config'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT 'text search dictionary', m.nspname, m.nspname || '.' || t.dictname
    FROM pg_ts_dict t JOIN managed m ON m.oid = t.dictnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_ts_dict'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT 'text search parser', m.nspname, m.nspname || '.' || t.prsname
    FROM pg_ts_parser t JOIN managed m ON m.oid = t.prsnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_ts_parser'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT 'text search template', m.nspname, m.nspname || '.' || t.tmplname
    FROM pg_ts_template t JOIN managed m ON m.oid = t.tmplnamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_ts_template'::regclass AND e.objid = t.oid)
    UNION ALL
    SELECT 'conversion', m.nspname, m.nspname || '.' || c.conname
    FROM pg_conversion c JOIN managed m ON m.oid = c.connamespace
    WHERE NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_conversion'::regclass AND e.objid = c.oid)
    UNION ALL
    -- Base and shell types (enum, composite, range and domain types are managed; arrays and multiranges
    -- come with their types).
    SELECT 'type', m.nspname, m.nspname || '.' || t.typname
    FROM pg_type t JOIN managed m ON m.oid = t.typnamespace
    WHERE (t.typtype = 'p' OR (t.typtype = 'b' AND t.typcategory <> 'A'))
      AND NOT EXISTS (SELECT 1 FROM extension_member e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
    UNION ALL
    -- Casts belong to no schema: listed under the schema of a type or function of theirs that is managed.
    -- A range type's cast to its multirange comes with it (an internal dependency).
    SELECT 'cast', COALESCE(ms.nspname, mt.nspname, mf.nspname),
           '(' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')'
    FROM pg_cast c
    JOIN pg_type s ON s.oid = c.castsource
    JOIN pg_type t ON t.oid = c.casttarget
    LEFT JOIN pg_proc f ON f.oid = c.castfunc
    LEFT JOIN managed ms ON ms.oid = s.typnamespace
    LEFT JOIN managed mt ON mt.oid = t.typnamespace
    LEFT JOIN managed mf ON mf.oid = f.pronamespace
    WHERE c.oid >= 16384 AND COALESCE(ms.nspname, mt.nspname, mf.nspname) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid
                                                 AND d.deptype IN ('e', 'i'))
) objects
