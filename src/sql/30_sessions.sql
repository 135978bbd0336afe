-- ---------------------------------------------------------------------------
-- Every session's transport and TLS details, flagged against a protocol floor
-- (GUC tls_audit.min_protocol). The certificate details, SNI and key exchange
-- group come from the session registry, which needs
-- shared_preload_libraries = 'pg_tls_audit'.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.preloaded()
RETURNS boolean
AS 'MODULE_PATHNAME', 'tls_audit_preloaded'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.preloaded() IS
  'True when pg_tls_audit was loaded by shared_preload_libraries and the session registry is active';

CREATE FUNCTION tls_audit.session_rows(
    OUT pid integer,
    OUT datid oid,
    OUT usesysid oid,
    OUT application_name text,
    OUT client_addr inet,
    OUT client_port integer,
    OUT backend_type text,
    OUT backend_start timestamptz,
    OUT transport text,
    OUT protocol text,
    OUT cipher text,
    OUT bits integer,
    OUT client_subject text,
    OUT client_issuer text,
    OUT client_serial text,
    OUT client_not_before timestamptz,
    OUT client_not_after timestamptz,
    OUT client_days_left integer,
    OUT client_key_type text,
    OUT client_key_bits integer,
    OUT client_signature_algorithm text,
    OUT sni text,
    OUT key_exchange_group text,
    OUT below_floor boolean,
    OUT floor_reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_session_rows'
-- VOLATILE: reads live shared state. PARALLEL RESTRICTED: the backend status
-- snapshot belongs to the leader (as for pg_stat_get_activity).
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.session_rows() IS
  'The rows of tls_audit.sessions before role and database names are joined; other roles'' details are NULL unless the caller has privileges of pg_read_all_stats';
-- It applies pg_stat_activity's visibility rule itself, so anyone may call it.
GRANT EXECUTE ON FUNCTION tls_audit.session_rows() TO PUBLIC;

CREATE VIEW tls_audit.sessions AS
    SELECT
            s.pid,
            u.rolname AS usename,
            d.datname,
            s.application_name,
            s.client_addr,
            s.client_port,
            s.backend_type,
            s.backend_start,
            s.transport,
            s.protocol,
            s.cipher,
            s.bits,
            s.client_subject,
            s.client_issuer,
            s.client_serial,
            s.client_not_before,
            s.client_not_after,
            s.client_days_left,
            s.client_key_type,
            s.client_key_bits,
            s.client_signature_algorithm,
            s.sni,
            s.key_exchange_group,
            s.below_floor,
            s.floor_reason
    FROM tls_audit.session_rows() AS s
        LEFT JOIN pg_catalog.pg_database AS d ON (s.datid = d.oid)
        LEFT JOIN pg_catalog.pg_authid AS u ON (s.usesysid = u.oid);
COMMENT ON VIEW tls_audit.sessions IS
  'One row per client backend and walsender: transport (unix, tcp, tls), protocol, cipher, client certificate details, SNI, key exchange group, and whether the session is below tls_audit.min_protocol';
GRANT SELECT ON tls_audit.sessions TO PUBLIC;

CREATE FUNCTION tls_audit.registry_slots(
    OUT slot integer,
    OUT pid integer,
    OUT backend_start timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_registry_slots'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.registry_slots() IS
  'Diagnostics: the session registry''s slots in use (slot number, owner pid and backend start); each should match a live backend in pg_stat_activity';
-- Shows every role's pids: for monitoring roles only.
REVOKE ALL ON FUNCTION tls_audit.registry_slots() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.registry_slots() TO pg_read_all_stats;
