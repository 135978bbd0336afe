-- pg_tls_audit 1.0 install script, assembled from src/sql/*.sql by the Makefile.
-- Every object lives in schema tls_audit (created by CREATE EXTENSION from the
-- control file). Functions are pinned to search_path pg_catalog, pg_temp, and
-- every name below is schema-qualified, so a hostile search_path at install
-- time or at call time cannot redirect anything.

\echo Use "CREATE EXTENSION pg_tls_audit" to load this file. \quit

-- Anyone may look into the schema; each object below grants its own access.
GRANT USAGE ON SCHEMA tls_audit TO PUBLIC;
