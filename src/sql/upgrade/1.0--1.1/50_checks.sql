-- 1.1: each finding carries the ids of the controls its check provides
-- evidence for (run_checks().controls, changed with the result types in
-- 05_result_types.sql); history keeps them. Rows recorded by 1.0 keep NULL.
ALTER TABLE tls_audit.check_history ADD COLUMN controls text[];
COMMENT ON COLUMN tls_audit.check_history.controls IS
  'Ids of the controls the check provides evidence for (tls_audit.controls), as run_checks() gave them; NULL in rows recorded by version 1.0';

-- 1.1: record_checks() sends its NOTIFY only when tls_audit.notify_channel
-- names a channel (none by default), with the payload tls_audit.notify_payload
-- chooses (a NOTIFY reaches every role that can connect and LISTEN).
CREATE OR REPLACE FUNCTION tls_audit.record_checks()
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
