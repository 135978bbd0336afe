-- ---------------------------------------------------------------------------
-- The server's own TLS configuration: its certificate, key, CA and CRL files
-- as on disk, and the certificate it actually serves (captured from TLS
-- handshakes since the last reload, else a loopback self-probe).
-- These read server files: not for PUBLIC; granted to pg_monitor.
-- ---------------------------------------------------------------------------

-- @region server_tls
CREATE FUNCTION tls_audit.server_tls(
    OUT ssl_enabled boolean,
    OUT cert_file text,
    OUT key_file text,
    OUT ca_file text,
    OUT crl_file text,
    OUT leaf_subject text,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_matches_cert boolean,
    OUT key_file_mode text,
    OUT key_file_owner text,
    OUT key_file_permissions_ok boolean,
    OUT chain_complete boolean,
    OUT chain_error text,
    OUT served_sha256 text,
    OUT file_sha256 text,
    OUT reload_pending boolean,
    OUT min_protocol text,
    OUT max_protocol text,
    OUT ciphers text,
    OUT served_source text,
    OUT served_at timestamptz,
    OUT served_not_after timestamptz,
    OUT served_days_left integer,
    OUT served_error text,
    OUT crl_next_update timestamptz,
    OUT file_errors text[],
    OUT tls13_ciphers text,
    OUT groups text,
    OUT last_reload_at timestamptz,
    OUT last_reload_ok boolean,
    OUT last_reload_error text,
    OUT offered_groups text[],
    OUT offered_groups_source text,
    OUT hybrid_groups_supported boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_server_tls'
-- VOLATILE: reads files, shared memory and may connect to this server.
-- PARALLEL RESTRICTED: the per-backend caches and the self-probe belong to the leader.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.server_tls() IS
  'The server''s TLS configuration in one row: certificate expiry, key match and key file permissions, chain completeness, served versus on-disk certificate (reload_pending), protocol range, ciphers, TLS 1.3 cipher suites (ssl_tls13_ciphers, PostgreSQL 18; NULL before) and key exchange groups (ssl_groups; ssl_ecdh_curve before 18); the last TLS reload (last_reload_at, last_reload_ok, last_reload_error: see tls_audit.reload_history; NULL unless preloaded); the key exchange groups the running server really offers, by OpenSSL''s names in its order (offered_groups; offered_groups_source: session = read from the server''s TLS context through this TLS connection, settings = a context built from the setting as the server builds its own; NULL with ssl off) and whether this OpenSSL can offer hybrid post-quantum ML-KEM groups such as X25519MLKEM768 (hybrid_groups_supported: OpenSSL 3.5 or newer). Never shows key material.';
REVOKE EXECUTE ON FUNCTION tls_audit.server_tls() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.server_tls() TO pg_monitor;
-- @end server_tls

CREATE FUNCTION tls_audit.server_certificates(
    OUT source text,
    @CERTIFICATE_OUT_COLUMNS@)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_server_certificates'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.server_certificates() IS
  'The rows of tls_audit.server_certificates';
REVOKE EXECUTE ON FUNCTION tls_audit.server_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.server_certificates() TO pg_monitor;

CREATE VIEW tls_audit.server_certificates AS
    SELECT source, @CERTIFICATE_COLUMN_NAMES@
      FROM tls_audit.server_certificates();
COMMENT ON VIEW tls_audit.server_certificates IS
  'Each certificate of the server''s chain, as read from ssl_cert_file (source = file) and as served to TLS clients (source = served); position 0 is the leaf';
GRANT SELECT ON tls_audit.server_certificates TO pg_monitor;

CREATE FUNCTION tls_audit.ca_certificates(
    @CERTIFICATE_OUT_COLUMNS@,
    OUT crl_next_update timestamptz,
    OUT crl_present boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_ca_certificates'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.ca_certificates() IS
  'The rows of tls_audit.ca_certificates';
REVOKE EXECUTE ON FUNCTION tls_audit.ca_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.ca_certificates() TO pg_monitor;

CREATE VIEW tls_audit.ca_certificates AS
    SELECT @CERTIFICATE_COLUMN_NAMES@, crl_next_update, crl_present
      FROM tls_audit.ca_certificates();
COMMENT ON VIEW tls_audit.ca_certificates IS
  'The certificates in ssl_ca_file (trusted for client certificates) with their expiry, and the next update of the CRL in ssl_crl_file or ssl_crl_dir that each one issued';
COMMENT ON COLUMN tls_audit.ca_certificates.crl_present IS
  'Whether a CRL this CA issued is in ssl_crl_file or ssl_crl_dir; NULL when neither is set. Once a CRL is configured the server checks CRLs for the whole client chain, so a CA without one rejects every client certificate below it (check crl_coverage)';
GRANT SELECT ON tls_audit.ca_certificates TO pg_monitor;
