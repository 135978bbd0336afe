-- connection() and version() over pg_regress's unix socket (no TLS here;
-- the TLS paths are covered by test/t/001_connection.pl).
SELECT tls_audit.version() = extversion AS version_matches
  FROM pg_extension WHERE extname = 'pg_tls_audit';

SELECT ssl, protocol, cipher, bits, sni, key_exchange_group, session_reused,
       client_cert_present, client_subject, server_cert_sha256
  FROM tls_audit.connection();

-- The function is marked as reading this backend only.
SELECT proname, provolatile, proparallel, proisstrict
  FROM pg_proc
 WHERE pronamespace = 'tls_audit'::regnamespace AND proname IN ('connection', 'version')
 ORDER BY proname;
