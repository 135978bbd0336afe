-- Issue #17 part 3: a protocol floor per role. tls_audit.sessions takes
-- below_floor and floor_reason from session_floor(), which knows
-- tls_audit.role_min_protocol, and gains role_floor (at the end, so the view
-- can be replaced in place). Same text as src/sql/30_sessions.sql.

CREATE FUNCTION tls_audit.session_floor(
    role oid,
    transport text,
    protocol text,
    OUT role_floor text,
    OUT below_floor boolean,
    OUT floor_reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_session_floor'
-- Not STRICT: a NULL transport (a session the caller may not see) still has
-- a role floor. STABLE: reads the settings and the role memberships.
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.session_floor(oid, text, text) IS
  'The protocol floor tls_audit.role_min_protocol sets for a role (NULL when no entry applies) and whether a session of that role with this transport and protocol is below the floor that applies to it: the role''s, else tls_audit.min_protocol';

CREATE OR REPLACE VIEW tls_audit.sessions AS
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
            s.alpn,
            f.below_floor,
            f.floor_reason,
            s.auth_method,
            s.hba_file,
            s.hba_line,
            s.client_cert_verified,
            s.extended_master_secret,
            f.role_floor
    FROM tls_audit.session_rows() AS s
        LEFT JOIN pg_catalog.pg_database AS d ON (s.datid = d.oid)
        LEFT JOIN pg_catalog.pg_authid AS u ON (s.usesysid = u.oid)
        CROSS JOIN LATERAL tls_audit.session_floor(s.usesysid, s.transport, s.protocol) AS f;
COMMENT ON VIEW tls_audit.sessions IS
  'One row per client backend and walsender: transport (unix, tcp, tls, gss), protocol, cipher, client certificate details, SNI, key exchange group, whether the session is below its protocol floor (its role''s in tls_audit.role_min_protocol, else tls_audit.min_protocol), and how it authenticated (method, pg_hba.conf line, client certificate verification, extended master secret)';
COMMENT ON COLUMN tls_audit.sessions.below_floor IS 'True for TLS sessions older than their floor (role_floor when set, else tls_audit.min_protocol) and for TCP sessions without TLS; false for unix sockets';
COMMENT ON COLUMN tls_audit.sessions.floor_reason IS 'Why the session is below the floor, e.g. TLSv1.1 < TLSv1.2, no TLS, or TLSv1.2 < TLSv1.3 (role etl) for a role floor; NULL when it is not';
COMMENT ON COLUMN tls_audit.sessions.role_floor IS 'The floor tls_audit.role_min_protocol sets for the session''s role (its own entry, else the highest of its +group entries, else *); NULL when no entry applies';
