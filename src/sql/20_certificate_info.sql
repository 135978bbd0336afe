-- ---------------------------------------------------------------------------
-- Describe certificates passed in as DER or PEM.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.certificate_info(
    certificate bytea,
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean)
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
    OUT "position" integer,
    OUT subject text,
    OUT issuer text,
    OUT serial text,
    OUT not_before timestamptz,
    OUT not_after timestamptz,
    OUT days_left integer,
    OUT key_type text,
    OUT key_bits integer,
    OUT signature_algorithm text,
    OUT sha256 text,
    OUT san text[],
    OUT is_ca boolean,
    OUT self_signed boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_certificate_info'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.certificate_info(text) IS
  'Describe the certificates in PEM text, possibly several blocks (one row per certificate, position 0 first)';
