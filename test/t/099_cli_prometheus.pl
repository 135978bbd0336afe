# pg_tls_check --format prometheus --output FILE read by the real
# prometheus-node-exporter (Debian package) through its textfile collector and
# scraped on loopback; the atomic --output; --format json against the JSON
# Schema in doc/pg_tls_check.schema.json.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Temp;
use HTTP::Tiny;
use IPC::Run;
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node_exporter = '/usr/bin/prometheus-node-exporter';
plan skip_all => "$node_exporter not installed (test/deps.sh installs prometheus-node-exporter)"
  unless -x $node_exporter;

my $a = new_tls_node('prom_a', conf => "ssl_min_protocol_version = 'TLSv1.2'\nssl_ciphers = 'ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA'");
my $b = new_tls_node('prom_b', conf => "ssl_min_protocol_version = 'TLSv1.3'");
my $closed = PostgreSQL::Test::Cluster::get_free_port();
my @targets = ('127.0.0.1:' . $a->port, '127.0.0.1:' . $b->port, "127.0.0.1:$closed");

my $dir = PostgreSQL::Test::Utils::tempdir();
my $prom = "$dir/pg_tls.prom";

sub run_check
{
	my ($stdout, $stderr);
	IPC::Run::run([ 'pg_tls_check', @_ ], '<', \undef, '>', \$stdout, '2>', \$stderr, IPC::Run::timeout(180));
	return ($? >> 8, $stdout, $stderr);
}

my ($rc, $out, $err) = run_check('--profile', 'intermediate', '--format', 'prometheus', '--output', $prom, '--timeout', '3000', @targets);
is($rc, 2, 'exit status CRITICAL (unreachable target is UNKNOWN, profile deviations CRITICAL)') or diag $err;
is($out, '', 'nothing on stdout with --output');
ok(-f $prom, 'file written');
is(sprintf('%o', (stat $prom)[2] & 07777), '644', 'file mode 0644');
opendir my $dh, $dir or die;
is_deeply([ grep { !/^\./ && $_ ne 'pg_tls.prom' } readdir $dh ], [], 'no temporary file left');
closedir $dh;
my $text = PostgreSQL::Test::Utils::slurp_file($prom);
like($text, qr/^# TYPE tls_audit_probe_up gauge$/m, 'TYPE lines');

# The real node_exporter reads the file; scrape it on loopback.
my $port = PostgreSQL::Test::Cluster::get_free_port();
my ($in, $nout, $nerr) = ('', '', '');
my $h = IPC::Run::start(
	[ $node_exporter, "--web.listen-address=127.0.0.1:$port", '--collector.disable-defaults',
	  '--collector.textfile', "--collector.textfile.directory=$dir" ],
	\$in, \$nout, \$nerr);
my $http = HTTP::Tiny->new(timeout => 5);
my $metrics = '';
for (my $t0 = time; time - $t0 < 30; sleep 0.2)
{
	my $res = $http->get("http://127.0.0.1:$port/metrics");
	if ($res->{success}) { $metrics = $res->{content}; last; }
}
ok($metrics ne '', 'node_exporter answers on loopback') or diag $nerr;
like($metrics, qr/^node_textfile_scrape_error 0$/m, 'textfile collector parsed the file without error');
my $la = '127.0.0.1:' . $a->port;
my $lb = '127.0.0.1:' . $b->port;
like($metrics, qr/^tls_audit_probe_up\{target="\Q$la\E"\} 1$/m, 'up for a reachable target');
like($metrics, qr/^tls_audit_probe_up\{target="127\.0\.0\.1:$closed"\} 0$/m, 'down for the closed port');
like($metrics, qr/^tls_audit_probe_status\{target="127\.0\.0\.1:$closed"\} 3$/m, 'UNKNOWN status');
like($metrics, qr/^tls_audit_probe_protocol_accepted\{protocol="TLSv1\.2",target="\Q$lb\E"\} 0$/m, 'TLSv1.3-only server refuses TLSv1.2');
like($metrics, qr/^tls_audit_probe_cipher_suite_accepted\{cipher="AES256-SHA",protocol="TLSv1\.2",strength="weak",target="\Q$la\E"\} 1$/m,
	'accepted suite with its strength');
like($metrics, qr/^tls_audit_probe_cipher_suites\{protocol="TLSv1\.2",strength="weak",target="\Q$la\E"\} 1$/m, 'suite counts');
like($metrics, qr/^tls_audit_probe_group_supported\{group="P-256",protocol="TLSv1\.3",target="\Q$la\E"\} 1$/m, 'groups');
like($metrics, qr/^tls_audit_probe_profile_compliant\{profile="intermediate",target="\Q$la\E"\} 0$/m, 'profile verdict');
like($metrics, qr/^tls_audit_probe_certificate_expiry_seconds\{position="0",subject="O=pg_tls_audit tests,CN=localhost",target="\Q$la\E"\} \d/m,
	'certificate expiry');
like($metrics, qr/^tls_audit_probe_targets\{status="UNKNOWN"\} 1$/m, 'targets by status');

# A second run replaces the file atomically while node_exporter keeps reading it.
($rc) = run_check('--format', 'prometheus', '--output', $prom, $la);
$metrics = $http->get("http://127.0.0.1:$port/metrics")->{content} // '';
like($metrics, qr/^node_textfile_scrape_error 0$/m, 'rewritten file still parses');
unlike($metrics, qr/127\.0\.0\.1:$closed/, 'the old content is gone');
$h->kill_kill;

# Unwritable --output: UNKNOWN, a message, nothing left behind.
($rc, $out, $err) = run_check('--format', 'prometheus', '--output', "$dir/missing/x.prom", $la);
is($rc, 3, 'unwritable --output: exit UNKNOWN');
like($err, qr/could not create a temporary file/, 'unwritable --output: message');

# JSON Schema: every JSON shape validates, and the validator can fail.
my $schema = "$FindBin::RealBin/../../doc/pg_tls_check.schema.json";
my $validator = "$FindBin::RealBin/../validate_json_schema.py";
for my $args ([ '--profile', 'old' ], [ '--enumerate' ], [])
{
	($rc, $out, $err) = run_check('--format', 'json', '--timeout', '3000', @$args, @targets);
	my ($vout, $verr);
	IPC::Run::run([ 'python3', $validator, $schema, '-' ], '<', \$out, '>', \$vout, '2>', \$verr);
	is($? >> 8, 0, "JSON output with (@$args) validates against the schema") or diag $verr;
}
(my $broken = $out) =~ s/"status":"UNKNOWN"/"status":"FINE"/;
my ($vout, $verr);
IPC::Run::run([ 'python3', $validator, $schema, '-' ], '<', \$broken, '>', \$vout, '2>', \$verr);
is($? >> 8, 1, 'a document with an unknown status does not validate');

done_testing();
