-- The privilege matrix of pg_tls_audit.
--
-- Part 1 lists every object of schema tls_audit with the markings that matter
-- for security and its effective ACL: adding a function or view, or changing a
-- grant, changes this output, so it has to be reviewed and accepted here
-- deliberately. Part 2 tries every function and view as an ordinary role, a
-- member of pg_read_all_stats, a member of pg_monitor and the superuser, and
-- records what actually happens. Part 3 asserts the rules: no SECURITY
-- DEFINER, every function pinned to search_path pg_catalog, pg_temp, every
-- object owned by the extension's owner and a member of the extension.
-- The extension's owner (the user running the tests) is shown as OWNER.

\set server_pem `cat "$TLS_AUDIT_TEST_CERTS/server.crt"`

SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_priv_plain;
DROP ROLE IF EXISTS regress_priv_stats;
DROP ROLE IF EXISTS regress_priv_monitor;
RESET client_min_messages;
CREATE ROLE regress_priv_plain;
CREATE ROLE regress_priv_stats IN ROLE pg_read_all_stats;
CREATE ROLE regress_priv_monitor IN ROLE pg_monitor;

-- A role's name, with the fixed words PUBLIC and OWNER.
CREATE FUNCTION pg_temp.priv_role(r oid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
             WHEN r = 0 THEN 'PUBLIC'
             WHEN r = (SELECT e.extowner FROM pg_catalog.pg_extension e
                        WHERE e.extname = 'pg_tls_audit') THEN 'OWNER'
             ELSE (SELECT a.rolname::text FROM pg_catalog.pg_authid a WHERE a.oid = r)
           END
$$;

-- ===========================================================================
-- Part 1: the catalog
-- ===========================================================================

-- Every member of the extension. (18 also records the row types of tables
-- and views, and their array types, as members: they come with the relation
-- and are left out, so that the list is the same on every version.)
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS member
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_extension e ON (d.refclassid = 'pg_catalog.pg_extension'::regclass
                                     AND d.refobjid = e.oid)
 WHERE e.extname = 'pg_tls_audit' AND d.deptype = 'e'
   AND NOT (d.classid = 'pg_catalog.pg_type'::regclass AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_type b ON (b.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END)
          JOIN pg_catalog.pg_class c ON (c.oid = b.typrelid)
         WHERE t.oid = d.objid AND c.relkind IN ('r', 'v', 'm', 'p')))
 ORDER BY pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) COLLATE "C";

-- Every function: identity (input argument types), kind, language,
-- volatility (i/s/v), parallel safety (s/r/u), strictness, SECURITY DEFINER,
-- settings.
SELECT p.oid::regprocedure AS function, p.prokind AS kind, l.lanname AS lang,
       p.provolatile AS vol, p.proparallel AS par, p.proisstrict AS strict,
       p.prosecdef AS secdef, p.proconfig AS config
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_language l ON (l.oid = p.prolang)
 WHERE p.pronamespace = 'tls_audit'::regnamespace
 ORDER BY p.oid::regprocedure::text COLLATE "C";

-- Every relation and its options (views: no security_barrier/invoker).
SELECT c.relname, c.relkind, c.reloptions, c.relrowsecurity
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'tls_audit'::regnamespace
 ORDER BY c.relname COLLATE "C";

-- Effective ACLs (the built-in default where none was set), one row per
-- object and grantee. The schema itself comes first.
CREATE TEMP VIEW priv_acls AS
    SELECT 'schema' AS kind, n.nspname::text AS object,
           coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS acl
      FROM pg_catalog.pg_namespace n
     WHERE n.nspname = 'tls_audit'
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text,
           coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'tls_audit'::regnamespace
    UNION ALL
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'r' THEN 'table'
                          WHEN 'S' THEN 'sequence' ELSE 'relkind ' || c.relkind::text END,
           c.oid::regclass::text,
           coalesce(c.relacl, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                                    c.relowner))
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'tls_audit'::regnamespace
       AND c.relkind NOT IN ('i', 'I', 't');
SELECT a.kind, a.object, pg_temp.priv_role(x.grantee) AS grantee,
       pg_catalog.string_agg(x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END,
                             ',' ORDER BY x.privilege_type) AS privileges,
       pg_catalog.string_agg(DISTINCT pg_temp.priv_role(x.grantor), ',') AS grantor
  FROM priv_acls a, pg_catalog.aclexplode(a.acl) x
 -- 17 added MAINTAIN, which owners hold on tables and views; left out so
 -- that the matrix is the same on every version.
 WHERE x.privilege_type <> 'MAINTAIN'
 GROUP BY a.kind, a.object, x.grantee
 ORDER BY a.kind <> 'schema', a.kind COLLATE "C", a.object COLLATE "C", pg_temp.priv_role(x.grantee) COLLATE "C";

-- ===========================================================================
-- Part 2: what each role can actually do
-- ===========================================================================

-- Runs query as role (NULL: as the superuser running the test) and undoes
-- whatever it did. ok = it ran to completion; denied = permission denied
-- (42501); ran:SQLSTATE = the privilege check passed, then the call failed.
CREATE FUNCTION pg_temp.priv_try(role text, query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        IF role IS NOT NULL THEN
            EXECUTE pg_catalog.format('SET LOCAL ROLE %I', role);
        END IF;
        EXECUTE query;
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'TAOK0';
    EXCEPTION
        WHEN SQLSTATE 'TAOK0' THEN RETURN 'ok';
        WHEN insufficient_privilege THEN RETURN 'denied';
        WHEN OTHERS THEN RETURN 'ran:' || SQLSTATE;
    END;
END
$$;

-- One action per function and relation. The probes aim at a closed loopback
-- port (they fail fast once past the privilege check); record_checks() and
-- census_reset() are rolled back by priv_try (census_reset() is only tried by
-- roles that are expected to be denied: its effect on shared memory is not
-- transactional).
CREATE TEMP TABLE priv_actions (object text, action text, query text, superuser_too boolean);
INSERT INTO priv_actions VALUES
  ('tls_audit.version()', 'EXECUTE', 'SELECT tls_audit.version()', true),
  ('tls_audit.connection()', 'EXECUTE', 'SELECT * FROM tls_audit.connection()', true),
  ('tls_audit.certificate_info(bytea)', 'EXECUTE',
   pg_catalog.format('SELECT * FROM tls_audit.certificate_info(pg_catalog.convert_to(%L, ''UTF8''))', :'server_pem'), true),
  ('tls_audit.certificate_info(text)', 'EXECUTE',
   pg_catalog.format('SELECT * FROM tls_audit.certificate_info(%L::text)', :'server_pem'), true),
  ('tls_audit.preloaded()', 'EXECUTE', 'SELECT tls_audit.preloaded()', true),
  ('tls_audit.session_rows()', 'EXECUTE', 'SELECT * FROM tls_audit.session_rows()', true),
  ('tls_audit.session_view_rows()', 'EXECUTE', 'SELECT * FROM tls_audit.session_view_rows()', true),
  ('tls_audit.role_floor_readiness(interval)', 'EXECUTE', 'SELECT * FROM tls_audit.role_floor_readiness()', true),
  ('tls_audit.session_floor(oid,text,text)', 'EXECUTE', 'SELECT * FROM tls_audit.session_floor(NULL, NULL, NULL)', true),
  ('tls_audit.registry_slots()', 'EXECUTE', 'SELECT * FROM tls_audit.registry_slots()', true),
  ('tls_audit.server_tls()', 'EXECUTE', 'SELECT * FROM tls_audit.server_tls()', true),
  ('tls_audit.server_certificates()', 'EXECUTE', 'SELECT * FROM tls_audit.server_certificates()', true),
  ('tls_audit.ca_certificates()', 'EXECUTE', 'SELECT * FROM tls_audit.ca_certificates()', true),
  ('tls_audit.reload_preflight()', 'EXECUTE', 'SELECT * FROM tls_audit.reload_preflight()', true),
  ('tls_audit.reload_would_succeed()', 'EXECUTE', 'SELECT tls_audit.reload_would_succeed()', true),
  ('tls_audit.reload_history()', 'EXECUTE', 'SELECT * FROM tls_audit.reload_history()', true),
  ('tls_audit.auto_reload_status()', 'EXECUTE', 'SELECT * FROM tls_audit.auto_reload_status()', true),
  ('tls_audit.hba_rule_rows()', 'EXECUTE', 'SELECT * FROM tls_audit.hba_rule_rows()', true),
  ('tls_audit.can_connect(text,text,inet,text,boolean)', 'EXECUTE',
   'SELECT * FROM tls_audit.can_connect(CURRENT_USER, ''postgres'', NULL, ''unix'')', true),
  ('tls_audit.plaintext_paths()', 'EXECUTE', 'SELECT * FROM tls_audit.plaintext_paths()', true),
  ('tls_audit.run_checks()', 'EXECUTE', 'SELECT * FROM tls_audit.run_checks()', true),
  ('tls_audit.record_checks()', 'EXECUTE', 'SELECT tls_audit.record_checks()', true),
  ('tls_audit.summary_row()', 'EXECUTE', 'SELECT * FROM tls_audit.summary_row()', true),
  ('tls_audit.census_entries()', 'EXECUTE', 'SELECT * FROM tls_audit.census_entries()', true),
  ('tls_audit.census_info()', 'EXECUTE', 'SELECT * FROM tls_audit.census_info()', true),
  ('tls_audit.census_reset()', 'EXECUTE', 'SELECT tls_audit.census_reset()', false),
  ('tls_audit.floor_readiness(text,interval)', 'EXECUTE', 'SELECT * FROM tls_audit.floor_readiness()', true),
  ('tls_audit.floor_readiness_summary(text,interval)', 'EXECUTE', 'SELECT * FROM tls_audit.floor_readiness_summary()', true),
  ('tls_audit.pq_readiness(interval)', 'EXECUTE', 'SELECT * FROM tls_audit.pq_readiness()', true),
  ('tls_audit.pq_readiness_summary(interval)', 'EXECUTE', 'SELECT * FROM tls_audit.pq_readiness_summary()', true),
  ('tls_audit.auth_readiness(text,interval)', 'EXECUTE', 'SELECT * FROM tls_audit.auth_readiness()', true),
  ('tls_audit.fips_readiness(interval)', 'EXECUTE', 'SELECT * FROM tls_audit.fips_readiness()', true),
  ('tls_audit.probe(text,integer,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.probe(''127.0.0.1'', 1, NULL, 200)', true),
  ('tls_audit.probe_certificates(text,integer,text,integer,text,text[])', 'EXECUTE',
   'SELECT * FROM tls_audit.probe_certificates(''127.0.0.1'', 1, NULL, 200)', true),
  ('tls_audit.probe_direct_tls(text,integer,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.probe_direct_tls(''127.0.0.1'', 1, NULL, 200)', true),
  ('tls_audit.probe_plaintext(text,integer,text,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.probe_plaintext(''127.0.0.1'', 1, NULL, NULL, 200)', true),
  ('tls_audit.probe_ciphers(text,integer,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.probe_ciphers(''127.0.0.1'', 1, NULL, 200)', true),
  ('tls_audit.probe_groups(text,integer,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.probe_groups(''127.0.0.1'', 1, NULL, 200)', true),
  ('tls_audit.profile_compliance(text,integer,text,text,integer)', 'EXECUTE',
   'SELECT * FROM tls_audit.profile_compliance(''127.0.0.1'', 1, ''intermediate'', NULL, 200)', true),
  ('tls_audit.metrics_text()', 'EXECUTE', 'SELECT tls_audit.metrics_text()', true),
  ('tls_audit.outbound_connection_rows()', 'EXECUTE', 'SELECT * FROM tls_audit.outbound_connection_rows()', true),
  ('tls_audit.pooler_clients()', 'EXECUTE', 'SELECT * FROM tls_audit.pooler_clients()', true),
  ('tls_audit.pooler_servers()', 'EXECUTE', 'SELECT * FROM tls_audit.pooler_servers()', true),
  ('tls_audit.pooler_settings()', 'EXECUTE', 'SELECT * FROM tls_audit.pooler_settings()', true),
  ('tls_audit.pooler_certificates()', 'EXECUTE', 'SELECT * FROM tls_audit.pooler_certificates()', true),
  ('tls_audit.control_rows()', 'EXECUTE', 'SELECT * FROM tls_audit.control_rows()', true),
  ('tls_audit.show_bidi_controls(text)', 'EXECUTE', 'SELECT tls_audit.show_bidi_controls(''a'')', true),
  ('tls_audit.compliance(text)', 'EXECUTE', 'SELECT * FROM tls_audit.compliance(''CIS'')', true),
  ('tls_audit.report(text)', 'EXECUTE', 'SELECT tls_audit.report()', true),
  ('tls_audit.controls', 'SELECT', 'SELECT * FROM tls_audit.controls', true),
  ('tls_audit.sessions', 'SELECT', 'SELECT * FROM tls_audit.sessions', true),
  ('tls_audit.server_certificates', 'SELECT', 'SELECT * FROM tls_audit.server_certificates', true),
  ('tls_audit.ca_certificates', 'SELECT', 'SELECT * FROM tls_audit.ca_certificates', true),
  ('tls_audit.reload_history', 'SELECT', 'SELECT * FROM tls_audit.reload_history', true),
  ('tls_audit.auto_reload_status', 'SELECT', 'SELECT * FROM tls_audit.auto_reload_status', true),
  ('tls_audit.hba_rules', 'SELECT', 'SELECT * FROM tls_audit.hba_rules', true),
  ('tls_audit.summary', 'SELECT', 'SELECT * FROM tls_audit.summary', true),
  ('tls_audit.census', 'SELECT', 'SELECT * FROM tls_audit.census', true),
  ('tls_audit.metrics', 'SELECT', 'SELECT * FROM tls_audit.metrics', true),
  ('tls_audit.outbound_connections', 'SELECT', 'SELECT * FROM tls_audit.outbound_connections', true),
  ('tls_audit.check_history', 'SELECT', 'SELECT * FROM tls_audit.check_history', true),
  ('tls_audit.check_history', 'INSERT',
   'INSERT INTO tls_audit.check_history VALUES (pg_catalog.now(), ''x'', ''ok'', NULL, ''m'', NULL)', true),
  ('tls_audit.check_history', 'UPDATE', 'UPDATE tls_audit.check_history SET hint = NULL', true),
  ('tls_audit.check_history', 'DELETE', 'DELETE FROM tls_audit.check_history', true),
  ('tls_audit.check_history', 'TRUNCATE', 'TRUNCATE tls_audit.check_history', true);

-- Every function and relation of the schema has an action above (must be
-- empty: a new object needs a line in priv_actions and a reviewed result).
SELECT o.object AS untested_object
  FROM (SELECT p.oid::regprocedure::text AS object
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'tls_audit'::regnamespace
        UNION ALL
        SELECT c.oid::regclass::text
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'tls_audit'::regnamespace
           AND c.relkind NOT IN ('i', 'I', 't')) AS o
 WHERE NOT EXISTS (SELECT 1 FROM priv_actions a WHERE a.object = o.object)
 ORDER BY o.object COLLATE "C";

-- The outcomes, with what the grants say PUBLIC may do (PUBLIC cannot be a
-- session role: regress_priv_plain has only what PUBLIC has).
SET client_min_messages = error;    -- record_checks() logs its findings
CREATE TEMP TABLE priv_matrix AS
SELECT a.object, a.action,
       CASE WHEN a.action = 'EXECUTE'
            THEN pg_catalog.has_function_privilege('public', a.object, 'EXECUTE')
            ELSE pg_catalog.has_table_privilege('public', a.object, a.action) END AS public_granted,
       pg_temp.priv_try('regress_priv_plain', a.query) AS plain,
       pg_temp.priv_try('regress_priv_stats', a.query) AS read_all_stats,
       pg_temp.priv_try('regress_priv_monitor', a.query) AS monitor,
       CASE WHEN a.superuser_too THEN pg_temp.priv_try(NULL, a.query)
            WHEN pg_catalog.has_function_privilege(a.object, 'EXECUTE') THEN 'granted (not called)'
            ELSE 'denied' END AS superuser
  FROM priv_actions a;
RESET client_min_messages;
SELECT object, action,
       CASE WHEN public_granted THEN 'granted' ELSE 'no' END AS public,
       plain, read_all_stats, monitor, superuser
  FROM priv_matrix
 ORDER BY action <> 'EXECUTE', object COLLATE "C", action COLLATE "C";

-- The grants and the behaviour agree (must be empty): every role is denied
-- exactly what it has no privilege for, and no granted view fails for lack of
-- a privilege on what it reads.
SELECT m.object, m.action, r.role, r.outcome
  FROM priv_matrix m,
       LATERAL (VALUES ('regress_priv_plain', m.plain),
                       ('regress_priv_stats', m.read_all_stats),
                       ('regress_priv_monitor', m.monitor)) AS r (role, outcome)
 WHERE (r.outcome = 'denied') =
       CASE WHEN m.action = 'EXECUTE'
            THEN pg_catalog.has_function_privilege(r.role, m.object, 'EXECUTE')
            ELSE pg_catalog.has_table_privilege(r.role, m.object, m.action) END
 ORDER BY m.object COLLATE "C", m.action COLLATE "C", r.role COLLATE "C";

-- ===========================================================================
-- Part 3: the rules
-- ===========================================================================

-- SECURITY DEFINER functions without a fixed search_path (must be empty).
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'tls_audit'::regnamespace
   AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) AS c (setting)
                    WHERE c.setting LIKE 'search_path=%');

-- Functions not pinned to search_path = pg_catalog, pg_temp (must be empty).
SELECT p.oid::regprocedure AS unpinned_function, p.proconfig
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'tls_audit'::regnamespace
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);

-- Objects in the schema owned by someone else than the extension's owner, or
-- not members of the extension (must be empty).
SELECT o.kind, o.object, pg_temp.priv_role(o.owner) AS owner,
       m.pg_depend_exists AS member
  FROM (SELECT 'function' AS kind, p.oid::regprocedure::text AS object, p.proowner AS owner,
               'pg_catalog.pg_proc'::regclass AS classid, p.oid AS objid
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'tls_audit'::regnamespace
        UNION ALL
        SELECT 'relation', c.oid::regclass::text, c.relowner, 'pg_catalog.pg_class'::regclass, c.oid
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'tls_audit'::regnamespace
           AND c.relkind NOT IN ('i', 'I', 't')
        UNION ALL
        SELECT 'type', t.oid::regtype::text, t.typowner, 'pg_catalog.pg_type'::regclass, t.oid
          FROM pg_catalog.pg_type t
         WHERE t.typnamespace = 'tls_audit'::regnamespace
           AND t.typrelid = 0    -- not the row type of a relation (listed above)
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
        UNION ALL
        SELECT 'operator', o.oid::regoperator::text, o.oprowner, 'pg_catalog.pg_operator'::regclass, o.oid
          FROM pg_catalog.pg_operator o
         WHERE o.oprnamespace = 'tls_audit'::regnamespace) AS o,
       LATERAL (SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                 JOIN pg_catalog.pg_extension e ON (e.oid = d.refobjid)
                                WHERE d.classid = o.classid AND d.objid = o.objid
                                  AND d.refclassid = 'pg_catalog.pg_extension'::regclass
                                  AND d.deptype = 'e' AND e.extname = 'pg_tls_audit')
                  AS pg_depend_exists) AS m
 WHERE pg_temp.priv_role(o.owner) <> 'OWNER' OR NOT m.pg_depend_exists
 ORDER BY o.kind COLLATE "C", o.object COLLATE "C";

-- The schema belongs to a superuser and only superusers may create in it.
SELECT pg_temp.priv_role(x.grantee) AS may_create_in_tls_audit
  FROM pg_catalog.pg_namespace n,
       pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) x
 WHERE n.nspname = 'tls_audit' AND x.privilege_type = 'CREATE'
   AND NOT coalesce((SELECT a.rolsuper FROM pg_catalog.pg_authid a WHERE a.oid = x.grantee), false);

DROP ROLE regress_priv_plain;
DROP ROLE regress_priv_stats;
DROP ROLE regress_priv_monitor;
