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
use Time::HiRes ();

# --- the variant ---------------------------------------------------------------------
my $tree = realpath("$FindBin::RealBin/../..");
# The built tree the suite tests (test/run-tests.sh builds it before the TAP files).
my ($version) = PostgreSQL::Test::Utils::slurp_file("$tree/pg_tls_audit.control") =~ /^default_version = '([^']+)'/m;
my $install_script = "$tree/pg_tls_audit--$version.sql";
-f "$tree/pg_tls_audit.so" && -f $install_script
  or die "$tree has no built library: run make there first";
my $pg_config = $ENV{PG_CONFIG} // 'pg_config';
my $scratch = realpath(PostgreSQL::Test::Utils::tempdir('libpq_variant'));
my $libpq_path = "$scratch/libpq-for-test.so";
my $variant = "$scratch/pg_tls_audit.so";
# The tree's library and the object the variant replaces, before and after.
my @tree_files = ("$tree/pg_tls_audit.so", "$tree/src/pg/libpq_on_demand.o");
my @before = map { (stat $_)[9] . ' ' . -s $_ } @tree_files;
my ($out, $err) = ('', '');
my $built = IPC::Run::run(
	[
		'make', '-C', $tree, '-s', '-f', 'Makefile', '-f', 'test/libpq_variant.mk',
		'libpq-variant', "PG_CONFIG=$pg_config", "VARIANT_DIR=$scratch",
		"VARIANT_LIBPQ_SONAME=$libpq_path"
	],
	'>', \$out, '2>', \$err);
ok($built, 'the variant of the library is built') or diag("$out$err");
die 'no variant of the library' unless $built && -f $variant;
is_deeply([ map { (stat $_)[9] . ' ' . -s $_ } @tree_files ], \@before,
	'the tree\'s library and objects are not rewritten');

# The server's real libpq, copied to that path for the second part.
my $libdir = `$pg_config --libdir`;
chomp $libdir;
my $real_libpq = realpath("$libdir/libpq.so");
ok(defined $real_libpq && -f $real_libpq, "the server's libpq is found ($libdir/libpq.so)");

# --- the functions, as the install script defines them, on the variant -------------------
my $script = PostgreSQL::Test::Utils::slurp_file($install_script);
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

# The pid of the pooler sample worker, a child of the postmaster (a worker
# without a database is not in pg_stat_activity); waits up to 10 s for it.
sub worker_pid
{
	my ($node) = @_;
	for (1 .. 100)
	{
		for my $stat (glob '/proc/[0-9]*/stat')
		{
			my ($pid) = $stat =~ m{^/proc/(\d+)/};
			open my $fh, '<', $stat or next;
			my $line = <$fh> // next;
			close $fh;
			# pid (comm) state ppid: comm may hold spaces and parentheses.
			next unless $line =~ /\) \S (\d+) / && $1 == $node->{_pid};
			open $fh, '<', "/proc/$pid/cmdline" or next;
			my $title = <$fh> // '';
			close $fh;
			return $pid if $title =~ /pg_tls_audit pooler sample/;
		}
		Time::HiRes::usleep(100_000);
	}
	return '';
}

# Nothing in the log since $offset says the worker exited (it would be
# restarted, with a new pid, after 10 s).
sub never_exited
{
	my ($node, $offset) = @_;
	unlike(substr(PostgreSQL::Test::Utils::slurp_file($node->logfile), $offset),
		qr/background worker "pg_tls_audit pooler sample" .*exited/, 'the pooler sample worker never exited');
}

my $not_loaded = qr/libpq is needed here and could not be used: could not load the shared library "\Q$libpq_path\E": .*No such file or directory/;
my $hint = qr/HINT:  Install the libpq of this server's PostgreSQL/;

# --- no libpq at start ----------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('libpq_unavailable');
$node->init;
my $nobody = PostgreSQL::Test::Cluster::get_free_port();  # never listened on
my $poolers = "bouncer=host=127.0.0.1 port=$nobody dbname=pgbouncer";
$node->append_conf(
	'postgresql.conf', <<"CONF");
# The variant, found first by the name the library's background workers
# are loaded by (src/pg/bgw_register.cpp): the same file in every process.
dynamic_library_path = '$scratch:\$libdir'
shared_preload_libraries = 'pg_tls_audit'
tls_audit.poolers = '$poolers'
tls_audit.pooler_sample_interval = 1
CONF
$node->start;
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
like($log, qr/WARNING:  invalid value for parameter "tls_audit\.poolers".*\n.*DETAIL:  could not check the value: $not_loaded\n.*$hint/,
	'the value of tls_audit.poolers is refused at start with libpq\'s error and the HINT');
like($log, qr/WARNING:  tls_audit\.poolers = \(not shown\) from .* was not applied: invalid value\n.*DETAIL:  could not check the value: $not_loaded/,
	'the start settings\' WARNING names the refused value and why');
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
never_exited($node, 0);

# --- libpq at start, removed afterwards ------------------------------------------------
$node->stop;
copy($real_libpq, $libpq_path) or die "copy $real_libpq: $!";
# No sample yet: the worker would load libpq and keep it.
$node->append_conf('postgresql.conf', "tls_audit.pooler_sample_interval = 0\n");
my $start = -s $node->logfile;
$node->start;
unlike(substr(PostgreSQL::Test::Utils::slurp_file($node->logfile), $start), qr/tls_audit\.poolers.*was not applied/,
	'with libpq, the value of tls_audit.poolers is accepted at start');
is($node->safe_psql('postgres', "SELECT current_setting('tls_audit.poolers')"), $poolers,
	'tls_audit.poolers has the configured value');
unlink $libpq_path or die "unlink $libpq_path: $!";
$worker = worker_pid($node);
like($worker, qr/^\d+$/, 'the pooler sample worker runs');

($stdout, $stderr) = session($node, <<'SQL');
SELECT 'row ' || pooler || ': ' || error FROM tls_audit.pooler_clients();
SELECT * FROM tls_audit.pooler_certificates();
SQL
like($stdout, qr/^row bouncer: $not_loaded$/m,
	'without libpq, pooler_clients() gives the pooler\'s row with libpq\'s error');
like($stderr, qr/ERROR:  58P01: $not_loaded\n(?:.*\n)*?$hint/,
	'without libpq, pooler_certificates() raises 58P01 with libpq\'s error and the HINT');

my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "tls_audit.pooler_sample_interval = 1\n");
$node->reload;
ok($node->wait_for_log(qr/LOG:  pg_tls_audit: pooler "bouncer" could not be sampled: $not_loaded/, $offset),
	'the pooler sample worker logs libpq\'s error');
like(substr(PostgreSQL::Test::Utils::slurp_file($node->logfile), $offset),
	qr/LOG:  invalid value for parameter "tls_audit\.poolers".*\n.*DETAIL:  could not check the value: $not_loaded\n.*$hint/,
	'at the reload, the value of tls_audit.poolers is refused with libpq\'s error and the HINT');
is($node->safe_psql('postgres', "SELECT current_setting('tls_audit.poolers')"), $poolers,
	'the value applied before the reload stays');
is(worker_pid($node), $worker, 'the pooler sample worker keeps running');
never_exited($node, $start);
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server answers');

$node->stop;
done_testing();
