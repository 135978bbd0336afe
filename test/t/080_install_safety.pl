# The install script against a hostile environment (PostgreSQL's "Security
# Considerations for Extension Scripts"): CREATE EXTENSION under a search_path
# full of look-alikes of the pg_catalog functions and operators it uses, then
# every function and view called under that search_path, by a superuser and by
# a pg_monitor member. A look-alike that runs counts itself in a sequence
# (nextval survives rollbacks and exception blocks) and raises an error: the
# count must stay 0. Also: no CREATE OR REPLACE / IF NOT EXISTS, every created
# name qualified, nothing of the extension depending on the hostile schemas, and
# a pre-existing schema tls_audit that an untrusted role owns or may create in
# is refused.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('install_safety');
my $server_pem = PostgreSQL::Test::Utils::slurp_file(cert_path('server.crt'));

# --- the install script as installed ----------------------------------------------
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
# The current version's script (the control file's default_version).
my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pg_tls_audit'");
my $script_file = "$sharedir/extension/pg_tls_audit--$current.sql";
my $script = PostgreSQL::Test::Utils::slurp_file($script_file);
# Without comments, for the textual checks.
(my $code = $script) =~ s/--[^\n]*//g;

unlike($code, qr/\bCREATE\s+OR\s+REPLACE\b/i, 'install script uses no CREATE OR REPLACE');
unlike($code, qr/\bIF\s+NOT\s+EXISTS\b/i, 'install script uses no IF NOT EXISTS');
my @unqualified;
my $created = 0;
while ($code =~ /\bCREATE\s+(?:FUNCTION|PROCEDURE|AGGREGATE|VIEW|MATERIALIZED\s+VIEW|TABLE|TYPE|DOMAIN|SEQUENCE|OPERATOR|CAST|TRIGGER|EVENT\s+TRIGGER|SCHEMA)\s+("?[\w.]+"?)/gi)
{
	$created++;
	push @unqualified, $1 unless $1 =~ /^tls_audit\./;
}
cmp_ok($created, '>=', 25, "the install script's CREATE statements were found ($created)");
is(join(', ', @unqualified), '', 'every object the install script creates is qualified with tls_audit.');
like($code, qr/^\s*GRANT USAGE ON SCHEMA tls_audit TO PUBLIC;/m, 'script grants usage on its schema explicitly');

# --- hostile look-alikes ------------------------------------------------------------
$node->safe_psql('postgres', 'DROP EXTENSION pg_tls_audit');
# DROP EXTENSION keeps the schema (CREATE EXTENSION does not make it a member).
$node->safe_psql('postgres', 'DROP SCHEMA tls_audit');

# An untrusted role owns the look-alikes; a superuser will run into them.
$node->safe_psql('postgres', <<'SQL');
CREATE ROLE regress_evil LOGIN;
CREATE ROLE regress_watcher LOGIN IN ROLE pg_monitor, pg_read_all_stats;
CREATE SCHEMA evil AUTHORIZATION regress_evil;
GRANT USAGE, CREATE ON SCHEMA public TO regress_evil;
SQL

# Functions, aggregates and operators named like what the install script and
# the functions' bodies use, with exactly the same argument types (so that,
# found first on the search_path, they would be chosen).
my @hostile_functions = (
	[ 'now', '', 'timestamptz' ],
	[ 'current_setting', 'text', 'text' ],
	[ 'current_database', '', 'name' ],
	[ 'pg_is_in_recovery', '', 'boolean' ],
	[ 'pg_notify', 'text, text', 'void' ],
	[ 'to_jsonb', 'anyelement', 'jsonb' ],
	[ 'replace', 'text, text, text', 'text' ],
	[ 'date_part', 'text, timestamptz', 'double precision' ],
	[ 'make_interval', 'years integer DEFAULT 0, months integer DEFAULT 0, weeks integer DEFAULT 0, days integer DEFAULT 0, hours integer DEFAULT 0, mins integer DEFAULT 0, secs double precision DEFAULT 0', 'interval' ],
	[ 'array_position', 'anycompatiblearray, anycompatible', 'integer' ],
	[ 'cardinality', 'anyarray', 'integer' ],
	[ 'unnest', 'anyarray', 'SETOF anyelement' ],
	[ 'jsonb_each_text', 'jsonb', 'SETOF record' ],
	[ 'pg_extension_config_dump', 'regclass, text', 'void' ],
	[ 'textcat', 'text, text', 'text' ],
	[ 'texteq', 'text, text', 'boolean' ],
	[ 'lower', 'text', 'text' ],
	[ 'to_regclass', 'text', 'regclass' ],
	[ 'set_config', 'text, text, boolean', 'text' ],
	[ 'pg_stat_get_activity', 'integer', 'SETOF record' ],
);
my $setup = "SET ROLE regress_evil;\nCREATE SEQUENCE evil.hits;\nGRANT USAGE ON SEQUENCE evil.hits TO PUBLIC;\n";
for my $schema ('evil', 'public')
{
	for my $f (@hostile_functions)
	{
		my ($name, $args, $ret) = @$f;
		# A C-like SETOF record cannot be declared in plpgsql without OUT columns.
		$ret = 'SETOF text' if $ret eq 'SETOF record';
		$setup .= "CREATE FUNCTION $schema.$name($args) RETURNS $ret LANGUAGE plpgsql AS \$\$\n"
		  . "BEGIN PERFORM pg_catalog.nextval('evil.hits');\n"
		  . "RAISE EXCEPTION 'hostile $schema.$name called'; END \$\$;\n";
	}
	$setup .= <<"SQL";
CREATE FUNCTION $schema.hostile_sfunc(bigint) RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile aggregate called'; END \$\$;
CREATE FUNCTION $schema.hostile_sfunc2(text, text, text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile aggregate called'; END \$\$;
CREATE FUNCTION $schema.hostile_sfunc3(anycompatiblearray, anycompatible) RETURNS anycompatiblearray LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile aggregate called'; END \$\$;
CREATE AGGREGATE $schema.count(*) (sfunc = $schema.hostile_sfunc, stype = bigint, initcond = '0');
CREATE AGGREGATE $schema.string_agg(text, text) (sfunc = $schema.hostile_sfunc2, stype = text);
CREATE AGGREGATE $schema.array_agg(anycompatible) (sfunc = $schema.hostile_sfunc3, stype = anycompatiblearray);
CREATE FUNCTION $schema.hostile_op(text, text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile operator called'; END \$\$;
CREATE FUNCTION $schema.hostile_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile operator called'; END \$\$;
CREATE FUNCTION $schema.hostile_minus(double precision, double precision) RETURNS double precision LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile operator called'; END \$\$;
CREATE FUNCTION $schema.hostile_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS \$\$
BEGIN PERFORM pg_catalog.nextval('evil.hits'); RAISE EXCEPTION 'hostile operator called'; END \$\$;
CREATE OPERATOR $schema.|| (leftarg = text, rightarg = text, function = $schema.hostile_op);
CREATE OPERATOR $schema.= (leftarg = text, rightarg = text, function = $schema.hostile_eq);
CREATE OPERATOR $schema.- (leftarg = double precision, rightarg = double precision, function = $schema.hostile_minus);
CREATE OPERATOR $schema.< (leftarg = timestamptz, rightarg = timestamptz, function = $schema.hostile_lt);
SQL
}
# Relations named like catalogs and like the extension's objects.
$setup .= <<'SQL';
CREATE TABLE evil.pg_database (oid oid, datname name);
CREATE TABLE evil.pg_authid (oid oid, rolname name);
CREATE TABLE evil.check_history (run_at timestamptz);
CREATE VIEW evil.sessions AS SELECT 1 AS pid;
RESET ROLE;
SQL
$node->safe_psql('postgres', $setup);

my $hostile_path = 'SET search_path = evil, public, pg_catalog;';
# How many times a look-alike has run (nextval is not undone by a rollback).
sub hits
{
	return $node->safe_psql('postgres',
		'SET search_path = pg_catalog; SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM evil.hits');
}
# The look-alikes really are found first on that search_path.
my ($rc, $out, $err) = $node->psql('postgres', "$hostile_path SELECT now()");
like($err, qr/hostile evil\.now called/, 'the hostile search_path does reach the look-alikes');
($rc, $out, $err) = $node->psql('postgres', "$hostile_path SELECT 'a'::text || 'b'::text");
like($err, qr/hostile operator called/, 'the hostile || operator is found first');
$node->safe_psql('postgres', 'ALTER SEQUENCE evil.hits RESTART');
is(hits(), 0, 'no look-alike has run yet');

# --- CREATE EXTENSION under the hostile search_path ------------------------------------
($rc, $out, $err) = $node->psql('postgres', "$hostile_path CREATE EXTENSION pg_tls_audit");
is($rc, 0, 'CREATE EXTENSION succeeds under a hostile search_path') or diag($err);
is(hits(), 0, 'CREATE EXTENSION called none of the look-alikes');

# Nothing of the extension (nor its views' rules, columns, indexes, constraints)
# depends on anything in the hostile schemas.
my $deps = $node->safe_psql('postgres', <<'SQL');
SET search_path = pg_catalog;
WITH hostile AS (
    SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass AS classid, p.oid
      FROM pg_catalog.pg_proc p WHERE p.pronamespace IN ('evil'::pg_catalog.regnamespace, 'public'::pg_catalog.regnamespace)
    UNION ALL
    SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, o.oid
      FROM pg_catalog.pg_operator o WHERE o.oprnamespace IN ('evil'::pg_catalog.regnamespace, 'public'::pg_catalog.regnamespace)
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid
      FROM pg_catalog.pg_class c WHERE c.relnamespace IN ('evil'::pg_catalog.regnamespace, 'public'::pg_catalog.regnamespace)
    UNION ALL
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid
      FROM pg_catalog.pg_type t WHERE t.typnamespace IN ('evil'::pg_catalog.regnamespace, 'public'::pg_catalog.regnamespace)
)
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) || ' -> '
       || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
  FROM pg_depend d
  JOIN hostile h ON (d.refclassid = h.classid AND d.refobjid = h.oid)
 WHERE strpos(pg_describe_object(d.classid, d.objid, d.objsubid), 'tls_audit') > 0
SQL
is($deps, '', 'no object depends on the hostile schemas');
# The views' definitions, printed with only pg_catalog visible, name nothing outside
# pg_catalog and tls_audit.
my $viewdefs = $node->safe_psql('postgres', <<'SQL');
SET search_path = pg_catalog;
SELECT c.relname || ': ' || m[1]
  FROM pg_class c,
       LATERAL regexp_matches(pg_get_viewdef(c.oid), '\m(evil|public)\.', 'g') AS m
 WHERE c.relnamespace = 'tls_audit'::regnamespace AND c.relkind = 'v'
SQL
is($viewdefs, '', 'no view names the hostile schemas');

# --- every function and view under the hostile search_path ------------------------------
my @calls = (
	'SELECT tls_audit.version()',
	'SELECT * FROM tls_audit.connection()',
	"SELECT * FROM tls_audit.certificate_info(\$pem\$$server_pem\$pem\$::text)",
	"SELECT * FROM tls_audit.certificate_info(pg_catalog.convert_to(\$pem\$$server_pem\$pem\$, 'UTF8'))",
	'SELECT tls_audit.preloaded()',
	'SELECT * FROM tls_audit.session_rows()',
	'SELECT * FROM tls_audit.sessions',
	'SELECT * FROM tls_audit.registry_slots()',
	'SELECT * FROM tls_audit.server_tls()',
	'SELECT * FROM tls_audit.server_certificates',
	'SELECT * FROM tls_audit.ca_certificates',
	'SELECT * FROM tls_audit.run_checks()',
	'SELECT * FROM tls_audit.summary',
	'SELECT * FROM tls_audit.census',
	'SELECT * FROM tls_audit.census_info()',
	'SELECT * FROM tls_audit.floor_readiness()',
	'SELECT * FROM tls_audit.floor_readiness_summary()',
	'SELECT * FROM tls_audit.metrics',
	'SELECT tls_audit.metrics_text()',
	'SELECT * FROM tls_audit.probe_certificates(\'127.0.0.1\', ' . $node->port . ', NULL, 5000)',
	'SELECT * FROM tls_audit.probe(\'127.0.0.1\', ' . $node->port . ', NULL, 5000)',
	'SELECT * FROM tls_audit.probe_direct_tls(\'127.0.0.1\', ' . $node->port . ', NULL, 5000)',
	'SELECT * FROM tls_audit.probe_ciphers(\'127.0.0.1\', ' . $node->port . ', NULL, 5000)',
	'SELECT * FROM tls_audit.probe_groups(\'127.0.0.1\', ' . $node->port . ', NULL, 5000)',
	'SELECT * FROM tls_audit.profile_compliance(\'127.0.0.1\', ' . $node->port . ', \'old\', NULL, 5000)',
	'SELECT tls_audit.record_checks()',
	'SELECT * FROM tls_audit.check_history',
	'SELECT tls_audit.census_reset()',
);
my $monitor_calls = 0;
for my $sql (@calls)
{
	(my $label = $sql) =~ s/\$pem\$.*?\$pem\$/(PEM)/s;
	($rc, $out, $err) = $node->psql('postgres', "$hostile_path SET client_min_messages = error; $sql");
	is($rc, 0, "superuser, hostile search_path: $label") or diag($err);
	# The same as a pg_monitor member, where it has the privilege.
	my ($fn) = $sql =~ /(tls_audit\.\w+)/;
	my $allowed = $node->safe_psql('postgres',
		"SELECT CASE WHEN pg_catalog.to_regclass('$fn') IS NOT NULL"
		  . " THEN pg_catalog.has_table_privilege('regress_watcher', '$fn', 'SELECT')"
		  . " ELSE (SELECT pg_catalog.bool_or(pg_catalog.has_function_privilege('regress_watcher', p.oid, 'EXECUTE'))"
		  . " FROM pg_catalog.pg_proc p WHERE p.oid::pg_catalog.regproc::pg_catalog.text = '$fn') END");
	next unless $allowed eq 't';
	$monitor_calls++;
	($rc, $out, $err) = $node->psql('postgres', "$hostile_path SET client_min_messages = error; $sql",
		extra_params => [ '-U', 'regress_watcher' ]);
	is($rc, 0, "pg_monitor member, hostile search_path: $label") or diag($err);
}
cmp_ok($monitor_calls, '>=', 15, 'the pg_monitor member tried most calls');
is(hits(), 0, 'no call ran a look-alike');

# --- a schema tls_audit that existed before -------------------------------------------
$node->safe_psql('postgres', 'DROP EXTENSION pg_tls_audit');
$node->safe_psql('postgres', 'ALTER SCHEMA tls_audit OWNER TO regress_evil');
($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION pg_tls_audit');
isnt($rc, 0, 'CREATE EXTENSION refuses a schema tls_audit owned by an untrusted role');
like($err, qr/schema tls_audit is owned by or writable for roles that are not superusers: regress_evil/,
	'... and names the role');
$node->safe_psql('postgres', 'ALTER SCHEMA tls_audit OWNER TO CURRENT_USER; GRANT CREATE ON SCHEMA tls_audit TO PUBLIC');
($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION pg_tls_audit');
like($err, qr/not superusers: PUBLIC/, 'CREATE EXTENSION refuses a schema tls_audit where PUBLIC may create');
$node->safe_psql('postgres', 'REVOKE CREATE ON SCHEMA tls_audit FROM PUBLIC');
# An object already in the schema under one of the extension's names: CREATE
# EXTENSION fails instead of adopting or replacing it.
$node->safe_psql('postgres',
	"CREATE FUNCTION tls_audit.version() RETURNS text LANGUAGE sql AS \$\$SELECT 'planted'\$\$");
($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION pg_tls_audit');
like($err, qr/function "version" already exists/, 'a planted tls_audit.version() makes CREATE EXTENSION fail');
$node->safe_psql('postgres', 'DROP FUNCTION tls_audit.version()');
($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION pg_tls_audit');
is($rc, 0, 'CREATE EXTENSION into a clean superuser-owned schema tls_audit works') or diag($err);
is($node->safe_psql('postgres', 'SELECT tls_audit.version()'), $current, 'and the extension works');
is(hits(), 0, 'still no look-alike ran');

$node->stop;
done_testing();
