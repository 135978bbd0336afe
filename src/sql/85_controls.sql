-- ---------------------------------------------------------------------------
-- Evidence for auditors: which framework controls each check provides
-- evidence for (tls_audit.controls, data compiled into the library:
-- src/core/checks/controls.cpp, sources in doc/controls.md), the status per control
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
