-- pg_tls_audit 1.0 install script, assembled from src/sql/*.sql by the Makefile.
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
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
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
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
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
LANGUAGE C STABLE STRICT PARALLEL SAFE
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
    OUT floor_reason text)
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
            s.below_floor,
            s.floor_reason
    FROM tls_audit.session_rows() AS s
        LEFT JOIN pg_catalog.pg_database AS d ON (s.datid = d.oid)
        LEFT JOIN pg_catalog.pg_authid AS u ON (s.usesysid = u.oid);
COMMENT ON VIEW tls_audit.sessions IS
  'One row per client backend and walsender: transport (unix, tcp, tls), protocol, cipher, client certificate details, SNI, key exchange group, and whether the session is below tls_audit.min_protocol';
COMMENT ON COLUMN tls_audit.sessions.pid IS 'Process ID of the backend';
COMMENT ON COLUMN tls_audit.sessions.usename IS 'Login role of the session';
COMMENT ON COLUMN tls_audit.sessions.datname IS 'Database of the session (NULL for a physical walsender)';
COMMENT ON COLUMN tls_audit.sessions.application_name IS 'application_name the client set';
COMMENT ON COLUMN tls_audit.sessions.client_addr IS 'Client IP address; NULL for unix sockets and for sessions the caller may not see';
COMMENT ON COLUMN tls_audit.sessions.client_port IS 'Client TCP port; -1 for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.backend_type IS 'client backend or walsender';
COMMENT ON COLUMN tls_audit.sessions.backend_start IS 'When the backend started (with pid, identifies the session)';
COMMENT ON COLUMN tls_audit.sessions.transport IS 'unix (unix-domain socket), tcp (TCP without TLS) or tls';
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
COMMENT ON COLUMN tls_audit.sessions.below_floor IS 'True for TLS sessions older than tls_audit.min_protocol and for TCP sessions without TLS; false for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.floor_reason IS 'Why the session is below the floor, e.g. TLSv1.1 < TLSv1.2 or no TLS; NULL when it is not';
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
REVOKE ALL ON FUNCTION tls_audit.registry_slots() FROM PUBLIC;
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
    OUT file_errors text[])
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_server_tls'
-- VOLATILE: reads files, shared memory and may connect to this server.
-- PARALLEL RESTRICTED: the per-backend caches and the self-probe belong to the leader.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.server_tls() IS
  'The server''s TLS configuration in one row: certificate expiry, key match and key file permissions, chain completeness, served versus on-disk certificate (reload_pending), protocol range, ciphers. Never shows key material.';
REVOKE ALL ON FUNCTION tls_audit.server_tls() FROM PUBLIC;
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
REVOKE ALL ON FUNCTION tls_audit.server_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.server_certificates() TO pg_monitor;

CREATE VIEW tls_audit.server_certificates AS
    SELECT source, "position", subject, issuer, serial, not_before, not_after, days_left,
           key_type, key_bits, signature_algorithm, sha256, san, is_ca, self_signed
      FROM tls_audit.server_certificates();
COMMENT ON VIEW tls_audit.server_certificates IS
  'Each certificate of the server''s chain, as read from ssl_cert_file (source = file) and as served to TLS clients (source = served); position 0 is the leaf';
REVOKE ALL ON tls_audit.server_certificates FROM PUBLIC;
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
    OUT crl_next_update timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_ca_certificates'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.ca_certificates() IS
  'The rows of tls_audit.ca_certificates';
REVOKE ALL ON FUNCTION tls_audit.ca_certificates() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.ca_certificates() TO pg_monitor;

CREATE VIEW tls_audit.ca_certificates AS
    SELECT "position", subject, issuer, serial, not_before, not_after, days_left,
           key_type, key_bits, signature_algorithm, sha256, san, is_ca, self_signed, crl_next_update
      FROM tls_audit.ca_certificates();
COMMENT ON VIEW tls_audit.ca_certificates IS
  'The certificates in ssl_ca_file (trusted for client certificates) with their expiry, and the next update of the CRL in ssl_crl_file or ssl_crl_dir that each one issued';
REVOKE ALL ON tls_audit.ca_certificates FROM PUBLIC;
GRANT SELECT ON tls_audit.ca_certificates TO pg_monitor;
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
    OUT hint text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_run_checks'
-- VOLATILE: reads files, settings and live sessions. PARALLEL UNSAFE: it
-- runs queries in subtransactions.
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.run_checks() IS
  'Run every TLS check: one row per finding, and one ''ok'' row per check that found nothing (severity ok, info, warning or critical)';
-- Shows the server's configuration: monitoring roles only. Inputs the caller
-- may not read (pg_hba_file_rules, pg_authid) are reported as ''info''.
REVOKE ALL ON FUNCTION tls_audit.run_checks() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.run_checks() TO pg_monitor;

CREATE TABLE tls_audit.check_history (
    run_at timestamptz NOT NULL,
    "check" text NOT NULL,
    severity text NOT NULL
        CONSTRAINT check_history_severity_check
        CHECK (severity IN ('ok', 'info', 'warning', 'critical')),
    object text,
    message text NOT NULL,
    hint text
);
CREATE INDEX check_history_run_at_idx ON tls_audit.check_history (run_at);
COMMENT ON TABLE tls_audit.check_history IS
  'Findings stored by tls_audit.record_checks(), one row per finding per run (run_at is the run''s transaction time); rows older than tls_audit.history_retention_days are deleted by each run';
-- pg_dump keeps the rows (the table itself belongs to the extension).
SELECT pg_catalog.pg_extension_config_dump('tls_audit.check_history', '');
REVOKE ALL ON tls_audit.check_history FROM PUBLIC;
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
BEGIN
    SELECT coalesce(pg_catalog.array_agg(ROW(run_time, c."check", c.severity, c.object, c.message, c.hint)::tls_audit.check_history), '{}')
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

    -- Delivered to LISTEN tls_audit sessions when the transaction commits.
    -- Bounded size: the check names are a fixed set.
    PERFORM pg_catalog.pg_notify('tls_audit', pg_catalog.jsonb_build_object(
        'run_at', run_time,
        'database', pg_catalog.current_database(),
        'cluster_name', pg_catalog.current_setting('cluster_name'),
        'worst_severity', worst,
        'counts', counts,
        'failing_checks', pg_catalog.to_jsonb(failing))::text);
    RETURN worst;
END;
$function$;
COMMENT ON FUNCTION tls_audit.record_checks() IS
  'Run the checks, append them to tls_audit.check_history, delete history older than tls_audit.history_retention_days, log a WARNING per warning/critical finding, NOTIFY tls_audit with a JSON summary, and return the worst severity; on a hot standby it only logs';
-- Writes history and sends notifications: superusers (and roles granted it) only.
REVOKE ALL ON FUNCTION tls_audit.record_checks() FROM PUBLIC;

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
REVOKE ALL ON FUNCTION tls_audit.summary_row() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.summary_row() TO pg_monitor;

CREATE VIEW tls_audit.summary AS
    SELECT s.worst_severity, s.critical, s.warning, s.info, s.ok,
           s.server_cert_days_left, s.sessions_below_floor,
           s.last_run_at, s.last_run_severity
      FROM tls_audit.summary_row() AS s;
COMMENT ON VIEW tls_audit.summary IS
  'One row: the worst severity and counts per severity of tls_audit.run_checks() now, the server certificate''s days left, sessions below the protocol floor, and the last recorded run (time and worst severity); NULL where the caller cannot read the source';
REVOKE ALL ON tls_audit.summary FROM PUBLIC;
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
    OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_census_entries'
-- Reads shared memory that changes with every connection.
LANGUAGE C VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_entries() IS
  'Connection census entries (all of them for pg_read_all_stats, otherwise only the caller''s own role)';

CREATE VIEW tls_audit.census AS
  SELECT * FROM tls_audit.census_entries();
COMMENT ON VIEW tls_audit.census IS
  'Connection attempts counted since the last census_reset(), per user, database, address, application, transport, protocol, cipher, client certificate subject and outcome (authenticated, auth_failed, tls_rejected)';
GRANT SELECT ON tls_audit.census TO PUBLIC;

CREATE FUNCTION tls_audit.census_info(
    OUT entries bigint,
    OUT max_entries integer,
    OUT evicted bigint,
    OUT rejections_dropped bigint,
    OUT since_reset timestamptz,
    OUT file_loaded boolean,
    OUT loaded_entries bigint,
    OUT file_status text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_census_info'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_info() IS
  'State of the connection census: entries, tls_audit.census_max, evictions and dropped rejections since the last reset, and what happened to the census file at server start';

CREATE FUNCTION tls_audit.census_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'tls_audit_census_reset'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.census_reset() IS
  'Empty the connection census, zero its eviction count and remove the census file';
REVOKE ALL ON FUNCTION tls_audit.census_reset() FROM PUBLIC;

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
    OUT connections_rejected bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_floor_readiness_summary'
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.floor_readiness_summary(text, interval) IS
  'One row: authenticated connections in the census, how many would still be accepted at floor target, their share, the number of distinct clients that would not, and handshakes already rejected';
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
    OUT cipher text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_certificates'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text) IS
  'The certificate chain a PostgreSQL server presents over STARTTLS, verified against ca_file (or the system store) and the host name';

REVOKE EXECUTE ON FUNCTION tls_audit.probe(text, integer, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text) FROM PUBLIC;
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
        SELECT r.transport, r.protocol, r.cipher, r.below_floor
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
           'Open sessions (client backends and walsenders) per transport (unix, tcp, tls), TLS protocol and cipher'
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
  'TLS metrics in a Prometheus-friendly shape, one row per sample: server and CA certificate expiry, CRL next update, reload pending, open sessions per protocol and cipher, sessions below the floor, check findings per severity, census connections; census rows need shared_preload_libraries';
COMMENT ON COLUMN tls_audit.metrics.metric IS 'Prometheus metric name, e.g. tls_audit_server_certificate_expiry_seconds';
COMMENT ON COLUMN tls_audit.metrics.labels IS 'Label names and values (all values are strings; empty string when not applicable); unique per metric';
COMMENT ON COLUMN tls_audit.metrics.value IS 'Sample value';
COMMENT ON COLUMN tls_audit.metrics.type IS 'Prometheus metric type: gauge or counter';
COMMENT ON COLUMN tls_audit.metrics.help IS 'What the metric means (the # HELP text)';
-- Reads server files and runs the checks (functions only pg_monitor may
-- execute): a view over them would fail for PUBLIC anyway.
REVOKE ALL ON tls_audit.metrics FROM PUBLIC;
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
REVOKE ALL ON FUNCTION tls_audit.metrics_text() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.metrics_text() TO pg_monitor;
