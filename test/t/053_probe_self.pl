# A server probing itself does not count its own probe connections in its
# connection census: tls_audit.probe() (one handshake per
# TLS version, the old ones refused) and probe_plaintext() against the
# server's own address leave the census's TCP entries unchanged and show up
# in census_info().self_probes_skipped instead; a real client refused from
# another loopback address is still counted.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('probe_self', conf => "ssl_min_protocol_version = 'TLSv1.2'");
my $port = $node->port;

# Every census entry of a TCP client (the test's own psql runs over the unix
# socket and is left out): the oracle compared before and after.
my $tcp_census = q{SELECT string_agg(concat_ws('|', client_addr, transport, outcome, rejection_reason, connections),
	E'\n' ORDER BY client_addr, outcome, rejection_reason) FROM tls_audit.census WHERE transport <> 'unix'};

tls_query($node, 'SELECT 1', application_name => 'real_client');
my $before = $node->safe_psql('postgres', $tcp_census);
like($before, qr/^127\.0\.0\.1\|tls\|authenticated\|1$/m, 'the census holds one real TLS client');
is($node->safe_psql('postgres', 'SELECT self_probes_skipped FROM tls_audit.census_info()'), '0',
	'no self-probe skipped yet');

# --- probe() of the server itself ---------------------------------------------
is( $node->safe_psql('postgres',
		"SELECT string_agg(protocol || '=' || accepted, ',' ORDER BY protocol COLLATE \"C\") FROM tls_audit.probe('127.0.0.1', $port)"),
	'TLSv1=false,TLSv1.1=false,TLSv1.2=true,TLSv1.3=true',
	'probe() of the server itself: TLSv1 and TLSv1.1 refused by the server');
is($node->safe_psql('postgres', $tcp_census), $before, 'the census is unchanged by the self-probe');
my $skipped = $node->safe_psql('postgres', 'SELECT self_probes_skipped FROM tls_audit.census_info()');
cmp_ok($skipped, '>=', 2, "census_info: the refused handshakes were skipped ($skipped)");

# --- probe_plaintext() of the server itself: a plaintext login -----------------
my $plain = $node->safe_psql('postgres',
	"SELECT result FROM tls_audit.probe_plaintext('127.0.0.1', $port, 'no_such_role', 'postgres')");
note("probe_plaintext: $plain");
is($node->safe_psql('postgres', $tcp_census), $before, 'the census is unchanged by the plaintext self-probe');
cmp_ok($node->safe_psql('postgres', 'SELECT self_probes_skipped FROM tls_audit.census_info()'),
	'>', $skipped, 'census_info: the plaintext attempt was skipped too');

# --- a real refused client from another loopback address is counted ------------
SKIP:
{
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, LocalAddr => '127.0.0.2',
		Proto => 'tcp', Timeout => 10);
	skip "cannot bind 127.0.0.2: $!", 2 unless $sock;
	# SSLRequest, then something that is not a TLS ClientHello.
	print $sock pack('NN', 8, 80877103);
	my $answer = '';
	$sock->sysread($answer, 1);
	is($answer, 'S', 'the server agrees to TLS');
	print $sock "GET / HTTP/1.0\r\n\r\n";
	my $rest;
	$sock->sysread($rest, 1024);
	close $sock;
	my $found = 0;
	for (1 .. 100)
	{
		$found = $node->safe_psql('postgres',
			q{SELECT coalesce(sum(connections), 0) FROM tls_audit.census WHERE client_addr = '127.0.0.2' AND outcome = 'tls_rejected'});
		last if $found > 0;
		select(undef, undef, undef, 0.1);
	}
	is($found, '1', 'a refused handshake from 127.0.0.2 is counted');
}

# --- after a reset the counter starts again -------------------------------------
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
is($node->safe_psql('postgres', 'SELECT self_probes_skipped FROM tls_audit.census_info()'), '0',
	'census_reset zeroes self_probes_skipped');

done_testing();
