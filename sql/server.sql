-- server_tls(), server_certificates and ca_certificates on whatever server
-- runs this (pg_regress's instance has ssl = off; `make installcheck` may run
-- on a server with TLS): each value is compared with the server's own
-- settings and files, so the output is the same everywhere. The fixed
-- certificates of the harness are checked in test/t/020_server.pl.
\x on
SELECT ssl_enabled = current_setting('ssl')::boolean AS ssl_enabled_is_setting,
       cert_file = current_setting('ssl_cert_file') AS cert_file_is_setting,
       key_file = current_setting('ssl_key_file') AS key_file_is_setting,
       coalesce(ca_file, '') = current_setting('ssl_ca_file') AS ca_file_is_setting,
       coalesce(crl_file, '') = current_setting('ssl_crl_file') AS crl_file_is_setting,
       -- Known exactly when ssl is on (and the files are readable).
       (leaf_subject IS NOT NULL) = ssl_enabled AS leaf_known_iff_ssl,
       (days_left IS NOT NULL) = ssl_enabled AS days_left_iff_ssl,
       (not_after IS NOT NULL) = ssl_enabled AS not_after_iff_ssl,
       (key_matches_cert IS NOT NULL) = ssl_enabled AS key_checked_iff_ssl,
       coalesce(key_matches_cert, true) AS key_matches_or_unknown,
       (file_sha256 IS NOT NULL) = ssl_enabled AS file_sha_iff_ssl,
       -- The served certificate is the file's, unless a renewal waits for a reload.
       reload_pending IS NOT DISTINCT FROM (served_sha256 IS DISTINCT FROM file_sha256 AND ssl_enabled
                                            AND served_sha256 IS NOT NULL) OR reload_pending IS NULL
         AS reload_pending_consistent,
       (served_source = 'none') = NOT ssl_enabled AS served_source_none_iff_no_ssl,
       min_protocol = current_setting('ssl_min_protocol_version') AS min_protocol_is_setting,
       coalesce(max_protocol, '') = current_setting('ssl_max_protocol_version') AS max_protocol_is_setting,
       ciphers = current_setting('ssl_ciphers') AS ciphers_is_setting,
       served_error IS NULL AS no_served_error,
       file_errors IS NULL OR NOT ssl_enabled AS no_file_errors_with_ssl,
       -- Over a unix socket the groups come from a context built from the
       -- setting; none with ssl off. Up to 17 ssl_ecdh_curve is one curve.
       (offered_groups IS NOT NULL) = ssl_enabled AS offered_groups_iff_ssl,
       offered_groups_source IS NOT DISTINCT FROM (CASE WHEN ssl_enabled THEN 'settings' END)
         AS offered_groups_from_settings,
       NOT ssl_enabled OR cardinality(offered_groups) =
         CASE WHEN current_setting('server_version_num')::int < 180000 THEN 1
              ELSE cardinality(string_to_array(current_setting('ssl_groups'), ':')) END
         AS one_group_per_name,
       hybrid_groups_supported IS NOT NULL AS hybrid_groups_supported_known
  FROM tls_audit.server_tls();
\x off

-- The certificate views list the chain when ssl is on, nothing when off.
SELECT (count(*) > 0) = current_setting('ssl')::boolean AS server_certificates_iff_ssl
  FROM tls_audit.server_certificates;
SELECT count(*) = 0 OR current_setting('ssl_ca_file') <> '' AS ca_certificates_iff_ca_file
  FROM tls_audit.ca_certificates;

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
SELECT ssl_enabled = current_setting('ssl')::boolean AS monitor_sees_ssl_enabled
  FROM tls_audit.server_tls();
SELECT count(*) >= 0 AS monitor_reads_server_certificates FROM tls_audit.server_certificates;
SELECT count(*) >= 0 AS monitor_reads_ca_certificates FROM tls_audit.ca_certificates;
RESET ROLE;
DROP ROLE regress_server_nobody;
DROP ROLE regress_server_monitor;

-- Called twice in one statement: the per-backend caches are reused.
SELECT a.ssl_enabled = b.ssl_enabled AS same
  FROM tls_audit.server_tls() a, tls_audit.server_tls() b;
