-- ---------------------------------------------------------------------------
-- The calling session's own transport (like contrib sslinfo, in one row).
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.version()
RETURNS text
AS 'MODULE_PATHNAME', 'tls_audit_version'
LANGUAGE C IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.version() IS
  'Version of the loaded pg_tls_audit library';

CREATE FUNCTION tls_audit.connection(
    OUT ssl boolean,
    OUT protocol text,
    OUT cipher text,
    OUT bits integer,
    OUT sni text,
    OUT key_exchange_group text,
    OUT session_reused boolean,
    OUT client_cert_present boolean,
    OUT client_subject text,
    OUT client_issuer text,
    OUT client_serial text,
    OUT client_not_before timestamptz,
    OUT client_not_after timestamptz,
    OUT server_cert_sha256 text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_connection'
-- Reads this backend's own connection: restricted to the leader.
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.connection() IS
  'TLS details of the calling session: protocol, cipher, SNI, key exchange group, client certificate, served certificate fingerprint';
