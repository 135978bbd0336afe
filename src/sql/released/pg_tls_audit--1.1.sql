-- pg_tls_audit 1.1 install script, assembled from src/sql/NN_*.sql by the Makefile.
-- Every object lives in schema tls_audit (created by CREATE EXTENSION from the
-- control file). Functions are pinned to search_path pg_catalog, pg_temp, and
-- every name below is schema-qualified, so a hostile search_path at install
-- time or at call time cannot redirect anything.

\echo Use "CREATE EXTENSION pg_tls_audit" to load this file. \quit

-- CREATE EXTENSION uses a schema tls_audit that already exists. Refuse one
-- that a role other than a superuser owns or may create objects in: that
-- role could drop the schema with everything in it, or add look-alike
-- functions next to ours that superusers and monitoring jobs would then call.
DO $guard$
DECLARE
    untrusted text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT coalesce(r.rolname::text, 'PUBLIC'), ', ')
      INTO untrusted
      FROM pg_catalog.pg_namespace AS n
           CROSS JOIN LATERAL (SELECT n.nspowner AS role
                               UNION
                               SELECT a.grantee
                                 FROM pg_catalog.aclexplode(coalesce(n.nspacl,
                                          pg_catalog.acldefault('n', n.nspowner))) AS a
                                WHERE a.privilege_type = 'CREATE') AS c
           LEFT JOIN pg_catalog.pg_authid AS r ON (r.oid = c.role)
     WHERE n.nspname = 'tls_audit'
       AND NOT coalesce(r.rolsuper, false);
    IF untrusted IS NOT NULL THEN
        RAISE EXCEPTION 'schema tls_audit is owned by or writable for roles that are not superusers: %', untrusted
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Drop the schema, or make a superuser its owner and revoke CREATE on it from every other role, then run CREATE EXTENSION again.';
    END IF;
END
$guard$;

-- Anyone may look into the schema; each object below grants its own access.
GRANT USAGE ON SCHEMA tls_audit TO PUBLIC;
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
-- ---------------------------------------------------------------------------
-- Describe certificates passed in as DER or PEM.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.certificate_info(
    certificate bytea,
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_certificate_info'
-- Not STRICT: a NULL certificate is an error, not an empty answer.
-- STABLE: days_left depends on the transaction's start time.
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.certificate_info(bytea) IS
  'Describe the certificate(s) in DER bytes or PEM text (one row per certificate, position 0 first)';

CREATE FUNCTION tls_audit.certificate_info(
    certificate text,
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_certificate_info'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.certificate_info(text) IS
  'Describe the certificates in PEM text, possibly several blocks (one row per certificate, position 0 first)';
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
COMMENT ON FUNCTION tls_audit.session_rows() IS
  'The rows of tls_audit.sessions before role and database names are joined; other roles'' details are NULL unless the caller has privileges of pg_read_all_stats';
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

CREATE VIEW tls_audit.sessions AS
    SELECT
            s.pid,
            u.rolname AS usename,
            d.datname,
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
            f.below_floor,
            f.floor_reason,
            s.auth_method,
            s.hba_file,
            s.hba_line,
            s.client_cert_verified,
            s.extended_master_secret,
            f.role_floor
    FROM tls_audit.session_rows() AS s
        LEFT JOIN pg_catalog.pg_database AS d ON (s.datid = d.oid)
        LEFT JOIN pg_catalog.pg_authid AS u ON (s.usesysid = u.oid)
        CROSS JOIN LATERAL tls_audit.session_floor(s.usesysid, s.transport, s.protocol) AS f;
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
-- ---------------------------------------------------------------------------
-- The server's own TLS configuration: its certificate, key, CA and CRL files
-- as on disk, and the certificate it actually serves (captured from TLS
-- handshakes since the last reload, else a loopback self-probe).
-- These read server files: not for PUBLIC; granted to pg_monitor.
-- ---------------------------------------------------------------------------

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
    OUT last_reload_error text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_server_tls'
-- VOLATILE: reads files, shared memory and may connect to this server.
-- PARALLEL RESTRICTED: the per-backend caches and the self-probe belong to the leader.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.server_tls() IS
  'The server''s TLS configuration in one row: certificate expiry, key match and key file permissions, chain completeness, served versus on-disk certificate (reload_pending), protocol range, ciphers, TLS 1.3 cipher suites (ssl_tls13_ciphers, PostgreSQL 18; NULL before) and key exchange groups (ssl_groups; ssl_ecdh_curve before 18); the last TLS reload (last_reload_at, last_reload_ok, last_reload_error: see tls_audit.reload_history; NULL unless preloaded). Never shows key material.';
REVOKE EXECUTE ON FUNCTION tls_audit.server_tls() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.server_tls() TO pg_monitor;

CREATE FUNCTION tls_audit.server_certificates(
    OUT source text,
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_server_certificates'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.server_certificates() IS
  'The rows of tls_audit.server_certificates';
REVOKE EXECUTE ON FUNCTION tls_audit.server_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.server_certificates() TO pg_monitor;

CREATE VIEW tls_audit.server_certificates AS
    SELECT source, "position", subject, issuer, serial, not_before, not_after, days_left, key_type, key_bits, signature_algorithm, sha256, san, is_ca, self_signed
      FROM tls_audit.server_certificates();
COMMENT ON VIEW tls_audit.server_certificates IS
  'Each certificate of the server''s chain, as read from ssl_cert_file (source = file) and as served to TLS clients (source = served); position 0 is the leaf';
GRANT SELECT ON tls_audit.server_certificates TO pg_monitor;

CREATE FUNCTION tls_audit.ca_certificates(
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean,
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
    SELECT "position", subject, issuer, serial, not_before, not_after, days_left, key_type, key_bits, signature_algorithm, sha256, san, is_ca, self_signed, crl_next_update, crl_present
      FROM tls_audit.ca_certificates();
COMMENT ON VIEW tls_audit.ca_certificates IS
  'The certificates in ssl_ca_file (trusted for client certificates) with their expiry, and the next update of the CRL in ssl_crl_file or ssl_crl_dir that each one issued';
COMMENT ON COLUMN tls_audit.ca_certificates.crl_present IS
  'Whether a CRL this CA issued is in ssl_crl_file or ssl_crl_dir; NULL when neither is set. Once a CRL is configured the server checks CRLs for the whole client chain, so a CA without one rejects every client certificate below it (check crl_coverage)';
GRANT SELECT ON tls_audit.ca_certificates TO pg_monitor;
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
-- ---------------------------------------------------------------------------
-- What the last TLS reloads did, and the automatic reload (1.1). Both read
-- shared memory filled by the library loaded via shared_preload_libraries.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.reload_history(
    OUT seq bigint,
    OUT started_at timestamptz,
    OUT kind text,
    OUT outcome text,
    OUT ok boolean,
    OUT error text,
    OUT served_sha256 text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_reload_history'
-- VOLATILE: reads shared memory that every reload changes.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.reload_history() IS
  'The rows of tls_audit.reload_history';
REVOKE EXECUTE ON FUNCTION tls_audit.reload_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.reload_history() TO pg_monitor;

CREATE VIEW tls_audit.reload_history AS
    SELECT h.seq, h.started_at, h.kind, h.outcome, h.ok, h.error, h.served_sha256
      FROM tls_audit.reload_history() AS h;
COMMENT ON VIEW tls_audit.reload_history IS
  'The server''s last 32 TLS (re)initialisations, oldest first, as its postmaster logged them (captured by emit_log_hook; needs shared_preload_libraries and log_min_messages at LOG or below): when, whether the new files were loaded or the previous configuration kept, the server''s reason, and the leaf certificate served afterwards';
COMMENT ON COLUMN tls_audit.reload_history.seq IS 'Sequence number since the server started (1 = oldest)';
COMMENT ON COLUMN tls_audit.reload_history.started_at IS 'When the postmaster started the reload (kind start: when the library''s shared memory was set up)';
COMMENT ON COLUMN tls_audit.reload_history.kind IS 'start (the TLS files loaded at server start) or reload (a configuration reload: SIGHUP, pg_reload_conf(), pg_ctl reload)';
COMMENT ON COLUMN tls_audit.reload_history.outcome IS 'loaded, kept previous configuration (the server logged "SSL configuration was not reloaded"), or in progress (for up to a second)';
COMMENT ON COLUMN tls_audit.reload_history.ok IS 'True for loaded, false for kept previous configuration, NULL while in progress';
COMMENT ON COLUMN tls_audit.reload_history.error IS 'The server''s reason for keeping the previous configuration (its log line before "SSL configuration was not reloaded", e.g. OpenSSL''s error); NULL when loaded';
COMMENT ON COLUMN tls_audit.reload_history.served_sha256 IS 'SHA-256 of the leaf certificate the first TLS connection after this reload was served; NULL until one connected';
GRANT SELECT ON tls_audit.reload_history TO pg_monitor;

CREATE FUNCTION tls_audit.auto_reload_status(
    OUT mode text,
    OUT state text,
    OUT running boolean,
    OUT files_watched integer,
    OUT last_check_at timestamptz,
    OUT last_change_at timestamptz,
    OUT last_action_at timestamptz,
    OUT last_action text,
    OUT last_error text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_auto_reload_status'
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.auto_reload_status() IS
  'The row of tls_audit.auto_reload_status';
REVOKE EXECUTE ON FUNCTION tls_audit.auto_reload_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.auto_reload_status() TO pg_monitor;

CREATE VIEW tls_audit.auto_reload_status AS
    SELECT s.mode, s.state, s.running, s.files_watched, s.last_check_at, s.last_change_at,
           s.last_action_at, s.last_action, s.last_error
      FROM tls_audit.auto_reload_status() AS s;
COMMENT ON VIEW tls_audit.auto_reload_status IS
  'One row: what the automatic reload worker (tls_audit.auto_reload) is doing';
COMMENT ON COLUMN tls_audit.auto_reload_status.mode IS 'tls_audit.auto_reload as the worker applies it: off, on or force';
COMMENT ON COLUMN tls_audit.auto_reload_status.state IS 'off, watching (the files are as loaded), settling (changed, waiting one stable interval), waiting (the files would load but other settings are pending in the configuration files), refused (the changed files would not load), error (the last round failed), not running, or not preloaded';
COMMENT ON COLUMN tls_audit.auto_reload_status.running IS 'True when the worker process is alive';
COMMENT ON COLUMN tls_audit.auto_reload_status.files_watched IS 'Paths watched: ssl_cert_file, ssl_key_file, ssl_ca_file, ssl_crl_file when set, ssl_crl_dir and each of its files';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_check_at IS 'When the worker last looked at the files';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_change_at IS 'When the worker last saw the files change from what is loaded';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_action_at IS 'When the worker last reloaded, refused or waited';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_action IS 'reload, refuse or wait_settings, with why';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_error IS 'Why the last refusal or failed round happened; NULL after a reload';
GRANT SELECT ON tls_audit.auto_reload_status TO pg_monitor;
-- ---------------------------------------------------------------------------
-- pg_hba.conf as an access matrix (1.1): each line with its meaning spelled
-- out, PostgreSQL's first-match decision for one connection attempt, and the
-- ways in without encryption. All three read pg_hba_file_rules with the
-- caller's privileges (superuser only by default on every supported
-- version), so they are not granted to anyone.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.hba_rule_rows(
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT databases text[],
    OUT roles text[],
    OUT address text,
    OUT netmask text,
    OUT address_scope text,
    OUT tls_required boolean,
    OUT encryption_required boolean,
    OUT client_cert text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT shadowed_by integer,
    OUT shadowed_by_file text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_hba_rule_rows'
-- VOLATILE: reads pg_hba.conf as it is on disk now.
-- PARALLEL RESTRICTED: reads catalogs through SPI.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.hba_rule_rows() IS
  'The rows of tls_audit.hba_rules (use the view)';
REVOKE EXECUTE ON FUNCTION tls_audit.hba_rule_rows() FROM PUBLIC;

CREATE VIEW tls_audit.hba_rules AS
    SELECT * FROM tls_audit.hba_rule_rows();
COMMENT ON VIEW tls_audit.hba_rules IS
  'One row per pg_hba_file_rules line, in the order the server tries them, with its meaning spelled out: address scope, whether TLS or any encryption is required, client certificate, strength of the method, and the earlier line that shadows it';
COMMENT ON COLUMN tls_audit.hba_rules.rule_number IS 'Position in the order the server tries the lines (1 = first)';
COMMENT ON COLUMN tls_audit.hba_rules.file_name IS 'File of the line (PostgreSQL 16+, where pg_hba.conf can include files; NULL before)';
COMMENT ON COLUMN tls_audit.hba_rules.line_number IS 'Line number within its file';
COMMENT ON COLUMN tls_audit.hba_rules.type IS 'local, host, hostssl, hostnossl, hostgssenc or hostnogssenc (NULL for a line the server could not parse)';
COMMENT ON COLUMN tls_audit.hba_rules.databases IS 'Database entries as the server parsed them (@file lists expanded)';
COMMENT ON COLUMN tls_audit.hba_rules.roles IS 'Role entries as the server parsed them; a +group entry shows its member count, e.g. "+admins (3 members)"';
COMMENT ON COLUMN tls_audit.hba_rules.address IS 'Address, host name, all, samehost or samenet (NULL for local)';
COMMENT ON COLUMN tls_audit.hba_rules.netmask IS 'Netmask of an IP address entry';
COMMENT ON COLUMN tls_audit.hba_rules.address_scope IS 'local (unix socket), loopback, private, public or any: who can reach the line over the network';
COMMENT ON COLUMN tls_audit.hba_rules.tls_required IS 'True for hostssl: only TLS connections match';
COMMENT ON COLUMN tls_audit.hba_rules.encryption_required IS 'True for hostssl and hostgssenc: only encrypted connections match';
COMMENT ON COLUMN tls_audit.hba_rules.client_cert IS 'none, verify-ca, verify-full (clientcert option) or cert-auth (the cert method)';
COMMENT ON COLUMN tls_audit.hba_rules.auth_method IS 'Authentication method';
COMMENT ON COLUMN tls_audit.hba_rules.auth_strength IS 'none (trust), weak (password, md5, ident, ldap, radius, pam, bsd), strong (scram-sha-256, cert, gss, sspi, peer, oauth) or reject';
COMMENT ON COLUMN tls_audit.hba_rules.shadowed_by IS 'Line number of the earlier line that matches every connection this line could match (the line never matches); NULL when none is proved';
COMMENT ON COLUMN tls_audit.hba_rules.shadowed_by_file IS 'File of the shadowing line (PostgreSQL 16+)';
COMMENT ON COLUMN tls_audit.hba_rules.error IS 'pg_hba_file_rules'' own error for the line';

CREATE FUNCTION tls_audit.can_connect(
    role text,
    database text,
    address inet,
    transport text,
    replication boolean DEFAULT false,
    OUT outcome text,
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT tls_required boolean,
    OUT encryption_required boolean,
    OUT client_cert text,
    OUT otherwise_line integer,
    OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_can_connect'
-- Not STRICT: a NULL address means a unix socket; other NULLs are errors.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.can_connect(text, text, inet, text, boolean) IS
  'What the server would do with a connection attempt by role to database from address (NULL for a unix socket) over transport tls, tcp, gss or unix (replication: a physical replication connection): outcome allowed (the line''s method decides), rejected, no matching line (refused) or depends on DNS (a host-name line, not resolved here), with the first matching line and what it demands';
REVOKE EXECUTE ON FUNCTION tls_audit.can_connect(text, text, inet, text, boolean) FROM PUBLIC;

CREATE FUNCTION tls_audit.plaintext_paths(
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT roles text[],
    OUT databases text[],
    OUT address_scope text,
    OUT transport text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT reason text,
    OUT earlier_lines integer[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_plaintext_paths'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.plaintext_paths() IS
  'Every pg_hba.conf line that admits TCP connections without encryption (transport tcp) or encrypted ones with a method weaker than scram (transport tls or gss), in first-match order, unless an earlier line takes all of them; earlier_lines lists earlier lines that take part of them first';
REVOKE EXECUTE ON FUNCTION tls_audit.plaintext_paths() FROM PUBLIC;
-- ---------------------------------------------------------------------------
-- Checks: what is wrong with this server's TLS setup, a history of it, and
-- alerts (record_checks() is meant to be scheduled with pg_cron).
-- GUCs: tls_audit.expiry_warning_days, tls_audit.expiry_critical_days,
-- tls_audit.history_retention_days.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.run_checks(
    OUT "check" text,
    OUT severity text,
    OUT object text,
    OUT message text,
    OUT hint text,
    OUT controls text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_run_checks'
-- VOLATILE: reads files, settings and live sessions. PARALLEL UNSAFE: it
-- runs queries in subtransactions.
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.run_checks() IS
  'Run every TLS check: one row per finding, and one ''ok'' row per check that found nothing (severity ok, info, warning or critical), with the ids of the controls the check provides evidence for (tls_audit.controls)';
-- Shows the server's configuration: monitoring roles only. Inputs the caller
-- may not read (pg_hba_file_rules, pg_authid) are reported as ''info''.
REVOKE EXECUTE ON FUNCTION tls_audit.run_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.run_checks() TO pg_monitor;

CREATE TABLE tls_audit.check_history (
    run_at timestamptz NOT NULL,
    "check" text NOT NULL,
    severity text NOT NULL
        CONSTRAINT check_history_severity_check
        CHECK (severity IN ('ok', 'info', 'warning', 'critical')),
    object text,
    message text NOT NULL,
    hint text,
    -- 1.1; NULL in rows recorded by 1.0.
    controls text[]
);
CREATE INDEX check_history_run_at_idx ON tls_audit.check_history (run_at);
COMMENT ON COLUMN tls_audit.check_history.controls IS
  'Ids of the controls the check provides evidence for (tls_audit.controls), as run_checks() gave them; NULL in rows recorded by version 1.0';
COMMENT ON TABLE tls_audit.check_history IS
  'Findings stored by tls_audit.record_checks(), one row per finding per run (run_at is the run''s transaction time); rows older than tls_audit.history_retention_days are deleted by each run';
-- pg_dump keeps the rows (the table itself belongs to the extension).
SELECT pg_catalog.pg_extension_config_dump('tls_audit.check_history', '');
GRANT SELECT ON tls_audit.check_history TO pg_monitor;

CREATE FUNCTION tls_audit.record_checks()
RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    run_time timestamptz := pg_catalog.now();
    findings tls_audit.check_history[];
    f tls_audit.check_history;
    worst text := 'ok';
    counts jsonb;
    failing text[];
    retention integer;
    standby boolean := pg_catalog.pg_is_in_recovery();
    channel text;
BEGIN
    SELECT coalesce(pg_catalog.array_agg(ROW(run_time, c."check", c.severity, c.object, c.message, c.hint, c.controls)::tls_audit.check_history), '{}')
      INTO findings
      FROM tls_audit.run_checks() AS c;

    SELECT coalesce((pg_catalog.array_agg(x.severity
                       ORDER BY pg_catalog.array_position(ARRAY['ok', 'info', 'warning', 'critical'], x.severity) DESC))[1], 'ok'),
           pg_catalog.jsonb_build_object(
               'critical', pg_catalog.count(*) FILTER (WHERE x.severity = 'critical'),
               'warning', pg_catalog.count(*) FILTER (WHERE x.severity = 'warning'),
               'info', pg_catalog.count(*) FILTER (WHERE x.severity = 'info'),
               'ok', pg_catalog.count(*) FILTER (WHERE x.severity = 'ok')),
           coalesce(pg_catalog.array_agg(DISTINCT x."check") FILTER (WHERE x.severity IN ('warning', 'critical')), '{}')
      INTO worst, counts, failing
      FROM pg_catalog.unnest(findings) AS x;

    -- One log line per problem, for log-based alerting.
    FOREACH f IN ARRAY findings LOOP
        CONTINUE WHEN f.severity NOT IN ('warning', 'critical');
        IF coalesce(f.hint, '') = '' THEN
            RAISE WARNING 'tls_audit % %: %', f.severity,
                f."check" || coalesce(' [' || f.object || ']', ''), f.message;
        ELSE
            RAISE WARNING 'tls_audit % %: %', f.severity,
                f."check" || coalesce(' [' || f.object || ']', ''), f.message
                USING HINT = f.hint;
        END IF;
    END LOOP;

    IF standby THEN
        -- A hot standby cannot write: report, but store and notify nothing.
        RAISE LOG 'tls_audit.record_checks(): server is in recovery, % findings (worst: %) not recorded',
            pg_catalog.cardinality(findings), worst;
        RETURN worst;
    END IF;

    INSERT INTO tls_audit.check_history
        SELECT * FROM pg_catalog.unnest(findings);

    retention := pg_catalog.current_setting('tls_audit.history_retention_days')::integer;
    IF retention > 0 THEN
        DELETE FROM tls_audit.check_history
         WHERE run_at < run_time - pg_catalog.make_interval(days => retention);
    END IF;

    -- Opt-in (tls_audit.notify_channel, empty by default): a NOTIFY can be
    -- received by every role that can connect to this database, so the
    -- payload is only what tls_audit.notify_payload says. Delivered when the
    -- transaction commits; bounded size: the check names are a fixed set.
    channel := pg_catalog.current_setting('tls_audit.notify_channel', true);
    IF coalesce(channel, '') <> '' THEN
        PERFORM pg_catalog.pg_notify(channel, CASE coalesce(pg_catalog.current_setting('tls_audit.notify_payload', true), 'severity')
            WHEN 'none' THEN ''
            WHEN 'summary' THEN pg_catalog.jsonb_build_object(
                'run_at', run_time,
                'database', pg_catalog.current_database(),
                'cluster_name', pg_catalog.current_setting('cluster_name'),
                'worst_severity', worst,
                'counts', counts,
                'failing_checks', pg_catalog.to_jsonb(failing))::text
            ELSE pg_catalog.jsonb_build_object(
                'run_at', run_time,
                'database', pg_catalog.current_database(),
                'worst_severity', worst)::text
            END);
    END IF;
    RETURN worst;
END;
$function$;
COMMENT ON FUNCTION tls_audit.record_checks() IS
  'Run the checks, append them to tls_audit.check_history, delete history older than tls_audit.history_retention_days, log a WARNING per warning/critical finding, NOTIFY the channel tls_audit.notify_channel names (none by default; payload per tls_audit.notify_payload), and return the worst severity; on a hot standby it only logs';
-- Writes history and sends notifications: superusers (and roles granted it) only.
REVOKE EXECUTE ON FUNCTION tls_audit.record_checks() FROM PUBLIC;

-- The row of tls_audit.summary. The server certificate and the sessions are
-- read with dynamic SQL, each in its own exception block, so that a missing
-- privilege or an unreadable file gives NULL there instead of no summary.
CREATE FUNCTION tls_audit.summary_row(
    OUT worst_severity text,
    OUT critical bigint,
    OUT warning bigint,
    OUT info bigint,
    OUT ok bigint,
    OUT server_cert_days_left integer,
    OUT sessions_below_floor bigint,
    OUT last_run_at timestamptz,
    OUT last_run_severity text)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    SELECT coalesce((pg_catalog.array_agg(c.severity
                       ORDER BY pg_catalog.array_position(ARRAY['ok', 'info', 'warning', 'critical'], c.severity) DESC))[1], 'ok'),
           pg_catalog.count(*) FILTER (WHERE c.severity = 'critical'),
           pg_catalog.count(*) FILTER (WHERE c.severity = 'warning'),
           pg_catalog.count(*) FILTER (WHERE c.severity = 'info'),
           pg_catalog.count(*) FILTER (WHERE c.severity = 'ok')
      INTO worst_severity, critical, warning, info, ok
      FROM tls_audit.run_checks() AS c;

    BEGIN
        EXECUTE 'SELECT days_left FROM tls_audit.server_tls()' INTO server_cert_days_left;
    EXCEPTION WHEN OTHERS THEN
        server_cert_days_left := NULL;
    END;
    BEGIN
        EXECUTE 'SELECT pg_catalog.count(*) FROM tls_audit.sessions WHERE below_floor' INTO sessions_below_floor;
    EXCEPTION WHEN OTHERS THEN
        sessions_below_floor := NULL;
    END;

    SELECT h.run_at,
           (pg_catalog.array_agg(h.severity
               ORDER BY pg_catalog.array_position(ARRAY['ok', 'info', 'warning', 'critical'], h.severity) DESC))[1]
      INTO last_run_at, last_run_severity
      FROM tls_audit.check_history AS h
     WHERE h.run_at = (SELECT pg_catalog.max(m.run_at) FROM tls_audit.check_history AS m)
     GROUP BY h.run_at;
END;
$function$;
COMMENT ON FUNCTION tls_audit.summary_row() IS
  'The one row of tls_audit.summary';
REVOKE EXECUTE ON FUNCTION tls_audit.summary_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.summary_row() TO pg_monitor;

CREATE VIEW tls_audit.summary AS
    SELECT s.worst_severity, s.critical, s.warning, s.info, s.ok,
           s.server_cert_days_left, s.sessions_below_floor,
           s.last_run_at, s.last_run_severity
      FROM tls_audit.summary_row() AS s;
COMMENT ON VIEW tls_audit.summary IS
  'One row: the worst severity and counts per severity of tls_audit.run_checks() now, the server certificate''s days left, sessions below the protocol floor, and the last recorded run (time and worst severity); NULL where the caller cannot read the source';
GRANT SELECT ON tls_audit.summary TO pg_monitor;
-- ---------------------------------------------------------------------------
-- Connection census and floor readiness (needs shared_preload_libraries).
-- ---------------------------------------------------------------------------

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
    OUT extended_master_secret boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_census_entries'
-- Reads shared memory that changes with every connection.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_entries() IS
  'Connection census entries (all of them for pg_read_all_stats, otherwise only the caller''s own role)';

CREATE VIEW tls_audit.census AS
  SELECT e.usename, e.datname, e.client_addr, e.application_name, e.transport, e.protocol, e.cipher,
         e.alpn, e.client_subject, e.outcome, e.rejection_reason, e.connections, e.first_seen, e.last_seen,
         e.auth_method, e.hba_line, e.client_cert_verified, e.extended_master_secret
    FROM tls_audit.census_entries() AS e;
COMMENT ON VIEW tls_audit.census IS
  'Connection attempts counted since the last census_reset(), per user, database, address, application, transport, protocol, cipher, ALPN, client certificate subject, outcome (authenticated, auth_failed, startup_failed, tls_rejected, policy_violation), authentication method, pg_hba.conf line, client certificate verification and extended master secret';
COMMENT ON COLUMN tls_audit.census.usename IS 'Role name the client asked for (NULL for tls_rejected: no startup packet yet)';
COMMENT ON COLUMN tls_audit.census.datname IS 'Database name the client asked for';
COMMENT ON COLUMN tls_audit.census.client_addr IS 'Client IP address; NULL for unix sockets';
COMMENT ON COLUMN tls_audit.census.application_name IS 'application_name from the startup packet';
COMMENT ON COLUMN tls_audit.census.transport IS 'unix, tcp (no encryption), tls or gss (GSSAPI encryption)';
COMMENT ON COLUMN tls_audit.census.protocol IS 'TLS protocol version (tls)';
COMMENT ON COLUMN tls_audit.census.cipher IS 'TLS cipher suite (tls)';
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
GRANT SELECT ON tls_audit.census TO PUBLIC;

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
-- ---------------------------------------------------------------------------
-- The census seen through the per-role protocol floors
-- (tls_audit.role_min_protocol): who would be logged or refused if
-- tls_audit.enforce_floor were log or on now. Needs shared_preload_libraries.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.role_floor_readiness(
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT role_floor text,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_role_floor_readiness'
-- Not STRICT: a NULL since means "the whole census".
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.role_floor_readiness(interval) IS
  'Clients in the census (authenticated or policy_violation) below the floor tls_audit.role_min_protocol now sets for their role, per user, database, address, application, protocol and reason, optionally only those seen within the last since; roles without an entry and unix-socket connections are not listed';
-- ---------------------------------------------------------------------------
-- Readiness for stronger authentication and for FIPS-mode TLS, from the
-- connection census and the sessions (needs shared_preload_libraries).
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.auth_readiness(
    target text DEFAULT 'scram-sha-256',
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT auth_method text,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_auth_readiness'
-- Not STRICT: a NULL since means "the whole census"; a NULL target is an error.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.auth_readiness(text, interval) IS
  'Clients in the census that authenticated with a method weaker than target (password, md5 or scram-sha-256): trust over TCP, password, md5; grouped by user, database, address, application and method, with the connections and the last time seen, optionally only those seen within the last since';

CREATE FUNCTION tls_audit.fips_readiness(
    since interval DEFAULT NULL,
    OUT source text,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT connections bigint,
    OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $function$
    SELECT 'session'::text, s.usename::text, s.datname::text, s.client_addr, s.application_name, s.protocol,
           pg_catalog.count(*), pg_catalog.now()
      FROM tls_audit.sessions AS s
     WHERE s.transport = 'tls' AND NOT s.extended_master_secret
     GROUP BY s.usename, s.datname, s.client_addr, s.application_name, s.protocol
    UNION ALL
    SELECT 'census'::text, c.usename, c.datname, c.client_addr, c.application_name, c.protocol,
           pg_catalog.sum(c.connections)::bigint, pg_catalog.max(c.last_seen)
      FROM tls_audit.census AS c
     -- A one-time filter: the census is not read unless preloaded.
     WHERE tls_audit.preloaded()
       AND c.outcome = 'authenticated' AND NOT c.extended_master_secret
       AND (since IS NULL OR c.last_seen >= pg_catalog.now() - since)
     GROUP BY c.usename, c.datname, c.client_addr, c.application_name, c.protocol
     ORDER BY 1 DESC, 7 DESC, 2, 3, 4, 5, 6
$function$;
COMMENT ON FUNCTION tls_audit.fips_readiness(interval) IS
  'TLS clients that negotiated no extended master secret (RFC 7627), which a FIPS-mode OpenSSL 3 server refuses: open sessions (source session) and authenticated census entries (source census, optionally only those seen within the last since), per user, database, address, application and protocol';
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
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean,
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
-- ---------------------------------------------------------------------------
-- Enumeration over STARTTLS: accepted cipher suites per version and the
-- key-exchange groups. Not executable by PUBLIC: outbound
-- connections; tls_audit.probe_allowed_hosts applies as for tls_audit.probe().
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.probe_ciphers(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT protocol text,
    OUT cipher text,
    OUT standard_name text,
    OUT key_exchange text,
    OUT authentication text,
    OUT encryption text,
    OUT bits integer,
    OUT strength text,
    OUT preference integer,
    OUT server_preference boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_ciphers'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_ciphers(text, integer, text, integer) IS
  'The cipher suites a PostgreSQL server accepts per TLS version (offer all, remove the pick, repeat; TLS 1.3 one at a time), with strength (the weak_ciphers rules) and whether the server enforces its own order';

CREATE FUNCTION tls_audit.probe_groups(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT protocol text,
    OUT group_name text,
    OUT supported boolean,
    OUT bits integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_groups'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_groups(text, integer, text, integer) IS
  'The key-exchange groups a PostgreSQL server supports in TLS 1.3 and for ECDHE in TLS 1.2, and the size of its DHE group (row DHE)';

REVOKE EXECUTE ON FUNCTION tls_audit.probe_ciphers(text, integer, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tls_audit.probe_groups(text, integer, text, integer) FROM PUBLIC;


CREATE FUNCTION tls_audit.profile_compliance(
    host text,
    port integer DEFAULT 5432,
    profile text DEFAULT 'intermediate',
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT profile_name text,
    OUT guidelines_version text,
    OUT compliant boolean,
    OUT category text,
    OUT subject text,
    OUT required boolean,
    OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_profile_compliance'
-- Not STRICT: sni may be NULL; a NULL host/port/profile/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.profile_compliance(text, integer, text, text, integer) IS
  'How a PostgreSQL server deviates from a Mozilla Server Side TLS 5.7 profile (modern, intermediate, old): one row per deviation, or one row without category when it complies';

REVOKE EXECUTE ON FUNCTION tls_audit.profile_compliance(text, integer, text, text, integer) FROM PUBLIC;
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
-- ---------------------------------------------------------------------------
-- Outbound links (1.1): the connections the server itself makes, a
-- standby's primary_conninfo, logical replication subscriptions, and the
-- foreign servers and user mappings of postgres_fdw and dblink_fdw, with the
-- sslmode libpq will use for each. Connection strings are parsed by the
-- server's libpq (PQconninfoParse); passwords are never shown.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.outbound_connection_rows(
    OUT kind text,
    OUT name text,
    OUT host text,
    OUT port text,
    OUT sslmode text,
    OUT sslmode_source text,
    OUT sslrootcert text,
    OUT sslcert_present boolean,
    OUT sslnegotiation text,
    OUT ssl_min_protocol_version text,
    OUT channel_binding text,
    OUT verifies_server boolean,
    OUT password_in_conninfo boolean,
    OUT live_tls text,
    OUT error text,
    OUT notes text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_outbound_connection_rows'
-- VOLATILE: reads settings, the server's environment and live worker state.
-- PARALLEL RESTRICTED: reads catalogs and statistics views through SPI.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.outbound_connection_rows() IS
  'The rows of tls_audit.outbound_connections: every outbound link (primary_conninfo, subscriptions, postgres_fdw and dblink_fdw servers and user mappings) the caller may see, read with the caller''s privileges';
-- Reads server configuration (primary_conninfo, the server's environment).
REVOKE EXECUTE ON FUNCTION tls_audit.outbound_connection_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.outbound_connection_rows() TO pg_monitor;

CREATE VIEW tls_audit.outbound_connections AS
    SELECT o.kind, o.name, o.host, o.port, o.sslmode, o.sslmode_source, o.sslrootcert, o.sslcert_present,
           o.sslnegotiation, o.ssl_min_protocol_version, o.channel_binding, o.verifies_server,
           o.password_in_conninfo, o.live_tls, o.error, o.notes
      FROM tls_audit.outbound_connection_rows() AS o;
COMMENT ON VIEW tls_audit.outbound_connections IS
  'One row per outbound link of the server: physical_replication (primary_conninfo), subscription, foreign_server and user_mapping (postgres_fdw, dblink_fdw), with the effective sslmode, whether the server is verified, whether a password is stored, and the live state of the link';
COMMENT ON COLUMN tls_audit.outbound_connections.kind IS 'physical_replication, subscription, foreign_server or user_mapping';
COMMENT ON COLUMN tls_audit.outbound_connections.name IS 'primary_conninfo, the subscription''s or foreign server''s name, or user@server for a user mapping';
COMMENT ON COLUMN tls_audit.outbound_connections.host IS 'The hosts libpq connects to, comma-separated as in the connection string ("name (hostaddr ADDR)" when hostaddr is given; the default socket directory when none is given)';
COMMENT ON COLUMN tls_audit.outbound_connections.port IS 'The port(s), as given; NULL when libpq''s default applies';
COMMENT ON COLUMN tls_audit.outbound_connections.sslmode IS 'The sslmode libpq uses: the link''s own, else PGSSLMODE of the server''s environment, else libpq''s default (prefer; verify-full with sslrootcert=system on libpq 16+)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslmode_source IS 'Where sslmode comes from: connection string, environment, or libpq default (a service file the link names is not read: see notes)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslrootcert IS 'The root certificate file libpq trusts (system: the system''s CA store, libpq 16+); when unset, libpq''s default ~/.postgresql/root.crt of the server''s OS user';
COMMENT ON COLUMN tls_audit.outbound_connections.sslcert_present IS 'True when the link presents a client certificate (sslcert set)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslnegotiation IS 'postgres or direct (libpq 17+); NULL when this libpq has no such option';
COMMENT ON COLUMN tls_audit.outbound_connections.ssl_min_protocol_version IS 'The oldest TLS version the link accepts (libpq''s default TLSv1.2 when unset)';
COMMENT ON COLUMN tls_audit.outbound_connections.channel_binding IS 'disable, prefer or require (libpq''s default prefer when unset)';
COMMENT ON COLUMN tls_audit.outbound_connections.verifies_server IS 'True for verify-full, and for verify-ca, which does not check the host name (see notes)';
COMMENT ON COLUMN tls_audit.outbound_connections.password_in_conninfo IS 'True when a password is stored in the connection string or the user mapping (the password itself is never shown)';
COMMENT ON COLUMN tls_audit.outbound_connections.live_tls IS 'The live link: for physical_replication the walreceiver''s pid and state and the sslmode of its live connection (pg_stat_wal_receiver), for a subscription its apply worker''s pid and state (pg_stat_subscription); then the TLS protocol, cipher and key bits the process recorded when it connected (needs shared_preload_libraries) or "connected without TLS"; NULL for foreign servers (connections are made per session)';
COMMENT ON COLUMN tls_audit.outbound_connections.error IS 'Why the link''s options are NULL: a malformed connection string (libpq''s message, quoted fragments removed) or options the caller may not read';
COMMENT ON COLUMN tls_audit.outbound_connections.notes IS 'Remarks: sslmode defaulted, a service file not read, verify-ca without host-name check, PGPASSWORD set, unix socket only, ...';
GRANT SELECT ON tls_audit.outbound_connections TO pg_monitor;
-- ---------------------------------------------------------------------------
-- Metrics in a Prometheus-friendly shape: one row per sample (metric name,
-- labels, value, type, help). contrib/postgres_exporter/queries.yaml reads it
-- for prometheus-postgres-exporter; tls_audit.metrics_text() renders it in
-- the Prometheus text format (e.g. for node_exporter's textfile collector).
--
-- Every metric family is its own UNION ALL branch with a constant name, so a
-- query WHERE metric = '...' is planned with the other branches removed and
-- reads only the source it needs. The census families need
-- shared_preload_libraries; without it they are simply absent.
-- It reads server files and runs the checks: pg_monitor only.
-- ---------------------------------------------------------------------------

CREATE VIEW tls_audit.metrics AS
    -- Sources read by more than one family: each is called once per query
    -- (and only when a family that needs it is read).
    WITH server AS (
        SELECT t.ssl_enabled, t.reload_pending
          FROM tls_audit.server_tls() AS t
    ), ca AS (
        SELECT a."position", a.subject, a.not_after, a.crl_next_update
          FROM tls_audit.ca_certificates() AS a
    ), sessions AS (
        SELECT r.transport, r.protocol, r.cipher, r.below_floor, r.auth_method
          FROM tls_audit.session_rows() AS r
    ), census_state AS (
        SELECT i.entries, i.evicted
          FROM tls_audit.census_info() AS i
         -- A one-time filter: census_info() is not called unless preloaded.
         WHERE tls_audit.preloaded()
    )
    SELECT 'tls_audit_server_certificate_expiry_seconds'::text AS metric,
           pg_catalog.jsonb_build_object(
               'source', c.source,
               'position', c."position"::text,
               'subject', coalesce(c.subject, '')) AS labels,
           pg_catalog.date_part('epoch', c.not_after)
             - pg_catalog.date_part('epoch', pg_catalog.now()) AS value,
           'gauge'::text AS type,
           'Seconds until the server certificate at this chain position expires (source file = ssl_cert_file, served = what clients get); negative once expired'::text AS help
      FROM tls_audit.server_certificates() AS c
    UNION ALL
    SELECT 'tls_audit_ca_certificate_expiry_seconds',
           pg_catalog.jsonb_build_object(
               'position', a."position"::text,
               'subject', coalesce(a.subject, '')),
           pg_catalog.date_part('epoch', a.not_after)
             - pg_catalog.date_part('epoch', pg_catalog.now()),
           'gauge',
           'Seconds until this certificate in ssl_ca_file (the CAs trusted for client certificates) expires; negative once expired'
      FROM ca AS a
    UNION ALL
    SELECT 'tls_audit_crl_next_update_seconds',
           pg_catalog.jsonb_build_object('issuer', coalesce(a.subject, '')),
           pg_catalog.min(pg_catalog.date_part('epoch', a.crl_next_update))
             - pg_catalog.date_part('epoch', pg_catalog.now()),
           'gauge',
           'Seconds until the next update of the CRL in ssl_crl_file or ssl_crl_dir issued by this CA of ssl_ca_file; negative once overdue'
      FROM ca AS a
     WHERE a.crl_next_update IS NOT NULL
     GROUP BY coalesce(a.subject, '')
    UNION ALL
    SELECT 'tls_audit_server_ssl_enabled',
           '{}'::jsonb,
           CASE WHEN s.ssl_enabled THEN 1 ELSE 0 END::double precision,
           'gauge',
           '1 when ssl is on'
      FROM server AS s
    UNION ALL
    SELECT 'tls_audit_server_reload_pending',
           '{}'::jsonb,
           CASE WHEN s.reload_pending THEN 1 ELSE 0 END::double precision,
           'gauge',
           '1 when the served certificate differs from ssl_cert_file (renewed but not reloaded, or the reload failed); absent when unknown'
      FROM server AS s
     WHERE s.reload_pending IS NOT NULL
    UNION ALL
    SELECT 'tls_audit_sessions',
           pg_catalog.jsonb_build_object(
               'transport', coalesce(r.transport, ''),
               'protocol', coalesce(r.protocol, ''),
               'cipher', coalesce(r.cipher, '')),
           pg_catalog.count(*)::double precision,
           'gauge',
           'Open sessions (client backends and walsenders) per transport (unix, tcp, tls, gss), TLS protocol and cipher'
      FROM sessions AS r
     GROUP BY coalesce(r.transport, ''), coalesce(r.protocol, ''),
              coalesce(r.cipher, '')
    UNION ALL
    SELECT 'tls_audit_sessions_below_floor',
           '{}'::jsonb,
           pg_catalog.count(*) FILTER (WHERE r.below_floor)::double precision,
           'gauge',
           'Open sessions below the protocol floor tls_audit.min_protocol (older TLS, or TCP without TLS)'
      FROM sessions AS r
    UNION ALL
    SELECT 'tls_audit_sessions_by_auth_method',
           pg_catalog.jsonb_build_object('auth_method', coalesce(r.auth_method, '')),
           pg_catalog.count(*)::double precision,
           'gauge',
           'Open sessions (client backends and walsenders) per pg_hba.conf authentication method (scram-sha-256 for md5 lines that ran SCRAM; empty when unknown)'
      FROM sessions AS r
     GROUP BY coalesce(r.auth_method, '')
    UNION ALL
    SELECT 'tls_audit_findings',
           pg_catalog.jsonb_build_object('severity', coalesce(f.severity, v.severity)),
           coalesce(f.findings, 0)::double precision,
           'gauge',
           'Rows of tls_audit.run_checks() per severity (ok counts the checks that found nothing)'
      FROM (VALUES ('critical'), ('warning'), ('info'), ('ok')) AS v (severity)
           FULL JOIN (SELECT c.severity, pg_catalog.count(*) AS findings
                        FROM tls_audit.run_checks() AS c
                       GROUP BY c.severity) AS f
           ON (f.severity = v.severity)
    UNION ALL
    SELECT 'tls_audit_census_connections_total',
           pg_catalog.jsonb_build_object(
               'protocol', coalesce(e.protocol, ''),
               'transport', coalesce(e.transport, ''),
               'outcome', coalesce(e.outcome, '')),
           pg_catalog.sum(e.connections)::double precision,
           'counter',
           'Connection attempts counted by the census since tls_audit.census_reset(), per TLS protocol, transport and outcome (authenticated, auth_failed, tls_rejected)'
      FROM tls_audit.census_entries() AS e
     -- A one-time filter: census_entries() is not called unless preloaded.
     WHERE tls_audit.preloaded()
     GROUP BY coalesce(e.protocol, ''), coalesce(e.transport, ''),
              coalesce(e.outcome, '')
    UNION ALL
    SELECT 'tls_audit_census_connections_by_auth_method_total',
           pg_catalog.jsonb_build_object(
               'auth_method', coalesce(e.auth_method, ''),
               'outcome', coalesce(e.outcome, '')),
           pg_catalog.sum(e.connections)::double precision,
           'counter',
           'Connection attempts counted by the census since tls_audit.census_reset(), per pg_hba.conf authentication method (empty when unknown) and outcome'
      FROM tls_audit.census_entries() AS e
     -- A one-time filter: census_entries() is not called unless preloaded.
     WHERE tls_audit.preloaded()
     GROUP BY coalesce(e.auth_method, ''), coalesce(e.outcome, '')
    UNION ALL
    SELECT 'tls_audit_census_entries',
           '{}'::jsonb,
           i.entries::double precision,
           'gauge',
           'Entries in the connection census (at most tls_audit.census_max)'
      FROM census_state AS i
    UNION ALL
    SELECT 'tls_audit_census_evictions_total',
           '{}'::jsonb,
           i.evicted::double precision,
           'counter',
           'Census entries evicted because the census was full, since tls_audit.census_reset()'
      FROM census_state AS i;
COMMENT ON VIEW tls_audit.metrics IS
  'TLS metrics in a Prometheus-friendly shape, one row per sample: server and CA certificate expiry, CRL next update, reload pending, open sessions per protocol and cipher, sessions below the floor, sessions per authentication method, check findings per severity, census connections (also per authentication method); census rows need shared_preload_libraries';
COMMENT ON COLUMN tls_audit.metrics.metric IS 'Prometheus metric name, e.g. tls_audit_server_certificate_expiry_seconds';
COMMENT ON COLUMN tls_audit.metrics.labels IS 'Label names and values (all values are strings; empty string when not applicable); unique per metric';
COMMENT ON COLUMN tls_audit.metrics.value IS 'Sample value';
COMMENT ON COLUMN tls_audit.metrics.type IS 'Prometheus metric type: gauge or counter';
COMMENT ON COLUMN tls_audit.metrics.help IS 'What the metric means (the # HELP text)';
-- Reads server files and runs the checks (functions only pg_monitor may
-- execute): a view over them would fail for PUBLIC anyway.
GRANT SELECT ON tls_audit.metrics TO pg_monitor;

CREATE FUNCTION tls_audit.metrics_text()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $function$
    -- Label values escaped as the text format wants: \ -> \\, " -> \", newline -> \n.
    SELECT coalesce(pg_catalog.string_agg(b.block, '' ORDER BY b.metric), '')
      FROM (SELECT l.metric,
                   '# HELP ' || l.metric || ' ' || pg_catalog.min(l.help) || E'\n'
                   || '# TYPE ' || l.metric || ' ' || pg_catalog.min(l.type) || E'\n'
                   || pg_catalog.string_agg(l.line || E'\n', '' ORDER BY l.line) AS block
              FROM (SELECT m.metric, m.help, m.type,
                           m.metric
                           || coalesce(
                                  '{' || (SELECT pg_catalog.string_agg(
                                                     j.key || '="'
                                                     || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                                                            j.value, E'\\', E'\\\\'), '"', E'\\"'), E'\n', E'\\n')
                                                     || '"', ',' ORDER BY j.key)
                                            FROM pg_catalog.jsonb_each_text(m.labels) AS j) || '}',
                                  '')
                           || ' ' || m.value::text AS line
                      FROM tls_audit.metrics AS m) AS l
             GROUP BY l.metric) AS b
$function$;
COMMENT ON FUNCTION tls_audit.metrics_text() IS
  'tls_audit.metrics in the Prometheus text exposition format (# HELP, # TYPE, one line per sample), e.g. for node_exporter''s textfile collector';
REVOKE EXECUTE ON FUNCTION tls_audit.metrics_text() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.metrics_text() TO pg_monitor;
-- ---------------------------------------------------------------------------
-- Evidence for auditors: which framework controls each check provides
-- evidence for (tls_audit.controls, data compiled into the library:
-- src/core/controls.cpp, sources in doc/controls.md), the status per control
-- (tls_audit.compliance()), and a self-contained audit report
-- (tls_audit.report(), HTML or Markdown).
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.control_rows(
    OUT framework text,
    OUT control_id text,
    OUT title text,
    OUT "check" text,
    OUT source text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_control_rows'
-- STABLE: constant data of the loaded library. PARALLEL SAFE: reads nothing.
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.control_rows() IS
  'The rows of tls_audit.controls';

CREATE VIEW tls_audit.controls AS
    SELECT r.framework, r.control_id, r.title, r."check", r.source
      FROM tls_audit.control_rows() AS r;
COMMENT ON VIEW tls_audit.controls IS
  'Audit framework controls and the checks that provide evidence for them, one row per control and check (sources: doc/controls.md)';
COMMENT ON COLUMN tls_audit.controls.framework IS 'Framework: CIS, DISA-STIG, PCI-DSS, NIST-SP-800-52 or Mozilla (what tls_audit.compliance() takes)';
COMMENT ON COLUMN tls_audit.controls.control_id IS 'Document prefix and the document''s own identifier, e.g. CIS-PG-17:6.9, as in run_checks().controls';
COMMENT ON COLUMN tls_audit.controls.title IS 'What the control requires (short)';
COMMENT ON COLUMN tls_audit.controls."check" IS 'A check (tls_audit.run_checks()."check") whose findings are evidence for the control';
COMMENT ON COLUMN tls_audit.controls.source IS 'The document the identifier comes from, with its version';
GRANT SELECT ON tls_audit.controls TO PUBLIC;

-- The status of every control of one framework: from the checks run now, and
-- from the latest run recorded in tls_audit.check_history (record_checks()
-- scheduled with pg_cron).
CREATE FUNCTION tls_audit.compliance(
    framework text,
    OUT control_id text,
    OUT title text,
    OUT source text,
    OUT status text,
    OUT checks text[],
    OUT findings text[],
    OUT evaluated_at timestamptz,
    OUT last_recorded_at timestamptz,
    OUT last_recorded_status text)
RETURNS SETOF record
-- Not STRICT: a NULL framework is an error (with the known names), not an empty answer.
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $function$
#variable_conflict use_column
DECLARE
    wanted text := compliance.framework;
    matched text;
    known text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT c.framework, ', ')
      INTO known
      FROM tls_audit.controls AS c;
    IF wanted IS NULL THEN
        RAISE EXCEPTION 'framework must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Use one of: ' || known || '.';
    END IF;
    SELECT pg_catalog.min(c.framework)
      INTO matched
      FROM tls_audit.controls AS c
     WHERE pg_catalog.lower(c.framework) = pg_catalog.lower(wanted)
        OR pg_catalog.lower(pg_catalog.split_part(c.control_id, ':', 1)) = pg_catalog.lower(wanted);
    IF matched IS NULL THEN
        RAISE EXCEPTION 'unknown framework "%"', wanted
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use one of: ' || known || '.';
    END IF;

    RETURN QUERY
    WITH ctl AS (
        SELECT c.control_id, pg_catalog.min(c.title) AS title, pg_catalog.min(c.source) AS source,
               pg_catalog.array_agg(c."check" ORDER BY c."check") AS checks
          FROM tls_audit.controls AS c
         WHERE c.framework = matched
           AND (pg_catalog.lower(c.framework) = pg_catalog.lower(wanted)
                OR pg_catalog.lower(pg_catalog.split_part(c.control_id, ':', 1)) = pg_catalog.lower(wanted))
         GROUP BY c.control_id),
    live AS (
        SELECT r."check", r.severity, r.object, r.message FROM tls_audit.run_checks() AS r),
    last_run AS (
        SELECT h."check", h.severity, h.message, h.run_at
          FROM tls_audit.check_history AS h
         WHERE h.run_at = (SELECT pg_catalog.max(m.run_at) FROM tls_audit.check_history AS m)),
    -- Per control and check: is it failing, missing or unavailable?
    per_check AS (
        SELECT ctl.control_id, k."check",
               pg_catalog.bool_or(l.severity IN ('warning', 'critical')) AS failing,
               pg_catalog.count(l."check") = 0
                 OR pg_catalog.bool_or(l.message LIKE 'not available:%') AS unevaluated,
               pg_catalog.array_agg(l."check" || ' ' || l.severity || coalesce(' [' || l.object || ']', '')
                                    || ': ' || l.message ORDER BY l.severity, l.object)
                 FILTER (WHERE l."check" IS NOT NULL) AS lines
          FROM ctl
               CROSS JOIN LATERAL pg_catalog.unnest(ctl.checks) AS k ("check")
               LEFT JOIN live AS l ON l."check" = k."check"
         GROUP BY ctl.control_id, k."check"),
    recorded AS (
        SELECT ctl.control_id, k."check",
               pg_catalog.max(h.run_at) AS run_at,
               pg_catalog.bool_or(h.severity IN ('warning', 'critical')) AS failing,
               pg_catalog.count(h."check") = 0
                 OR pg_catalog.bool_or(h.message LIKE 'not available:%') AS unevaluated
          FROM ctl
               CROSS JOIN LATERAL pg_catalog.unnest(ctl.checks) AS k ("check")
               LEFT JOIN last_run AS h ON h."check" = k."check"
         GROUP BY ctl.control_id, k."check")
    SELECT ctl.control_id, ctl.title, ctl.source,
           CASE WHEN pg_catalog.bool_or(p.failing) THEN 'fail'
                WHEN pg_catalog.bool_or(p.unevaluated) THEN 'not evaluated'
                ELSE 'pass' END,
           ctl.checks,
           (SELECT coalesce(pg_catalog.array_agg(x ORDER BY x), '{}')
              FROM per_check AS q, pg_catalog.unnest(q.lines) AS x
             WHERE q.control_id = ctl.control_id),
           pg_catalog.now(),
           (SELECT pg_catalog.max(r.run_at) FROM recorded AS r WHERE r.control_id = ctl.control_id),
           (SELECT CASE WHEN pg_catalog.max(r.run_at) IS NULL THEN NULL
                        WHEN pg_catalog.bool_or(r.failing) THEN 'fail'
                        WHEN pg_catalog.bool_or(r.unevaluated) THEN 'not evaluated'
                        ELSE 'pass' END
              FROM recorded AS r WHERE r.control_id = ctl.control_id)
      FROM ctl
           JOIN per_check AS p ON p.control_id = ctl.control_id
     GROUP BY ctl.control_id, ctl.title, ctl.source, ctl.checks
     ORDER BY ctl.control_id;
END;
$function$;
COMMENT ON FUNCTION tls_audit.compliance(text) IS
  'Per control of one framework (tls_audit.controls.framework or an id prefix such as CIS-PG-17): status pass, fail (a warning or critical finding) or not evaluated (a check''s input was not available), the findings of run_checks() behind it, and the status in the latest run recorded in check_history';
-- Runs the checks (server configuration): monitoring roles only.
REVOKE EXECUTE ON FUNCTION tls_audit.compliance(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.compliance(text) TO pg_monitor;

CREATE FUNCTION tls_audit.report(format text DEFAULT 'html')
RETURNS text
AS 'MODULE_PATHNAME', 'tls_audit_report'
-- VOLATILE: reads files, settings, sessions and the census. PARALLEL UNSAFE:
-- it runs queries in subtransactions. Not STRICT: a NULL format is an error.
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.report(text) IS
  'A self-contained audit report (format html: one HTML document with inline CSS and SVG, no script or external resource; markdown: the same content for tickets): server identity and time, posture summary, findings by severity with fix hints and control ids, certificate chain and expiry timeline, sessions by protocol and cipher, census protocol mix and floor readiness, pg_hba analysis';
-- Shows the server's configuration, sessions and clients: monitoring roles only.
REVOKE EXECUTE ON FUNCTION tls_audit.report(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.report(text) TO pg_monitor;
