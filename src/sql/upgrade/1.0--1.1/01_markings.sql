-- ---------------------------------------------------------------------------
-- Function markings made uniform in 1.1: STRICT only where a function has
-- arguments (it means nothing without them), so the argument-less functions
-- of 1.0 drop it. Same behaviour; the catalog matches a fresh 1.1 install.
-- ---------------------------------------------------------------------------

ALTER FUNCTION tls_audit.version() CALLED ON NULL INPUT;
ALTER FUNCTION tls_audit.connection() CALLED ON NULL INPUT;
ALTER FUNCTION tls_audit.preloaded() CALLED ON NULL INPUT;
ALTER FUNCTION tls_audit.census_info() CALLED ON NULL INPUT;
ALTER FUNCTION tls_audit.census_reset() CALLED ON NULL INPUT;
