-- tls_audit.run_checks(), record_checks(), check_history and summary over
-- pg_regress's unix socket. pg_regress's instance runs with ssl = off and
-- trust lines in pg_hba.conf; every check on certificates, ciphers and TLS
-- sessions is made to fire in test/t/030_checks.pl.

-- Every check reports, in a stable order, at least one row.
SELECT "check", count(*) AS rows
  FROM tls_audit.run_checks() WITH ORDINALITY AS c("check", severity, object, message, hint, n)
 GROUP BY "check" ORDER BY min(n);
SELECT array_agg(DISTINCT "check" ORDER BY "check") = ARRAY[
    'ca_file_expiry', 'client_cert_expiry', 'crl_expiry', 'hba_host_without_ssl', 'hba_hostnossl',
    'hba_weak_auth', 'max_protocol', 'md5_passwords', 'min_protocol', 'password_encryption',
    'server_cert_chain', 'server_cert_expiry', 'server_cert_key_strength', 'server_cert_reload_pending',
    'server_cert_self_signed', 'server_cert_signature', 'server_key_permissions',
    'sessions_below_floor', 'settings_not_applied', 'ssl_enabled', 'weak_ciphers'] AS all_twenty_one
  FROM tls_audit.run_checks();

-- Severities are one of four; 'ok' rows carry no object and no hint, and
-- every problem row says what it is about and how to fix it.
SELECT DISTINCT severity FROM tls_audit.run_checks()
 WHERE severity NOT IN ('ok', 'info', 'warning', 'critical');
SELECT count(*) AS bad_ok_rows FROM tls_audit.run_checks()
 WHERE severity = 'ok' AND (object IS NOT NULL OR hint IS NOT NULL OR message IS NULL);
SELECT count(*) AS problems_without_hint FROM tls_audit.run_checks()
 WHERE severity IN ('warning', 'critical') AND (object IS NULL OR hint IS NULL);

-- ssl is off here: the server's TLS checks do not apply.
SELECT "check", severity, message FROM tls_audit.run_checks()
 WHERE "check" IN ('ssl_enabled', 'min_protocol', 'max_protocol', 'weak_ciphers',
                   'server_cert_expiry', 'server_cert_key_strength', 'server_cert_signature',
                   'server_cert_self_signed', 'server_cert_chain', 'server_key_permissions',
                   'server_cert_reload_pending', 'ca_file_expiry', 'crl_expiry')
 ORDER BY "check";

-- pg_hba.conf as pg_hba_file_rules shows it: pg_regress's trust lines.
SELECT r."check", r.severity, r.object, h.type, h.auth_method
  FROM tls_audit.run_checks() r
  LEFT JOIN pg_hba_file_rules h ON r.object = 'pg_hba.conf line ' || h.line_number
 WHERE r."check" LIKE 'hba%'
 ORDER BY r."check", h.line_number;

-- This session is on a unix socket: never below the floor.
SELECT "check", severity FROM tls_audit.run_checks()
 WHERE "check" IN ('sessions_below_floor', 'client_cert_expiry') ORDER BY "check";

-- password_encryption and MD5 password hashes.
SELECT severity, message FROM tls_audit.run_checks() WHERE "check" = 'password_encryption';
SET password_encryption = 'md5';
SELECT severity, object, message FROM tls_audit.run_checks() WHERE "check" = 'password_encryption';
CREATE ROLE regress_checks_md5 LOGIN PASSWORD 'not-a-secret';
RESET password_encryption;
SELECT severity, object, message LIKE '%regress_checks_md5%' AS names_role
  FROM tls_audit.run_checks() WHERE "check" = 'md5_passwords';

-- A pg_monitor member may run the checks; what it cannot read is 'info'.
CREATE ROLE regress_checks_monitor LOGIN;
GRANT pg_monitor TO regress_checks_monitor;
CREATE ROLE regress_checks_nobody LOGIN;
SET ROLE regress_checks_monitor;
SELECT "check", severity, message FROM tls_audit.run_checks()
 WHERE "check" IN ('hba_hostnossl', 'hba_host_without_ssl', 'hba_weak_auth', 'md5_passwords')
 ORDER BY "check";
SELECT count(*) >= 0 AS monitor_reads_history FROM tls_audit.check_history;
SELECT worst_severity IS NOT NULL AS monitor_reads_summary FROM tls_audit.summary;
SELECT tls_audit.record_checks();
RESET ROLE;
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

-- record_checks(): history rows, the worst severity returned, one WARNING per problem.
-- No NOTIFY unless tls_audit.notify_channel names a channel (psql would show
-- an "Asynchronous notification" line after the command).
LISTEN tls_audit;
SHOW tls_audit.notify_channel;
SELECT count(*) AS history_before FROM tls_audit.check_history;
SELECT tls_audit.record_checks() AS worst;
SELECT count(*) = (SELECT count(*) FROM tls_audit.run_checks()) AS one_row_per_finding,
       count(DISTINCT run_at) AS runs
  FROM tls_audit.check_history;
SELECT "check", severity FROM tls_audit.check_history
 WHERE severity IN ('warning', 'critical') ORDER BY "check", object;

-- The summary agrees with the checks and with the last run.
SET client_min_messages = error;
SELECT s.worst_severity = (SELECT tls_audit.record_checks()) AS worst_matches,
       s.critical + s.warning + s.info + s.ok = (SELECT count(*) FROM tls_audit.run_checks()) AS counts_add_up,
       s.sessions_below_floor, s.server_cert_days_left,
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
SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented, c.relacl
  FROM pg_class c
 WHERE c.relnamespace = 'tls_audit'::regnamespace
   AND c.relname IN ('check_history', 'summary')
 ORDER BY c.relname;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'tls_audit.summary'::regclass AND attnum > 0 ORDER BY attnum;

-- Clean up.
TRUNCATE tls_audit.check_history;
DROP ROLE regress_checks_md5, regress_checks_monitor, regress_checks_nobody;
