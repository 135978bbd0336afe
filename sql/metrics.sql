-- tls_audit.metrics and tls_audit.metrics_text() over a unix socket, on any
-- server that preloads the library (pg_regress's instance has ssl off;
-- `make installcheck` may run with TLS): the families that exist only with
-- TLS are checked against ssl, not listed. Certificates, TLS sessions and the
-- real prometheus-postgres-exporter: test/t/070_exporter.pl.

-- Column layout.
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid = 'tls_audit.metrics'::regclass AND attnum > 0
 ORDER BY attnum;

-- The families present on every server, one type and a help text each.
SELECT metric, min(type) AS type, count(DISTINCT type) AS types,
       bool_and(help <> '') AS has_help, bool_and(value IS NOT NULL) AS has_values
  FROM tls_audit.metrics
 WHERE metric !~ '^tls_audit_(server_(certificate|reload)|ca|crl)_'
 GROUP BY metric
 ORDER BY metric;

-- ssl_enabled follows the setting; certificate series exist only with ssl
-- (CA series only with ssl_ca_file); reload_pending is known only with ssl.
SELECT value = current_setting('ssl')::boolean::int AS ssl_enabled_agrees
  FROM tls_audit.metrics WHERE metric = 'tls_audit_server_ssl_enabled';
SELECT (count(*) FILTER (WHERE metric = 'tls_audit_server_certificate_expiry_seconds') > 0)
         = current_setting('ssl')::boolean AS cert_series_iff_ssl,
       (count(*) FILTER (WHERE metric = 'tls_audit_server_reload_pending') = 1)
         = current_setting('ssl')::boolean AS reload_pending_iff_ssl,
       count(*) FILTER (WHERE metric = 'tls_audit_ca_certificate_expiry_seconds') = 0
         OR current_setting('ssl_ca_file') <> '' AS ca_series_iff_ca_file,
       coalesce(bool_and(help <> '' AND value IS NOT NULL), true) AS tls_series_complete
  FROM tls_audit.metrics
 WHERE metric ~ '^tls_audit_(server_(certificate|reload)|ca|crl)_';

-- Label sets are unique per metric (the exporter fails a scrape with
-- duplicates) and every label value is a string.
SELECT metric, labels, count(*)
  FROM tls_audit.metrics
 GROUP BY metric, labels
HAVING count(*) > 1;
SELECT m.metric, l.key, l.value
  FROM tls_audit.metrics AS m, jsonb_each(m.labels) AS l
 WHERE jsonb_typeof(l.value) <> 'string';
SELECT metric, array_agg(DISTINCT k ORDER BY k) AS label_names
  FROM (SELECT m.metric, jsonb_object_keys(m.labels) AS k FROM tls_audit.metrics AS m
         WHERE m.metric !~ '^tls_audit_(server_(certificate|reload)|ca|crl)_') AS s
 GROUP BY metric
 ORDER BY metric;

-- Backends of the tests before this one may still be exiting, so a comparison
-- of two reads (the metrics, tls_audit.sessions) taken a moment apart
-- is retried until both agree: at most 50 times, 0.1 s apart, with a fresh
-- statistics snapshot each time. A real disagreement still shows as false.
CREATE FUNCTION pg_temp.settled(query text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  ok boolean;
BEGIN
  FOR i IN 1..50 LOOP
    PERFORM pg_stat_clear_snapshot();
    EXECUTE query INTO ok;
    EXIT WHEN ok;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN ok;
END $$;

-- Sessions: the same counts as tls_audit.sessions, with this unix session.
SELECT pg_temp.settled($$
  SELECT (SELECT jsonb_object_agg(m.labels::text, m.value)
            FROM tls_audit.metrics AS m
           WHERE m.metric = 'tls_audit_sessions')
       = (SELECT jsonb_object_agg(s.labels::text, s.n)
            FROM (SELECT jsonb_build_object('transport', transport, 'protocol', coalesce(protocol, ''),
                                            'cipher', coalesce(cipher, '')) AS labels,
                         count(*) AS n
                    FROM tls_audit.sessions
                   GROUP BY 1) AS s)$$) AS sessions_agree;
SELECT value >= 1 AS this_session_counted
  FROM tls_audit.metrics
 WHERE metric = 'tls_audit_sessions'
   AND labels = '{"transport": "unix", "protocol": "", "cipher": ""}';
SELECT value = (SELECT count(*) FROM tls_audit.sessions WHERE below_floor) AS below_floor_agrees
  FROM tls_audit.metrics
 WHERE metric = 'tls_audit_sessions_below_floor';

-- Findings: all four severities, counted as in run_checks().
SELECT m.labels->>'severity' AS severity,
       m.value = (SELECT count(*) FROM tls_audit.run_checks() AS c
                   WHERE c.severity = m.labels->>'severity') AS agrees
  FROM tls_audit.metrics AS m
 WHERE m.metric = 'tls_audit_findings'
 ORDER BY 1;

-- Census: sums of tls_audit.census, this connection included.
SELECT (SELECT jsonb_object_agg(m.labels::text, m.value)
          FROM tls_audit.metrics AS m
         WHERE m.metric = 'tls_audit_census_connections_total')
     = (SELECT jsonb_object_agg(s.labels::text, s.n)
          FROM (SELECT jsonb_build_object('protocol', coalesce(protocol, ''), 'transport', transport,
                                          'outcome', outcome) AS labels,
                       sum(connections) AS n
                  FROM tls_audit.census
                 GROUP BY 1) AS s) AS census_agrees;
SELECT value >= 1 AS this_connection_counted
  FROM tls_audit.metrics
 WHERE metric = 'tls_audit_census_connections_total'
   AND labels = '{"protocol": "", "transport": "unix", "outcome": "authenticated"}';
SELECT m.metric,
       m.value = CASE m.metric WHEN 'tls_audit_census_entries' THEN i.entries ELSE i.evicted END AS agrees
  FROM tls_audit.metrics AS m, tls_audit.census_info() AS i
 WHERE m.metric IN ('tls_audit_census_entries', 'tls_audit_census_evictions_total')
 ORDER BY 1;

-- Cheap to poll: asking for one family runs only its source function (the
-- other branches are planned away or never executed).
CREATE FUNCTION pg_temp.executed_scans(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF line ~ 'Function Scan' AND line !~ 'never executed' THEN
            RETURN NEXT substring(line FROM 'Function Scan on \S+');
        END IF;
    END LOOP;
END
$$;
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_sessions'$$);
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_findings'$$);
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_census_entries'$$);
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_server_ssl_enabled'$$);
-- The pooler families ask the poolers: only they, and each its own source.
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_pooler_up'$$);
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics WHERE metric = 'tls_audit_pooler_certificate_expiry_seconds'$$);
SELECT pg_temp.executed_scans($$SELECT * FROM tls_audit.metrics$$) ORDER BY 1;

-- metrics_text(): the Prometheus text format, one sample line per view row,
-- ending with a newline.
SELECT bool_and(line ~ '^(# HELP tls_audit_\w+ \S.*|# TYPE tls_audit_\w+ (gauge|counter)|tls_audit_\w+(\{\w+="([^"\\]|\\.)*"(,\w+="([^"\\]|\\.)*")*\})? -?[0-9][0-9.e+-]*)$') AS well_formed,
       count(*) FILTER (WHERE line LIKE '# HELP %')
         = (SELECT count(DISTINCT metric) FROM tls_audit.metrics) AS one_help_per_family,
       count(*) FILTER (WHERE line LIKE '# TYPE %')
         = (SELECT count(DISTINCT metric) FROM tls_audit.metrics) AS one_type_per_family,
       count(*) FILTER (WHERE line NOT LIKE '#%') = (SELECT count(*) FROM tls_audit.metrics) AS one_line_per_row
  FROM regexp_split_to_table(rtrim(tls_audit.metrics_text(), E'\n'), E'\n') AS line;
SELECT right(tls_audit.metrics_text(), 1) = E'\n' AS ends_with_newline;
-- (values depend on the server's configuration: shown as <n>)
SELECT regexp_replace(line, '^(tls_audit_(findings|server_ssl_enabled)\S*) \d+$', '\1 <n>') AS line
  FROM regexp_split_to_table(tls_audit.metrics_text(), E'\n') AS line
 WHERE line ~ '^(# TYPE|tls_audit_server_ssl_enabled|tls_audit_findings)'
   AND line !~ '^# TYPE tls_audit_(server_(certificate|reload)|ca|crl)_'
 ORDER BY line;

-- Privileges: the view reads server files and runs the checks; pg_monitor
-- only.
SELECT has_table_privilege('public', 'tls_audit.metrics', 'SELECT') AS public_select,
       has_table_privilege('pg_monitor', 'tls_audit.metrics', 'SELECT') AS pg_monitor_select,
       has_function_privilege('public', 'tls_audit.metrics_text()', 'EXECUTE') AS public_text,
       has_function_privilege('pg_monitor', 'tls_audit.metrics_text()', 'EXECUTE') AS pg_monitor_text;
CREATE ROLE regress_metrics_nobody;
CREATE ROLE regress_metrics_monitor IN ROLE pg_monitor;
SET ROLE regress_metrics_nobody;
SELECT count(*) FROM tls_audit.metrics;
SELECT tls_audit.metrics_text() IS NOT NULL;
RESET ROLE;
SET ROLE regress_metrics_monitor;
SELECT metric, count(*) > 0 AS has_rows FROM tls_audit.metrics
 WHERE metric !~ '^tls_audit_(server_(certificate|reload)|ca|crl)_' GROUP BY metric ORDER BY metric;
SELECT tls_audit.metrics_text() LIKE '%# TYPE tls_audit_findings gauge%' AS text_works;
RESET ROLE;
DROP ROLE regress_metrics_nobody;
DROP ROLE regress_metrics_monitor;
