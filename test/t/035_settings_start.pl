# Invalid tls_audit.* values in postgresql.conf at server start (they fail
# closed): each is logged as a WARNING naming the parameter, the value, the
# reason and what applies instead; an invalid tls_audit.probe_allowed_hosts
# allows no host at all (fail closed) until a valid value is loaded; and
# tls_audit.run_checks() reports every value that is not applied.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use TlsAuditTest;

my $bad = <<'CONF';
tls_audit.probe_allowed_hosts = 'db1.example.com db2.example.com'
tls_audit.min_protocol = 'TLSv1.4'
tls_audit.census_max = 'abc'
tls_audit.expiry_warning_days = -5
CONF

my $node = new_tls_node('settings_start', conf => $bad);
my $port = $node->port;
my $log = slurp_file($node->logfile);

like($log,
	qr/WARNING:  tls_audit\.probe_allowed_hosts = 'db1\.example\.com db2\.example\.com' from \S+postgresql\.conf line \d+ was not applied: invalid value for parameter "tls_audit\.probe_allowed_hosts".*\n.*DETAIL:  .*contains white space\. No host may be probed until the value is fixed/,
	'start: WARNING for the allow-list with reason and consequence');
like($log, qr/WARNING:  tls_audit\.min_protocol = 'TLSv1\.4' from \S+ line \d+ was not applied: invalid value.*\n.*DETAIL:  The default "TLSv1\.2" is in effect/,
	'start: WARNING for min_protocol');
like($log, qr/WARNING:  tls_audit\.census_max = 'abc' .* was not applied.*\n.*DETAIL:  The default "5000" is in effect\.\n.*HINT:  .*restart the server/,
	'start: WARNING for census_max: the safe default and a restart');
like($log, qr/WARNING:  tls_audit\.expiry_warning_days = '-5' .* was not applied: -5 is outside the valid range/,
	'start: WARNING for an out-of-range int');
is($node->safe_psql('postgres', 'SHOW tls_audit.census_max'), '5000', 'census_max: the default is used');

# Fail closed: the allow-list's default would allow any host.
sub probe_error
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql // "SELECT * FROM tls_audit.probe('127.0.0.1', $port)");
	return $err;
}
my $err = probe_error();
like($err, qr/ERROR:  no probe target is allowed: the value of tls_audit\.probe_allowed_hosts in the configuration files could not be applied at server start/,
	'probe() refuses every target');
like($err, qr/HINT:  Correct tls_audit\.probe_allowed_hosts/, 'with a HINT');
like(probe_error("SELECT * FROM tls_audit.probe_certificates('127.0.0.1', $port)"), qr/no probe target is allowed/,
	'probe_certificates() too');
like(probe_error("SET tls_audit.probe_allowed_hosts = '127.0.0.1'; SELECT * FROM tls_audit.probe('127.0.0.1', $port)"),
	qr/no probe target is allowed/, 'a session SET does not lift it');
like(probe_error("BEGIN; SET LOCAL tls_audit.probe_allowed_hosts = '127.0.0.1'; COMMIT; SELECT * FROM tls_audit.probe('127.0.0.1', $port)"),
	qr/no probe target is allowed/, 'nor the end of a SET LOCAL');

# run_checks() names each value that is not applied.
my $rows = $node->safe_psql('postgres',
	q{SELECT object || '|' || severity || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'settings_not_applied' ORDER BY object});
like($rows, qr/^tls_audit\.census_max\|warning\|tls_audit\.census_max = 'abc' \(\S+ line \d+\) is not in effect/m,
	'run_checks: census_max (warning)');
like($rows, qr/^tls_audit\.expiry_warning_days\|warning\|/m, 'run_checks: expiry_warning_days (warning)');
like($rows, qr/^tls_audit\.min_protocol\|critical\|/m, 'run_checks: min_protocol (critical)');
like($rows, qr/^tls_audit\.probe_allowed_hosts\|critical\|.*no host may be probed/m,
	'run_checks: probe_allowed_hosts (critical)');

# A reload with the same invalid value keeps the refusal.
$node->reload;
like(probe_error(), qr/no probe target is allowed/, 'still refused after a reload of the same file');

# A valid value from the file lifts it; ports limit the entries.
$node->append_conf('postgresql.conf', "tls_audit.probe_allowed_hosts = '127.0.0.1:1'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.probe_allowed_hosts') = '127.0.0.1:1'")
  or die 'reload not applied';
like(probe_error(), qr/probe target "127\.0\.0\.1" port $port is not allowed by tls_audit\.probe_allowed_hosts/,
	'after fixing the file: the list applies (another port is refused)');
$node->append_conf('postgresql.conf', "tls_audit.probe_allowed_hosts = '127.0.0.1:$port'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.probe_allowed_hosts') = '127.0.0.1:$port'")
  or die 'reload not applied';
is($node->safe_psql('postgres', "SELECT count(*) > 0 FROM tls_audit.probe('127.0.0.1', $port) WHERE accepted"),
	't', 'the listed host:port may be probed');
unlike($node->safe_psql('postgres',
	q{SELECT string_agg(object, ',') FROM tls_audit.run_checks() WHERE "check" = 'settings_not_applied'}),
	qr/probe_allowed_hosts/, 'run_checks: the allow-list is applied now');
$node->stop;

# census_max: each invalid value warns and the census keeps its default.
for my $value ('0', '-1', '2000000')
{
	my $n = PostgreSQL::Test::Cluster->new("census_max_$value" =~ s/-/m/r);
	$n->init;
	$n->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_tls_audit'\ntls_audit.census_max = $value\n");
	$n->start;
	like(slurp_file($n->logfile), qr/WARNING:  tls_audit\.census_max = '$value' .* was not applied: .*outside the valid range/,
		"census_max = $value: WARNING at start");
	is($n->safe_psql('postgres', 'SHOW tls_audit.census_max'), '5000', "census_max = $value: the default 5000 applies");
	$n->stop;
}

# With logging_collector = on, messages of shared_preload_libraries precede
# the collector and reach only the postmaster's stderr: a one-shot
# background worker repeats them in the collected log.
my $collected = PostgreSQL::Test::Cluster->new('settings_collector');
$collected->init;
# log_directory relative to the data directory.
my $logdir = $collected->data_dir . '/collected';
$collected->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pg_tls_audit'\nlogging_collector = on\nlog_directory = 'collected'\n"
	  . "tls_audit.probe_allowed_hosts = '*'\n");
$collected->start;
my $in_collector = '';
for (1 .. 100)
{
	$in_collector = join '', map { slurp_file($_) } glob("$logdir/*");
	last if $in_collector =~ /tls_audit\.probe_allowed_hosts = '\*' .* was not applied/;
	sleep 0.1;
}
like($in_collector, qr/WARNING:  tls_audit\.probe_allowed_hosts = '\*' .* was not applied: .*\n.*DETAIL:  .*bare "\*" is not allowed/,
	'logging_collector = on: the WARNING reaches the collected log');
$collected->stop;

# Not preloaded: the library loads in a backend, with the same outcome.
my $late = PostgreSQL::Test::Cluster->new('settings_late');
$late->init;
$late->append_conf('postgresql.conf', "tls_audit.probe_allowed_hosts = '127.0.0.1, ,'\n");
$late->start;
$late->safe_psql('postgres', 'CREATE EXTENSION pg_tls_audit');
my ($rc, $out, $lerr) = $late->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', " . $late->port . ")");
like($lerr, qr/no probe target is allowed/, 'not preloaded: probe() refuses every target');
like(slurp_file($late->logfile), qr/WARNING:  tls_audit\.probe_allowed_hosts = '127\.0\.0\.1, ,' .* was not applied/,
	'not preloaded: the WARNING is logged when the library loads');
$late->stop;

done_testing();
