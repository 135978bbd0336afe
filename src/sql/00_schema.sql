-- pg_tls_audit 1.1 install script, assembled from src/sql/NN_*.sql by the Makefile.
-- Every object lives in schema tls_audit (created by CREATE EXTENSION from the
-- control file). Functions are pinned to search_path pg_catalog, pg_temp, and
-- every name below is schema-qualified, so a hostile search_path at install
-- time or at call time cannot redirect anything.

\echo Use "CREATE EXTENSION pg_tls_audit" to load this file. \quit

-- CREATE EXTENSION uses a schema tls_audit that already exists. Refuse one
-- that a role other than a superuser owns or may create objects in: that
-- role could drop the schema with everything in it, or add look-alike
-- functions next to ours that superusers and monitoring jobs would then call.
DO $guard$
DECLARE
    untrusted text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT coalesce(r.rolname::text, 'PUBLIC'), ', ')
      INTO untrusted
      FROM pg_catalog.pg_namespace AS n
           CROSS JOIN LATERAL (SELECT n.nspowner AS role
                               UNION
                               SELECT a.grantee
                                 FROM pg_catalog.aclexplode(coalesce(n.nspacl,
                                          pg_catalog.acldefault('n', n.nspowner))) AS a
                                WHERE a.privilege_type = 'CREATE') AS c
           LEFT JOIN pg_catalog.pg_authid AS r ON (r.oid = c.role)
     WHERE n.nspname = 'tls_audit'
       AND NOT coalesce(r.rolsuper, false);
    IF untrusted IS NOT NULL THEN
        RAISE EXCEPTION 'schema tls_audit is owned by or writable for roles that are not superusers: %', untrusted
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Drop the schema, or make a superuser its owner and revoke CREATE on it from every other role, then run CREATE EXTENSION again.';
    END IF;
END
$guard$;

-- Anyone may look into the schema; each object below grants its own access.
GRANT USAGE ON SCHEMA tls_audit TO PUBLIC;
