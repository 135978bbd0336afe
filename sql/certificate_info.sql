-- certificate_info() on every generated certificate kind, and its error paths.
-- Certificates are made fresh for each run (test/certs/make-certs.sh), so only
-- properties that do not change between runs are shown.
\set server `cat "$TLS_AUDIT_TEST_CERTS/server.crt"`
\set chain `cat "$TLS_AUDIT_TEST_CERTS/server-chain.crt"`
\set rsa1024 `cat "$TLS_AUDIT_TEST_CERTS/rsa1024.crt"`
\set p384 `cat "$TLS_AUDIT_TEST_CERTS/p384.crt"`
\set ed25519 `cat "$TLS_AUDIT_TEST_CERTS/ed25519.crt"`
\set sha1 `cat "$TLS_AUDIT_TEST_CERTS/sha1.crt"`
\set expired `cat "$TLS_AUDIT_TEST_CERTS/expired.crt"`
\set expiring `cat "$TLS_AUDIT_TEST_CERTS/expiring-3d.crt"`
\set selfsigned `cat "$TLS_AUDIT_TEST_CERTS/selfsigned.crt"`
\set root `cat "$TLS_AUDIT_TEST_CERTS/root.crt"`
\set truncated `cat "$TLS_AUDIT_TEST_CERTS/truncated.pem"`
\set key `cat "$TLS_AUDIT_TEST_CERTS/server.key"`

CREATE TEMP TABLE kinds (kind text, pem text);
INSERT INTO kinds VALUES
  ('server', :'server'), ('rsa1024', :'rsa1024'), ('p384', :'p384'),
  ('ed25519', :'ed25519'), ('sha1', :'sha1'), ('expired', :'expired'),
  ('expiring-3d', :'expiring'), ('selfsigned', :'selfsigned'), ('root', :'root');

SELECT k.kind, c.position, c.subject, c.key_type, c.key_bits, c.signature_algorithm,
       c.is_ca, c.self_signed, c.san,
       CASE WHEN c.days_left < 0 THEN 'expired'
            WHEN c.days_left <= 3 THEN '<= 3 days'
            ELSE 'valid' END AS validity,
       length(c.sha256) AS sha256_len, c.serial ~ '^[0-9A-F]+$' AS serial_hex
  FROM kinds k, tls_audit.certificate_info(k.pem) c
 ORDER BY k.kind;

-- A chain file: leaf at position 0, intermediate at 1.
SELECT position, subject, issuer, is_ca
  FROM tls_audit.certificate_info(:'chain') ORDER BY position;

-- DER bytes (PEM body decoded) describe the same certificate as the PEM.
SELECT d.sha256 = p.sha256 AS der_matches_pem
  FROM tls_audit.certificate_info(decode(regexp_replace(:'server', '-----[A-Z ]+-----|\s', '', 'g'), 'base64')) d,
       tls_audit.certificate_info(:'server') p;

-- PEM passed as bytea works too.
SELECT count(*) FROM tls_audit.certificate_info(convert_to(:'chain', 'UTF8'));

-- A private key next to the certificate is skipped, never echoed.
SELECT count(*) FROM tls_audit.certificate_info(:'key' || E'\n' || :'server');

-- Error paths: each gives a clean error with a SQLSTATE and a hint.
CREATE FUNCTION pg_temp.try_text(input text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; msg text; hint text;
BEGIN
  PERFORM * FROM tls_audit.certificate_info(input);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN state || ': ' || msg || coalesce(' (hint: ' || nullif(hint, '') || ')', '');
END $$;
CREATE FUNCTION pg_temp.try_bytea(input bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; msg text;
BEGIN
  PERFORM * FROM tls_audit.certificate_info(input);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN state || ': ' || msg;
END $$;

SELECT pg_temp.try_text('') AS empty_text;
SELECT pg_temp.try_bytea(''::bytea) AS empty_bytea;
SELECT pg_temp.try_text(NULL) AS null_text;
SELECT pg_temp.try_bytea(NULL) AS null_bytea;
SELECT pg_temp.try_text('this is not a certificate') AS garbage_text;
SELECT pg_temp.try_bytea('\x3082ffff00'::bytea) AS garbage_der;
SELECT pg_temp.try_text(:'truncated') AS truncated_pem;
SELECT pg_temp.try_text(:'key') AS key_only;
SELECT pg_temp.try_text(repeat('A', 1048577)) AS oversized;
SELECT pg_temp.try_bytea(decode(repeat('00', 1048577), 'hex')) AS oversized_bytea;
SELECT pg_temp.try_text('-----BEGIN CERTIFICATE-----' || E'\n' || 'AAAA' || E'\n' || '-----END CERTIFICATE-----') AS bad_der_in_pem;

-- The backend is fine after all of that.
SELECT count(*) FROM tls_audit.certificate_info(:'server');
