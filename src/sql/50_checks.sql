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
