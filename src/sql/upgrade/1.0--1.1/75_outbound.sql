-- ---------------------------------------------------------------------------
-- Outbound links (1.1): the connections the server itself makes, a
-- standby's primary_conninfo, logical replication subscriptions, and the
-- foreign servers and user mappings of postgres_fdw and dblink_fdw, with the
-- sslmode libpq will use for each. Connection strings are parsed by the
-- server's libpq (PQconninfoParse); passwords are never shown.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.outbound_connection_rows(
    OUT kind text,
    OUT name text,
    OUT host text,
    OUT port text,
    OUT sslmode text,
    OUT sslmode_source text,
    OUT sslrootcert text,
    OUT sslcert_present boolean,
    OUT sslnegotiation text,
    OUT ssl_min_protocol_version text,
    OUT channel_binding text,
    OUT verifies_server boolean,
    OUT password_in_conninfo boolean,
    OUT live_tls text,
    OUT error text,
    OUT notes text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_outbound_connection_rows'
-- VOLATILE: reads settings, the server's environment and live worker state.
-- PARALLEL RESTRICTED: reads catalogs and statistics views through SPI.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.outbound_connection_rows() IS
  'The rows of tls_audit.outbound_connections: every outbound link (primary_conninfo, subscriptions, postgres_fdw and dblink_fdw servers and user mappings) the caller may see, read with the caller''s privileges';
-- Reads server configuration (primary_conninfo, the server's environment).
REVOKE EXECUTE ON FUNCTION tls_audit.outbound_connection_rows() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.outbound_connection_rows() TO pg_monitor;

CREATE VIEW tls_audit.outbound_connections AS
    SELECT o.kind, o.name, o.host, o.port, o.sslmode, o.sslmode_source, o.sslrootcert, o.sslcert_present,
           o.sslnegotiation, o.ssl_min_protocol_version, o.channel_binding, o.verifies_server,
           o.password_in_conninfo, o.live_tls, o.error, o.notes
      FROM tls_audit.outbound_connection_rows() AS o;
COMMENT ON VIEW tls_audit.outbound_connections IS
  'One row per outbound link of the server: physical_replication (primary_conninfo), subscription, foreign_server and user_mapping (postgres_fdw, dblink_fdw), with the effective sslmode, whether the server is verified, whether a password is stored, and the live state of the link';
COMMENT ON COLUMN tls_audit.outbound_connections.kind IS 'physical_replication, subscription, foreign_server or user_mapping';
COMMENT ON COLUMN tls_audit.outbound_connections.name IS 'primary_conninfo, the subscription''s or foreign server''s name, or user@server for a user mapping';
COMMENT ON COLUMN tls_audit.outbound_connections.host IS 'The hosts libpq connects to, comma-separated as in the connection string ("name (hostaddr ADDR)" when hostaddr is given; the default socket directory when none is given)';
COMMENT ON COLUMN tls_audit.outbound_connections.port IS 'The port(s), as given; NULL when libpq''s default applies';
COMMENT ON COLUMN tls_audit.outbound_connections.sslmode IS 'The sslmode libpq uses: the link''s own, else PGSSLMODE of the server''s environment, else libpq''s default (prefer; verify-full with sslrootcert=system on libpq 16+)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslmode_source IS 'Where sslmode comes from: connection string, environment, or libpq default (a service file the link names is not read: see notes)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslrootcert IS 'The root certificate file libpq trusts (system: the system''s CA store, libpq 16+); when unset, libpq''s default ~/.postgresql/root.crt of the server''s OS user';
COMMENT ON COLUMN tls_audit.outbound_connections.sslcert_present IS 'True when the link presents a client certificate (sslcert set)';
COMMENT ON COLUMN tls_audit.outbound_connections.sslnegotiation IS 'postgres or direct (libpq 17+); NULL when this libpq has no such option';
COMMENT ON COLUMN tls_audit.outbound_connections.ssl_min_protocol_version IS 'The oldest TLS version the link accepts (libpq''s default TLSv1.2 when unset)';
COMMENT ON COLUMN tls_audit.outbound_connections.channel_binding IS 'disable, prefer or require (libpq''s default prefer when unset)';
COMMENT ON COLUMN tls_audit.outbound_connections.verifies_server IS 'True for verify-full, and for verify-ca, which does not check the host name (see notes)';
COMMENT ON COLUMN tls_audit.outbound_connections.password_in_conninfo IS 'True when a password is stored in the connection string or the user mapping (the password itself is never shown)';
COMMENT ON COLUMN tls_audit.outbound_connections.live_tls IS 'The live link: for physical_replication the walreceiver''s pid and state and the sslmode of its live connection (pg_stat_wal_receiver), for a subscription its apply worker''s pid and state (pg_stat_subscription); then the TLS protocol, cipher and key bits the process recorded when it connected (needs shared_preload_libraries) or "connected without TLS"; NULL for foreign servers (connections are made per session)';
COMMENT ON COLUMN tls_audit.outbound_connections.error IS 'Why the link''s options are NULL: a malformed connection string (libpq''s message, quoted fragments removed) or options the caller may not read';
COMMENT ON COLUMN tls_audit.outbound_connections.notes IS 'Remarks: sslmode defaulted, a service file not read, verify-ca without host-name check, PGPASSWORD set, unix socket only, ...';
GRANT SELECT ON tls_audit.outbound_connections TO pg_monitor;
