-- ---------------------------------------------------------------------------
-- 1.1: functions whose result columns change, and the views over them.
-- sessions and census gain the alpn column (PostgreSQL 17+ ALPN); server_tls()
-- gains tls13_ciphers and groups (PostgreSQL 18) and the last TLS reload
-- (last_reload_at, last_reload_ok, last_reload_error); ca_certificates gains
-- crl_present; run_checks() gains controls; census_info() gains
-- evicted_authenticated, evicted_unauthenticated and dropped_unauthenticated
-- and last_save_at, last_save_error, lost_since (the periodic save, #22 item 5)
-- and self_probes_skipped (#22 item 7)
-- and floor_readiness_summary() gains complete and evicted_since (#22). Result types cannot be
-- changed in place, so these functions and the views over them (sessions,
-- census, ca_certificates, metrics) are dropped and created again as in the 1.1 install
-- script; grants and comments are set again below. (Grants an administrator
-- added to these views must be given again: said in doc/security.md.)
-- ---------------------------------------------------------------------------

DROP VIEW tls_audit.metrics;
DROP FUNCTION tls_audit.run_checks();
DROP VIEW tls_audit.sessions;
DROP FUNCTION tls_audit.session_rows();
DROP VIEW tls_audit.census;
DROP FUNCTION tls_audit.census_entries();
DROP FUNCTION tls_audit.census_info();
DROP FUNCTION tls_audit.floor_readiness_summary(text, interval);
DROP FUNCTION tls_audit.server_tls();
DROP VIEW tls_audit.ca_certificates;
DROP FUNCTION tls_audit.ca_certificates();

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

CREATE FUNCTION tls_audit.ca_certificates(
    @CERTIFICATE_OUT_COLUMNS@,
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
    SELECT @CERTIFICATE_COLUMN_NAMES@, crl_next_update, crl_present
      FROM tls_audit.ca_certificates();
COMMENT ON VIEW tls_audit.ca_certificates IS
  'The certificates in ssl_ca_file (trusted for client certificates) with their expiry, and the next update of the CRL in ssl_crl_file or ssl_crl_dir that each one issued';
COMMENT ON COLUMN tls_audit.ca_certificates.crl_present IS
  'Whether a CRL this CA issued is in ssl_crl_file or ssl_crl_dir; NULL when neither is set. Once a CRL is configured the server checks CRLs for the whole client chain, so a CA without one rejects every client certificate below it (check crl_coverage)';
GRANT SELECT ON tls_audit.ca_certificates TO pg_monitor;

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
            s.below_floor,
            s.floor_reason,
            s.auth_method,
            s.hba_file,
            s.hba_line,
            s.client_cert_verified,
            s.extended_master_secret
    FROM tls_audit.session_rows() AS s
        LEFT JOIN pg_catalog.pg_database AS d ON (s.datid = d.oid)
        LEFT JOIN pg_catalog.pg_authid AS u ON (s.usesysid = u.oid);
COMMENT ON VIEW tls_audit.sessions IS
  'One row per client backend and walsender: transport (unix, tcp, tls, gss), protocol, cipher, client certificate details, SNI, key exchange group, whether the session is below tls_audit.min_protocol, and how it authenticated (method, pg_hba.conf line, client certificate verification, extended master secret)';
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
COMMENT ON COLUMN tls_audit.sessions.below_floor IS 'True for TLS sessions older than tls_audit.min_protocol and for TCP sessions without TLS; false for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.floor_reason IS 'Why the session is below the floor, e.g. TLSv1.1 < TLSv1.2 or no TLS; NULL when it is not';
COMMENT ON COLUMN tls_audit.sessions.auth_method IS 'pg_hba.conf method that authenticated the session (trust, md5, scram-sha-256, password, cert, peer, ...); on an md5 line scram-sha-256 when the role''s secret is a SCRAM verifier, as PostgreSQL then runs SCRAM (registry)';
COMMENT ON COLUMN tls_audit.sessions.hba_file IS 'File of the pg_hba.conf line that admitted the session (PostgreSQL 16+, where pg_hba.conf may include files; NULL on 15) (registry)';
COMMENT ON COLUMN tls_audit.sessions.hba_line IS 'Line number of the pg_hba.conf rule that admitted the session, in hba_file (registry)';
COMMENT ON COLUMN tls_audit.sessions.client_cert_verified IS 'True when the server required and verified a client certificate (cert method or clientcert=verify-ca/verify-full), not merely received one (registry)';
COMMENT ON COLUMN tls_audit.sessions.extended_master_secret IS 'Whether the TLS handshake negotiated the extended master secret (RFC 7627; always true for TLSv1.3); FIPS-mode OpenSSL 3 servers refuse TLSv1.2 clients without it; NULL without TLS (registry)';
GRANT SELECT ON tls_audit.sessions TO PUBLIC;

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
