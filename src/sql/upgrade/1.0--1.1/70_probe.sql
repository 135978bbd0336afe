-- ---------------------------------------------------------------------------
-- probe_certificates() gains ca_files text[] (trust-store readiness: the chain
-- verified against each CA bundle separately) and the columns ca_bundle,
-- anchor_subject, anchor_sha256 and path_length. Callers of 1.0 keep working:
-- the new argument is last and defaulted, the 1.0 columns keep their order
-- and meaning. Grants made on the 1.0 function by hand must be made again.
-- The 1.0 C symbol tls_audit_probe_certificates stays in the library for
-- installations not yet updated.
-- ---------------------------------------------------------------------------

DROP FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text);

CREATE FUNCTION tls_audit.probe_certificates(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    ca_file text DEFAULT NULL,
    ca_files text[] DEFAULT NULL,
    @CERTIFICATE_OUT_COLUMNS@,
    OUT verified boolean,
    OUT verify_error text,
    OUT hostname_match boolean,
    OUT protocol text,
    OUT cipher text,
    OUT ca_bundle text,
    OUT anchor_subject text,
    OUT anchor_sha256 text,
    OUT path_length integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_certificates_v1_1'
-- Not STRICT: sni, ca_file and ca_files may be NULL.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text, text[]) IS
  'The certificate chain a PostgreSQL server presents over STARTTLS, verified against ca_file (or the system store) and the host name; with ca_files, verified against each bundle separately (one set of rows per bundle) with the anchor reached';

REVOKE EXECUTE ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text, text[]) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Direct TLS (src/sql/70_probe.sql).
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
