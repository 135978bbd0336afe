-- ---------------------------------------------------------------------------
-- Metrics in a Prometheus-friendly shape: one row per sample (metric name,
-- labels, value, type, help). monitoring/postgres_exporter/queries.yaml reads it
-- for prometheus-postgres-exporter; tls_audit.metrics_text() renders it in
-- the Prometheus text format (e.g. for node_exporter's textfile collector).
--
-- Every metric family is its own UNION ALL branch with a constant name, so a
-- query WHERE metric = '...' is planned with the other branches removed and
-- reads only the source it needs. The census families need
-- shared_preload_libraries; without it they are simply absent.
-- It reads server files and runs the checks: pg_monitor only.
-- The pooler families ask each pooler of tls_audit.poolers at each read (an
-- admin-console read and a STARTTLS probe, each bounded by
-- tls_audit.pooler_timeout); a pooler that is down gives
-- tls_audit_pooler_up 0 and no other sample, never an error.
-- ---------------------------------------------------------------------------

-- A certificate subject is text anybody who can make a certificate chooses;
-- shown as a dashboard label, a bidirectional control in it would reorder
-- what the reader sees. Label values pass through this function, which
-- writes each control as visible text, as the reports and pg_tls_check do.
-- @region show_bidi_controls
CREATE FUNCTION tls_audit.show_bidi_controls(text)
RETURNS text
-- IMMUTABLE: the answer depends only on the text and the database's encoding,
-- which never changes.
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'tls_audit_show_bidi_controls';
COMMENT ON FUNCTION tls_audit.show_bidi_controls(text) IS
  'The text with each bidirectional control character (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F) written as the visible text \uXXXX (e.g. \u202E); in a database whose encoding is neither UTF8 nor SQL_ASCII the text is returned unchanged (it cannot hold these characters)';
-- @end show_bidi_controls

-- @region metrics_view
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
        SELECT r.transport, r.protocol, r.cipher, r.below_floor, r.auth_method, r.key_exchange_group
          FROM tls_audit.session_rows() AS r
    ), census_state AS (
        SELECT i.entries, i.evicted
          FROM tls_audit.census_info() AS i
         -- A one-time filter: census_info() is not called unless preloaded.
         WHERE tls_audit.preloaded()
    ), pooler_clients AS (
        -- One admin-console read per pooler (bounded by
        -- tls_audit.pooler_timeout); a pooler that cannot be read is a row
        -- with only its name and the error (transport NULL), never an error.
        SELECT p.pooler, p.transport, p.protocol, p.cipher
          FROM tls_audit.pooler_clients() AS p
    )
    SELECT 'tls_audit_server_certificate_expiry_seconds'::text AS metric,
           pg_catalog.jsonb_build_object(
               'source', c.source,
               'position', c."position"::text,
               'subject', tls_audit.show_bidi_controls(coalesce(c.subject, ''))) AS labels,
           pg_catalog.date_part('epoch', c.not_after)
             - pg_catalog.date_part('epoch', pg_catalog.now()) AS value,
           'gauge'::text AS type,
           'Seconds until the server certificate at this chain position expires (source file = ssl_cert_file, served = what clients get); negative once expired'::text AS help
      FROM tls_audit.server_certificates() AS c
    UNION ALL
    SELECT 'tls_audit_ca_certificate_expiry_seconds',
           pg_catalog.jsonb_build_object(
               'position', a."position"::text,
               'subject', tls_audit.show_bidi_controls(coalesce(a.subject, ''))),
           pg_catalog.date_part('epoch', a.not_after)
             - pg_catalog.date_part('epoch', pg_catalog.now()),
           'gauge',
           'Seconds until this certificate in ssl_ca_file (the CAs trusted for client certificates) expires; negative once expired'
      FROM ca AS a
    UNION ALL
    SELECT 'tls_audit_crl_next_update_seconds',
           pg_catalog.jsonb_build_object('issuer', tls_audit.show_bidi_controls(coalesce(a.subject, ''))),
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
    SELECT 'tls_audit_sessions_by_key_exchange_group',
           pg_catalog.jsonb_build_object('key_exchange_group', coalesce(r.key_exchange_group, '')),
           pg_catalog.count(*)::double precision,
           'gauge',
           'Open sessions (client backends and walsenders) per TLS key-exchange group as OpenSSL names it (X25519MLKEM768 and the other hybrid post-quantum groups by name; empty without TLS)'
      FROM sessions AS r
     GROUP BY coalesce(r.key_exchange_group, '')
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
      FROM census_state AS i
    UNION ALL
    SELECT 'tls_audit_pooler_up',
           pg_catalog.jsonb_build_object('pooler', p.pooler),
           CASE WHEN pg_catalog.bool_or(p.transport IS NULL) THEN 0 ELSE 1 END::double precision,
           'gauge',
           '1 when the admin console of this pooler of tls_audit.poolers was read, 0 when it could not be (down, refused, timed out: see tls_audit.pooler_clients().error)'
      FROM pooler_clients AS p
     GROUP BY p.pooler
    UNION ALL
    -- The pooler -> server leg is not counted here: those are this server's
    -- own sessions, in tls_audit_sessions.
    SELECT 'tls_audit_pooler_client_connections',
           pg_catalog.jsonb_build_object(
               'pooler', p.pooler,
               'transport', p.transport,
               'protocol', coalesce(p.protocol, ''),
               'cipher', coalesce(p.cipher, '')),
           pg_catalog.count(*)::double precision,
           'gauge',
           'Client connections of each pooler of tls_audit.poolers (its SHOW CLIENTS) per transport (tls, tcp, unix), TLS protocol and cipher; the admin-console connection that reads them is one of them'
      FROM pooler_clients AS p
     WHERE p.transport IS NOT NULL
     GROUP BY p.pooler, p.transport, coalesce(p.protocol, ''), coalesce(p.cipher, '')
    UNION ALL
    SELECT 'tls_audit_pooler_certificate_expiry_seconds',
           pg_catalog.jsonb_build_object(
               'pooler', c.pooler,
               'position', c."position"::text,
               'subject', tls_audit.show_bidi_controls(coalesce(c.subject, ''))),
           pg_catalog.date_part('epoch', c.not_after)
             - pg_catalog.date_part('epoch', pg_catalog.now()),
           'gauge',
           'Seconds until the certificate at this chain position that this pooler of tls_audit.poolers serves its clients expires (probed over STARTTLS); negative once expired'
      FROM tls_audit.pooler_certificates() AS c
     WHERE c.error IS NULL;
COMMENT ON VIEW tls_audit.metrics IS
  'TLS metrics in a Prometheus-friendly shape, one row per sample: server and CA certificate expiry, CRL next update, reload pending, open sessions per protocol and cipher, sessions below the floor, sessions per authentication method and per key-exchange group, check findings per severity, census connections (also per authentication method), and per pooler of tls_audit.poolers whether it was read, its clients per protocol and cipher and the expiry of the certificate it serves; census rows need shared_preload_libraries';
COMMENT ON COLUMN tls_audit.metrics.metric IS 'Prometheus metric name, e.g. tls_audit_server_certificate_expiry_seconds';
COMMENT ON COLUMN tls_audit.metrics.labels IS 'Label names and values (all values are strings; empty string when not applicable); unique per metric';
COMMENT ON COLUMN tls_audit.metrics.value IS 'Sample value';
COMMENT ON COLUMN tls_audit.metrics.type IS 'Prometheus metric type: gauge or counter';
COMMENT ON COLUMN tls_audit.metrics.help IS 'What the metric means (the # HELP text)';
-- Reads server files and runs the checks (functions only pg_monitor may
-- execute): a view over them would fail for PUBLIC anyway.
GRANT SELECT ON tls_audit.metrics TO pg_monitor;
-- @end metrics_view

-- @region metrics_text
CREATE FUNCTION tls_audit.metrics_text()
RETURNS text
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $function$
    -- Label values escaped as the text format wants: \ -> \\, " -> \", newline -> \n
    -- (bidirectional controls are already visible text: tls_audit.metrics).
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
-- @end metrics_text
