-- Connection census: SQL surface, errors and privileges. The regression
-- instance preloads the library and is reached over a unix socket; TLS,
-- persistence and eviction are covered by test/t/040_census.pl and 041.

-- This session's own connection: one unix-socket entry for this test file.
SELECT usename = current_user AS own_user, datname = current_database() AS own_db,
       client_addr IS NULL AS no_addr, transport, protocol IS NULL AS no_protocol,
       cipher IS NULL AS no_cipher, client_subject IS NULL AS no_subject, outcome,
       rejection_reason IS NULL AS no_reason, connections,
       first_seen <= last_seen AS ordered, last_seen <= now() AS not_future
  FROM tls_audit.census
 WHERE application_name = 'pg_regress/census';

SELECT max_entries, file_loaded, loaded_entries, file_status, evicted, rejections_dropped,
       entries >= 1 AS has_entries, since_reset <= now() AS since_ok
  FROM tls_audit.census_info();

SHOW tls_audit.census_max;

-- Over unix sockets nothing would be refused at any floor.
SELECT count(*) FROM tls_audit.floor_readiness();
SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.2', '1 day');
SELECT target, connections_total >= 1 AS some, connections_total = connections_ready AS all_ready,
       ready_share, clients_not_ready, connections_rejected
  FROM tls_audit.floor_readiness_summary('tlsv1.3');
SELECT target FROM tls_audit.floor_readiness_summary();
-- A window in the future: nothing counted, no share.
SELECT connections_total, connections_ready, ready_share
  FROM tls_audit.floor_readiness_summary('TLSv1.2', '-1 day');

-- Post-quantum readiness: over unix sockets no connection is hybrid, each
-- says why (no TLS); the summary counts them all as without TLS.
SELECT count(*) >= 1 AS rows, bool_and(NOT hybrid) AS none_hybrid,
       bool_and(reason = 'no TLS (unix)') FILTER (WHERE client_addr IS NULL) AS unix_says_no_tls
  FROM tls_audit.pq_readiness();
SELECT connections_total >= 1 AS some, connections_hybrid, connections_tls12,
       connections_no_tls + connections_hybrid + connections_tls12 <= connections_total AS parts_fit,
       clients_not_ready >= 1 AS not_ready, complete
  FROM tls_audit.pq_readiness_summary();
-- A window in the future: nothing counted, no share.
SELECT connections_total, connections_hybrid, hybrid_share, clients_not_ready
  FROM tls_audit.pq_readiness_summary('-1 day');
SELECT count(*) FROM tls_audit.pq_readiness('-1 day');
-- NULL since is the whole census, the same as no argument.
SELECT (SELECT connections_total FROM tls_audit.pq_readiness_summary(NULL)) >= 1 AS null_since_is_all;

-- Bad targets are clean errors that list the valid names.
SELECT * FROM tls_audit.floor_readiness('TLSv1.9');
SELECT * FROM tls_audit.floor_readiness('SSLv3');
SELECT * FROM tls_audit.floor_readiness(NULL);
SELECT * FROM tls_audit.floor_readiness_summary('');
SELECT * FROM tls_audit.floor_readiness(repeat('x', 100000));

-- Privileges: the reset is not for PUBLIC; others see only their own rows.
CREATE ROLE regress_census_user;
SELECT has_function_privilege('regress_census_user', 'tls_audit.census_reset()', 'EXECUTE') AS can_reset,
       has_table_privilege('regress_census_user', 'tls_audit.census', 'SELECT') AS can_read,
       has_function_privilege('regress_census_user', 'tls_audit.floor_readiness(text, interval)', 'EXECUTE') AS can_check;
SET ROLE regress_census_user;
SELECT count(*) AS visible FROM tls_audit.census;
SELECT count(*) AS visible FROM tls_audit.floor_readiness();
SELECT connections_total FROM tls_audit.floor_readiness_summary();
SELECT count(*) AS visible FROM tls_audit.pq_readiness() WHERE usename <> current_user;
SELECT connections_total FROM tls_audit.pq_readiness_summary();
SELECT max_entries FROM tls_audit.census_info();
SELECT tls_audit.census_reset();
RESET ROLE;
GRANT pg_read_all_stats TO regress_census_user;
SET ROLE regress_census_user;
SELECT count(*) >= 1 AS sees_others FROM tls_audit.census WHERE usename <> current_user;
RESET ROLE;
DROP ROLE regress_census_user;

-- Markings.
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel, obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p
 WHERE p.pronamespace = 'tls_audit'::regnamespace
   AND p.proname IN ('census_entries', 'census_info', 'census_reset', 'floor_readiness', 'floor_readiness_summary',
                     'pq_readiness', 'pq_readiness_summary')
 ORDER BY p.proname;
SELECT obj_description('tls_audit.census'::regclass, 'pg_class') IS NOT NULL AS view_commented;

-- Reset empties the census and starts a new period.
SELECT since_reset AS before_reset FROM tls_audit.census_info() \gset
SELECT tls_audit.census_reset();
SELECT entries, evicted, since_reset > :'before_reset'::timestamptz AS new_period FROM tls_audit.census_info();
SELECT count(*) FROM tls_audit.census;
