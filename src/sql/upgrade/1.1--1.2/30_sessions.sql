-- The sessions view reads one function, session_view_rows(), that returns
-- its rows whole (names and role floors included) instead of joining
-- pg_authid and pg_database and calling session_floor() per row. Its columns
-- do not change, so the view is replaced in place: its comments, its grant
-- and the views users built on it stay. session_rows() stays, with a comment
-- that says what it now is.
-- @include src/sql/30_sessions.sql:session_view_rows
CREATE OR REPLACE VIEW tls_audit.sessions AS
-- @include src/sql/30_sessions.sql:sessions_query
-- @include src/sql/30_sessions.sql:session_rows_comment
