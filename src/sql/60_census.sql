-- ---------------------------------------------------------------------------
-- Connection census and floor readiness (needs shared_preload_libraries).
-- ---------------------------------------------------------------------------

-- @region census_entries
CREATE FUNCTION tls_audit.census_entries(
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT client_subject text,
    OUT outcome text,
    OUT rejection_reason text,
    OUT connections bigint,
    OUT first_seen timestamptz,
    OUT last_seen timestamptz,
    OUT alpn text,
    OUT auth_method text,
    OUT hba_line integer,
    OUT client_cert_verified boolean,
    OUT extended_master_secret boolean,
    OUT key_exchange_group text,
    OUT source text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_census_entries'
-- Reads shared memory that changes with every connection.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_entries() IS
  'Connection census entries (all of them for pg_read_all_stats, otherwise only the caller''s own role)';

CREATE VIEW tls_audit.census AS
  SELECT e.usename, e.datname, e.client_addr, e.application_name, e.transport, e.protocol, e.cipher,
         e.key_exchange_group, e.alpn, e.client_subject, e.outcome, e.rejection_reason, e.connections,
         e.first_seen, e.last_seen, e.auth_method, e.hba_line, e.client_cert_verified,
         e.extended_master_secret, e.source
    FROM tls_audit.census_entries() AS e;
COMMENT ON VIEW tls_audit.census IS
  'Connection attempts counted since the last census_reset(), per user, database, address, application, transport, protocol, cipher, key-exchange group, ALPN, client certificate subject, outcome (authenticated, auth_failed, startup_failed, tls_rejected, policy_violation), authentication method, pg_hba.conf line, client certificate verification, extended master secret and source (the server itself, or a pooler of tls_audit.poolers whose clients were sampled)';
COMMENT ON COLUMN tls_audit.census.usename IS 'Role name the client asked for (NULL for tls_rejected: no startup packet yet)';
COMMENT ON COLUMN tls_audit.census.datname IS 'Database name the client asked for';
COMMENT ON COLUMN tls_audit.census.client_addr IS 'Client IP address; NULL for unix sockets';
COMMENT ON COLUMN tls_audit.census.application_name IS 'application_name from the startup packet';
COMMENT ON COLUMN tls_audit.census.transport IS 'unix, tcp (no encryption), tls or gss (GSSAPI encryption)';
COMMENT ON COLUMN tls_audit.census.protocol IS 'TLS protocol version (tls)';
COMMENT ON COLUMN tls_audit.census.cipher IS 'TLS cipher suite (tls)';
COMMENT ON COLUMN tls_audit.census.key_exchange_group IS 'Key-exchange group of the TLS handshake as OpenSSL names it (x25519, secp256r1, X25519MLKEM768, ...; other or other hybrid for a group the census does not name); NULL without TLS, for tls_rejected, and for entries recorded before 1.2';
COMMENT ON COLUMN tls_audit.census.alpn IS 'ALPN protocol selected: postgresql (17+ server and libpq 17+ client), other, or NULL for none';
COMMENT ON COLUMN tls_audit.census.client_subject IS 'Client certificate subject, RFC 2253 (tls with a client certificate)';
COMMENT ON COLUMN tls_audit.census.outcome IS 'authenticated, auth_failed (authentication refused), startup_failed (authenticated, then refused: unknown role or database, connection limits), tls_rejected, or policy_violation (authenticated below its role''s tls_audit.role_min_protocol floor, with tls_audit.enforce_floor = log: admitted, or on: refused)';
COMMENT ON COLUMN tls_audit.census.rejection_reason IS 'OpenSSL''s reason a TLS handshake was refused (tls_rejected), or the server''s FATAL message (startup_failed)';
COMMENT ON COLUMN tls_audit.census.connections IS 'Attempts counted with this key';
COMMENT ON COLUMN tls_audit.census.first_seen IS 'First attempt with this key';
COMMENT ON COLUMN tls_audit.census.last_seen IS 'Latest attempt with this key';
COMMENT ON COLUMN tls_audit.census.auth_method IS 'pg_hba.conf method of the attempt (scram-sha-256 on an md5 line when the role''s secret is a SCRAM verifier); NULL when unknown (tls_rejected, entries recorded before 1.1)';
COMMENT ON COLUMN tls_audit.census.hba_line IS 'Line number of the pg_hba.conf rule that matched (the file is not kept; see tls_audit.sessions.hba_file); NULL when unknown';
COMMENT ON COLUMN tls_audit.census.client_cert_verified IS 'True when the server required and verified a client certificate (cert method or clientcert=verify-ca/verify-full); NULL when unknown';
COMMENT ON COLUMN tls_audit.census.extended_master_secret IS 'Whether the TLS handshake negotiated the extended master secret (RFC 7627; true for TLSv1.3); NULL without TLS or when unknown';
COMMENT ON COLUMN tls_audit.census.source IS 'Where the connection was seen: NULL for a connection to this server itself (counted by its hooks), else the name of the pooler in tls_audit.poolers whose SHOW CLIENTS listed it (sampled every tls_audit.pooler_sample_interval, each client connection counted once; authenticated, with only the facts pgbouncer shows)';
GRANT SELECT ON tls_audit.census TO PUBLIC;
-- @end census_entries

CREATE FUNCTION tls_audit.census_info(
    OUT entries bigint,
    OUT max_entries integer,
    OUT evicted bigint,
    OUT rejections_dropped bigint,
    OUT since_reset timestamptz,
    OUT file_loaded boolean,
    OUT loaded_entries bigint,
    OUT file_status text,
    OUT evicted_authenticated bigint,
    OUT evicted_unauthenticated bigint,
    OUT dropped_unauthenticated bigint,
    OUT last_save_at timestamptz,
    OUT last_save_error text,
    OUT lost_since timestamptz,
    OUT self_probes_skipped bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_census_info'
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_info() IS
  'State of the connection census: entries, tls_audit.census_max, evictions and dropped rejections since the last reset, what happened to the census file at server start, evictions split into authenticated and unauthenticated entries plus unauthenticated attempts not recorded for lack of room (these three since the reset or the server start), the last successful save of the census file and why the last save failed (NULL when it did not), and, when the previous server run ended without saving the census (crash, immediate shutdown, failed save), since when its counts were lost, and how many of this server''s own probe connections (tls_audit.probe() and the other probe functions run against this server) were not counted';

CREATE FUNCTION tls_audit.census_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'tls_audit_census_reset'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_reset() IS
  'Empty the connection census, zero its eviction count and remove the census file';
REVOKE EXECUTE ON FUNCTION tls_audit.census_reset() FROM PUBLIC;

CREATE FUNCTION tls_audit.floor_readiness(
    target text DEFAULT 'TLSv1.3',
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_floor_readiness'
-- Not STRICT: a NULL since means "the whole census"; a NULL target is an error.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.floor_readiness(text, interval) IS
  'Clients in the census that would be refused if ssl_min_protocol_version were raised to target (or TLS were required), and handshakes already rejected, optionally only those seen within the last since';

CREATE FUNCTION tls_audit.floor_readiness_summary(
    target text DEFAULT 'TLSv1.3',
    since interval DEFAULT NULL,
    OUT target text,
    OUT connections_total bigint,
    OUT connections_ready bigint,
    OUT ready_share double precision,
    OUT clients_not_ready bigint,
    OUT connections_rejected bigint,
    OUT complete boolean,
    OUT evicted_since timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_floor_readiness_summary'
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.floor_readiness_summary(text, interval) IS
  'One row: authenticated connections in the census, how many would still be accepted at floor target, their share, the number of distinct clients that would not, handshakes already rejected, whether the census is complete (false when an authenticated entry was evicted since the reset, or within since) and the first authenticated eviction since the reset';
