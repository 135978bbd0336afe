-- ---------------------------------------------------------------------------
-- Enumeration over STARTTLS: accepted cipher suites per version and the
-- key-exchange groups. Not executable by PUBLIC: outbound
-- connections; tls_audit.probe_allowed_hosts applies as for tls_audit.probe().
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.probe_ciphers(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT protocol text,
    OUT cipher text,
    OUT standard_name text,
    OUT key_exchange text,
    OUT authentication text,
    OUT encryption text,
    OUT bits integer,
    OUT strength text,
    OUT preference integer,
    OUT server_preference boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_ciphers'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_ciphers(text, integer, text, integer) IS
  'The cipher suites a PostgreSQL server accepts per TLS version (offer all, remove the pick, repeat; TLS 1.3 one at a time), with strength (the weak_ciphers rules) and whether the server enforces its own order';
REVOKE EXECUTE ON FUNCTION tls_audit.probe_ciphers(text, integer, text, integer) FROM PUBLIC;

-- @region probe_groups
CREATE FUNCTION tls_audit.probe_groups(
    host text,
    port integer DEFAULT 5432,
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT protocol text,
    OUT group_name text,
    OUT supported boolean,
    OUT bits integer,
    OUT status text,
    OUT note text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_probe_groups'
-- Not STRICT: sni may be NULL; a NULL host/port/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.probe_groups(text, integer, text, integer) IS
  'The key-exchange groups a PostgreSQL server supports in TLS 1.3 (the hybrid post-quantum ML-KEM groups too, when this OpenSSL has them) and for ECDHE in TLS 1.2, and the size of its DHE group (row DHE); status is supported, not supported, undetermined (supported NULL: the answer cannot be known, e.g. TLS 1.2 with an ECDSA certificate whose curve the server picked) or not testable (supported NULL: this OpenSSL cannot offer the group, e.g. hybrid groups before OpenSSL 3.5), and note says why';
REVOKE EXECUTE ON FUNCTION tls_audit.probe_groups(text, integer, text, integer) FROM PUBLIC;
-- @end probe_groups


CREATE FUNCTION tls_audit.profile_compliance(
    host text,
    port integer DEFAULT 5432,
    profile text DEFAULT 'intermediate',
    sni text DEFAULT NULL,
    timeout_ms integer DEFAULT 5000,
    OUT profile_name text,
    OUT guidelines_version text,
    OUT compliant boolean,
    OUT category text,
    OUT subject text,
    OUT required boolean,
    OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_profile_compliance'
-- Not STRICT: sni may be NULL; a NULL host/port/profile/timeout is an error.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.profile_compliance(text, integer, text, text, integer) IS
  'How a PostgreSQL server deviates from a Mozilla Server Side TLS 5.7 profile (modern, intermediate, old): one row per deviation, or one row without category when it complies';

REVOKE EXECUTE ON FUNCTION tls_audit.profile_compliance(text, integer, text, text, integer) FROM PUBLIC;
