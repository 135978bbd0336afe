-- ---------------------------------------------------------------------------
-- Describe certificates passed in as DER or PEM.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.certificate_info(
    certificate bytea,
    @CERTIFICATE_OUT_COLUMNS@)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_certificate_info'
-- Not STRICT: a NULL certificate is an error, not an empty answer.
-- STABLE: days_left depends on the transaction's start time.
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.certificate_info(bytea) IS
  'Describe the certificate(s) in DER bytes or PEM text (one row per certificate, position 0 first)';

CREATE FUNCTION tls_audit.certificate_info(
    certificate text,
    @CERTIFICATE_OUT_COLUMNS@)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_certificate_info'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.certificate_info(text) IS
  'Describe the certificates in PEM text, possibly several blocks (one row per certificate, position 0 first)';
