# pg_tls_check --ca-file (repeatable) / --ca-file-optional against real
# clusters during a root migration: server A presents its leaf with the
# intermediate issued by the new root, server B with the same intermediate
# cross-signed by the old root. Every cell of bundles x servers must equal
# `openssl verify -CAfile BUNDLE -untrusted CHAIN LEAF`, and the anchor the
# root openssl ends at; the fleet view names the bundle that fails whom.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

sub check
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pg_tls_check', '--min-protocol', 'TLSv1', '--timeout', '10000', @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub check_json
{
	my ($rc, $out, $err) = check('--format', 'json', @_);
	my $doc = eval { decode_json($out) };
	ok($doc, "JSON output") or diag("$out\n$err");
	return ($rc, $doc);
}

# openssl's verdict and the subject (RFC 2253) of the root it ends at.
sub openssl_verify
{
	my ($bundle, $chain) = @_;
	my $cmd = "OPENSSL_CONF=/dev/null openssl verify -show_chain -nameopt RFC2253 -CAfile "
	  . cert_path($bundle) . " -untrusted " . cert_path($chain) . " " . cert_path('rollover-server.crt') . " 2>&1";
	my $out = `$cmd`;
	my $ok = $? == 0 && $out =~ /: OK$/m;
	my @depth = $out =~ /^depth=\d+: (.*?)(?: \(untrusted\))?$/mg;
	return ($ok, $ok ? $depth[-1] : undef);
}

sub sha256_of
{
	my $fp = `openssl x509 -in @{[cert_path(shift)]} -noout -fingerprint -sha256`;
	$fp =~ s/^.*=//;
	$fp =~ s/[:\s]//g;
	return lc $fp;
}

my %server = (
	A => new_tls_node('trust_a', cert => 'rollover-a-chain.crt', key => 'rollover-server.key'),
	B => new_tls_node('trust_b', cert => 'rollover-b-chain.crt', key => 'rollover-server.key'));
my %chain = (A => 'rollover-a-chain.crt', B => 'rollover-b-chain.crt');
my %root_sha = (old => sha256_of('rollover-old-root.crt'), new => sha256_of('rollover-new-root.crt'));
my @bundles = qw(old new both);
my %bundle_file = map { $_ => cert_path("rollover-bundle-$_.crt") } @bundles;

# The 3 x 2 matrix, one run per server with every bundle optional.
my %verdicts;
for my $s (sort keys %server)
{
	my ($rc, $doc) = check_json(map({ ('--ca-file-optional', $bundle_file{$_}) } @bundles),
		'127.0.0.1:' . $server{$s}->port);
	is($rc, 0, "server $s: optional bundles never change the status");
	my $t = $doc->{targets}[0];
	is(scalar @{ $t->{trust_bundles} }, 3, "server $s: one result per bundle");
	for my $i (0 .. $#bundles)
	{
		my $b = $bundles[$i];
		my $got = $t->{trust_bundles}[$i];
		my ($ok, $root) = openssl_verify("rollover-bundle-$b.crt", $chain{$s});
		is($got->{file}, $bundle_file{$b}, "server $s, bundle $b: in order");
		is($got->{verified} ? 1 : 0, $ok ? 1 : 0, "server $s, bundle $b: verified equals openssl verify ($ok)");
		$verdicts{"$s-$b"} = $got->{verified} ? 1 : 0;
		if ($ok)
		{
			is($got->{anchor_subject}, $root, "server $s, bundle $b: the anchor openssl ends at");
			my ($which) = $root =~ /Rollover (Old|New) Root/;
			is($got->{anchor_sha256}, $root_sha{ lc $which }, "server $s, bundle $b: the anchor's SHA-256");
			is($got->{path_length}, 3, "server $s, bundle $b: leaf, intermediate, root");
		}
		else
		{
			is($got->{anchor_subject}, undef, "server $s, bundle $b: no anchor");
			like($got->{error}, qr/unable to get local issuer certificate/, "server $s, bundle $b: why");
		}
	}
}
# The fixture really is a migration.
is_deeply(\%verdicts,
	{ 'A-old' => 0, 'A-new' => 1, 'A-both' => 1, 'B-old' => 1, 'B-new' => 0, 'B-both' => 1 },
	'old root fails A, new root fails B, both pass');

# The fleet: a targets file with both servers.
my $dir = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$dir/targets" or die $!;
print $fh "# the fleet\n127.0.0.1:" . $server{A}->port . "\n127.0.0.1:" . $server{B}->port . "\n";
close $fh;
my $a = '127.0.0.1:' . $server{A}->port;
my $b = '127.0.0.1:' . $server{B}->port;

my ($rc, $doc) = check_json('--targets', "$dir/targets", '--ca-file', $bundle_file{both}, '--ca-file', $bundle_file{old});
is($rc, 2, 'a required bundle that fails a target: CRITICAL');
is($doc->{targets}[0]{status}, 'CRITICAL', 'A fails the old bundle');
is($doc->{targets}[1]{status}, 'OK', 'B passes both');
my $sum = $doc->{trust_summary};
is_deeply([ map { $_->{sha256} } @{ $sum->{anchors} } ], [ $root_sha{new}, $root_sha{old} ],
	'the fleet anchors to the new root (A) and the old root (B)');
is_deeply($sum->{anchors}[0]{targets}, [$a], 'new root: A');
is_deeply($sum->{anchors}[1]{targets}, [$b], 'old root: B');
is_deeply([ map { $_->{target} } @{ $sum->{bundles}[1]{failed_targets} } ], [$a], 'the old bundle fails A only');
is_deeply($sum->{bundles}[0]{failed_targets}, [], 'the combined bundle fails nobody');

my ($trc, $text) = check('--targets', "$dir/targets", '--ca-file', $bundle_file{both}, '--ca-file', $bundle_file{old});
like($text, qr/^  bundle \Q$bundle_file{old}\E: FAILS 1 of 2 targets \(\Q$a\E: unable to get local issuer/m,
	'text: one line says which target the old bundle fails');
($rc) = check('--targets', "$dir/targets", '--ca-file', $bundle_file{both});
is($rc, 0, 'the combined bundle: OK');
($rc, $text) = check('--targets', "$dir/targets", '--ca-file', $bundle_file{both}, '--ca-file-optional',
	$bundle_file{new}, '--format', 'nagios');
is($rc, 0, 'a failing optional bundle is only reported');
like($text, qr/^optional bundle \Q$bundle_file{new}\E: FAILS 1 of 2 targets \(\Q$b\E/m, 'nagios: the fleet line');
($rc, $text) = check('--targets', "$dir/targets", '--ca-file', $bundle_file{old}, '--format', 'tap');
is($rc, 2, 'tap: CRITICAL');
like($text, qr/^not ok 1 - \Q$a\E CRITICAL: chain does not verify against --ca-file/m, 'tap: A fails');
like($text, qr/^ok 2 - /m, 'tap: B passes');

($rc, undef, my $err) = check('--ca-file', cert_path('garbage.txt'), $a);
is($rc, 3, 'a CA file without certificates is a usage error');
like($err, qr/could not (load|read) CA file/, 'and says so');

done_testing();
