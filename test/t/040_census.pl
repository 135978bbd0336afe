# Connection census: exact counts under concurrent TLS connections, floor
# readiness for a mix of protocol versions, failed authentication and
# handshakes the server rejects.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('census', hba => "hostssl all wrongpw_user 127.0.0.1/32 scram-sha-256");

# pgbench over TLS with a fresh connection per transaction.
sub pgbench_tls
{
	my ($appname, $clients, $transactions) = @_;
	my $script = PostgreSQL::Test::Utils::tempdir('pgbench') . '/select.sql';
	open my $fh, '>', $script or die "$script: $!";
	print $fh "SELECT 1;\n";
	close $fh;
	local $ENV{PGHOST} = '127.0.0.1';
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGSSLMODE} = 'require';
	local $ENV{PGAPPNAME} = $appname;
	command_ok(
		[ 'pgbench', '-n', '-C', '-c', $clients, '-j', ($clients > 1 ? 2 : 1), '-t', $transactions, '-f', $script, 'postgres' ],
		"pgbench -C -c $clients -t $transactions ($appname)");
}

sub census_count
{
	my ($appname, $outcome) = @_;
	$outcome //= 'authenticated';
	return $node->safe_psql('postgres',
		"SELECT coalesce(sum(connections), 0) FROM tls_audit.census WHERE application_name = '$appname' AND outcome = '$outcome'");
}

# --- no lost updates --------------------------------------------------------
# pgbench makes setup connections of its own besides the -C ones: measure
# them with a one-transaction run under another name.
pgbench_tls('census_probe', 1, 1);
my $setup = census_count('census_probe') - 1;
cmp_ok($setup, '>=', 0, "pgbench setup connections: $setup");

my ($clients, $per_client) = (8, 250);
my $n = $clients * $per_client;
pgbench_tls('census_bench', $clients, $per_client);
is(census_count('census_bench'), $n + $setup, "census counts exactly $n TLS connections (+$setup setup) from 8 concurrent clients");
is($node->safe_psql('postgres',
		"SELECT count(*), min(transport), min(protocol), bool_and(cipher IS NOT NULL), bool_and(client_addr = '127.0.0.1')
		   FROM tls_audit.census WHERE application_name = 'census_bench'"),
	'1|tls|TLSv1.3|t|t', 'one entry for the bench key: tls, TLSv1.3, cipher, address');

# --- floor readiness for a protocol mix -------------------------------------
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
my %mix = ('TLSv1.1' => 3, 'TLSv1.2' => 2, 'TLSv1.3' => 2);
for my $version (sort keys %mix)
{
	(my $tag = $version) =~ s/\W//g;
	for (1 .. $mix{$version})
	{
		tls_query($node, 'SELECT 1', min => $version, max => $version, application_name => "mix_$tag");
	}
}
tls_query($node, 'SELECT 1', sslmode => 'disable', application_name => 'mix_nossl');

# One unix-socket session for all the checks (it counts itself: ready).
my $out = $node->safe_psql(
	'postgres', q{
SELECT string_agg(concat_ws('|', application_name, protocol, connections, reason, client_addr), E'\n'
                  ORDER BY application_name COLLATE "C")
  FROM tls_audit.floor_readiness('TLSv1.3');
SELECT string_agg(application_name || ':' || reason, ',' ORDER BY application_name COLLATE "C")
  FROM tls_audit.floor_readiness('TLSv1.2');
SELECT target, connections_total, connections_ready, round(ready_share::numeric, 4), clients_not_ready, connections_rejected
  FROM tls_audit.floor_readiness_summary('TLSv1.3');
SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.1');
SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.3', '1 hour');
});
my @parts = split /\n/, $out;
is(join("\n", @parts[0 .. 2]),
	"mix_TLSv11|TLSv1.1|3|TLSv1.1 < TLSv1.3|127.0.0.1\n"
	  . "mix_TLSv12|TLSv1.2|2|TLSv1.2 < TLSv1.3|127.0.0.1\n"
	  . "mix_nossl|1|no TLS|127.0.0.1",
	"floor_readiness('TLSv1.3'): TLSv1.1, TLSv1.2 and non-TLS clients, TLSv1.3 ready");
is($parts[3], 'mix_TLSv11:TLSv1.1 < TLSv1.2,mix_nossl:no TLS', "floor_readiness('TLSv1.2')");
# 3 + 2 + 2 TLS, 1 plain TCP, 1 unix (this session): 9; ready: 2 TLSv1.3 + unix.
is($parts[4], 'TLSv1.3|9|3|0.3333|3|0', 'floor_readiness_summary(TLSv1.3)');
is($parts[5], '1', "floor_readiness('TLSv1.1'): only the non-TLS client");
is($parts[6], '3', 'since = 1 hour keeps the recent rows');

# --- failed authentication ---------------------------------------------------
$node->safe_psql('postgres', "SET password_encryption = 'scram-sha-256'; CREATE ROLE wrongpw_user LOGIN PASSWORD 'right-pw'");
my ($rc, $stdout, $stderr) = tls_psql($node, 'SELECT 1', user => 'wrongpw_user', extra => 'password=wrong-pw',
	application_name => 'wrongpw');
isnt($rc, 0, 'wrong password is refused');
like($stderr, qr/password authentication failed/, 'refused for the password');
tls_query($node, 'SELECT 1', user => 'wrongpw_user', extra => 'password=right-pw', application_name => 'wrongpw');
is($node->safe_psql('postgres',
		"SELECT string_agg(concat_ws('|', outcome, usename, coalesce(application_name, '-'), transport, protocol IS NOT NULL, connections), ',' ORDER BY outcome COLLATE \"C\")
		   FROM tls_audit.census WHERE usename = 'wrongpw_user'"),
	'auth_failed|wrongpw_user|-|tls|t|1,authenticated|wrongpw_user|wrongpw|tls|t|1',
	'wrong password counted as auth_failed (without the client-chosen application_name), the right one as authenticated');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.3') WHERE application_name = 'wrongpw'"),
	'0', 'auth_failed entries are not floor readiness rows');

# The role sees its own rows only.
is(tls_query($node, 'SELECT count(*) > 0 AND count(*) = count(*) FILTER (WHERE usename = current_user) FROM tls_audit.census',
		user => 'wrongpw_user', extra => 'password=right-pw'),
	't', 'an unprivileged role sees only its own entries');

# --- handshakes the server rejects ------------------------------------------
my $floor = new_tls_node('census_floor', conf => "ssl_min_protocol_version = 'TLSv1.2'");
my $log_offset = -s $floor->logfile;
($rc, $stdout, $stderr) = tls_psql($floor, 'SELECT 1', min => 'TLSv1.1', max => 'TLSv1.1', application_name => 'old_client');
isnt($rc, 0, 'TLSv1.1 client refused by a TLSv1.2 floor');
ok($floor->log_contains(qr/could not accept SSL connection/, $log_offset), 'the server logged the refused handshake');
tls_query($floor, 'SELECT 1', min => 'TLSv1.2', max => 'TLSv1.2', application_name => 'new_client');
is($floor->safe_psql('postgres',
		"SELECT concat_ws('|', usename IS NULL, datname IS NULL, application_name IS NULL, client_addr, transport,
		                  protocol IS NULL, rejection_reason, connections)
		   FROM tls_audit.census WHERE outcome = 'tls_rejected'"),
	't|t|t|127.0.0.1|tls|t|unsupported protocol|1',
	'the refused TLSv1.1 handshake is counted as tls_rejected with the address and OpenSSL reason');
is($floor->safe_psql('postgres',
		"SELECT string_agg(coalesce(application_name, '-') || ':' || reason, ',' ORDER BY reason COLLATE \"C\")
		   FROM tls_audit.floor_readiness('TLSv1.3')"),
	'-:TLS handshake rejected: unsupported protocol,new_client:TLSv1.2 < TLSv1.3',
	'floor_readiness shows the rejected handshake with its reason');
is($floor->safe_psql('postgres', "SELECT connections_rejected FROM tls_audit.floor_readiness_summary('TLSv1.2')"),
	'1', 'summary counts the rejected handshake');

# A client certificate whose subject is not ASCII: the census shows it in
# UTF-8, exactly as PostgreSQL's own pg_stat_ssl does (oracle), not with the
# \\C3\\A9 escapes of the backend's peer_dn.
my $dn = tls_query($node,
	'SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
	cert => 'client-utf8.crt', key => 'client-utf8.key', application_name => 'utf8_subject');
like($dn, qr/Ren\x{c3}\x{a9}e M\x{c3}\x{bc}ller/, 'pg_stat_ssl shows the subject in UTF-8');
# The census keeps RFC 2253 order, like tls_audit.sessions: the oracle is
# openssl's RFC 2253 form without escaping non-ASCII bytes.
my $rfc2253 = openssl_field('client-utf8.crt', 'subject', '-nameopt', 'RFC2253,-esc_msb');
like($rfc2253, qr/CN=Ren\x{c3}\x{a9}e M\x{c3}\x{bc}ller/, 'openssl prints the subject in UTF-8');
is($node->safe_psql('postgres',
		"SELECT client_subject FROM tls_audit.census WHERE application_name = 'utf8_subject'"),
	$rfc2253, 'the census client_subject is the UTF-8 RFC 2253 subject (no \\C3\\A9 escapes)');

$floor->stop;
$node->stop;
done_testing();
