# tls_audit.auto_reload on a streaming hot standby: the worker starts once the
# standby is consistent, reloads the standby's own renewed TLS files (a standby
# serves TLS to its readers too) and refuses a bad pair, without writing
# anything (a standby cannot) and without touching the primary. Then: bad
# auto_reload values in postgresql.conf at server start are loud and leave the
# worker off (the conservative value), never a crash or a silent default.
#
# Oracle: the standby's own reload history and the certificate a real TLS
# handshake with it is served; the primary's served certificate.
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use TlsAuditTest;

my $interval = 1;
my $primary = new_tls_node('primary', allows_streaming => 1, cert => 'server-chain.crt', key => 'server.key',
	ca => 'root.crt');
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
my $sdata = $standby->data_dir;
chmod 0600, "$sdata/server.key";    # the backup does not keep the key's mode
$standby->append_conf('postgresql.conf',
	"tls_audit.auto_reload = on\ntls_audit.auto_reload_interval = ${interval}s");
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

sub sha256_of
{
	my $fp = openssl_field(shift, 'fingerprint', '-sha256');
	$fp =~ s/://g;
	return lc $fp;
}

sub served
{
	my ($node) = @_;
	tls_query($node, 'SELECT 1');
	return $node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()');
}

sub reloads
{
	return $standby->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.reload_history WHERE kind = 'reload'});
}

sub status
{
	return $standby->safe_psql('postgres', 'SELECT state FROM tls_audit.auto_reload_status');
}

sub wait_until
{
	my ($cond) = @_;
	my $t0 = time;
	while (time - $t0 < 10 * $interval + 5)
	{
		return 1 if $cond->();
		sleep 0.2;
	}
	return 0;
}

sub install_file
{
	my ($from, $to, $mode) = @_;
	my $tmp = "$sdata/$to.tmp";
	copy(cert_path($from), $tmp) or die "copy $from: $!";
	chmod($mode // 0600, $tmp);
	rename($tmp, "$sdata/$to") or die "rename: $!";
}

ok(wait_until(sub { status() eq 'watching' }), 'the worker watches the standby\'s files') or diag(status());
is($standby->safe_psql('postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_tls_audit auto reload'}),
	'1', 'the worker runs on the standby');
my $primary_served = served($primary);
is(served($standby), sha256_of('server.crt'), 'the standby serves the original certificate');

# A renewed pair on the standby: reloaded there, the primary unchanged.
my $n = reloads();
install_file('server-renewed-chain.crt', 'server.crt', 0644);
ok(wait_until(sub { reloads() > $n }), 'renewed pair: the standby reloaded itself');
is(served($standby), sha256_of('server-renewed.crt'), 'the standby serves the renewed certificate');
is(served($primary), $primary_served, 'the primary still serves its own certificate');
ok(wait_until(sub { status() eq 'watching' }), 'watching again');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'still a standby');

# A key that does not match: refused on the standby, nothing reloaded.
$n = reloads();
my $log_offset = -s $standby->logfile;
install_file('server-newkey.key', 'server.key', 0600);
ok(wait_until(sub { status() eq 'refused' }), 'mismatched key: refused on the standby');
sleep 2 * $interval;
is(reloads(), $n, 'mismatched key: no reload');
is(served($standby), sha256_of('server-renewed.crt'), 'the standby still serves the renewed certificate');
like(slurp_file($standby->logfile, $log_offset), qr/WARNING:  tls_audit\.auto_reload: [^\n]*key values mismatch/,
	'the WARNING says why');
unlike(slurp_file($standby->logfile, $log_offset), qr/read-only transaction|ERROR/,
	'the worker wrote nothing and hit no error on the standby');
install_file('server.key', 'server.key', 0600);
ok(wait_until(sub { status() eq 'watching' }), 'key restored: watching');

# Promotion: the worker keeps running on the new primary.
$standby->promote;
ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), 'promoted');
$n = reloads();
install_file('server-chain.crt', 'server.crt', 0644);
ok(wait_until(sub { reloads() > $n }), 'after promotion: still reloads renewed files');
is(served($standby), sha256_of('server.crt'), 'and serves them');
$standby->stop;
$primary->stop;

# --- bad values at server start ----------------------------------------------------------
# Custom settings are checked when the library defines them: PostgreSQL then
# warns and keeps the built-in default, so the worker stays off (never on by
# accident) and the start says so loudly.
my $i = 0;
foreach my $case (
	[ "tls_audit.auto_reload = sometimes", 'off', '1min' ],
	[ "tls_audit.auto_reload = on\ntls_audit.auto_reload_interval = -5s", 'on', '1min' ],
	[ "tls_audit.auto_reload = on\ntls_audit.auto_reload_interval = 'soon'", 'on', '1min' ])
{
	my ($bad, $want_mode, $want_interval) = @$case;
	my $node = PostgreSQL::Test::Cluster->new('badstart' . ++$i);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_tls_audit'\n$bad");
	(my $what = $bad) =~ s/\n/; /g;
	# A bad custom value is a WARNING when the library defines the setting, so
	# the server must start: a refusal here would be a change of behaviour.
	ok($node->start(fail_ok => 1), "the server starts despite: $what") or next;
	my $log = slurp_file($node->logfile);
	like($log, qr/WARNING:  +(invalid value for parameter|[^\n]*tls_audit\.auto_reload)/,
		"bad value at start is reported: $what");
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_tls_audit');
	is($node->safe_psql('postgres', 'SHOW tls_audit.auto_reload'), $want_mode,
		"the rejected value is not in effect (auto_reload = $want_mode): $what");
	is($node->safe_psql('postgres', 'SHOW tls_audit.auto_reload_interval'), $want_interval,
		"the interval is the built-in default: $what");
	like($node->safe_psql('postgres',
			q{SELECT string_agg(object, ',') FROM tls_audit.run_checks() WHERE "check" = 'settings_not_applied'}),
		qr/tls_audit\.auto_reload/, "settings_not_applied names the setting: $what");
	$node->stop;
}

done_testing();
