# pg_tls_check --enumerate against local clusters: the accepted suites per
# version, server preference, groups and DHE size in every format, the
# findings and exit status, and agreement with tls_audit.probe_ciphers().
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

my $ciphers = 'ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256';
my $weak = new_tls_node('cli_enum_weak', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_ciphers = '$ciphers'
ssl_prefer_server_ciphers = on
ssl_ecdh_curve = 'prime256v1'
CONF
my $insecure = new_tls_node('cli_enum_insecure', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_max_protocol_version = 'TLSv1.2'
ssl_ciphers = 'ECDHE-RSA-AES128-GCM-SHA256:ADH-AES128-SHA:\@SECLEVEL=0'
CONF
my $clean = new_tls_node('cli_enum_clean', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_ciphers = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384'
CONF

my ($w, $i, $c) = map { '127.0.0.1:' . $_->port } $weak, $insecure, $clean;

sub run_check
{
	my @args = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_tls_check', @args ], '<', \undef, '>', \$stdout, '2>', \$stderr, IPC::Run::timeout(120));
	return ($? >> 8, $stdout, $stderr);
}

# JSON: the data.
my ($rc, $out, $err) = run_check('--enumerate', '--format', 'json', $w, $i, $c);
is($rc, 2, 'exit status CRITICAL (insecure suite on one target)') or diag $err;
my $doc = decode_json($out);
is($doc->{policy}{enumerate}, JSON::PP::true, 'policy says enumerate');
my ($tw, $ti, $tc) = @{ $doc->{targets} };
my $v12 = $tw->{enumeration}{protocols}{'TLSv1.2'};
is(join(':', map { $_->{name} } @{ $v12->{suites} }), $ciphers, 'TLSv1.2 suites in server order');
is($v12->{server_preference}, JSON::PP::true, 'server preference detected');
is_deeply([ map { $_->{strength} } @{ $v12->{suites} } ], [qw(strong weak strong)], 'strengths');
is($v12->{suites}[0]{key_exchange}, 'ECDHE', 'key exchange');
is($v12->{suites}[0]{encryption}, 'AES-256-GCM', 'encryption');
is($v12->{suites}[0]{bits}, 256, 'bits');
is($v12->{suites}[0]{standard_name}, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'IANA name');
is_deeply($tw->{enumeration}{protocols}{'TLSv1.1'}{suites}, [], 'TLSv1.1: none');
ok(defined $tw->{enumeration}{protocols}{'TLSv1.1'}{refusal}, 'TLSv1.1: why');
is(scalar @{ $tw->{enumeration}{protocols}{'TLSv1.3'}{suites} }, 3, 'TLSv1.3: three suites');
my @g = map { "$_->{protocol}/$_->{group}" } grep { $_->{supported} } @{ $tw->{enumeration}{groups} };
is("@g", 'TLSv1.3/P-256 TLSv1.2/P-256', 'groups: P-256 only (ssl_ecdh_curve)');
is($tw->{enumeration}{dhe}{accepted}, JSON::PP::false, 'no DHE suite in the list');
is($tw->{status}, 'WARNING', 'weak suite: WARNING');
ok((grep { $_->{code} eq 'cipher_weak' && $_->{message} =~ /AES128-SHA/ } @{ $tw->{findings} }), 'cipher_weak names the suite');
is($ti->{status}, 'CRITICAL', 'anonymous suite: CRITICAL');
ok((grep { $_->{code} eq 'cipher_insecure' && $_->{message} =~ /ADH-AES128-SHA/ } @{ $ti->{findings} }), 'cipher_insecure names the suite');
is($ti->{enumeration}{protocols}{'TLSv1.3'}{suites}[0], undef, 'TLSv1.3 refused on the 1.2-only server');
is($tc->{status}, 'OK', 'clean list: OK');
is($tc->{enumeration}{protocols}{'TLSv1.2'}{server_preference}, JSON::PP::true, 'PostgreSQL prefers its own order by default');

# The CLI and the SQL function agree.
my $sql = $weak->safe_psql('postgres',
	"SELECT string_agg(protocol || ' ' || cipher || ' ' || strength, ',' ORDER BY protocol, preference) FROM tls_audit.probe_ciphers('127.0.0.1', "
	  . $weak->port . ")");
my @cli;
for my $p (sort keys %{ $tw->{enumeration}{protocols} })
{
	push @cli, map { "$p $_->{name} $_->{strength}" } @{ $tw->{enumeration}{protocols}{$p}{suites} };
}
is(join(',', @cli), $sql, 'pg_tls_check --enumerate equals tls_audit.probe_ciphers()');

# Without --enumerate: no enumeration key, status from versions and chain only.
($rc, $out, $err) = run_check('--format', 'json', $w);
$doc = decode_json($out);
ok(!exists $doc->{targets}[0]{enumeration}, 'no enumeration without --enumerate');
is($rc, 0, 'weak suites do not count without --enumerate');

# Text.
($rc, $out, $err) = run_check('--enumerate', $w);
is($rc, 1, 'text: exit WARNING');
like($out, qr/^  cipher suites\n/m, 'text: suites section');
like($out, qr/^    TLSv1\.2  3 suites, server order\n      ECDHE-RSA-AES256-GCM-SHA384 +ECDHE\/RSA +AES-256-GCM +256 +strong\n/m, 'text: TLSv1.2 block');
like($out, qr/^      AES128-SHA +RSA\/RSA +AES-128-CBC +128 +weak$/m, 'text: weak suite line');
like($out, qr/^    TLSv1\.3  P-256$/m, 'text: TLSv1.3 groups');
like($out, qr/^    DHE +no DHE suite accepted$/m, 'text: DHE');
like($out, qr/WARNING +TLSv1\.2 accepts weak cipher suites: AES128-SHA/, 'text: finding');

# TAP.
($rc, $out, $err) = run_check('--enumerate', '--format', 'tap', $w, $i);
# Test numbers follow the order in which targets finish (streamed output).
like($out, qr/^not ok [12] - \Q$w\E WARNING/m, 'tap: weak target not ok');
like($out, qr/^not ok [12] - \Q$i\E CRITICAL/m, 'tap: insecure target not ok');
like($out, qr/^1\.\.2$/m, 'tap: plan first');
like($out, qr/^# suites TLSv1\.2 \(server order\): ECDHE-RSA-AES256-GCM-SHA384\(strong\) AES128-SHA\(weak\) ECDHE-RSA-AES128-GCM-SHA256\(strong\)$/m,
	'tap: suites diagnostics');
like($out, qr/^# groups TLSv1\.2: P-256$/m, 'tap: groups diagnostics');
like($out, qr/^# suites TLSv1\.3 none$/m, 'tap: refused version');

# Nagios.
($rc, $out, $err) = run_check('--enumerate', '--format', 'nagios', $w, $i);
is($rc, 2, 'nagios: exit CRITICAL');
my $wl = '127.0.0.1:' . $weak->port;
like($out, qr/'\Q$wl\E_suites'=6 '\Q$wl\E_weak_suites'=1;0 '\Q$wl\E_insecure_suites'=0;;0/, 'nagios: perfdata counts');

# DHE size and a DHE-only TLS 1.2 list.
my $dhe = new_tls_node('cli_enum_dhe', conf => <<"CONF");
ssl_min_protocol_version = 'TLSv1.2'
ssl_max_protocol_version = 'TLSv1.2'
ssl_ciphers = 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384'
ssl_prefer_server_ciphers = off
CONF
($rc, $out, $err) = run_check('--enumerate', '--format', 'json', '127.0.0.1:' . $dhe->port);
$doc = decode_json($out);
my $e = $doc->{targets}[0]{enumeration};
is_deeply($e->{dhe}, { accepted => JSON::PP::true, bits => 2048 }, "DHE: PostgreSQL's built-in 2048-bit group");
is($e->{protocols}{'TLSv1.2'}{server_preference}, JSON::PP::false, 'ssl_prefer_server_ciphers = off: client order');
is_deeply([ grep { $_->{protocol} eq 'TLSv1.2' } @{ $e->{groups} } ], [], 'no ECDHE: no TLS 1.2 group rows');

# An unreachable target: UNKNOWN, promptly.
my $closed = PostgreSQL::Test::Cluster::get_free_port();
($rc, $out, $err) = run_check('--enumerate', '--timeout', '2000', "127.0.0.1:$closed");
is($rc, 3, 'closed port: UNKNOWN');

done_testing();
