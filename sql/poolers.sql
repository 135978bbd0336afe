-- pgbouncer poolers (doc/poolers.md) without a pooler: the functions answer
-- with no rows, and tls_audit.poolers refuses malformed values (ALTER SYSTEM
-- runs the same check as a reload) without echoing connection strings.
-- The TAP test test/t/078_poolers.pl runs them against a real pgbouncer.

-- Loads the library in this backend (its settings exist from then on).
SELECT count(*) AS clients FROM tls_audit.pooler_clients();
SELECT count(*) AS servers FROM tls_audit.pooler_servers();
SELECT count(*) AS settings FROM tls_audit.pooler_settings();
SHOW tls_audit.poolers;
SHOW tls_audit.pooler_timeout;

-- No pooler configured: every pooler check is one 'ok' row.
SELECT "check", severity, message FROM tls_audit.run_checks()
 WHERE "check" LIKE 'pooler%' ORDER BY "check";

-- Malformed values are refused (and no ALTER SYSTEM line is written).
\set VERBOSITY default
ALTER SYSTEM SET tls_audit.poolers = 'edge';
ALTER SYSTEM SET tls_audit.poolers = 'Edge=host=h';
ALTER SYSTEM SET tls_audit.poolers = 'host=h password=secret';
ALTER SYSTEM SET tls_audit.poolers = 'a=host=h;;b=host=h';
ALTER SYSTEM SET tls_audit.poolers = 'a=host=h;a=host=h2';
ALTER SYSTEM SET tls_audit.poolers = 'a=host=h password=''sec;ret';
ALTER SYSTEM SET tls_audit.poolers = 'a=host=h password=secret nonsense';
ALTER SYSTEM SET tls_audit.poolers = 'a=host=h passwd=secret';
-- Out of range: ALTER SYSTEM refuses (SQLSTATE only: from 16 on the message
-- gives the range with its unit, "(100 ms .. 60000 ms)", before "(100 .. 60000)").
\set VERBOSITY sqlstate
ALTER SYSTEM SET tls_audit.pooler_timeout = 10;
ALTER SYSTEM SET tls_audit.pooler_timeout = '2min';
\set VERBOSITY default
-- The same check through set_config(), its message without the range.
DO $$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY ARRAY['10', '2min', '99ms', '60001'] LOOP
        BEGIN
            PERFORM set_config('tls_audit.pooler_timeout', v, true);
            RAISE NOTICE '%: accepted', v;
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE NOTICE '%: % %', v, SQLSTATE, regexp_replace(SQLERRM, ' \(.*\)$', '');
        END;
    END LOOP;
END
$$;
-- The bounds themselves are accepted.
SELECT set_config('tls_audit.pooler_timeout', '100', true) AS low,
       set_config('tls_audit.pooler_timeout', '1min', true) AS high;
-- Set only in the configuration files.
SET tls_audit.poolers = '';
-- No pooler: no served certificate, and no pooler metric family (the view
-- neither fails nor invents a sample).
SELECT count(*) AS certificates FROM tls_audit.pooler_certificates();
SELECT count(*) AS pooler_samples FROM tls_audit.metrics WHERE metric LIKE 'tls_audit_pooler%';
-- tls_audit.pooler_sample_interval: sighup, 0 (off) .. 1 day. Out of range or
-- not a number is refused (SQLSTATE only: the range's text differs by version).
SHOW tls_audit.pooler_sample_interval;
\set VERBOSITY sqlstate
ALTER SYSTEM SET tls_audit.pooler_sample_interval = -1;
ALTER SYSTEM SET tls_audit.pooler_sample_interval = '2d';
ALTER SYSTEM SET tls_audit.pooler_sample_interval = 'often';
\set VERBOSITY default
SET tls_audit.pooler_sample_interval = 5;
