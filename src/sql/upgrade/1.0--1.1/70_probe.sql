-- ---------------------------------------------------------------------------
-- 1.1: remote probe of direct TLS (src/sql/70_probe.sql).
-- ---------------------------------------------------------------------------

-- Direct TLS (PostgreSQL 17+, libpq's sslnegotiation=direct): one connection
-- that starts the TLS handshake at once, offering ALPN "postgresql". A
-- separate function, so that probe()'s rows stay one per TLS version.
CREATE FUNCTION tls_audit.probe_direct_tls(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT accepted boolean,
    OUT protocol text,
    OUT cipher text,
    OUT alpn text,
    OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_probe_direct_tls'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_direct_tls(text, integer, text, integer) IS
  'Whether a PostgreSQL server accepts direct TLS (handshake without SSLRequest, ALPN "postgresql", PostgreSQL 17+), with the protocol, cipher and ALPN negotiated or why not';
REVOKE EXECUTE ON FUNCTION tls_audit.probe_direct_tls(text, integer, text, integer) FROM PUBLIC;
