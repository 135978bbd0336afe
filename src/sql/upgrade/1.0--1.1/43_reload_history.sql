-- ---------------------------------------------------------------------------
-- What the last TLS reloads did, and the automatic reload (1.1). Both read
-- shared memory filled by the library loaded via shared_preload_libraries.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tls_audit.reload_history(
    OUT seq bigint,
    OUT started_at timestamptz,
    OUT kind text,
    OUT outcome text,
    OUT ok boolean,
    OUT error text,
    OUT served_sha256 text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tls_audit_reload_history'
-- VOLATILE: reads shared memory that every reload changes.
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.reload_history() IS
  'The rows of tls_audit.reload_history';
REVOKE EXECUTE ON FUNCTION tls_audit.reload_history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.reload_history() TO pg_monitor;

CREATE VIEW tls_audit.reload_history AS
    SELECT h.seq, h.started_at, h.kind, h.outcome, h.ok, h.error, h.served_sha256
      FROM tls_audit.reload_history() AS h;
COMMENT ON VIEW tls_audit.reload_history IS
  'The server''s last 32 TLS (re)initialisations, oldest first, as its postmaster logged them (captured by emit_log_hook; needs shared_preload_libraries and log_min_messages at LOG or below): when, whether the new files were loaded or the previous configuration kept, the server''s reason, and the leaf certificate served afterwards';
COMMENT ON COLUMN tls_audit.reload_history.seq IS 'Sequence number since the server started (1 = oldest)';
COMMENT ON COLUMN tls_audit.reload_history.started_at IS 'When the postmaster started the reload (kind start: when the library''s shared memory was set up)';
COMMENT ON COLUMN tls_audit.reload_history.kind IS 'start (the TLS files loaded at server start) or reload (a configuration reload: SIGHUP, pg_reload_conf(), pg_ctl reload)';
COMMENT ON COLUMN tls_audit.reload_history.outcome IS 'loaded, kept previous configuration (the server logged "SSL configuration was not reloaded"), or in progress (for up to a second)';
COMMENT ON COLUMN tls_audit.reload_history.ok IS 'True for loaded, false for kept previous configuration, NULL while in progress';
COMMENT ON COLUMN tls_audit.reload_history.error IS 'The server''s reason for keeping the previous configuration (its log line before "SSL configuration was not reloaded", e.g. OpenSSL''s error); NULL when loaded';
COMMENT ON COLUMN tls_audit.reload_history.served_sha256 IS 'SHA-256 of the leaf certificate the first TLS connection after this reload was served; NULL until one connected';
GRANT SELECT ON tls_audit.reload_history TO pg_monitor;

CREATE FUNCTION tls_audit.auto_reload_status(
    OUT mode text,
    OUT state text,
    OUT running boolean,
    OUT files_watched integer,
    OUT last_check_at timestamptz,
    OUT last_change_at timestamptz,
    OUT last_action_at timestamptz,
    OUT last_action text,
    OUT last_error text)
RETURNS record
AS 'MODULE_PATHNAME', 'tls_audit_auto_reload_status'
LANGUAGE C VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tls_audit.auto_reload_status() IS
  'The row of tls_audit.auto_reload_status';
REVOKE EXECUTE ON FUNCTION tls_audit.auto_reload_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tls_audit.auto_reload_status() TO pg_monitor;

CREATE VIEW tls_audit.auto_reload_status AS
    SELECT s.mode, s.state, s.running, s.files_watched, s.last_check_at, s.last_change_at,
           s.last_action_at, s.last_action, s.last_error
      FROM tls_audit.auto_reload_status() AS s;
COMMENT ON VIEW tls_audit.auto_reload_status IS
  'One row: what the automatic reload worker (tls_audit.auto_reload) is doing';
COMMENT ON COLUMN tls_audit.auto_reload_status.mode IS 'tls_audit.auto_reload as the worker applies it: off, on or force';
COMMENT ON COLUMN tls_audit.auto_reload_status.state IS 'off, watching (the files are as loaded), settling (changed, waiting one stable interval), waiting (the files would load but other settings are pending in the configuration files), refused (the changed files would not load), error (the last round failed), not running, or not preloaded';
COMMENT ON COLUMN tls_audit.auto_reload_status.running IS 'True when the worker process is alive';
COMMENT ON COLUMN tls_audit.auto_reload_status.files_watched IS 'Paths watched: ssl_cert_file, ssl_key_file, ssl_ca_file, ssl_crl_file when set, ssl_crl_dir and each of its files';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_check_at IS 'When the worker last looked at the files';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_change_at IS 'When the worker last saw the files change from what is loaded';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_action_at IS 'When the worker last reloaded, refused or waited';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_action IS 'reload, refuse or wait_settings, with why';
COMMENT ON COLUMN tls_audit.auto_reload_status.last_error IS 'Why the last refusal or failed round happened; NULL after a reload';
GRANT SELECT ON tls_audit.auto_reload_status TO pg_monitor;
