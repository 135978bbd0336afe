-- probe_groups() gains status and note (why a group is undetermined or not
-- testable): a new result type, so the function is dropped and created again.
DROP FUNCTION tls_audit.probe_groups(text, integer, text, integer);
-- @include src/sql/71_probe_enumerate.sql:probe_groups
