-- ---------------------------------------------------------------------------
-- 1.1: auth_readiness() and fips_readiness(); new objects, as in the install
-- part src/sql/62_auth_readiness.sql.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.auth_readiness(
    target text DEFAULT 'scram-sha-256',
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT auth_method text,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_auth_readiness'
-- Not STRICT: a NULL since means "the whole census"; a NULL target is an error.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.auth_readiness(text, interval) IS
  'Clients in the census that authenticated with a method weaker than target (password, md5 or scram-sha-256): trust over TCP, password, md5; grouped by user, database, address, application and method, with the connections and the last time seen, optionally only those seen within the last since';

CREATE FUNCTION tls_audit.fips_readiness(
    since interval DEFAULT NULL,
    OUT source text,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT connections bigint,
    OUT last_seen timestamptz)
RETURNS SETOF record
LANGUAGE sql VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $function$
    SELECT 'session'::text, s.usename::text, s.datname::text, s.client_addr, s.application_name, s.protocol,
           pg_catalog.count(*), pg_catalog.now()
      FROM tls_audit.sessions AS s
     WHERE s.transport = 'tls' AND NOT s.extended_master_secret
     GROUP BY s.usename, s.datname, s.client_addr, s.application_name, s.protocol
    UNION ALL
    SELECT 'census'::text, c.usename, c.datname, c.client_addr, c.application_name, c.protocol,
           pg_catalog.sum(c.connections)::bigint, pg_catalog.max(c.last_seen)
      FROM tls_audit.census AS c
     -- A one-time filter: the census is not read unless preloaded.
     WHERE tls_audit.preloaded()
       AND c.outcome = 'authenticated' AND NOT c.extended_master_secret
       AND (since IS NULL OR c.last_seen >= pg_catalog.now() - since)
     GROUP BY c.usename, c.datname, c.client_addr, c.application_name, c.protocol
     ORDER BY 1 DESC, 7 DESC, 2, 3, 4, 5, 6
$function$;
COMMENT ON FUNCTION tls_audit.fips_readiness(interval) IS
  'TLS clients that negotiated no extended master secret (RFC 7627), which a FIPS-mode OpenSSL 3 server refuses: open sessions (source session) and authenticated census entries (source census, optionally only those seen within the last since), per user, database, address, application and protocol';
