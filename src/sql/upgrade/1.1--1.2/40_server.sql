-- server_tls() gains the groups the running server offers and whether its
-- OpenSSL has hybrid post-quantum groups: a new result type, so the function
-- is dropped and created again, and with it the metrics view that reads it
-- (created again by 80_metrics.sql of this update).
DROP VIEW tls_audit.metrics;
DROP FUNCTION tls_audit.server_tls();
-- @include src/sql/40_server.sql:server_tls
