-- ---------------------------------------------------------------------------
-- pg_hba.conf as an access matrix (1.1): each line with its meaning spelled
-- out, PostgreSQL's first-match decision for one connection attempt, and the
-- ways in without encryption. All three read pg_hba_file_rules with the
-- caller's privileges (superuser only by default on every supported
-- version), so they are not granted to anyone.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.hba_rule_rows(
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT databases text[],
    OUT roles text[],
    OUT address text,
    OUT netmask text,
    OUT address_scope text,
    OUT tls_required boolean,
    OUT encryption_required boolean,
    OUT client_cert text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT shadowed_by integer,
    OUT shadowed_by_file text,
    OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_hba_rule_rows'
-- VOLATILE: reads pg_hba.conf as it is on disk now.
-- PARALLEL RESTRICTED: reads catalogs through SPI.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.hba_rule_rows() IS
  'The rows of tls_audit.hba_rules (use the view)';
REVOKE EXECUTE ON FUNCTION tls_audit.hba_rule_rows() FROM PUBLIC;

CREATE VIEW tls_audit.hba_rules AS
    SELECT * FROM tls_audit.hba_rule_rows();
COMMENT ON VIEW tls_audit.hba_rules IS
  'One row per pg_hba_file_rules line, in the order the server tries them, with its meaning spelled out: address scope, whether TLS or any encryption is required, client certificate, strength of the method, and the earlier line that shadows it';
COMMENT ON COLUMN tls_audit.hba_rules.rule_number IS 'Position in the order the server tries the lines (1 = first)';
COMMENT ON COLUMN tls_audit.hba_rules.file_name IS 'File of the line (PostgreSQL 16+, where pg_hba.conf can include files; NULL before)';
COMMENT ON COLUMN tls_audit.hba_rules.line_number IS 'Line number within its file';
COMMENT ON COLUMN tls_audit.hba_rules.type IS 'local, host, hostssl, hostnossl, hostgssenc or hostnogssenc (NULL for a line the server could not parse)';
COMMENT ON COLUMN tls_audit.hba_rules.databases IS 'Database entries as the server parsed them (@file lists expanded)';
COMMENT ON COLUMN tls_audit.hba_rules.roles IS 'Role entries as the server parsed them; a +group entry shows its member count, e.g. "+admins (3 members)"';
COMMENT ON COLUMN tls_audit.hba_rules.address IS 'Address, host name, all, samehost or samenet (NULL for local)';
COMMENT ON COLUMN tls_audit.hba_rules.netmask IS 'Netmask of an IP address entry';
COMMENT ON COLUMN tls_audit.hba_rules.address_scope IS 'local (unix socket), loopback, private, public or any: who can reach the line over the network';
COMMENT ON COLUMN tls_audit.hba_rules.tls_required IS 'True for hostssl: only TLS connections match';
COMMENT ON COLUMN tls_audit.hba_rules.encryption_required IS 'True for hostssl and hostgssenc: only encrypted connections match';
COMMENT ON COLUMN tls_audit.hba_rules.client_cert IS 'none, verify-ca, verify-full (clientcert option) or cert-auth (the cert method)';
COMMENT ON COLUMN tls_audit.hba_rules.auth_method IS 'Authentication method';
COMMENT ON COLUMN tls_audit.hba_rules.auth_strength IS 'none (trust), weak (password, md5, ident, ldap, radius, pam, bsd), strong (scram-sha-256, cert, gss, sspi, peer, oauth) or reject';
COMMENT ON COLUMN tls_audit.hba_rules.shadowed_by IS 'Line number of the earlier line that matches every connection this line could match (the line never matches); NULL when none is proved';
COMMENT ON COLUMN tls_audit.hba_rules.shadowed_by_file IS 'File of the shadowing line (PostgreSQL 16+)';
COMMENT ON COLUMN tls_audit.hba_rules.error IS 'pg_hba_file_rules'' own error for the line';

CREATE FUNCTION tls_audit.can_connect(
    role text,
    database text,
    address inet,
    transport text,
    replication boolean DEFAULT false,
    OUT outcome text,
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT tls_required boolean,
    OUT encryption_required boolean,
    OUT client_cert text,
    OUT otherwise_line integer,
    OUT detail text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_can_connect'
-- Not STRICT: a NULL address means a unix socket; other NULLs are errors.
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.can_connect(text, text, inet, text, boolean) IS
  'What the server would do with a connection attempt by role to database from address (NULL for a unix socket) over transport tls, tcp, gss or unix (replication: a physical replication connection): outcome allowed (the line''s method decides), rejected, no matching line (refused) or depends on DNS (a host-name line, not resolved here), with the first matching line and what it demands';
REVOKE EXECUTE ON FUNCTION tls_audit.can_connect(text, text, inet, text, boolean) FROM PUBLIC;

CREATE FUNCTION tls_audit.plaintext_paths(
    OUT rule_number integer,
    OUT file_name text,
    OUT line_number integer,
    OUT type text,
    OUT roles text[],
    OUT databases text[],
    OUT address_scope text,
    OUT transport text,
    OUT auth_method text,
    OUT auth_strength text,
    OUT reason text,
    OUT earlier_lines integer[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_plaintext_paths'
LANGUAGE C VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.plaintext_paths() IS
  'Every pg_hba.conf line that admits TCP connections without encryption (transport tcp) or encrypted ones with a method weaker than scram (transport tls or gss), in first-match order, unless an earlier line takes all of them; earlier_lines lists earlier lines that take part of them first';
REVOKE EXECUTE ON FUNCTION tls_audit.plaintext_paths() FROM PUBLIC;
