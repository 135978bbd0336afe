-- ---------------------------------------------------------------------------
-- The reload pre-flight (1.1): what pg_reload_conf() would do with the TLS
-- files and settings as they are now, without touching the running server.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.reload_preflight(
    OUT stage text,
    OUT file text,
    OUT ok boolean,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_reload_preflight'
-- VOLATILE: reads the server's files and the configuration files.
-- PARALLEL RESTRICTED: reads pg_file_settings through SPI.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.reload_preflight() IS
  'One row per stage of the server''s TLS load, in its order (certificate, key, key_match, ca, crl, dh_params, ciphers, protocols): builds a throw-away SSL_CTX as the server would on pg_reload_conf() from the current settings and those changed in the configuration files but not applied yet; ok is false with OpenSSL''s reason in error when the stage fails, NULL when it cannot be decided (passphrase command not run). Never changes the running server''s TLS state and never shows key material.';
REVOKE EXECUTE ON FUNCTION tls_audit.reload_preflight() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.reload_preflight() TO pg_monitor;

CREATE FUNCTION tls_audit.reload_would_succeed()
RETURNS boolean
AS 'MODULE_PATHNAME', 'tls_audit_reload_would_succeed'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.reload_would_succeed() IS
  'False when a stage of tls_audit.reload_preflight() fails: a reload would keep the previous TLS configuration and a restart would fail';
REVOKE EXECUTE ON FUNCTION tls_audit.reload_would_succeed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.reload_would_succeed() TO pg_monitor;
