-- pg_tls_audit 1.1 -> 1.2 update script, assembled from
-- src/sql/upgrade/1.1--1.2/*.sql by the Makefile, in name order: one part per
-- area, named like the area's install part in src/sql/. A part that creates or
-- replaces objects includes their install text ("-- @include
-- src/sql/NN_area.sql" or "-- @include src/sql/NN_area.sql:REGION", see
-- src/sql/expand.awk), never a copy. A fresh 1.2 install and a 1.0 or 1.1
-- install updated to 1.2 must give the same catalog and keep the data:
-- test/t/081_upgrade_dump.pl compares them. The released scripts in
-- src/sql/released/ (1.0, 1.1 and the 1.0 -> 1.1 update) are never edited.

\echo Use "ALTER EXTENSION pg_tls_audit UPDATE TO '1.2'" to load this file. \quit

-- The comment of a fresh install comes from the control file; say the same here
-- (the released 1.0 -> 1.1 update set the older one).
COMMENT ON EXTENSION pg_tls_audit IS
  'TLS audit from inside PostgreSQL 15, 17 and 18: sessions, server certificates, checks, census, remote probe';
