-- census_entries() and the census view gain key_exchange_group (the group
-- the census recorded since 1.2) and source (a pooler's sampled clients): a
-- new result type, so both are dropped and
-- created again. The metrics view, which reads census_entries(), was dropped
-- by 40_server.sql of this update and is created again by 80_metrics.sql.
DROP VIEW tls_audit.census;
DROP FUNCTION tls_audit.census_entries();
-- @include src/sql/60_census.sql:census_entries
