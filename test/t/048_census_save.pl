# Connection census: the periodic save (tls_audit.census_save_interval,
# a periodic save). A crash after a save keeps the counts up to that save
# and census_info() says since when counts were lost; a save that fails is a
# WARNING, shows in census_info() and fires run_checks()'s
# census_save_failed until a save succeeds again.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use TlsAuditTest;

my $node = new_tls_node('census_save', conf => 'tls_audit.census_save_interval = 1');
my $pg_stat = $node->data_dir . '/pg_stat';
my $file = "$pg_stat/pg_tls_audit_census";

sub count_of
{
	my ($app) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(sum(connections), 0) FROM tls_audit.census WHERE application_name = '$app'");
}

# Poll $sql until it returns 't' (at most 30 s).
sub wait_for
{
	my ($sql) = @_;
	for (1 .. 300)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(100_000);
	}
	return 0;
}

sub start_after_crash
{
	for my $try (1 .. 30)
	{
		return 1 if $node->start(fail_ok => 1);
		$node->{_pid} = undef;
		sleep 1;
	}
	return 0;
}

is($node->safe_psql('postgres', 'SHOW tls_audit.census_save_interval'), '1s', 'interval set to 1s');
ok(wait_for('SELECT last_save_at IS NOT NULL FROM tls_audit.census_info()'), 'the census save worker saves');
is($node->safe_psql('postgres', 'SELECT lost_since IS NULL, last_save_error IS NULL FROM tls_audit.census_info()'),
	't|t', 'first start: nothing lost, no save error');

# --- a periodic save, then a crash ------------------------------------------------
tls_query($node, 'SELECT 1', application_name => 'saved_me') for 1 .. 3;
my $t0 = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
ok(wait_for("SELECT last_save_at > '$t0' FROM tls_audit.census_info()"), 'a periodic save followed the connections');
ok(-f $file, 'the census file exists without any shutdown');
my $saved_at = $node->safe_psql('postgres', 'SELECT last_save_at FROM tls_audit.census_info()');
# No more periodic saves: what follows is counted but never saved.
$node->safe_psql('postgres', 'ALTER SYSTEM SET tls_audit.census_save_interval = 0');
$node->reload;
ok(wait_for(q{SELECT current_setting('tls_audit.census_save_interval') = '0'}), 'interval 0 applied');
sleep 2;    # any save already under way has finished
my $last_before_crash = $node->safe_psql('postgres', 'SELECT last_save_at FROM tls_audit.census_info()');
tls_query($node, 'SELECT 1', application_name => 'lost_me') for 1 .. 2;
is(count_of('lost_me'), '2', 'two connections counted after the last save');

my $log_offset = -s $node->logfile;
$node->kill9;
ok(start_after_crash(), 'the server starts after kill -9 of the postmaster');
is(count_of('saved_me'), '3', 'the counts up to the periodic save survive the crash');
is(count_of('lost_me'), '0', 'the counts after it are lost');
is( $node->safe_psql('postgres',
		"SELECT lost_since BETWEEN '$last_before_crash'::timestamptz - interval '1 s' AND '$last_before_crash',
		        last_save_at IS NULL FROM tls_audit.census_info()"),
	't|t', 'census_info: lost_since is the time of the last save (the file\'s); no save yet in this run');
ok( $node->log_contains(
		qr/WARNING:  pg_tls_audit: the previous server run ended without saving the connection census/, $log_offset),
	'a WARNING at start says counts were lost');

# --- a clean restart loses nothing ------------------------------------------------
$node->restart;
is($node->safe_psql('postgres', 'SELECT lost_since IS NULL FROM tls_audit.census_info()'), 't',
	'after a clean shutdown lost_since is NULL');
is(count_of('saved_me'), '3', 'and the counts are there');

# --- immediate shutdown after a save -----------------------------------------------
$node->safe_psql('postgres', 'ALTER SYSTEM SET tls_audit.census_save_interval = 1');
$node->reload;
tls_query($node, 'SELECT 1', application_name => 'saved_me');
$t0 = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
ok(wait_for("SELECT last_save_at > '$t0' FROM tls_audit.census_info()"), 'saved again');
$log_offset = -s $node->logfile;
$node->stop('immediate');
ok($node->log_contains(qr/pg_tls_audit: the connection census is not saved: the server did not shut down cleanly/,
	$log_offset), 'immediate shutdown: no save by the postmaster');
$node->start;
is(count_of('saved_me'), '4', 'immediate shutdown: the counts up to the last save survive');
is($node->safe_psql('postgres', 'SELECT lost_since IS NOT NULL FROM tls_audit.census_info()'), 't',
	'immediate shutdown: census_info reports lost counts');

# --- a save that fails ----------------------------------------------------------
SKIP:
{
	skip 'root ignores directory permissions', 8 if $> == 0;
	$log_offset = -s $node->logfile;
	chmod 0555, $pg_stat or die "chmod $pg_stat: $!";
	ok( wait_for(q{SELECT last_save_error IS NOT NULL FROM tls_audit.census_info()}),
		'a save into a read-only directory fails');
	like($node->safe_psql('postgres', 'SELECT last_save_error FROM tls_audit.census_info()'),
		qr/^could not create "pg_stat\/pg_tls_audit_census\.tmp": Permission denied$/, 'census_info: the reason');
	ok( $node->log_contains(
			qr/WARNING:  pg_tls_audit: could not save the connection census: could not create "pg_stat\/pg_tls_audit_census\.tmp": Permission denied/,
			$log_offset),
		'the failure is a WARNING');
	my $row = $node->safe_psql('postgres',
		q{SELECT severity, object, message FROM tls_audit.run_checks() WHERE "check" = 'census_save_failed'});
	like($row, qr/^warning\|census file pg_stat\/pg_tls_audit_census\|the last save of the connection census failed: could not create .*Permission denied/,
		'run_checks: census_save_failed fires');
	my $warnings = () = slurp_file($node->logfile, $log_offset) =~ /could not save the connection census/g;
	sleep 2;
	my $warnings_later = () = slurp_file($node->logfile, $log_offset) =~ /could not save the connection census/g;
	is($warnings_later, $warnings, 'the same failure is not logged again every second');

	chmod 0700, $pg_stat or die "chmod $pg_stat: $!";
	ok(wait_for(q{SELECT last_save_error IS NULL FROM tls_audit.census_info()}), 'saves succeed again');
	is($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'census_save_failed'}),
		'ok', 'run_checks: census_save_failed is ok again');
	ok($node->log_contains(qr/LOG:  pg_tls_audit: the connection census is saved again/, $log_offset),
		'the recovery is logged');
}

# --- census_reset is not undone by a save ---------------------------------------
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$t0 = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
ok(wait_for("SELECT last_save_at > '$t0' FROM tls_audit.census_info()"), 'a save after the reset');
$node->restart;
is(count_of('saved_me'), '0', 'the reset census stays reset across a restart');

# --- the interval is set in the configuration files --------------------------------
my ($rc, $out, $err) = $node->psql('postgres', q{SET tls_audit.census_save_interval = '5min'});
like($err, qr/cannot be changed now/, 'the interval is a sighup setting');

done_testing();
