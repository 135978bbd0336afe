-- ---------------------------------------------------------------------------
-- Every session's transport and TLS details, flagged against a protocol floor
-- (GUC tls_audit.min_protocol). The certificate details, SNI and key exchange
-- group come from the session registry, which needs
-- shared_preload_libraries = 'pg_tls_audit'.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.preloaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'tls_audit_preloaded'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.preloaded() IS
  'True when pg_tls_audit was loaded by shared_preload_libraries and the session registry is active';

CREATE FUNCTION tls_audit.session_rows(
    OUT pid integer,
    OUT datid oid,
    OUT usesysid oid,
    OUT application_name text,
    OUT client_addr inet,
    OUT client_port integer,
    OUT backend_type text,
    OUT backend_start timestamptz,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT bits integer,
    OUT client_subject text,
    OUT client_issuer text,
    OUT client_serial text,
    OUT client_not_before timestamptz,
    OUT client_not_after timestamptz,
    OUT client_days_left integer,
    OUT client_key_type text,
    OUT client_key_bits integer,
    OUT client_signature_algorithm text,
    OUT sni text,
    OUT key_exchange_group text,
    OUT below_floor boolean,
    OUT floor_reason text,
    OUT alpn text,
    OUT auth_method text,
    OUT hba_file text,
    OUT hba_line integer,
    OUT client_cert_verified boolean,
    OUT extended_master_secret boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_session_rows'
-- VOLATILE: reads live shared state. PARALLEL RESTRICTED: the backend status
-- snapshot belongs to the leader (as for pg_stat_get_activity).
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
-- @region session_rows_comment
COMMENT ON FUNCTION tls_audit.session_rows() IS
  'The sessions of tls_audit.sessions with role and database OIDs instead of names, and below_floor and floor_reason judged by tls_audit.min_protocol alone; other roles'' details are NULL unless the caller has privileges of pg_read_all_stats';
-- @end session_rows_comment
-- It applies pg_stat_activity's visibility rule itself, so anyone may call it.
GRANT EXECUTE ON FUNCTION tls_audit.session_rows() TO PUBLIC;

CREATE FUNCTION tls_audit.session_floor(
    role oid,
    transport text,
    protocol text,
    OUT role_floor text,
    OUT below_floor boolean,
    OUT floor_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_session_floor'
-- Not STRICT: a NULL transport (a session the caller may not see) still has
-- a role floor. STABLE: reads the settings and the role memberships.
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.session_floor(oid, text, text) IS
  'The protocol floor tls_audit.role_min_protocol sets for a role (NULL when no entry applies) and whether a session of that role with this transport and protocol is below the floor that applies to it: the role''s, else tls_audit.min_protocol';

-- @region session_view_rows
CREATE FUNCTION tls_audit.session_view_rows(
    OUT pid integer,
    OUT usename name,
    OUT datname name,
    OUT application_name text,
    OUT client_addr inet,
    OUT client_port integer,
    OUT backend_type text,
    OUT backend_start timestamptz,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT bits integer,
    OUT client_subject text,
    OUT client_issuer text,
    OUT client_serial text,
    OUT client_not_before timestamptz,
    OUT client_not_after timestamptz,
    OUT client_days_left integer,
    OUT client_key_type text,
    OUT client_key_bits integer,
    OUT client_signature_algorithm text,
    OUT sni text,
    OUT key_exchange_group text,
    OUT alpn text,
    OUT below_floor boolean,
    OUT floor_reason text,
    OUT auth_method text,
    OUT hba_file text,
    OUT hba_line integer,
    OUT client_cert_verified boolean,
    OUT extended_master_secret boolean,
    OUT role_floor text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_session_view_rows'
-- As session_rows(). One call returns the view's rows whole: role and
-- database names and the floor columns (as session_floor() computes them)
-- are looked up once per role and database inside it, not joined and called
-- per row, which cost more than the scan itself.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.session_view_rows() IS
  'The rows of tls_audit.sessions, in its columns; other roles'' details are NULL unless the caller has privileges of pg_read_all_stats';
-- It applies pg_stat_activity's visibility rule itself, so anyone may call it.
GRANT EXECUTE ON FUNCTION tls_audit.session_view_rows() TO PUBLIC;
-- @end session_view_rows

CREATE VIEW tls_audit.sessions AS
-- @region sessions_query
    SELECT
            s.pid,
            s.usename,
            s.datname,
            s.application_name,
            s.client_addr,
            s.client_port,
            s.backend_type,
            s.backend_start,
            s.transport,
            s.protocol,
            s.cipher,
            s.bits,
            s.client_subject,
            s.client_issuer,
            s.client_serial,
            s.client_not_before,
            s.client_not_after,
            s.client_days_left,
            s.client_key_type,
            s.client_key_bits,
            s.client_signature_algorithm,
            s.sni,
            s.key_exchange_group,
            s.alpn,
            s.below_floor,
            s.floor_reason,
            s.auth_method,
            s.hba_file,
            s.hba_line,
            s.client_cert_verified,
            s.extended_master_secret,
            s.role_floor
    FROM tls_audit.session_view_rows() AS s;
-- @end sessions_query
COMMENT ON VIEW tls_audit.sessions IS
  'One row per client backend and walsender: transport (unix, tcp, tls, gss), protocol, cipher, client certificate details, SNI, key exchange group, whether the session is below its protocol floor (its role''s in tls_audit.role_min_protocol, else tls_audit.min_protocol), and how it authenticated (method, pg_hba.conf line, client certificate verification, extended master secret)';
COMMENT ON COLUMN tls_audit.sessions.pid IS 'Process ID of the backend';
COMMENT ON COLUMN tls_audit.sessions.usename IS 'Login role of the session';
COMMENT ON COLUMN tls_audit.sessions.datname IS 'Database of the session (NULL for a physical walsender)';
COMMENT ON COLUMN tls_audit.sessions.application_name IS 'application_name the client set';
COMMENT ON COLUMN tls_audit.sessions.client_addr IS 'Client IP address; NULL for unix sockets and for sessions the caller may not see';
COMMENT ON COLUMN tls_audit.sessions.client_port IS 'Client TCP port; -1 for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.backend_type IS 'client backend or walsender';
COMMENT ON COLUMN tls_audit.sessions.backend_start IS 'When the backend started (with pid, identifies the session)';
COMMENT ON COLUMN tls_audit.sessions.transport IS 'unix (unix-domain socket), tcp (TCP without encryption), tls, or gss (GSSAPI encryption without TLS)';
COMMENT ON COLUMN tls_audit.sessions.protocol IS 'Negotiated TLS protocol version (TLS sessions)';
COMMENT ON COLUMN tls_audit.sessions.cipher IS 'Negotiated cipher suite (TLS sessions)';
COMMENT ON COLUMN tls_audit.sessions.bits IS 'Symmetric key bits of the cipher (TLS sessions)';
COMMENT ON COLUMN tls_audit.sessions.client_subject IS 'Client certificate subject, RFC 2253, not cut at 63 bytes (registry; needs shared_preload_libraries)';
COMMENT ON COLUMN tls_audit.sessions.client_issuer IS 'Client certificate issuer, RFC 2253 (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_serial IS 'Client certificate serial number, upper-case hex (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_not_before IS 'Client certificate validity start (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_not_after IS 'Client certificate validity end (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_days_left IS 'Whole days from the transaction start until client_not_after; negative once expired (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_key_type IS 'Client certificate key type: RSA, EC, Ed25519, ... (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_key_bits IS 'Client certificate key size in bits (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_signature_algorithm IS 'Signature algorithm of the client certificate (registry)';
COMMENT ON COLUMN tls_audit.sessions.sni IS 'Server name the client asked for (TLS SNI); NULL when none was sent (registry)';
COMMENT ON COLUMN tls_audit.sessions.key_exchange_group IS 'Negotiated key exchange group, e.g. x25519 (registry)';
COMMENT ON COLUMN tls_audit.sessions.alpn IS 'ALPN protocol the server selected: postgresql (a PostgreSQL 17+ server and a libpq 17+ client, which offers it with either sslnegotiation); NULL before 17 or when the client offered none (registry)';
COMMENT ON COLUMN tls_audit.sessions.below_floor IS 'True for TLS sessions older than their floor (role_floor when set, else tls_audit.min_protocol) and for TCP sessions without TLS; false for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.floor_reason IS 'Why the session is below the floor, e.g. TLSv1.1 < TLSv1.2, no TLS, or TLSv1.2 < TLSv1.3 (role etl) for a role floor; NULL when it is not';
COMMENT ON COLUMN tls_audit.sessions.auth_method IS 'pg_hba.conf method that authenticated the session (trust, md5, scram-sha-256, password, cert, peer, ...); on an md5 line scram-sha-256 when the role''s secret is a SCRAM verifier, as PostgreSQL then runs SCRAM (registry)';
COMMENT ON COLUMN tls_audit.sessions.hba_file IS 'File of the pg_hba.conf line that admitted the session (PostgreSQL 16+, where pg_hba.conf may include files; NULL on 15) (registry)';
COMMENT ON COLUMN tls_audit.sessions.hba_line IS 'Line number of the pg_hba.conf rule that admitted the session, in hba_file (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_cert_verified IS 'True when the server required and verified a client certificate (cert method or clientcert=verify-ca/verify-full), not merely received one (registry)';
COMMENT ON COLUMN tls_audit.sessions.extended_master_secret IS 'Whether the TLS handshake negotiated the extended master secret (RFC 7627; always true for TLSv1.3); FIPS-mode OpenSSL 3 servers refuse TLSv1.2 clients without it; NULL without TLS (registry)';
COMMENT ON COLUMN tls_audit.sessions.role_floor IS 'The floor tls_audit.role_min_protocol sets for the session''s role (its own entry, else the highest of its +group entries, else *); NULL when no entry applies';
GRANT SELECT ON tls_audit.sessions TO PUBLIC;

CREATE FUNCTION tls_audit.registry_slots(
    OUT slot integer,
    OUT pid integer,
    OUT backend_start timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_registry_slots'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.registry_slots() IS
  'Diagnostics: the session registry''s slots in use (slot number, owner pid and backend start); each should match a live backend in pg_stat_activity';
-- Shows every role's pids: for monitoring roles only.
REVOKE EXECUTE ON FUNCTION tls_audit.registry_slots() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.registry_slots() TO pg_read_all_stats;
