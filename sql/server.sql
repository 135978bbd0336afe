-- server_tls(), server_certificates and ca_certificates on an instance
-- without TLS (the pg_regress instance runs with ssl = off): sensible NULLs,
-- no rows, no error. Everything with TLS is in test/t/020_server.pl.
\x on
SELECT ssl_enabled, cert_file, key_file, ca_file, crl_file, leaf_subject, not_after, days_left,
       key_matches_cert, key_file_mode, key_file_owner, key_file_permissions_ok,
       chain_complete, chain_error, served_sha256, file_sha256, reload_pending,
       min_protocol = current_setting('ssl_min_protocol_version') AS min_protocol_is_setting,
       max_protocol IS NULL AS no_max_protocol,
       ciphers = current_setting('ssl_ciphers') AS ciphers_is_setting,
       served_source, served_at, served_not_after, served_days_left, served_error,
       crl_next_update, file_errors
  FROM tls_audit.server_tls();
\x off

SELECT count(*) AS server_certificates FROM tls_audit.server_certificates;
SELECT count(*) AS ca_certificates FROM tls_audit.ca_certificates;

-- Column layout of the views.
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid = 'tls_audit.server_certificates'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid = 'tls_audit.ca_certificates'::regclass AND attnum > 0
 ORDER BY attnum;

-- Privileges: these read server files, so not PUBLIC; pg_monitor may.
SELECT p.proname,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('pg_monitor', p.oid, 'EXECUTE') AS pg_monitor_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'tls_audit'::regnamespace
   AND p.proname IN ('server_tls', 'server_certificates', 'ca_certificates')
 ORDER BY p.proname;
SELECT c.relname,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('pg_monitor', c.oid, 'SELECT') AS pg_monitor_select
  FROM pg_class c
 WHERE c.relnamespace = 'tls_audit'::regnamespace
   AND c.relname IN ('server_certificates', 'ca_certificates')
 ORDER BY c.relname;

CREATE ROLE regress_server_nobody;
CREATE ROLE regress_server_monitor IN ROLE pg_monitor;
SET ROLE regress_server_nobody;
SELECT ssl_enabled FROM tls_audit.server_tls();
SELECT count(*) FROM tls_audit.server_certificates;
SELECT count(*) FROM tls_audit.ca_certificates;
SELECT count(*) FROM tls_audit.server_certificates();
RESET ROLE;
SET ROLE regress_server_monitor;
SELECT ssl_enabled, served_source, reload_pending FROM tls_audit.server_tls();
SELECT count(*) FROM tls_audit.server_certificates;
SELECT count(*) FROM tls_audit.ca_certificates;
RESET ROLE;
DROP ROLE regress_server_nobody;
DROP ROLE regress_server_monitor;

-- Called twice in one statement: the per-backend caches are reused.
SELECT a.ssl_enabled = b.ssl_enabled AS same
  FROM tls_audit.server_tls() a, tls_audit.server_tls() b;
