# tls_audit.probe_ciphers() and tls_audit.probe_groups() against local
# clusters configured with mixed cipher lists and curves, compared with
# openssl s_client -starttls postgres (one suite / one group at a time).
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

my $ciphers = 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256';
my $mixed = new_tls_node('enum_mixed', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_ciphers = '$ciphers'
ssl_prefer_server_ciphers = on
ssl_ecdh_curve = 'secp384r1'
CONF
my $client_order = new_tls_node('enum_client_order', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_max_protocol_version = 'TLSv1.2'
ssl_ciphers = 'AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305'
ssl_prefer_server_ciphers = off
CONF

my $port = $mixed->port;

# Whether s_client completes a handshake with exactly these parameters.
sub s_client_ok
{
	my ($p, @args) = @_;
	my $out = `timeout 20 openssl s_client -starttls postgres -connect 127.0.0.1:$p @args </dev/null 2>&1`;
	# s_client names the suite's version: "SSLv3" for AES128-SHA, and so on.
	return $out =~ /^(?:New|Reused), (?:TLSv[\d.]+|SSLv3), Cipher is (\S+)/m && $1 ne '(NONE)' ? $out : undef;
}

# Suites: the server's list, in its order, per version.
my $rows = $mixed->safe_psql('postgres',
	"SELECT protocol, cipher, strength, preference, server_preference FROM tls_audit.probe_ciphers('127.0.0.1', $port) ORDER BY protocol, preference");
my @v12 = map { (split /\|/)[1] } grep { /^TLSv1\.2\|/ } split /\n/, $rows;
is(join(':', @v12), $ciphers, 'TLSv1.2 suites are the server list, in its order');
like($rows, qr/^TLSv1\.2\|AES128-SHA\|weak\|2\|t$/m, 'RSA key exchange is weak, rank 2, server order');
like($rows, qr/^TLSv1\.2\|ECDHE-RSA-AES256-GCM-SHA384\|strong\|1\|t$/m, 'ECDHE-GCM is strong');
unlike($rows, qr/^TLSv1(\.1)?\|/m, 'no rows for refused versions');
my @v13 = map { (split /\|/)[1] } grep { /^TLSv1\.3\|/ } split /\n/, $rows;
is(scalar(@v13), 3, "three TLS 1.3 suites (OpenSSL's default set): @v13");

# Independent oracle: s_client with one suite at a time, for every suite this
# OpenSSL can offer in TLS 1.2.
my @candidates = split /:/, `openssl ciphers -s -tls1_2 'ALL:COMPLEMENTOFALL:\@SECLEVEL=0'`;
chomp @candidates;
@candidates = grep { !/^TLS_/ } @candidates;
my @oracle = grep { s_client_ok($port, '-tls1_2', "-cipher '$_:\@SECLEVEL=0'") } @candidates;
is(join(':', sort @v12), join(':', sort @oracle),
	'TLSv1.2 set equals s_client one suite at a time (' . scalar(@candidates) . ' candidates)');
my @oracle13 = grep { s_client_ok($port, '-tls1_3', "-ciphersuites $_") }
  qw(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256);
is(join(':', sort @v13), join(':', sort @oracle13), 'TLSv1.3 set equals s_client');

# Client order: server_preference false.
$rows = $mixed->safe_psql('postgres',
	"SELECT DISTINCT protocol, server_preference FROM tls_audit.probe_ciphers('127.0.0.1', " . $client_order->port . ")");
is($rows, 'TLSv1.2|f', 'ssl_prefer_server_ciphers = off: server_preference false');

# Groups: secp384r1 only, for TLS 1.3 and ECDHE; DHE with PostgreSQL's 2048-bit group.
$rows = $mixed->safe_psql('postgres',
	"SELECT protocol, group_name, bits FROM tls_audit.probe_groups('127.0.0.1', $port) WHERE supported ORDER BY 1, 2");
is($rows, "TLSv1.2|DHE|2048\nTLSv1.2|P-384|384\nTLSv1.3|P-384|384", 'groups: P-384 in both versions, DHE 2048');
my %oracle_group = ('x25519' => 'X25519', 'x448' => 'X448', 'P-256' => 'P-256', 'P-384' => 'P-384',
	'P-521' => 'P-521', 'ffdhe2048' => 'ffdhe2048', 'ffdhe3072' => 'ffdhe3072');
my $all = $mixed->safe_psql('postgres',
	"SELECT group_name || '=' || CASE WHEN supported THEN 't' ELSE 'f' END FROM tls_audit.probe_groups('127.0.0.1', $port) WHERE protocol = 'TLSv1.3'");
my %got = map { split /=/ } split /\n/, $all;
for my $g (sort keys %oracle_group)
{
	my $ok = s_client_ok($port, '-tls1_3', "-groups $oracle_group{$g}") ? 't' : 'f';
	is($got{$g}, $ok, "TLS 1.3 group $g matches s_client");
}
my $dhe = s_client_ok($port, '-tls1_2', "-cipher 'kDHE:\@SECLEVEL=0'");
# OpenSSL 3.5's s_client says "Peer Temp Key" where 3.0's says "Server Temp Key".
like($dhe // '', qr/(?:Server|Peer) Temp Key: DH, 2048 bits/, 's_client sees the same 2048-bit DHE group');

# Errors, privileges, allow-list, interrupts: as tls_audit.probe().
my ($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.probe_ciphers(NULL, $port)");
like($err, qr/host must not be NULL/, 'NULL host is an error');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.probe_groups('127.0.0.1', 70000)");
like($err, qr/port 70000 is out of range/, 'bad port is an error');
my $nossl = new_tls_node('enum_nossl', conf => 'ssl = off');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.probe_ciphers('127.0.0.1', " . $nossl->port . ")");
like($err, qr/does not support SSL/, 'a server without SSL is an error, not an empty result');
$mixed->safe_psql('postgres', 'CREATE ROLE enum_user LOGIN');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.probe_ciphers('127.0.0.1', $port)", extra_params => [ '-U', 'enum_user' ]);
like($err, qr/permission denied for function probe_ciphers/, 'PUBLIC cannot enumerate suites');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.probe_groups('127.0.0.1', $port)", extra_params => [ '-U', 'enum_user' ]);
like($err, qr/permission denied for function probe_groups/, 'PUBLIC cannot enumerate groups');
($rc, $out, $err) = $mixed->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = 'db.example.com'; SELECT * FROM tls_audit.probe_ciphers('127.0.0.1', $port)");
like($err, qr/not allowed by tls_audit.probe_allowed_hosts/, 'allow-list applies to probe_ciphers');
($rc, $out, $err) = $mixed->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = 'db.example.com'; SELECT * FROM tls_audit.probe_groups('127.0.0.1', $port)");
like($err, qr/not allowed by tls_audit.probe_allowed_hosts/, 'allow-list applies to probe_groups');

my $hole = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
my $hole_port = $hole->sockport;
for my $f (qw(probe_ciphers probe_groups profile_compliance))
{
	my $t0 = time;
	($rc, $out, $err) = $mixed->psql('postgres',
		"SET statement_timeout = '500ms'; SELECT * FROM tls_audit.$f('127.0.0.1', $hole_port, timeout_ms => 30000)");
	like($err, qr/canceling statement due to statement timeout/, "statement_timeout stops $f");
	cmp_ok(time - $t0, '<', 5, "$f stops promptly");
	$t0 = time;
	($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.$f('127.0.0.1', $hole_port, timeout_ms => 700)");
	like($err, qr/timed out/, "$f: black-holed target times out");
	cmp_ok(time - $t0, '<', 5, "$f: timeout is per connection and bounded");
}
# Profiles: the mixed server against Mozilla's profiles (guidelines 5.7).
$rows = $mixed->safe_psql('postgres',
	"SELECT category, subject, required FROM tls_audit.profile_compliance('127.0.0.1', $port, 'intermediate') ORDER BY 1, 2");
like($rows, qr/^cipher\|AES128-SHA\|t$/m, 'intermediate: AES128-SHA is outside the profile');
unlike($rows, qr/^cipher\|ECDHE-RSA-AES128-GCM-SHA256\|/m, 'intermediate: ECDHE-RSA-AES128-GCM-SHA256 is inside');
like($rows, qr/^certificate_lifetime\|36[56]\|f$/m, 'a one-year certificate: over the recommended 90 days, within 366');
like($rows, qr/^preference\|TLSv1\.2\|f$/m, 'server order is a recommendation only');
unlike($rows, qr/^protocol\|/m, 'TLSv1.2 and TLSv1.3 are allowed');
is($mixed->safe_psql('postgres', "SELECT DISTINCT compliant FROM tls_audit.profile_compliance('127.0.0.1', $port, 'intermediate')"),
	'f', 'verdict: not compliant');
$rows = $mixed->safe_psql('postgres',
	"SELECT category, subject FROM tls_audit.profile_compliance('127.0.0.1', $port, 'modern') WHERE required ORDER BY 1, 2");
like($rows, qr/^protocol\|TLSv1\.2$/m, 'modern: TLSv1.2 is a deviation');
like($rows, qr/^certificate_key\|RSA$/m, 'modern: an RSA certificate is a deviation');
$rows = $mixed->safe_psql('postgres',
	"SELECT category, subject FROM tls_audit.profile_compliance('127.0.0.1', $port, 'old') WHERE required ORDER BY 1, 2");
unlike($rows, qr/^cipher\|AES128-SHA$/m, 'old: AES128-SHA is allowed');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.profile_compliance('127.0.0.1', $port, 'paranoid')");
like($err, qr/unknown TLS profile "paranoid"/, 'unknown profile is an error');
like($err, qr/HINT:  Use modern, intermediate or old/, 'with a hint');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.profile_compliance('127.0.0.1', $port, NULL)");
like($err, qr/profile must not be NULL/, 'NULL profile is an error');
($rc, $out, $err) = $mixed->psql('postgres', "SELECT * FROM tls_audit.profile_compliance('127.0.0.1', $port)", extra_params => [ '-U', 'enum_user' ]);
like($err, qr/permission denied for function profile_compliance/, 'PUBLIC cannot run profile_compliance');
($rc, $out, $err) = $mixed->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = 'db.example.com'; SELECT * FROM tls_audit.profile_compliance('127.0.0.1', $port)");
like($err, qr/not allowed by tls_audit.probe_allowed_hosts/, 'allow-list applies to profile_compliance');

# A server with a P-384 ECDSA certificate (PostgreSQL's default groups). In
# TLS 1.2 a client's group list must also hold the certificate's curve, or the
# server cannot use its certificate: offering one group at a time, a prober
# sees no group at all. The oracle offers each candidate first and P-384 after
# it, and reads which group the server picked from s_client's temp key.
my $ecdsa = new_tls_node('enum_p384', cert => 'p384-chain.crt', key => 'p384.key',
	conf => "ssl_min_protocol_version = 'TLSv1.2'");
my $eport = $ecdsa->port;
my %s_client_name = ('x25519' => 'X25519', 'x448' => 'X448', 'P-256' => 'prime256v1', 'P-384' => 'secp384r1',
	'P-521' => 'secp521r1');
my %oracle_tls12;
for my $g (sort keys %oracle_group)
{
	next unless exists $s_client_name{$g};
	my $out = s_client_ok($eport, '-tls1_2', "-groups $oracle_group{$g}:P-384") // '';
	my ($temp) = $out =~ /(?:Server|Peer) Temp Key: ([^\n]*)/;
	$oracle_tls12{$g} = defined $temp && $temp =~ /\b\Q$s_client_name{$g}\E\b/ ? 't' : 'f';
}
my $e12 = $ecdsa->safe_psql('postgres',
	"SELECT group_name || '=' || coalesce(supported::text, 'null') || '=' || status FROM tls_audit.probe_groups('127.0.0.1', $eport) "
	  . "WHERE protocol = 'TLSv1.2' AND group_name <> 'DHE'");
my %e12 = map { my ($g, $s, $st) = split /=/; ($g => [ $s, $st ]) } split /\n/, $e12;
my @e12_supported = sort grep { $e12{$_}[0] eq 'true' } keys %e12;
my @oracle12_supported = sort grep { $oracle_tls12{$_} eq 't' } keys %oracle_tls12;
ok(scalar(@oracle12_supported) >= 1, "s_client finds TLS 1.2 groups on the P-384 ECDSA server: @oracle12_supported");
is(join(':', @e12_supported), join(':', @oracle12_supported),
	'P-384 ECDSA certificate: the TLS 1.2 groups found equal s_client offering each with the certificate curve');
for my $g (sort keys %oracle_tls12)
{
	next unless exists $e12{$g} && $oracle_tls12{$g} eq 'f';
	ok($e12{$g}[0] eq 'false' || $e12{$g}[1] eq 'undetermined',
		"P-384 ECDSA: $g refused by s_client is not reported supported ($e12{$g}[1])");
}
my $e13 = $ecdsa->safe_psql('postgres',
	"SELECT group_name FROM tls_audit.probe_groups('127.0.0.1', $eport) WHERE protocol = 'TLSv1.3' AND supported ORDER BY 1");
my @oracle13_groups = sort grep { exists $s_client_name{$_} && s_client_ok($eport, '-tls1_3', "-groups $oracle_group{$_}") } keys %oracle_group;
is(join(':', split /\n/, $e13), join(':', @oracle13_groups), 'P-384 ECDSA: TLS 1.3 groups equal s_client');

is($mixed->safe_psql('postgres', 'SELECT 1'), '1', 'backend still healthy');

done_testing();
