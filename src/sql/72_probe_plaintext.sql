-- ---------------------------------------------------------------------------
-- Plaintext acceptance: does the server let an unencrypted connection reach
-- authentication? One StartupMessage without SSLRequest, the first answer
-- classified, nothing more sent (never a password).
-- Not executable by PUBLIC: it makes the server open outbound connections.
-- tls_audit.probe_allowed_hosts (superuser-set) can restrict the targets.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.probe_plaintext(
    host text,
    port integer DEFAULT 5432,
    user_name text DEFAULT NULL,
    dbname text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT result text,
    OUT auth_request text,
    OUT error_sqlstate text,
    OUT error_message text,
    OUT detail text,
    OUT probed_user text,
    OUT probed_dbname text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_probe_plaintext'
-- Not STRICT: user_name and dbname may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_plaintext(text, integer, text, text, integer) IS
  'Whether a PostgreSQL server lets an unencrypted connection for user_name/dbname reach authentication (accepted), refuses it (refused, with SQLSTATE and message) or answers something else (unknown); never sends a password';

REVOKE EXECUTE ON FUNCTION tls_audit.probe_plaintext(text, integer, text, text, integer) FROM PUBLIC;
