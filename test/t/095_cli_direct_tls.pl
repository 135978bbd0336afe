# pg_tls_check --direct-tls against a local cluster of the version under test:
# direct TLS (no SSLRequest, ALPN "postgresql") is accepted by PostgreSQL 17+
# and refused by 15/16, in every output format; it never changes the status.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('cli_direct', conf => "ssl_min_protocol_version = 'TLSv1.2'");
my $nossl = new_tls_node('cli_direct_nossl', conf => 'ssl = off');
my $target = '127.0.0.1:' . $node->port;
my $direct_capable = $node->pg_version >= 17;
my $want = $direct_capable ? 'accepted' : 'refused';
note('PostgreSQL ' . $node->pg_version . ": direct TLS expected to be $want");

# Run pg_tls_check (from PATH: the server's bindir); returns (exit code, stdout).
sub check
{
	my @args = @_;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ 'pg_tls_check', '--ca-file', cert_path('ca-bundle.crt'), @args ], '<', \undef, '>', \$stdout, '2>', \$stderr);
	diag($stderr) if $stderr ne '';
	return ($? >> 8, $stdout);
}

my ($rc_plain, $json_plain) = check('--format', 'json', $target);
my $plain = decode_json($json_plain);
is($plain->{policy}{direct_tls}, JSON::PP::false, 'json policy: direct_tls false without the option');
ok(exists $plain->{targets}[0]{direct_tls} && !defined $plain->{targets}[0]{direct_tls},
	'json: direct_tls is null when not probed');

my ($rc, $json) = check('--direct-tls', '--format', 'json', $target, '127.0.0.1:' . $nossl->port);
my $doc = decode_json($json);
is($doc->{policy}{direct_tls}, JSON::PP::true, 'json policy: direct_tls true');
my $d = $doc->{targets}[0]{direct_tls};
ok(defined $d, 'json: direct_tls object present');
is($d->{accepted} ? 'accepted' : 'refused', $want, "json: direct TLS $want");
if ($direct_capable)
{
	is($d->{alpn}, 'postgresql', 'json: ALPN postgresql');
	is($d->{protocol}, 'TLSv1.3', 'json: TLSv1.3');
	ok(!defined $d->{error}, 'json: no error');
}
else
{
	ok(!defined $d->{alpn} && !defined $d->{protocol}, 'json: no ALPN, no protocol');
	like($d->{error}, qr/closed|reset/, 'json: the server hung up');
}
is($doc->{targets}[0]{status}, $plain->{targets}[0]{status}, 'the status does not depend on --direct-tls');
is($doc->{targets}[0]{status}, 'OK', 'the healthy target is OK either way');
# ssl = off: the whole target fails as before; no direct answer.
is($doc->{targets}[1]{status}, 'UNKNOWN', 'ssl = off target: UNKNOWN as without the option');
ok(!defined $doc->{targets}[1]{direct_tls}, 'ssl = off target: direct_tls null');

my ($rc_text, $text) = check('--direct-tls', $target);
like($text, qr/^  direct TLS  $want/m, "text: direct TLS $want");
is($rc_text, 0, 'text: exit 0');
my ($rc_plain_text, $text_plain) = check($target);
unlike($text_plain, qr/direct TLS/, 'text: nothing about direct TLS without the option');

my (undef, $tap) = check('--direct-tls', '--format', 'tap', $target);
like($tap, qr/^# direct TLS $want/m, "tap: direct TLS $want");

my (undef, $nagios) = check('--direct-tls', '--format', 'nagios', $target);
like($nagios, qr/^\Q$target\E OK; direct TLS $want$/m, "nagios: long output says $want");
my $flag = $direct_capable ? 1 : 0;
like($nagios, qr/'\Q$target\E_direct_tls'=$flag\b/, "nagios: perfdata direct_tls=$flag");

$_->stop for ($node, $nossl);
done_testing();
