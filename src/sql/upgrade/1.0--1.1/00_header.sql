-- pg_tls_audit 1.0 -> 1.1 upgrade script, assembled from
-- src/sql/upgrade/1.0--1.1/*.sql by the Makefile, in name order: one part per
-- area, beside the area's install part in src/sql/. A fresh 1.1 install
-- (src/sql/NN_*.sql) and a 1.0 install updated with this script must give the
-- same catalog and keep the data: test/t/081_upgrade_dump.pl compares them.
-- Never edit src/sql/released/pg_tls_audit--1.0.sql: that is what 1.0 users have.

\echo Use "ALTER EXTENSION pg_tls_audit UPDATE TO '1.1'" to load this file. \quit

-- The comment of a fresh install comes from the control file; say the same here.
COMMENT ON EXTENSION pg_tls_audit IS
  'TLS audit from inside PostgreSQL 15, 17 and 18: sessions, server certificates, checks, census, remote probe';
