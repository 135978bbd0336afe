# Update paths and dump/restore of pg_tls_audit:
#  - a fresh 1.2 install, 1.0 updated to 1.2 (the released 1.0 -> 1.1 script,
#    then 1.1 -> 1.2) and 1.1 updated to 1.2 give the same catalog: the
#    fingerprint below and pg_dump --binary-upgrade --schema-only (which dumps
#    every member object) compare equal; the rows of every table of the
#    extension (check_history) recorded before the update survive it;
#  - the released 1.0 -> 1.1 update still gives the released 1.1;
#  - ALTER EXTENSION UPDATE at 1.2 is a no-op;
#  - pg_dump (custom format + pg_restore, and plain format + psql) of a database
#    with the extension and rows in tls_audit.check_history: the extension is
#    there after the restore, with the same objects and grants, the history rows
#    survive (pg_extension_config_dump) and the functions work;
#  - DROP EXTENSION + CREATE EXTENSION in one session works.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

# The version this tree builds (pg_tls_audit.control's default_version).
my $current = '1.2';
my $node = new_tls_node('upgrade_dump');
my $tmp = PostgreSQL::Test::Utils::tempdir('dump');

# Everything about the extension's objects that is not an OID: function
# signatures, bodies, markings, settings and ACLs; relations, columns, view
# definitions and ACLs; comments; membership; the version and config tables.
# The ACLs' role names are kept (the same cluster, so the same roles).
my $fingerprint_sql = <<'SQL';
SET search_path = pg_catalog;
SELECT md5(string_agg(line, E'\n' ORDER BY line COLLATE "C")) || ' ' || count(*)
  FROM (
    SELECT 'ext ' || e.extname || ' ' || e.extversion || ' ' || e.extnamespace::regnamespace::text
           || ' ' || e.extrelocatable || ' ' || coalesce(
               (SELECT string_agg(c::regclass::text, ',') FROM unnest(e.extconfig) AS c), '')
           || ' ' || coalesce(array_to_string(e.extcondition, ','), '') AS line
      FROM pg_extension e WHERE e.extname = 'pg_tls_audit'
    UNION ALL
    SELECT 'fn ' || p.oid::regprocedure::text || ' ' || pg_get_function_result(p.oid)
           || ' ' || p.prokind::text || p.provolatile::text || p.proparallel::text || p.proisstrict || p.prosecdef
           || p.proretset || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
           || ' ' || coalesce(p.proacl::text, 'default') || ' ' || md5(p.prosrc)
           || ' ' || coalesce(p.probin, '') || ' ' || coalesce(pg_get_expr(p.proargdefaults, 0), '')
           || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
      FROM pg_proc p WHERE p.pronamespace = 'tls_audit'::regnamespace
    UNION ALL
    SELECT 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, 'default')
           || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '')
           || ' ' || CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) ELSE '' END
      FROM pg_class c WHERE c.relnamespace = 'tls_audit'::regnamespace
    UNION ALL
    SELECT 'col ' || a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' ' || a.attnotnull || ' ' || coalesce(col_description(a.attrelid, a.attnum), '')
      FROM pg_attribute a JOIN pg_class c ON (c.oid = a.attrelid)
     WHERE c.relnamespace = 'tls_audit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'con ' || co.conrelid::regclass::text || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
      FROM pg_constraint co WHERE co.connamespace = 'tls_audit'::regnamespace
    UNION ALL
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d JOIN pg_extension e ON (d.refobjid = e.oid)
     WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'pg_tls_audit'
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text || ' ' || t.typtype::text || ' ' || coalesce(t.typacl::text, 'default')
           || ' ' || coalesce(obj_description(t.oid, 'pg_type'), '')
      FROM pg_type t WHERE t.typnamespace = 'tls_audit'::regnamespace AND t.typtype <> 'b'
    UNION ALL
    SELECT 'init_priv ' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid) || ' ' || ip.initprivs::text
      FROM pg_init_privs ip JOIN pg_depend d ON (d.classid = ip.classoid AND d.objid = ip.objoid AND d.deptype = 'e')
           JOIN pg_extension e ON (d.refobjid = e.oid AND e.extname = 'pg_tls_audit')
    UNION ALL
    SELECT 'schema ' || n.nspname || ' ' || n.nspowner::regrole::text || ' ' || coalesce(n.nspacl::text, 'default')
      FROM pg_namespace n WHERE n.nspname = 'tls_audit'
  ) AS f
SQL
sub fingerprint { return $node->safe_psql(shift, $fingerprint_sql); }

sub extversion
{
	return $node->safe_psql(shift, "SELECT extversion FROM pg_extension WHERE extname = 'pg_tls_audit'");
}

# The data of every table of the extension, per table, over the columns the
# table has now (an update may add columns; the rows recorded before it must
# keep their values in the columns they had). Returns { table => "rows md5" }.
sub data_columns
{
	my ($db) = @_;
	my %columns;
	for my $line (split /\n/, $node->safe_psql($db, q{
		SELECT c.oid::regclass::text || '|' || string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum)
		  FROM pg_class c JOIN pg_attribute a ON (a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
		 WHERE c.relnamespace = 'tls_audit'::regnamespace AND c.relkind = 'r'
		 GROUP BY c.oid}))
	{
		my ($table, $list) = split /\|/, $line;
		$columns{$table} = $list;
	}
	return \%columns;
}
sub data_print
{
	my ($db, $columns) = @_;
	my %print;
	for my $table (sort keys %$columns)
	{
		my $row = "ROW($columns->{$table})::text";
		$print{$table} = $node->safe_psql($db,
			"SELECT count(*) || ' ' || coalesce(md5(string_agg($row, E'\\n' ORDER BY $row)), '') FROM $table");
	}
	return \%print;
}

# A database with a released version installed and rows in its history.
sub install_released
{
	my ($db, $version) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, <<"SQL");
SET client_min_messages = error;
CREATE EXTENSION pg_tls_audit VERSION '$version';
SELECT tls_audit.record_checks();
INSERT INTO tls_audit.check_history (run_at, "check", severity, object, message, hint) VALUES
  (now() - interval '1 hour', 'marker', 'info', 'object', 'recorded by $version', 'hint');
SQL
	is(extversion($db), $version, "$db: version $version installed from the released script");
	return;
}

# pg_dump --binary-upgrade dumps each member of the extension; apart from the
# OIDs it pins, a fresh and an updated install must dump the same.
sub member_dump
{
	my ($db) = @_;
	my $file = "$tmp/members-$db.sql";
	$node->command_ok([ 'pg_dump', '--binary-upgrade', '--schema-only', '-d', $node->connstr($db), '-f', $file ],
		"pg_dump --binary-upgrade --schema-only $db");
	# Statements, without comments; drop those that pin OIDs or transaction ids.
	my $text = PostgreSQL::Test::Utils::slurp_file($file);
	$text =~ s/^--.*\n//mg;
	$text =~ s/^\\(?:un)?restrict .*\n//mg;
	my @statements = grep { /\S/ && !/binary_upgrade|relfrozenxid|pg_catalog\.pg_class|pg_catalog\.pg_type/ }
	  split /;\n/, $text;
	return join(";\n", @statements);
}

# --- fresh 1.2 == 1.0 -> 1.2 == 1.1 -> 1.2 ---------------------------------------------------
my $before = fingerprint('postgres');
like($before, qr/^[0-9a-f]{32} \d+$/, "fingerprint of a fresh install computed ($before)");
is(extversion('postgres'), $current, "a fresh install is $current");
my $fresh_dump = member_dump('postgres');
like($fresh_dump, qr/CREATE FUNCTION tls_audit\.run_checks/, 'the member dump lists the extension functions');

# The released 1.0 -> 1.1 update still gives the released 1.1.
install_released('released_10', '1.0');
install_released('from_11', '1.1');
my $print_11 = fingerprint('from_11');
isnt(fingerprint('released_10'), $print_11, '1.0 and 1.1 differ');
$node->safe_psql('released_10', "ALTER EXTENSION pg_tls_audit UPDATE TO '1.1'");
is(fingerprint('released_10'), $print_11, 'the released 1.0 -> 1.1 update gives the released 1.1');
$node->safe_psql('postgres', 'DROP DATABASE released_10');

install_released('from_10', '1.0');
for my $from ('1.0', '1.1')
{
	(my $db = "from_$from") =~ s/\.//;
	my $columns = data_columns($db);
	ok(exists $columns->{'tls_audit.check_history'}, "$db: check_history is one of the tables compared");
	my $data = data_print($db, $columns);
	like($data->{'tls_audit.check_history'}, qr/^[1-9]\d* [0-9a-f]{32}$/, "$db: check_history has rows");
	isnt(fingerprint($db), $before, "$from and $current differ before the update");
	# Until ALTER EXTENSION UPDATE runs, the new library serves the old
	# definitions: result types without the columns of later versions.
	is($node->safe_psql($db, 'SELECT count(*) >= 0 FROM tls_audit.census'), 't',
		"$db: tls_audit.census of $from works with the $current library");
	is($node->safe_psql($db, 'SELECT ssl_enabled IS NOT NULL FROM tls_audit.server_tls()'), 't',
		"$db: server_tls() of $from works with the $current library");
	my ($rc, $out, $err) = $node->psql($db, 'ALTER EXTENSION pg_tls_audit UPDATE');
	is($rc, 0, "ALTER EXTENSION pg_tls_audit UPDATE from $from succeeds") or diag($err);
	is(extversion($db), $current, "... and installs $current");
	is(fingerprint($db), $before, "$from updated to $current has the same catalog as a fresh $current");
	is_deeply(data_print($db, $columns), $data, "$db: the rows of every table recorded by $from survived the update");
	my $runs = $node->safe_psql($db, 'SELECT count(DISTINCT run_at) FROM tls_audit.check_history');
	$node->safe_psql($db, 'SET client_min_messages = error; SELECT tls_audit.record_checks()');
	is($node->safe_psql($db, 'SELECT count(DISTINCT run_at) FROM tls_audit.check_history'), $runs + 1,
		"$db: record_checks() appends a run to the history recorded by $from");
	is(member_dump($db), $fresh_dump, "$db: member dumps of the fresh and the updated install are equal");
	$node->safe_psql('postgres', "DROP DATABASE $db");
}

# --- ALTER EXTENSION UPDATE at 1.2 ---------------------------------------------------------
my ($rc, $out, $err) = $node->psql('postgres', 'ALTER EXTENSION pg_tls_audit UPDATE');
is($rc, 0, 'ALTER EXTENSION pg_tls_audit UPDATE succeeds');
like($err, qr/NOTICE:\s+version "\Q$current\E" of extension "pg_tls_audit" is already installed/,
	"... and reports that $current is already installed");
is(fingerprint('postgres'), $before, 'the extension objects are unchanged by the update');
is($node->safe_psql('postgres',
		"SELECT string_agg(source || '>' || target || ' ' || path, ',' ORDER BY source, target)"
		  . " FROM pg_extension_update_paths('pg_tls_audit') WHERE path IS NOT NULL"),
	"1.0>1.1 1.0--1.1,1.0>$current 1.0--1.1--$current,1.1>$current 1.1--$current",
	"the update paths: 1.0 to 1.1, 1.0 to $current through 1.1, 1.1 to $current");
is($node->safe_psql('postgres', "SELECT default_version || ' ' || installed_version FROM pg_available_extensions WHERE name = 'pg_tls_audit'"),
	"$current $current", "default and installed version are $current");

# --- dump and restore ----------------------------------------------------------------
# History rows written by record_checks() plus one marker row of our own.
$node->safe_psql('postgres', <<'SQL');
SET client_min_messages = error;
SELECT tls_audit.record_checks();
SELECT tls_audit.record_checks();
INSERT INTO tls_audit.check_history VALUES
  ('2001-02-03 04:05:06+00', 'marker', 'info', 'object', 'dump marker', 'hint');
SQL
my $history_sql = q{SELECT count(*) || ' ' || count(DISTINCT run_at) || ' '
  || md5(string_agg(run_at || '|' || "check" || '|' || severity || '|' || coalesce(object, '') || '|' || message,
                    E'\n' ORDER BY run_at, "check", object, message))
  FROM tls_audit.check_history};
my $history = $node->safe_psql('postgres', $history_sql);
like($history, qr/^\d+ 3 [0-9a-f]{32}$/, "check_history has rows of two runs and the marker ($history)");
# A non-default grant on an extension object survives too (pg_init_privs).
$node->safe_psql('postgres', 'CREATE ROLE regress_dump_reader; GRANT SELECT ON tls_audit.check_history TO regress_dump_reader');
my $source_print = fingerprint('postgres');

my $custom = "$tmp/custom.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('postgres'), '-f', $custom ], 'pg_dump -Fc');
$node->command_ok([ 'createdb', '-h', $node->host, '-p', $node->port, 'restored_custom' ], 'createdb restored_custom');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored_custom'), $custom ],
	'pg_restore into a new database');

my $plain = "$tmp/plain.sql";
$node->command_ok([ 'pg_dump', '-Fp', '-d', $node->connstr('postgres'), '-f', $plain ], 'pg_dump -Fp');
my $plain_text = PostgreSQL::Test::Utils::slurp_file($plain);
like($plain_text, qr/CREATE EXTENSION IF NOT EXISTS pg_tls_audit WITH SCHEMA tls_audit;/, 'the dump creates the extension');
unlike($plain_text, qr/CREATE (?:FUNCTION|VIEW) tls_audit\./, 'the dump does not repeat the extension objects');
like($plain_text, qr/dump marker/, 'the dump carries the check_history rows');
$node->command_ok([ 'createdb', '-h', $node->host, '-p', $node->port, 'restored_plain' ], 'createdb restored_plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored_plain'), '-f', $plain ],
	'plain dump restored with psql');

my $cert = PostgreSQL::Test::Utils::slurp_file(cert_path('server.crt'));
for my $db ('restored_custom', 'restored_plain')
{
	is(extversion($db), $current, "$db: extension $current exists");
	is(fingerprint($db), $source_print, "$db: same objects, settings and grants as the source");
	is($node->safe_psql($db, $history_sql), $history, "$db: check_history rows survived");
	is($node->safe_psql($db, "SELECT message FROM tls_audit.check_history WHERE \"check\" = 'marker'"),
		'dump marker', "$db: the marker row is there");
	# The functions work in the restored database.
	is($node->safe_psql($db, 'SELECT tls_audit.version()'), $current, "$db: version()");
	is($node->safe_psql($db, "SELECT count(*) FROM tls_audit.certificate_info(\$pem\$$cert\$pem\$::text)"),
		'1', "$db: certificate_info()");
	is($node->safe_psql($db, 'SELECT ssl_enabled FROM tls_audit.server_tls()'), 't', "$db: server_tls()");
	cmp_ok($node->safe_psql($db, 'SELECT count(*) FROM tls_audit.run_checks()'), '>', 0, "$db: run_checks()");
	cmp_ok($node->safe_psql($db, 'SELECT count(*) FROM tls_audit.sessions'), '>', 0, "$db: sessions");
	like($node->safe_psql($db, 'SELECT tls_audit.metrics_text()'), qr/^# HELP tls_audit_/m, "$db: metrics_text()");
	my $rows_before = $node->safe_psql($db, 'SELECT count(*) FROM tls_audit.check_history');
	$node->safe_psql($db, 'SET client_min_messages = error; SELECT tls_audit.record_checks()');
	cmp_ok($node->safe_psql($db, 'SELECT count(*) FROM tls_audit.check_history'), '>', $rows_before,
		"$db: record_checks() appends to the restored history");
	is($node->safe_psql($db, "SELECT has_table_privilege('regress_dump_reader', 'tls_audit.check_history', 'SELECT')"),
		't', "$db: the extra grant on check_history survived");
}

# --- DROP EXTENSION + CREATE EXTENSION in one session -------------------------------------
($rc, $out, $err) = $node->psql('postgres', <<'SQL');
\set ON_ERROR_STOP 1
REVOKE SELECT ON tls_audit.check_history FROM regress_dump_reader;
DROP EXTENSION pg_tls_audit;
SELECT count(*) FROM pg_class WHERE relnamespace = 'tls_audit'::regnamespace;
CREATE EXTENSION pg_tls_audit;
SELECT tls_audit.version();
SELECT count(*) FROM tls_audit.check_history;
SELECT count(*) > 0 FROM tls_audit.sessions;
SELECT count(*) > 0 FROM tls_audit.run_checks();
SQL
is($rc, 0, 'DROP EXTENSION and CREATE EXTENSION in one session') or diag($err);
is($out, "0\n$current\n0\nt\nt", 'objects gone after DROP, back and working after CREATE (history starts empty)');
is(fingerprint('postgres'), $before, 'the re-created extension matches the original one');
$node->safe_psql('postgres', 'DROP DATABASE restored_custom; DROP DATABASE restored_plain; DROP ROLE regress_dump_reader');

$node->stop;
done_testing();
