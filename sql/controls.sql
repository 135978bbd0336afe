-- Control mapping, compliance() and report(). The mapping is
-- data compiled into the library: its rows are listed here in full, so that
-- a change to src/core/controls.cpp shows in this output and is reviewed.

-- Every control and the checks behind it, with its source.
SELECT framework, control_id, "check", source
  FROM tls_audit.controls
 ORDER BY framework, control_id, "check";

-- Every check named by a control is a check run_checks() reports.
SELECT c."check" AS unknown_check
  FROM tls_audit.controls AS c
 WHERE c."check" NOT IN (SELECT r."check" FROM tls_audit.run_checks() AS r);

-- run_checks().controls is exactly the control ids of the row's check.
SELECT count(*) AS rows_with_wrong_controls
  FROM tls_audit.run_checks() AS r
 WHERE coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(r.controls) AS x), '{}')
       IS DISTINCT FROM
       coalesce((SELECT array_agg(c.control_id ORDER BY c.control_id) FROM tls_audit.controls AS c
                  WHERE c."check" = r."check"), '{}');
SELECT controls FROM tls_audit.run_checks() WHERE "check" = 'server_key_permissions' LIMIT 1;

-- compliance(): one row per control of the framework, a known status, and
-- the findings of the checks behind it; framework by key or id prefix,
-- case-insensitively.
SELECT control_id, status IN ('pass', 'fail', 'not evaluated') AS known_status,
       cardinality(findings) >= cardinality(checks) AS findings_for_every_check,
       evaluated_at = now() AS evaluated_now
  FROM tls_audit.compliance('cis');
SELECT count(*) AS pci_controls FROM tls_audit.compliance('PCI-DSS-4.0');
-- A failing check fails its controls: password_encryption is md5 here.
SET password_encryption = md5;
SELECT control_id, status FROM tls_audit.compliance('disa-stig') WHERE control_id LIKE '%V-261891';
RESET password_encryption;
-- The latest recorded run: none yet, then one (forged here: only its rows
-- matter).
SELECT count(*) FILTER (WHERE last_recorded_at IS NOT NULL) AS recorded FROM tls_audit.compliance('Mozilla');
INSERT INTO tls_audit.check_history (run_at, "check", severity, message)
VALUES ('2026-01-01 00:00+00', 'min_protocol', 'warning', 'forged'),
       ('2026-01-01 00:00+00', 'max_protocol', 'ok', 'forged'),
       ('2026-01-01 00:00+00', 'weak_ciphers', 'ok', 'forged'),
       ('2026-01-01 00:00+00', 'key_exchange_groups', 'ok', 'forged');
SELECT control_id, last_recorded_at, last_recorded_status FROM tls_audit.compliance('mozilla');
DELETE FROM tls_audit.check_history WHERE message = 'forged';
-- Bad input.
SELECT * FROM tls_audit.compliance('BSI');
SELECT * FROM tls_audit.compliance(NULL);

-- report(): a whole HTML document with its content-security policy, no
-- reference to load (URLs in hints are text), and the findings; Markdown
-- likewise.
SELECT r LIKE '<!DOCTYPE html>%' AS doctype,
       r LIKE '%</html>%' AS complete,
       r LIKE '%default-src ''none''%' AS csp,
       r !~ '(src|href)\s*=' AS no_references,
       r LIKE '%id="findings"%' AS findings,
       r LIKE '%ssl_enabled%' AS names_checks
  FROM tls_audit.report() AS r;
SELECT r LIKE '# TLS audit report%' AS title, r LIKE '%## Findings%' AS findings, r NOT LIKE '%<%' AS no_markup
  FROM tls_audit.report('markdown') AS r;
SELECT tls_audit.report('pdf');
SELECT tls_audit.report(NULL);
