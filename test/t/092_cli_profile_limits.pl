# pg_tls_check --profile on a TLS 1.3-only cluster whose certificate sits just
# inside or just outside each limit of Mozilla's guidelines 5.7: 90 days for
# modern, 366 for intermediate and old; old takes only RSA keys signed with
# sha256WithRSAEncryption, modern only EC. Certificates are made here with
# `openssl req -x509 -days N` (notAfter exactly N days after notBefore); the
# cluster reloads each one in turn.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Copy;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('cli_profile_limits', conf => "ssl_min_protocol_version = 'TLSv1.3'\n");
my $dir = PostgreSQL::Test::Utils::tempdir();
my $pgdata = $node->data_dir;

# A self-signed certificate valid for exactly $days days; $kind is ec or rsa.
sub make_cert
{
	my ($kind, $days) = @_;
	my $name = "$kind-$days";
	my @key = $kind eq 'ec'
	  ? ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1')
	  : ('-newkey', 'rsa:2048');
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'openssl', 'req', '-x509', @key, '-sha256', '-nodes', '-days', $days,
		'-subj', "/CN=localhost/O=$name", '-keyout', "$dir/$name.key", '-out', "$dir/$name.crt" ],
		'<', \undef, '>', \$out, '2>', \$err) or die "openssl: $err";
	return $name;
}

# Serve certificate $name, then check it against $profile; returns the
# target's profile object and the exit code.
sub serve_and_check
{
	my ($name, $profile) = @_;
	copy("$dir/$name.crt", "$pgdata/server.crt") or die "copy: $!";
	copy("$dir/$name.key", "$pgdata/server.key") or die "copy: $!";
	chmod 0600, "$pgdata/server.key";
	$node->reload;
	# The reload is asynchronous: wait until the new certificate is served.
	for my $try (1 .. 50)
	{
		my ($rc, $out) = run_tls_check('--format', 'json', '--timeout', '5000', '127.0.0.1:' . $node->port);
		my $doc = eval { decode_json($out) };
		last if $doc && ($doc->{targets}[0]{certificates}[0]{subject} // '') =~ /O=\Q$name\E\b/;
		die "$name is not served" if $try == 50;
		select(undef, undef, undef, 0.2);
	}
	my ($rc, $out, $err) = run_tls_check('--profile', $profile, '--allow-plaintext', '--format', 'json',
		'--timeout', '10000', '127.0.0.1:' . $node->port);
	my $doc = eval { decode_json($out) } or die "no JSON: $out $err";
	return ($doc->{targets}[0]{profile}, $rc);
}

sub required
{
	my ($p) = @_;
	return join(',', sort map { "$_->{category}:$_->{subject}" } grep { $_->{required} } @{ $p->{deviations} });
}

my %cert = map { ("$_->[0]-$_->[1]" => make_cert(@$_)) }
  ([ 'ec', 90 ], [ 'ec', 91 ], [ 'ec', 366 ], [ 'ec', 367 ], [ 'rsa', 366 ], [ 'rsa', 367 ]);

# modern: 90 days.
my ($p, $rc) = serve_and_check($cert{'ec-90'}, 'modern');
is($p->{guidelines_version}, '5.7', 'guidelines version');
is(required($p), '', 'modern: P-256, 90 days: no required deviation');
ok($p->{compliant}, 'modern: P-256, 90 days complies');
is($rc, 0, 'modern: exit OK');
($p, $rc) = serve_and_check($cert{'ec-91'}, 'modern');
is(required($p), 'certificate_lifetime:91', 'modern: 91 days is over the 90-day limit');
ok(!$p->{compliant}, 'modern: 91 days does not comply');
is($rc, 2, 'modern: exit CRITICAL');

# intermediate: 366 days (over the recommended 90 is a recommendation only).
($p, $rc) = serve_and_check($cert{'ec-366'}, 'intermediate');
is(required($p), '', 'intermediate: 366 days: no required deviation');
ok($p->{compliant}, 'intermediate: 366 days complies');
ok((grep { !$_->{required} && $_->{category} eq 'certificate_lifetime' } @{ $p->{deviations} }),
	'intermediate: over the recommended 90 days is noted');
($p, $rc) = serve_and_check($cert{'ec-366'}, 'modern');
is(required($p), 'certificate_lifetime:366', 'the same certificate is over the modern limit');
($p, $rc) = serve_and_check($cert{'ec-367'}, 'intermediate');
is(required($p), 'certificate_lifetime:367', 'intermediate: 367 days is over the 366-day limit');
ok(!$p->{compliant}, 'intermediate: 367 days does not comply');

# old: RSA with sha256WithRSAEncryption only, 366 days.
($p, $rc) = serve_and_check($cert{'rsa-366'}, 'old');
is(required($p), '', 'old: RSA-2048 sha256WithRSAEncryption, 366 days: no required deviation');
ok($p->{compliant}, 'old: RSA 366 days complies');
($p, $rc) = serve_and_check($cert{'rsa-367'}, 'old');
is(required($p), 'certificate_lifetime:367', 'old: 367 days is over the limit');
($p, $rc) = serve_and_check($cert{'ec-90'}, 'old');
is(required($p), 'certificate_key:EC,certificate_signature:ecdsa-with-SHA256',
	'old: a P-256 ECDSA certificate is outside the profile');
ok(!$p->{compliant}, 'old: P-256 does not comply');
($p, $rc) = serve_and_check($cert{'rsa-366'}, 'modern');
like(required($p), qr/certificate_key:RSA/, 'modern: an RSA certificate is outside the profile');

$node->stop('fast');
done_testing();
