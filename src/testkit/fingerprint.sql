-- An independent description of a database's schema, one line per fact, for tests: written apart from
-- the tool's introspection so that a bug there cannot hide itself. Column order is not part of it.
WITH s AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_'
)
SELECT line FROM (
    SELECT 'schema ' || quote_ident(nspname) || ' comment=' || COALESCE(obj_description(oid, 'pg_namespace'), '-') AS line FROM s
    UNION ALL
    SELECT 'extension ' || extname || ' in ' || extnamespace::regnamespace::text || ' version=' || extversion
           || ' comment=' || COALESCE(obj_description(oid, 'pg_extension'), '-') FROM pg_extension
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text || ' enum=' || (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid)
           || ' comment=' || COALESCE(obj_description(t.oid, 'pg_type'), '-')
    FROM pg_type t JOIN s ON s.oid = t.typnamespace WHERE t.typtype = 'e'
    UNION ALL
    SELECT 'relation ' || c.oid::regclass::text || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
           || ' comment=' || COALESCE(obj_description(c.oid, 'pg_class'), '-')
           || CASE WHEN c.relkind IN ('v', 'm') THEN ' def=' || pg_get_viewdef(c.oid) ELSE '' END
           || CASE WHEN c.relkind IN ('i', 'I') THEN ' def=' || pg_get_indexdef(c.oid) ELSE '' END
           || CASE WHEN c.relkind = 'p' THEN ' partition by ' || pg_get_partkeydef(c.oid) ELSE '' END
           || CASE WHEN c.relispartition AND c.relkind IN ('r', 'p')
                   THEN ' partition of ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid)
                        || ' ' || pg_get_expr(c.relpartbound, c.oid)
                   ELSE '' END
           || COALESCE(' options=' || array_to_string(c.reloptions, ','), '')
    FROM pg_class c JOIN s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I')
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
    UNION ALL
    SELECT 'replica identity ' || c.oid::regclass::text || ' ' || c.relreplident::text
           || COALESCE(' index=' || (SELECT x.indexrelid::regclass::text FROM pg_index x
                                     WHERE x.indrelid = c.oid AND x.indisreplident), '')
    FROM pg_class c JOIN s ON s.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
    UNION ALL
    SELECT 'inherits ' || i.inhrelid::regclass::text || ' from ' || i.inhparent::regclass::text || ' #' || i.inhseqno
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN s ON s.oid = c.relnamespace
    WHERE NOT c.relispartition AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT 'sequence ' || c.oid::regclass::text || ' ' || format_type(q.seqtypid, NULL) || ' start=' || q.seqstart
           || ' inc=' || q.seqincrement || ' min=' || q.seqmin || ' max=' || q.seqmax || ' cache=' || q.seqcache
           || ' cycle=' || q.seqcycle
           || ' owner=' || COALESCE((SELECT d.refobjid::regclass::text || '.' || a.attname FROM pg_depend d
                                     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                     WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                                       AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'), '-')
    FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN s ON s.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i')
    UNION ALL
    SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || COALESCE(' default=' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || CASE WHEN a.attidentity <> '' THEN ' identity=' || a.attidentity::text
                   || (SELECT ' sequence=' || format_type(q.seqtypid, NULL) || ',' || q.seqincrement || ',' || q.seqmin
                              || ',' || q.seqmax || ',' || q.seqstart || ',' || q.seqcache || ',' || q.seqcycle
                       FROM pg_sequence q
                       WHERE q.seqrelid = pg_get_serial_sequence(c.oid::regclass::text, a.attname)::regclass)
                   ELSE '' END
           || CASE WHEN a.attgenerated <> '' THEN ' generated=' || a.attgenerated::text ELSE '' END
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
                   THEN ' collate=' || a.attcollation::regcollation::text ELSE '' END
           || ' comment=' || COALESCE(col_description(c.oid, a.attnum), '-')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN s ON s.oid = c.relnamespace
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
    UNION ALL
    SELECT 'constraint ' || c.oid::regclass::text || ' ' || quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid)
           || ' comment=' || COALESCE(obj_description(con.oid, 'pg_constraint'), '-')
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN s ON s.oid = c.relnamespace
    WHERE con.contype <> 'n'
    UNION ALL
    SELECT 'domain ' || t.oid::regtype::text || ' ' || format_type(t.typbasetype, t.typtypmod)
           || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
           || COALESCE(' default=' || t.typdefault, '')
           || CASE WHEN t.typcollation <> (SELECT typcollation FROM pg_type WHERE oid = t.typbasetype)
                   THEN ' collate=' || t.typcollation::regcollation::text ELSE '' END
           || ' comment=' || COALESCE(obj_description(t.oid, 'pg_type'), '-')
    FROM pg_type t JOIN s ON s.oid = t.typnamespace WHERE t.typtype = 'd'
    UNION ALL
    SELECT 'domain constraint ' || con.contypid::regtype::text || ' ' || quote_ident(con.conname) || ' '
           || pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid JOIN s ON s.oid = t.typnamespace
    UNION ALL
    SELECT 'composite ' || t.oid::regtype::text || ' comment=' || COALESCE(obj_description(t.oid, 'pg_type'), '-')
           || ' (' || (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                                         || CASE WHEN a.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = a.atttypid)
                                                 THEN ' collate=' || a.attcollation::regcollation::text ELSE '' END,
                                         ', ' ORDER BY a.attnum)
                       FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) || ')'
    FROM pg_type t JOIN s ON s.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
    UNION ALL
    SELECT 'range ' || r.rngtypid::regtype::text || ' subtype=' || r.rngsubtype::regtype::text
           || ' opclass=' || (SELECT opcnamespace::regnamespace::text || '.' || opcname FROM pg_opclass WHERE oid = r.rngsubopc)
           || ' collation=' || CASE WHEN r.rngcollation = 0 THEN '-' ELSE r.rngcollation::regcollation::text END
           || ' diff=' || r.rngsubdiff::regproc::text || ' multirange=' || r.rngmultitypid::regtype::text
           || ' comment=' || COALESCE(obj_description(r.rngtypid, 'pg_type'), '-')
    FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN s ON s.oid = t.typnamespace
    UNION ALL
    SELECT 'collation ' || co.oid::regcollation::text || ' provider=' || co.collprovider::text
           || ' deterministic=' || co.collisdeterministic || ' collate=' || COALESCE(co.collcollate, '-')
           || ' ctype=' || COALESCE(co.collctype, '-') || ' locale=' || COALESCE(to_jsonb(co) ->> 'colliculocale', '-')
    FROM pg_collation co JOIN s ON s.oid = co.collnamespace
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' ' || pg_get_functiondef(p.oid)
           || ' comment=' || COALESCE(obj_description(p.oid, 'pg_proc'), '-')
    FROM pg_proc p JOIN s ON s.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT 'trigger ' || c.oid::regclass::text || ' ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
           || ' comment=' || COALESCE(obj_description(t.oid, 'pg_trigger'), '-')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN s ON s.oid = c.relnamespace
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || c.oid::regclass::text || ' ' || quote_ident(p.polname) || ' cmd=' || p.polcmd::text
           || ' permissive=' || p.polpermissive::text
           || ' roles=' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY r)
                            FROM unnest(p.polroles) r)
           || ' using=' || COALESCE(pg_get_expr(p.polqual, p.polrelid), '-')
           || ' check=' || COALESCE(pg_get_expr(p.polwithcheck, p.polrelid), '-')
           || ' comment=' || COALESCE(obj_description(p.oid, 'pg_policy'), '-')
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN s ON s.oid = c.relnamespace
    UNION ALL
    SELECT 'row security ' || c.oid::regclass::text || ' enabled=' || c.relrowsecurity::text
           || ' forced=' || c.relforcerowsecurity::text
    FROM pg_class c JOIN s ON s.oid = c.relnamespace
    WHERE c.relrowsecurity OR c.relforcerowsecurity
    UNION ALL
    -- Privileges as sets of (grantee, privilege, grantable), defaults included: an ACL written out
    -- explicitly and the default it equals are the same fact.
    SELECT 'acl ' || object || ' ' || COALESCE((SELECT string_agg(x.grantee::regrole::text || ':' || x.privilege_type
                                                                 || CASE WHEN x.is_grantable THEN '*' ELSE '' END, ','
                                                                 ORDER BY x.grantee::regrole::text, x.privilege_type)
                                               FROM aclexplode(acl) x), '-')
    FROM (
        SELECT c.oid::regclass::text AS object,
               COALESCE(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)) AS acl
        FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
        UNION ALL
        SELECT c.oid::regclass::text || '.' || quote_ident(a.attname), a.attacl
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN s ON s.oid = c.relnamespace
        WHERE a.attacl IS NOT NULL AND NOT a.attisdropped
        UNION ALL
        SELECT 'schema ' || quote_ident(n.nspname), COALESCE(n.nspacl, acldefault('n'::"char", n.nspowner))
        FROM pg_namespace n JOIN s ON s.oid = n.oid
        UNION ALL
        SELECT p.oid::regprocedure::text, COALESCE(p.proacl, acldefault('f'::"char", p.proowner))
        FROM pg_proc p JOIN s ON s.oid = p.pronamespace WHERE p.prokind IN ('f', 'p')
    ) acls
    UNION ALL
    SELECT 'default acl for ' || d.defaclrole::regrole::text || ' in ' || COALESCE(quote_ident(n.nspname), '*')
           || ' on ' || d.defaclobjtype::text || ' '
           || (SELECT string_agg(x.grantee::regrole::text || ':' || x.privilege_type
                                 || CASE WHEN x.is_grantable THEN '*' ELSE '' END, ','
                                 ORDER BY x.grantee::regrole::text, x.privilege_type)
               FROM aclexplode(d.defaclacl) x)
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
    UNION ALL
    SELECT 'owner ' || object || ' ' || owner::regrole::text
    FROM (
        SELECT c.oid::regclass::text AS object, c.relowner AS owner
        FROM pg_class c JOIN s ON s.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
        UNION ALL
        SELECT 'schema ' || quote_ident(n.nspname), n.nspowner FROM pg_namespace n JOIN s ON s.oid = n.oid
        UNION ALL
        SELECT p.oid::regprocedure::text, p.proowner
        FROM pg_proc p JOIN s ON s.oid = p.pronamespace WHERE p.prokind IN ('f', 'p')
        UNION ALL
        SELECT 'type ' || t.oid::regtype::text, t.typowner
        FROM pg_type t JOIN s ON s.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'r', 'c', 'm')
    ) owners
) facts
ORDER BY line
