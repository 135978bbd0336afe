# A server where libpq cannot be loaded. The library does not link libpq: it
# loads it on first use (src/pg/libpq_on_demand.cpp), so a missing libpq is
# an error at that use, which must be clean. The test preloads a variant of
# the built library that looks for libpq at a path of this test
# (test/libpq_variant.mk: src/pg/libpq_on_demand.cpp compiled again with that
# name, linked with the tree's other objects), instead of the library.
#
# Nothing at that path at start: the server starts; tls_audit.poolers from the
# configuration is refused with libpq's error and HINT (fail closed), the
# pooler functions refuse to run, the pooler sample worker says why no pooler
# is sampled and keeps running, ALTER SYSTEM refuses a value with the HINT,
# outbound_connection_rows() raises 58P01 with the HINT, and the backend goes
# on. Then libpq there at start and removed afterwards (a libpq uninstalled
# under a running server): the value is accepted; a new backend's
# pooler_clients() gives the pooler's row with libpq's error,
# pooler_certificates() raises 58P01 with the HINT; the worker logs libpq's
# error at its next sample and keeps running.
use strict;
use warnings;

use Cwd qw(realpath);
use File::Copy;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# --- the variant ---------------------------------------------------------------------
my $tree = realpath("$FindBin::RealBin/../..");
# The built tree the suite tests (test/run-tests.sh builds it before the TAP files).
-f "$tree/pg_tls_audit.so" && -f "$tree/pg_tls_audit--1.2.sql"
  or BAIL_OUT("$tree has no built library: run make there first");
my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
my $scratch = realpath(PostgreSQL::Test::Utils::tempdir('libpq_variant'));
my $libpq_path = "$scratch/libpq-for-test.so";
my $variant = "$scratch/pg_tls_audit.so";
my ($out, $err) = ('', '');
my $built = IPC::Run::run(
	[
		'make', '-C', $tree, '-s', '-f', 'Makefile', '-f', 'test/libpq_variant.mk',
		'libpq-variant', "PG_CONFIG=$pg_config", "VARIANT_DIR=$scratch",
		"VARIANT_LIBPQ_SONAME=$libpq_path"
	],
	'>', \$out, '2>', \$err);
ok($built, 'the variant of the library is built') or diag("$out$err");
BAIL_OUT('no variant of the library') unless $built && -f $variant;
my $binary = PostgreSQL::Test::Utils::slurp_file($variant);
ok(index($binary, "$libpq_path\0") >= 0, 'the variant looks for libpq at the test\'s path');
ok(index(PostgreSQL::Test::Utils::slurp_file("$tree/pg_tls_audit.so"), "$libpq_path\0") < 0,
	'the built library is untouched');

# The server's real libpq, copied to that path for the second part.
my $libdir = `$pg_config --libdir`;
chomp $libdir;
my $real_libpq = realpath("$libdir/libpq.so");
ok(defined $real_libpq && -f $real_libpq, "the server's libpq is found ($libdir/libpq.so)");

# --- the functions, as the install script defines them, on the variant -------------------
my $script = PostgreSQL::Test::Utils::slurp_file("$tree/pg_tls_audit--1.2.sql");
my $functions = "CREATE SCHEMA tls_audit;\n";
for my $name (qw(pooler_clients pooler_certificates outbound_connection_rows))
{
	$script =~ /^(CREATE FUNCTION tls_audit\.$name\(.*?;)$/ms
	  or die "no CREATE FUNCTION tls_audit.$name in the install script";
	(my $create = $1) =~ s/'MODULE_PATHNAME'/'$variant'/;
	$functions .= "$create\n";
}

# psql's output of SQL in one session, errors with their SQLSTATE; the
# backend's pid before and after must be the same one.
sub session
{
	my ($node, $sql) = @_;
	my ($stdout, $stderr) = ('', '');
	$node->psql(
		'postgres',
		"\\set VERBOSITY verbose\nSELECT 'pid ' || pg_backend_pid();\n$sql\nSELECT 'pid ' || pg_backend_pid();\n",
		stdout => \$stdout,
		stderr => \$stderr,
		on_error_stop => 0);
	my @pids = $stdout =~ /^pid (\d+)$/mg;
	ok(@pids == 2 && $pids[0] == $pids[1], 'the backend is still the same one afterwards')
	  or diag("stdout: $stdout\nstderr: $stderr");
	return ($stdout, $stderr);
}

sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_tls_audit pooler sample'");
}

my $not_loaded = qr/libpq is needed here and could not be used: could not load the shared library "\Q$libpq_path\E": .*No such file or directory/;
my $hint = qr/HINT:  Install the libpq of this server's PostgreSQL/;

# --- no libpq at start ----------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('libpq_unavailable');
$node->init;
my $nobody = PostgreSQL::Test::Cluster::get_free_port();  # never listened on
$node->append_conf(
	'postgresql.conf', <<"CONF");
shared_preload_libraries = '$variant'
tls_audit.poolers = 'bouncer=host=127.0.0.1 port=$nobody dbname=pgbouncer'
tls_audit.pooler_sample_interval = 1
CONF
$node->start;
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
like($log, qr/WARNING:  tls_audit\.poolers = from .* was not applied: .*\n(?:.*\n)*?.*$not_loaded/,
	'the value of tls_audit.poolers is refused at start with libpq\'s error');
ok($node->wait_for_log(qr/pg_tls_audit: no pooler is sampled: the value of tls_audit\.poolers in the configuration files was refused at start/),
	'the pooler sample worker says why no pooler is sampled');
my $worker = worker_pid($node);
like($worker, qr/^\d+$/, 'the pooler sample worker runs');
$node->safe_psql('postgres', $functions);

my ($stdout, $stderr) = session($node, <<'SQL');
SELECT * FROM tls_audit.pooler_clients();
SELECT * FROM tls_audit.outbound_connection_rows();
ALTER SYSTEM SET tls_audit.poolers = 'other=host=127.0.0.1 dbname=pgbouncer';
SQL
like($stderr, qr/ERROR:  22023: the value of tls_audit\.poolers in the configuration files was refused at start/,
	'pooler_clients() refuses to run (22023)');
like($stderr, qr/ERROR:  58P01: $not_loaded\n(?:.*\n)*?$hint/,
	'outbound_connection_rows() raises 58P01 with libpq\'s error and the HINT');
like($stderr, qr/ERROR:  22023: invalid value for parameter "tls_audit\.poolers"(?:.*\n)*?DETAIL:  could not check the value: $not_loaded\n$hint/,
	'ALTER SYSTEM refuses a value of tls_audit.poolers with libpq\'s error and the HINT');
ok(!-e $node->data_dir . '/postgresql.auto.conf'
	  || PostgreSQL::Test::Utils::slurp_file($node->data_dir . '/postgresql.auto.conf') !~ /tls_audit/,
	'nothing was written to postgresql.auto.conf');
is(worker_pid($node), $worker, 'the pooler sample worker is still the same one');

# --- libpq at start, removed afterwards ------------------------------------------------
$node->stop;
copy($real_libpq, $libpq_path) or die "copy $real_libpq: $!";
# No sample yet: the worker would load libpq and keep it.
$node->append_conf('postgresql.conf', "tls_audit.pooler_sample_interval = 0\n");
my $offset = -s $node->logfile;
$node->start;
unlike(substr(PostgreSQL::Test::Utils::slurp_file($node->logfile), $offset), qr/tls_audit\.poolers.*was not applied/,
	'with libpq, the value of tls_audit.poolers is accepted at start');
unlink $libpq_path or die "unlink $libpq_path: $!";
$worker = worker_pid($node);

($stdout, $stderr) = session($node, <<'SQL');
SELECT 'row ' || pooler || ': ' || error FROM tls_audit.pooler_clients();
SELECT * FROM tls_audit.pooler_certificates();
SQL
like($stdout, qr/^row bouncer: $not_loaded$/m,
	'without libpq, pooler_clients() gives the pooler\'s row with libpq\'s error');
like($stderr, qr/ERROR:  58P01: $not_loaded\n(?:.*\n)*?$hint/,
	'without libpq, pooler_certificates() raises 58P01 with libpq\'s error and the HINT');

$offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "tls_audit.pooler_sample_interval = 1\n");
$node->reload;
ok($node->wait_for_log(qr/LOG:  pg_tls_audit: pooler "bouncer" could not be sampled: $not_loaded/, $offset),
	'the pooler sample worker logs libpq\'s error');
is(worker_pid($node), $worker, 'the pooler sample worker keeps running');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server answers');

$node->stop;
done_testing();
