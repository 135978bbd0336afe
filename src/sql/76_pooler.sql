-- ---------------------------------------------------------------------------
-- Poolers (1.2): the pgbouncer admin consoles named in tls_audit.poolers,
-- read with the server's libpq (bounded by tls_audit.pooler_timeout, wait
-- event TlsAuditPooler, cancellable). Each function lists every configured
-- pooler; one that cannot be read gives a single row with its name and the
-- error, the others are still listed. Connection strings are never shown.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.pooler_clients(
    OUT pooler text,
    OUT usename text,
    OUT datname text,
    OUT state text,
    OUT client_addr inet,
    OUT client_port integer,
    OUT application_name text,
    OUT connect_time timestamptz,
    OUT ptr text,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT key_exchange_group text,
    OUT tls text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_pooler_clients'
-- VOLATILE: asks the poolers over the network at each call.
-- PARALLEL RESTRICTED: waits on the backend's latch and reads its settings.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pooler_clients() IS
  'Per pooler of tls_audit.poolers, one row per client connection of its SHOW CLIENTS: pooler name, user, database, state, client address and port (NULL address for a unix socket), application_name, connect_time, pgbouncer''s connection pointer (ptr), transport (tls, tcp or unix), the TLS protocol, cipher and key-exchange group parsed from pgbouncer''s tls column (named as in tls_audit.sessions; NULL for plaintext), the tls column as pgbouncer wrote it, and error (why the pooler could not be read, or its tls column could not be parsed)';
-- Makes the server connect to the configured poolers and shows their clients.
REVOKE EXECUTE ON FUNCTION tls_audit.pooler_clients() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.pooler_clients() TO pg_monitor;

CREATE FUNCTION tls_audit.pooler_servers(
    OUT pooler text,
    OUT usename text,
    OUT datname text,
    OUT state text,
    OUT server_addr inet,
    OUT server_port integer,
    OUT application_name text,
    OUT connect_time timestamptz,
    OUT ptr text,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT key_exchange_group text,
    OUT tls text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_pooler_servers'
-- VOLATILE, PARALLEL RESTRICTED: as pooler_clients().
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pooler_servers() IS
  'Per pooler of tls_audit.poolers, one row per pooler -> server connection of its SHOW SERVERS, with the columns of pooler_clients() (server_addr and server_port: the database server the pooler connected to)';
REVOKE EXECUTE ON FUNCTION tls_audit.pooler_servers() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.pooler_servers() TO pg_monitor;

CREATE FUNCTION tls_audit.pooler_settings(
    OUT pooler text,
    OUT setting text,
    OUT value text,
    OUT default_value text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_pooler_settings'
-- VOLATILE, PARALLEL RESTRICTED: as pooler_clients().
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pooler_settings() IS
  'Per pooler of tls_audit.poolers, its TLS settings from SHOW CONFIG (client_tls_*, client_tls13_*, server_tls_*, server_tls13_*): setting, value, default_value; error says why a pooler could not be read. The certificate the pooler serves (from client_tls_cert_file): tls_audit.pooler_certificates()';
REVOKE EXECUTE ON FUNCTION tls_audit.pooler_settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.pooler_settings() TO pg_monitor;

-- The certificate each pooler serves its clients. A function of its own, one
-- row per chain certificate like tls_audit.server_certificates and
-- probe_certificates(), rather than rows of pooler_settings(): those are
-- pgbouncer's settings as SHOW CONFIG states them, this is what a client is
-- actually served (which a renewed but not reloaded client_tls_cert_file
-- differs from), learned over the network.
CREATE FUNCTION tls_audit.pooler_certificates(
    OUT pooler text,
    @CERTIFICATE_OUT_COLUMNS@,
    OUT verified boolean,
    OUT verify_error text,
    OUT hostname_match boolean,
    OUT verified_against text,
    OUT protocol text,
    OUT cipher text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_pooler_certificates'
-- VOLATILE, PARALLEL RESTRICTED: as pooler_clients() (a STARTTLS probe per pooler).
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pooler_certificates() IS
  'Per pooler of tls_audit.poolers, the certificate chain it serves its clients (client_tls_cert_file as pgbouncer loaded it), probed over STARTTLS at the host and port of its admin console, one row per certificate as presented (position 0 = the leaf) with the columns of tls_audit.certificate_info(); verified: the chain verifies to a trusted CA, verified_against: sslrootcert (the file the connection string names) or system (the system store), hostname_match: the leaf matches the host of the connection string; protocol and cipher of the probe; error: why the chain could not be probed (the pooler is down, refuses TLS, or is reached over a unix socket)';
REVOKE EXECUTE ON FUNCTION tls_audit.pooler_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.pooler_certificates() TO pg_monitor;
