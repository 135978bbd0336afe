-- tls_audit.run_checks(), record_checks(), check_history and summary over
-- a unix socket. The expected output holds on any server that preloads the
-- library (`make installcheck` on a DBA's own server): whatever is decided by
-- the server's ssl, pg_hba.conf or cipher settings is compared with those
-- settings here, not with fixed values; every check on certificates, ciphers
-- and TLS sessions is made to fire in test/t/030_checks.pl.

-- Every check reports, in a stable order, at least one row.
SELECT "check", count(*) >= 1 AS reports
  FROM tls_audit.run_checks() WITH ORDINALITY AS c("check", severity, object, message, hint, controls, n)
 GROUP BY "check" ORDER BY min(n);
SELECT array_agg(DISTINCT "check" ORDER BY "check") = ARRAY[
    'ca_file_expiry', 'census_incomplete', 'census_save_failed', 'client_cert_expiry', 'crl_coverage', 'crl_expiry', 'hba_host_without_ssl', 'hba_hostnossl',
    'hba_plaintext_reachable', 'hba_shadowed_line', 'hba_weak_auth', 'key_exchange_groups', 'max_protocol', 'md5_passwords', 'min_protocol',
    'outbound_password_in_conninfo', 'outbound_root_cert', 'outbound_sslkeylogfile', 'outbound_sslmode', 'password_encryption',
    'pooler_cert_expiry', 'pooler_ciphers', 'pooler_client_tls', 'pooler_password_in_conninfo', 'pooler_protocols', 'pooler_server_tls', 'pooler_unreachable',
    'pq_key_exchange', 'role_floor_unmatched',
    'server_cert_chain', 'server_cert_expiry', 'server_cert_key_strength', 'server_cert_reload_pending',
    'server_cert_self_signed', 'server_cert_signature', 'server_key_permissions',
    'server_tls_auto_reload', 'server_tls_reload_failed', 'server_tls_reload_would_fail', 'sessions_below_floor', 'settings_not_applied', 'ssl_enabled', 'weak_auth_in_use', 'weak_ciphers'] AS all_checks
  FROM tls_audit.run_checks();

-- Severities are one of four; 'ok' rows carry no object and no hint, and
-- every problem row says what it is about and how to fix it.
SELECT DISTINCT severity FROM tls_audit.run_checks()
 WHERE severity NOT IN ('ok', 'info', 'warning', 'critical');
SELECT count(*) AS bad_ok_rows FROM tls_audit.run_checks()
 WHERE severity = 'ok' AND (object IS NOT NULL OR hint IS NOT NULL OR message IS NULL);
SELECT count(*) AS problems_without_hint FROM tls_audit.run_checks()
 WHERE severity IN ('warning', 'critical') AND (object IS NULL OR hint IS NULL);

-- With ssl off, the server's TLS checks say they do not apply; with ssl on,
-- none of them says so.
SELECT bool_and((message = 'not applicable: ssl is off') = NOT current_setting('ssl')::boolean)
       AS applicability_follows_ssl
  FROM tls_audit.run_checks()
 WHERE "check" IN ('min_protocol', 'max_protocol', 'weak_ciphers', 'key_exchange_groups', 'pq_key_exchange',
                   'server_cert_expiry', 'server_cert_key_strength', 'server_cert_signature',
                   'server_cert_self_signed', 'server_cert_chain', 'server_key_permissions',
                   'server_cert_reload_pending', 'server_tls_reload_would_fail', 'server_tls_reload_failed',
                   'server_tls_auto_reload', 'ca_file_expiry',
                   'crl_expiry', 'crl_coverage');
-- ssl_enabled is ok exactly when ssl is on.
SELECT (severity = 'ok') = current_setting('ssl')::boolean AS ssl_enabled_follows_ssl
  FROM tls_audit.run_checks() WHERE "check" = 'ssl_enabled';

-- pg_hba.conf as pg_hba_file_rules shows it: each hba check flags exactly
-- the lines its rule describes (doc/checks.md), whatever this server's
-- pg_hba.conf holds; a check without findings reports one ok row. A line
-- with an error never matches (hostssl while ssl is off): no check judges it.
WITH rules AS (
    SELECT 'pg_hba.conf line ' || line_number AS object, type, auth_method
      FROM pg_hba_file_rules WHERE error IS NULL
), expected AS (
    SELECT 'hba_hostnossl' AS "check", object FROM rules
     WHERE type = 'hostnossl' AND auth_method <> 'reject'
    UNION ALL
    SELECT 'hba_host_without_ssl', object FROM rules
     WHERE type IN ('host', 'hostnogssenc') AND auth_method <> 'reject'
    UNION ALL
    SELECT 'hba_weak_auth', object FROM rules
     WHERE type <> 'local' AND auth_method IN ('trust', 'password', 'md5')
), found AS (
    SELECT "check", object FROM tls_audit.run_checks()
     WHERE "check" LIKE 'hba%' AND severity <> 'ok'
)
SELECT c AS "check",
       NOT EXISTS (SELECT object FROM found f WHERE f."check" = c
                   EXCEPT SELECT object FROM expected e WHERE e."check" = c)
       AND NOT EXISTS (SELECT object FROM expected e WHERE e."check" = c
                   EXCEPT SELECT object FROM found f WHERE f."check" = c) AS same_lines,
       (SELECT count(*) FROM tls_audit.run_checks() r WHERE r."check" = c AND r.severity = 'ok')
       = CASE WHEN EXISTS (SELECT 1 FROM expected e WHERE e."check" = c) THEN 0 ELSE 1 END AS ok_row_iff_none
  FROM unnest(ARRAY['hba_hostnossl', 'hba_host_without_ssl', 'hba_weak_auth']) AS c
 ORDER BY c;

-- This session is on a unix socket: never below the floor.
SELECT "check", severity FROM tls_audit.run_checks()
 WHERE "check" IN ('sessions_below_floor', 'client_cert_expiry') ORDER BY "check";

-- password_encryption and MD5 password hashes.
SET password_encryption = 'scram-sha-256';
SELECT severity, message FROM tls_audit.run_checks() WHERE "check" = 'password_encryption';
SET password_encryption = 'md5';
-- (18 adds that MD5 passwords are deprecated: test/unit/checks_hba_test.cpp)
SELECT severity, object,
       message LIKE 'password_encryption = ''md5'': new and changed passwords are stored as MD5 hashes%' AS says_md5
  FROM tls_audit.run_checks() WHERE "check" = 'password_encryption';
-- (18 warns that MD5 passwords are deprecated: not shown, to keep the output
-- the same on every version)
SET client_min_messages = error;
CREATE ROLE regress_checks_md5 LOGIN PASSWORD 'not-a-secret';
RESET client_min_messages;
RESET password_encryption;
SELECT severity, object, message LIKE '%regress_checks_md5%' AS names_role
  FROM tls_audit.run_checks() WHERE "check" = 'md5_passwords';

-- A pg_monitor member may run the checks; what it cannot read is 'info'.
-- It reads the history (a row the owner wrote) and the summary, but writes
-- neither the history nor a run.
CREATE ROLE regress_checks_monitor LOGIN;
GRANT pg_monitor TO regress_checks_monitor;
CREATE ROLE regress_checks_nobody LOGIN;
INSERT INTO tls_audit.check_history VALUES
  ('2001-02-03 04:05:06+00', 'ssl_enabled', 'warning', 'ssl', 'written by the owner', 'no hint');
SET ROLE regress_checks_monitor;
SELECT "check", severity, message FROM tls_audit.run_checks()
 WHERE "check" IN ('hba_hostnossl', 'hba_host_without_ssl', 'hba_weak_auth', 'md5_passwords')
 ORDER BY "check";
SELECT run_at = '2001-02-03 04:05:06+00' AS run_at_kept, "check", severity, object, message, hint
  FROM tls_audit.check_history;
SELECT worst_severity IN ('ok', 'info', 'warning', 'critical') AS monitor_reads_summary,
       last_run_at = '2001-02-03 04:05:06+00' AS last_run_seen, last_run_severity
  FROM tls_audit.summary;
DELETE FROM tls_audit.check_history;
INSERT INTO tls_audit.check_history VALUES (now(), 'ssl_enabled', 'ok', NULL, 'forged', NULL);
SELECT tls_audit.record_checks();
RESET ROLE;
DELETE FROM tls_audit.check_history WHERE message = 'written by the owner';
-- Everybody else: no checks, no history, no summary.
SET ROLE regress_checks_nobody;
SELECT * FROM tls_audit.run_checks();
SELECT * FROM tls_audit.check_history;
SELECT * FROM tls_audit.summary;
RESET ROLE;

-- GUCs: defaults, limits, superuser only.
SHOW tls_audit.expiry_warning_days;
SHOW tls_audit.expiry_critical_days;
SHOW tls_audit.history_retention_days;
SELECT name, context, vartype, min_val, max_val, boot_val FROM pg_settings
 WHERE name IN ('tls_audit.expiry_warning_days', 'tls_audit.expiry_critical_days',
                'tls_audit.history_retention_days') ORDER BY name;
SET tls_audit.expiry_warning_days = -1;
SET tls_audit.history_retention_days = 'forever';
SET ROLE regress_checks_monitor;
SET tls_audit.expiry_critical_days = 1;
RESET ROLE;

-- record_checks(): history rows, the worst severity returned, one WARNING per
-- problem (which problems depends on the server: the WARNINGs are counted
-- from the server log in test/t/031_checks_cron.pl).
-- No NOTIFY unless tls_audit.notify_channel names a channel (psql would show
-- an "Asynchronous notification" line after the command).
LISTEN tls_audit;
SHOW tls_audit.notify_channel;
TRUNCATE tls_audit.check_history;
SET client_min_messages = error;
CREATE TEMP TABLE recorded AS SELECT tls_audit.record_checks() AS worst;
RESET client_min_messages;
SELECT count(*) = (SELECT count(*) FROM tls_audit.run_checks()) AS one_row_per_finding,
       count(DISTINCT run_at) AS runs
  FROM tls_audit.check_history;
-- The severity returned is the worst one recorded.
SELECT r.worst = (SELECT severity FROM tls_audit.check_history
                   ORDER BY array_position(ARRAY['ok', 'info', 'warning', 'critical'], severity) DESC LIMIT 1)
       AS worst_is_returned
  FROM recorded r;
-- The history holds what run_checks() finds.
SELECT count(*) AS history_differs_from_checks FROM (
    (SELECT "check", severity, object FROM tls_audit.check_history
     EXCEPT ALL SELECT "check", severity, object FROM tls_audit.run_checks())
    UNION ALL
    (SELECT "check", severity, object FROM tls_audit.run_checks()
     EXCEPT ALL SELECT "check", severity, object FROM tls_audit.check_history)) d;

-- The summary agrees with the checks and with the last run.
SET client_min_messages = error;
SELECT s.worst_severity = (SELECT tls_audit.record_checks()) AS worst_matches,
       s.critical + s.warning + s.info + s.ok = (SELECT count(*) FROM tls_audit.run_checks()) AS counts_add_up,
       s.sessions_below_floor = (SELECT count(*) FROM tls_audit.sessions WHERE below_floor) AS below_floor_ok,
       s.server_cert_days_left IS NULL = NOT current_setting('ssl')::boolean AS days_left_iff_ssl,
       s.last_run_at = (SELECT max(run_at) FROM tls_audit.check_history) AS last_run_ok,
       s.last_run_severity = s.worst_severity AS last_severity_ok
  FROM tls_audit.summary s;
RESET client_min_messages;

-- Retention: rows older than tls_audit.history_retention_days go at the next run.
INSERT INTO tls_audit.check_history VALUES
  (now() - interval '100 days', 'ssl_enabled', 'ok', NULL, 'old row', NULL),
  (now() - interval '10 days', 'ssl_enabled', 'ok', NULL, 'recent row', NULL);
SET client_min_messages = error;
SELECT tls_audit.record_checks() IS NOT NULL AS recorded;
RESET client_min_messages;
SELECT message FROM tls_audit.check_history WHERE message LIKE '% row' ORDER BY run_at;
SET tls_audit.history_retention_days = 5;
SET client_min_messages = error;
SELECT tls_audit.record_checks() IS NOT NULL AS recorded;
RESET client_min_messages;
SELECT message FROM tls_audit.check_history WHERE message LIKE '% row' ORDER BY run_at;
-- 0 keeps everything.
SET tls_audit.history_retention_days = 0;
INSERT INTO tls_audit.check_history VALUES
  (now() - interval '10000 days', 'ssl_enabled', 'ok', NULL, 'ancient row', NULL);
SET client_min_messages = error;
SELECT tls_audit.record_checks() IS NOT NULL AS recorded;
RESET client_min_messages;
SELECT message FROM tls_audit.check_history WHERE message LIKE '% row' ORDER BY run_at;
RESET tls_audit.history_retention_days;

-- The history keeps only the four severities.
INSERT INTO tls_audit.check_history VALUES ('2000-01-01 00:00:00+00', 'ssl_enabled', 'fatal', NULL, 'x', NULL);

-- pg_dump keeps the history's rows.
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'pg_tls_audit';

-- Objects, privileges and comments.
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict, p.proconfig,
       pg_get_function_result(p.oid) AS result, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p
 WHERE p.pronamespace = 'tls_audit'::regnamespace
   AND p.proname IN ('run_checks', 'record_checks', 'summary_row')
 ORDER BY p.proname;
-- (MAINTAIN, new in 17, left out so that the output is the same everywhere)
SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented,
       (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || ':' || a.privilege_type,
                          ',' ORDER BY a.grantee = c.relowner DESC, a.privilege_type)
          FROM aclexplode(c.relacl) AS a
         WHERE a.privilege_type <> 'MAINTAIN' AND a.grantee <> c.relowner) AS grants
  FROM pg_class c
 WHERE c.relnamespace = 'tls_audit'::regnamespace
   AND c.relname IN ('check_history', 'summary')
 ORDER BY c.relname;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'tls_audit.summary'::regclass AND attnum > 0 ORDER BY attnum;

-- Clean up.
TRUNCATE tls_audit.check_history;
DROP ROLE regress_checks_md5, regress_checks_monitor, regress_checks_nobody;
