-- ---------------------------------------------------------------------------
-- Remote STARTTLS probe of a PostgreSQL server.
-- Not executable by PUBLIC: it makes the server open outbound connections.
-- tls_audit.probe_allowed_hosts (superuser-set) can restrict the targets.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.probe(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT protocol text,
    OUT accepted boolean,
    OUT cipher text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe(text, integer, text, integer) IS
  'Which TLS versions a PostgreSQL server accepts (one STARTTLS handshake per version), with the cipher chosen for each';

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

REVOKE EXECUTE ON FUNCTION tls_audit.probe(text, integer, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text, text[]) FROM PUBLIC;

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
