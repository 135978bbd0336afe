-- ---------------------------------------------------------------------------
-- The census seen through the per-role protocol floors
-- (tls_audit.role_min_protocol): who would be logged or refused if
-- tls_audit.enforce_floor were log or on now. Needs shared_preload_libraries.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.role_floor_readiness(
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT role_floor text,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_role_floor_readiness'
-- Not STRICT: a NULL since means "the whole census".
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.role_floor_readiness(interval) IS
  'Clients in the census (authenticated or policy_violation) below the floor tls_audit.role_min_protocol now sets for their role, per user, database, address, application, protocol and reason, optionally only those seen within the last since; roles without an entry and unix-socket connections are not listed';
