-- ---------------------------------------------------------------------------
-- Post-quantum readiness from the connection census (needs
-- shared_preload_libraries): which clients used a hybrid post-quantum key
-- exchange (ML-KEM, e.g. X25519MLKEM768) and which did not, and why not.
-- Visibility as the census: every entry for pg_read_all_stats, otherwise the
-- caller's own role's.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.pq_readiness(
    since interval DEFAULT NULL,
    OUT usename text,
    OUT datname text,
    OUT client_addr inet,
    OUT application_name text,
    OUT protocol text,
    OUT key_exchange_group text,
    OUT hybrid boolean,
    OUT connections bigint,
    OUT last_seen timestamptz,
    OUT reason text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_pq_readiness'
-- Not STRICT: a NULL since means "the whole census".
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pq_readiness(interval) IS
  'Authenticated connections in the census grouped by user, database, address, application, TLS protocol and key exchange group (OpenSSL''s name; NULL when not recorded, entries from before 1.2), with whether the group was a hybrid post-quantum one (hybrid) and, when not, why (reason: no TLS, TLS 1.2 or older cannot, a classic group, not recorded); clients not ready first, then most connections first; optionally only those seen within the last since';

CREATE FUNCTION tls_audit.pq_readiness_summary(
    since interval DEFAULT NULL,
    OUT connections_total bigint,
    OUT connections_hybrid bigint,
    OUT hybrid_share double precision,
    OUT connections_tls12 bigint,
    OUT connections_no_tls bigint,
    OUT connections_unknown bigint,
    OUT clients_not_ready bigint,
    OUT complete boolean,
    OUT evicted_since timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_pq_readiness_summary'
-- Not STRICT: a NULL since means "the whole census".
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.pq_readiness_summary(interval) IS
  'One row for dashboards: authenticated connections in the census, how many used a hybrid post-quantum key exchange and their share (NULL without connections), those over TLS 1.2 or older (never hybrid), without TLS, over TLS 1.3 with no recorded group (entries from before 1.2), the number of distinct clients (user, database, address, application) with a connection that was not hybrid, whether the census is complete (false when an authenticated entry was evicted since the reset, or within since) and the first authenticated eviction since the reset; optionally only entries seen within the last since';
