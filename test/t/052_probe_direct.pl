# tls_audit.probe_direct_tls(): direct TLS (no SSLRequest, ALPN "postgresql",
# libpq 17's sslnegotiation=direct) against a local cluster of the version
# under test. PostgreSQL 17+ accepts it; 15 and 16 read the ClientHello as a
# startup packet and close the connection. What to expect is decided by the
# server's version; openssl s_client and the server log are the independent
# witnesses. On 17+, a psql connecting with sslnegotiation=direct shows up in
# tls_audit.sessions with alpn = 'postgresql' (when sessions has that column).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('direct_tls');
my $nossl = new_tls_node('direct_tls_nossl', conf => 'ssl = off');
my $port = $node->port;
my $direct_capable = $node->pg_version >= 17;
note('PostgreSQL ' . $node->pg_version . ': direct TLS expected to be '
	  . ($direct_capable ? 'accepted' : 'refused'));

sub direct_row
{
	my ($target_port, @args) = @_;
	my $extra = @args ? ', ' . join(', ', @args) : '';
	return $node->safe_psql('postgres',
		"SELECT accepted, coalesce(protocol, '<null>'), coalesce(cipher, '<null>'), coalesce(alpn, '<null>'), coalesce(error, '<null>')"
		  . " FROM tls_audit.probe_direct_tls('127.0.0.1', $target_port$extra)");
}

# The witness: openssl s_client starting TLS at once with ALPN postgresql.
my $s_client = `timeout 20 openssl s_client -connect 127.0.0.1:$port -alpn postgresql </dev/null 2>&1`;
my $s_client_alpn = $s_client =~ /^ALPN protocol: postgresql$/m ? 1 : 0;
my ($s_client_cipher) = $s_client =~ /^(?:New|Reused), TLSv[\d.]+, Cipher is (\S+)/m;
is($s_client_alpn, $direct_capable ? 1 : 0,
	's_client with ALPN postgresql: the server ' . ($direct_capable ? 'selects it' : 'does not speak direct TLS'));

my $log_offset = -s $node->logfile;
my ($accepted, $protocol, $cipher, $alpn, $error) = split /\|/, direct_row($port);
if ($direct_capable)
{
	is($accepted, 't', 'direct TLS accepted by PostgreSQL ' . $node->pg_version);
	is($alpn, 'postgresql', 'ALPN postgresql selected');
	is($protocol, 'TLSv1.3', 'negotiated TLSv1.3 (the best both sides offer)');
	is($cipher, $s_client_cipher, 'cipher as s_client negotiated it');
	is($error, '<null>', 'no error');
	# The probe ends with close_notify before any startup packet: nothing to log.
	unlike(slurp_file($node->logfile, $log_offset), qr/SSL|startup packet|unexpected EOF/,
		'server log: nothing about the direct probe');
}
else
{
	is($accepted, 'f', 'direct TLS refused by PostgreSQL ' . $node->pg_version);
	is($alpn, '<null>', 'no ALPN');
	is("$protocol|$cipher", '<null>|<null>', 'no protocol or cipher');
	like($error, qr/closed|reset/, 'the error says the server hung up');
	# The server read the ClientHello as a startup packet.
	ok($node->wait_for_log(qr/invalid length of startup packet/, $log_offset),
		'server log: the ClientHello was read as a startup packet');
}

# probe() keeps its meaning: one row per TLS version over SSLRequest.
is($node->safe_psql('postgres',
	"SELECT string_agg(protocol, ',' ORDER BY protocol) FROM tls_audit.probe('127.0.0.1', $port)"),
	'TLSv1,TLSv1.1,TLSv1.2,TLSv1.3', 'probe() still returns the four versions, no direct row');

# ssl = off: refused on every version, with a reason (an answer, not an error).
($accepted, $protocol, $cipher, $alpn, $error) = split /\|/, direct_row($nossl->port);
is("$accepted|$alpn", 'f|<null>', 'ssl = off: direct TLS refused');
like($error, qr/\S/, 'ssl = off: the refusal says why');

# sni is passed on; the answer does not depend on it.
($accepted) = split /\|/, direct_row($port, "sni => 'localhost'");
is($accepted, $direct_capable ? 't' : 'f', 'same answer with an SNI name');

# Errors, each distinct and quick.
my ($rc, $out, $err);
my $closed = PostgreSQL::Test::Cluster::get_free_port();
my $t0 = time;
($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', $closed, timeout_ms => 2000)");
like($err, qr/connection refused/, 'closed port: connection refused (an error: the answer is unknown)');
cmp_ok(time - $t0, '<', 3, 'closed port answers quickly');

my $hole = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
my $hole_port = $hole->sockport;
$t0 = time;
($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', $hole_port, timeout_ms => 1000)");
like($err, qr/timed out after 1000 ms/, 'silent target: timed out');
cmp_ok(time - $t0, '<', 4, 'silent target answers within the timeout');

$t0 = time;
($rc, $out, $err) = $node->psql('postgres',
	"SET statement_timeout = '500ms'; SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', $hole_port, timeout_ms => 30000)");
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout stops a direct probe');
cmp_ok(time - $t0, '<', 5, 'promptly');

($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.probe_direct_tls(NULL)");
like($err, qr/host must not be NULL/, 'NULL host');
($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', 0)");
like($err, qr/port 0 is out of range/, 'port out of range');

# Privileges and the allow-list, as for probe().
$node->safe_psql('postgres', 'CREATE ROLE direct_user LOGIN');
($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', $port)",
	connstr => $node->connstr('postgres') . ' user=direct_user');
like($err, qr/permission denied for function probe_direct_tls/, 'PUBLIC cannot probe');
($rc, $out, $err) = $node->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = 'db.example.com'; SELECT * FROM tls_audit.probe_direct_tls('127.0.0.1', $port)");
like($err, qr/not allowed by tls_audit.probe_allowed_hosts/, 'allow-list refuses other hosts');
is($node->safe_psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '127.0.0.1'; SELECT accepted FROM tls_audit.probe_direct_tls('127.0.0.1', $port)"),
	$direct_capable ? 't' : 'f', 'allow-list admits a listed host');

# A psql (libpq of the same version) connecting with sslnegotiation=direct.
SKIP:
{
	skip 'PostgreSQL ' . $node->pg_version . ' has no sslnegotiation=direct (17+)', 4 unless $direct_capable;
	my $connstr = tls_connstr($node, extra => 'sslnegotiation=direct application_name=direct_client');
	my ($stdout, $stderr);
	$rc = $node->psql('postgres', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
		connstr => $connstr, stdout => \$stdout, stderr => \$stderr);
	is("$rc|$stdout", '0|t', 'psql with sslnegotiation=direct connects over TLS') or diag($stderr);

	$rc = $node->psql('postgres',
		"SELECT alpn FROM tls_audit.sessions WHERE pid = pg_backend_pid()",
		connstr => $connstr, stdout => \$stdout, stderr => \$stderr);
	is("$rc|$stdout", '0|postgresql', "the direct session's alpn in tls_audit.sessions") or diag($stderr);
	# libpq 17+ offers ALPN over SSLRequest as well.
	$rc = $node->psql('postgres',
		"SELECT alpn FROM tls_audit.sessions WHERE pid = pg_backend_pid()",
		connstr => tls_connstr($node), stdout => \$stdout, stderr => \$stderr);
	is("$rc|$stdout", '0|postgresql', 'a default (postgres negotiation) libpq 17+ session offers ALPN too')
	  or diag($stderr);
	# The census counts the direct client under its ALPN.
	is($node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT coalesce(alpn, '<null>') || '/' || transport || '/' || outcome, ',')"
			  . " FROM tls_audit.census WHERE application_name = 'direct_client'"),
		'postgresql/tls/authenticated', 'the census counts the direct client with alpn postgresql');
}
# Before 17 the server selects no ALPN: sessions and census say NULL.
SKIP:
{
	skip 'PostgreSQL ' . $node->pg_version . ' selects ALPN (17+)', 2 if $direct_capable;
	my ($stdout, $stderr);
	my $connstr = tls_connstr($node, extra => 'application_name=old_server_client');
	$rc = $node->psql('postgres', "SELECT coalesce(alpn, '<null>') FROM tls_audit.sessions WHERE pid = pg_backend_pid()",
		connstr => $connstr, stdout => \$stdout, stderr => \$stderr);
	is("$rc|$stdout", '0|<null>', 'a TLS session on a server before 17 has no ALPN') or diag($stderr);
	is($node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT coalesce(alpn, '<null>'), ',') FROM tls_audit.census"
			  . " WHERE application_name = 'old_server_client'"),
		'<null>', 'the census has no ALPN for it');
}

$_->stop for ($node, $nossl);
done_testing();
