-- tls_audit.sessions over pg_regress's unix socket (preloaded library).
-- TLS sessions, walsenders and the floor over TCP are covered by
-- test/t/010_sessions.pl.
SELECT tls_audit.preloaded();

-- Backends of the tests before this one may still be exiting, so a comparison
-- of two reads (the session registry, pg_stat_activity) taken a moment apart
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

-- This session: a unix-socket client backend, never below the floor.
SELECT usename = current_user AS usename_ok, datname = current_database() AS datname_ok,
       application_name, client_addr, client_port, backend_type,
       backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS start_ok,
       transport, protocol, cipher, bits, client_subject, sni, key_exchange_group,
       below_floor, floor_reason
  FROM tls_audit.sessions WHERE pid = pg_backend_pid();

-- One row per client backend and walsender pg_stat_activity shows.
SELECT pg_temp.settled($$
  SELECT (SELECT count(*) FROM tls_audit.sessions) =
         (SELECT count(*) FROM pg_stat_activity
           WHERE backend_type IN ('client backend', 'walsender'))$$) AS same_count;
SELECT count(*) AS other_backend_types
  FROM tls_audit.sessions WHERE backend_type NOT IN ('client backend', 'walsender');

-- The columns, in order.
SELECT attnum, attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'tls_audit.sessions'::regclass AND attnum > 0
 ORDER BY attnum;

-- The floor: default, reloadable only, invalid values rejected with the list.
SHOW tls_audit.min_protocol;
SELECT context, enumvals, boot_val FROM pg_settings WHERE name = 'tls_audit.min_protocol';
SET tls_audit.min_protocol = 'TLSv1.3';
ALTER SYSTEM SET tls_audit.min_protocol = 'SSLv3';
ALTER SYSTEM SET tls_audit.min_protocol = 'TLSv1.4';

-- Visibility: an ordinary role sees other roles' sessions without details.
CREATE ROLE regress_sessions_plain;
CREATE ROLE regress_sessions_stats IN ROLE pg_read_all_stats;
SET ROLE regress_sessions_plain;
SELECT pid = pg_backend_pid() AS own_pid, usename = session_user AS usename_ok,
       datname = current_database() AS datname_ok, application_name,
       client_port, backend_type, backend_start, transport, below_floor, floor_reason
  FROM tls_audit.sessions WHERE pid = pg_backend_pid();
-- The function behind the view applies the same rule.
SELECT client_port, backend_type, transport FROM tls_audit.session_rows() WHERE pid = pg_backend_pid();
-- Row by row, details are hidden exactly where pg_stat_activity hides them.
SELECT count(*) FILTER (WHERE (s.backend_start IS NULL) <> (a.backend_start IS NULL)
                                  OR (s.client_port IS NULL) <> (a.client_port IS NULL)
                                  OR (s.backend_type IS NULL) <> (a.backend_type IS NULL)) AS mismatches
  FROM tls_audit.sessions s JOIN pg_stat_activity a USING (pid);
RESET ROLE;
SET ROLE regress_sessions_stats;
SELECT client_port, backend_type, transport, below_floor
  FROM tls_audit.sessions WHERE pid = pg_backend_pid();
-- Row by row, details are hidden exactly where pg_stat_activity hides them.
SELECT count(*) FILTER (WHERE (s.backend_start IS NULL) <> (a.backend_start IS NULL)
                                  OR (s.client_port IS NULL) <> (a.client_port IS NULL)
                                  OR (s.backend_type IS NULL) <> (a.backend_type IS NULL)) AS mismatches
  FROM tls_audit.sessions s JOIN pg_stat_activity a USING (pid);
RESET ROLE;
-- The raw registry slots are for monitoring roles only.
SELECT has_function_privilege('regress_sessions_plain', 'tls_audit.registry_slots()', 'EXECUTE') AS plain_slots,
       has_function_privilege('regress_sessions_stats', 'tls_audit.registry_slots()', 'EXECUTE') AS stats_slots;
-- This unix-socket session has a slot too (how it authenticated); every slot
-- in use belongs to a live backend.
SELECT count(*) AS own_slot FROM tls_audit.registry_slots() WHERE pid = pg_backend_pid();
SELECT pg_temp.settled($$
  SELECT count(*) = 0
    FROM tls_audit.registry_slots() r
    LEFT JOIN pg_stat_activity a ON a.pid = r.pid AND a.backend_start = r.backend_start
   WHERE a.pid IS NULL$$) AS no_stale_slots;
DROP ROLE regress_sessions_plain;
DROP ROLE regress_sessions_stats;

-- Privileges and markings.
SELECT has_table_privilege('public', 'tls_audit.sessions', 'SELECT') AS public_select;
SELECT proname, provolatile, proparallel, proisstrict, proretset
  FROM pg_proc
 WHERE pronamespace = 'tls_audit'::regnamespace AND proname IN ('session_rows', 'preloaded', 'registry_slots')
 ORDER BY proname;
SELECT obj_description('tls_audit.sessions'::regclass, 'pg_class') IS NOT NULL AS view_commented;
SELECT count(*) AS uncommented_columns
  FROM pg_attribute
 WHERE attrelid = 'tls_audit.sessions'::regclass AND attnum > 0
   AND col_description(attrelid, attnum) IS NULL;

-- A protocol floor per role: the settings, their markings, and
-- session_floor() behind below_floor, floor_reason and role_floor. The
-- enforcement at login is covered by test/t/047_role_floor.pl.
SELECT name, setting, context, vartype, enumvals, boot_val FROM pg_settings
 WHERE name IN ('tls_audit.role_min_protocol', 'tls_audit.enforce_floor') ORDER BY name;
SET tls_audit.role_min_protocol = 'x=TLSv1.3';
SET tls_audit.enforce_floor = 'on';
ALTER SYSTEM SET tls_audit.role_min_protocol = 'etl=TLSv1.3, reporting TLSv1.3';
ALTER SYSTEM SET tls_audit.role_min_protocol = 'etl=TLSv1.3, +=TLSv1.2';
ALTER SYSTEM SET tls_audit.enforce_floor = 'maybe';
-- Without an entry (the default list is empty): tls_audit.min_protocol.
SELECT * FROM tls_audit.session_floor(NULL, 'tls', 'TLSv1.1');
SELECT * FROM tls_audit.session_floor(NULL, 'unix', NULL);
SELECT * FROM tls_audit.session_floor(NULL, NULL, NULL);
SELECT proname, provolatile, proparallel, proisstrict, proretset
  FROM pg_proc WHERE pronamespace = 'tls_audit'::regnamespace AND proname = 'session_floor';
