# tls_audit.probe() and probe_certificates() against local clusters, compared
# with openssl s_client -starttls postgres.
use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use IPC::Run;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $old = new_tls_node('probe_floor_tlsv1');
my $modern = new_tls_node('probe_floor_tlsv12', conf => "ssl_min_protocol_version = 'TLSv1.2'");
my $nossl = new_tls_node('probe_nossl', conf => 'ssl = off');

my $legacy_conf = legacy_openssl_conf();

# What openssl s_client negotiates at one version: the cipher, or undef.
sub s_client_cipher
{
	my ($port, $flag) = @_;
	my $out = `OPENSSL_CONF=$legacy_conf timeout 20 openssl s_client -starttls postgres -connect 127.0.0.1:$port $flag -cipher 'ALL:\@SECLEVEL=0' </dev/null 2>&1`;
	return $out =~ /^(?:New|Reused), TLSv[\d.]+, Cipher is (\S+)/m && $1 ne '(NONE)' ? $1 : undef;
}

my %flag = ('TLSv1' => '-tls1', 'TLSv1.1' => '-tls1_1', 'TLSv1.2' => '-tls1_2', 'TLSv1.3' => '-tls1_3');

for my $target ($old, $modern)
{
	my $port = $target->port;
	my $rows = $old->safe_psql('postgres',
		"SELECT protocol, accepted, coalesce(cipher, '') FROM tls_audit.probe('127.0.0.1', $port) ORDER BY protocol");
	my %probe = map { my ($p, $a, $c) = split /\|/; ($p => [ $a, $c ]) } split /\n/, $rows;
	is(scalar(keys %probe), 4, "four versions probed on " . $target->name);
	for my $version (sort keys %flag)
	{
		my $cipher = s_client_cipher($port, $flag{$version});
		is($probe{$version}[0], defined $cipher ? 't' : 'f',
			$target->name . ": $version accepted matches s_client");
		is($probe{$version}[1], $cipher, $target->name . ": $version cipher matches s_client")
		  if defined $cipher;
	}
}
# The floors themselves, independent of s_client.
is($old->safe_psql('postgres', "SELECT string_agg(protocol, ',' ORDER BY protocol) FROM tls_audit.probe('127.0.0.1', " . $old->port . ") WHERE accepted"),
	'TLSv1,TLSv1.1,TLSv1.2,TLSv1.3', 'floor TLSv1 server accepts all four');
is($old->safe_psql('postgres', "SELECT string_agg(protocol, ',' ORDER BY protocol) FROM tls_audit.probe('127.0.0.1', " . $modern->port . ") WHERE accepted"),
	'TLSv1.2,TLSv1.3', 'floor TLSv1.2 server accepts TLSv1.2 and TLSv1.3');
like($old->safe_psql('postgres', "SELECT error FROM tls_audit.probe('127.0.0.1', " . $modern->port . ") WHERE protocol = 'TLSv1.1'"),
	qr/\S/, 'a refused version says why');

# The chain matches s_client -showcerts.
my $showcerts = `timeout 20 openssl s_client -starttls postgres -connect 127.0.0.1:@{[$old->port]} -showcerts </dev/null 2>/dev/null`;
my @pems = $showcerts =~ /(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)/sg;
my @want;
for my $pem (@pems)
{
	my $file = PostgreSQL::Test::Utils::tempdir() . '/c.pem';
	open my $fh, '>', $file or die;
	print $fh "$pem\n";
	close $fh;
	(my $fp = `openssl x509 -in $file -noout -fingerprint -sha256`) =~ s/.*=//s;
	$fp =~ s/[:\s]//g;
	push @want, lc $fp;
}
is(scalar(@want), 2, 's_client shows leaf and intermediate');
my $got = $old->safe_psql('postgres',
	"SELECT string_agg(sha256, ',' ORDER BY position) FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ")");
is($got, join(',', @want), 'probe_certificates chain equals s_client -showcerts');

# Verification against a CA file, with the host name.
# Absolute: the server opens ca_file from its data directory, and PostgreSQL
# 18's test modules give data_dir relative to the test's directory.
my $datadir = File::Spec->rel2abs($old->data_dir);
my $ca = "$datadir/root.crt";    # intermediate + root, copied by new_tls_node
my $bad_ca = "$datadir/other-ca.crt";
system("cp " . cert_path('selfsigned.crt') . " $bad_ca") == 0 or die;
is($old->safe_psql('postgres',
	"SELECT verified, verify_error IS NULL, hostname_match FROM tls_audit.probe_certificates('localhost', " . $old->port . ", ca_file => '$ca') WHERE position = 0"),
	't|t|t', 'chain verifies against the CA, host name matches');
like($old->safe_psql('postgres',
	"SELECT verified, verify_error FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ", ca_file => '$bad_ca') WHERE position = 0"),
	qr/^f\|.*(unable to get local issuer|self.signed|unable to get issuer)/, 'unknown CA: not verified, with the reason');
is($old->safe_psql('postgres',
	"SELECT hostname_match FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ", sni => 'wrong.example', ca_file => '$ca') WHERE position = 0"),
	'f', 'wrong host name does not match');

# A CA file the server cannot read says why (1.0: "unknown error").
my $locked_ca = "$datadir/locked-ca.crt";
system("cp $ca $locked_ca") == 0 or die;
chmod 0000, $locked_ca;
SKIP:
{
	skip 'running as root: a mode 000 file stays readable', 1 if $> == 0;
	my (undef, undef, $ca_err) = $old->psql('postgres',
		"SELECT * FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ", ca_file => '$locked_ca')");
	like($ca_err, qr/could not load CA file "\Q$locked_ca\E": Permission denied/, 'unreadable ca_file: "Permission denied"');
}
my (undef, undef, $missing_err) = $old->psql('postgres',
	"SELECT * FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ", ca_file => '/nonexistent/ca.crt')");
like($missing_err, qr/could not load CA file "\/nonexistent\/ca\.crt": No such file or directory/, 'missing ca_file: "No such file or directory"');

# Errors, each distinct and quick.
my ($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', " . $nossl->port . ")");
like($err, qr/server does not support SSL/, 'ssl=off server: "server does not support SSL"');

my $closed = PostgreSQL::Test::Cluster::get_free_port();
my $t0 = time;
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', $closed, timeout_ms => 2000)");
like($err, qr/refused/i, 'closed port: connection refused');
cmp_ok(time - $t0, '<', 3, 'closed port answers within the timeout');

# A black-holed target: TCP accepted by the kernel, no reply ever.
my $hole = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
my $hole_port = $hole->sockport;
$t0 = time;
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe_certificates('127.0.0.1', $hole_port, timeout_ms => 1000)");
like($err, qr/timed out/i, 'black-holed target: timed out');
cmp_ok(time - $t0, '<', 4, 'black-holed target answers within the timeout');

# statement_timeout interrupts a long probe.
$t0 = time;
($rc, $out, $err) = $old->psql('postgres',
	"SET statement_timeout = '500ms'; SELECT * FROM tls_audit.probe('127.0.0.1', $hole_port, timeout_ms => 30000)");
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout stops a probe');
cmp_ok(time - $t0, '<', 5, 'statement_timeout stops it promptly');

# pg_cancel_backend from another session interrupts a probe.
my ($stdin, $stdout, $stderr) = ('', '', '');
my $h = IPC::Run::start(
	[ 'psql', '-XAtq', '-d', $old->connstr('postgres'), '-c',
	  "SELECT * FROM tls_audit.probe('127.0.0.1', $hole_port, timeout_ms => 30000)" ],
	\$stdin, \$stdout, \$stderr);
$t0 = time;
$old->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%tls_audit.probe(%' AND pid <> pg_backend_pid()")
  or die 'probe did not start';
$old->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%tls_audit.probe(%' AND pid <> pg_backend_pid()");
$h->finish;
like($stderr, qr/canceling statement due to user request/, 'pg_cancel_backend stops a probe');
cmp_ok(time - $t0, '<', 10, 'cancel is prompt');

# Bad arguments: clean errors.
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe(NULL)");
like($err, qr/host must not be NULL/, 'NULL host');
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', 70000)");
like($err, qr/port/, 'port out of range');
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe('no-such-host.invalid', 5432, timeout_ms => 2000)");
like($err, qr/resolve|name/i, 'unresolvable host');

# Privileges and the allow-list.
$old->safe_psql('postgres', 'CREATE ROLE probe_user LOGIN');
($rc, $out, $err) = $old->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', " . $old->port . ")",
	connstr => $old->connstr('postgres') . ' user=probe_user');
like($err, qr/permission denied for function probe/, 'PUBLIC cannot probe');
$old->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text, text[]) TO probe_user');
($rc, $out, $err) = $old->psql('postgres',
	"SELECT count(*) FROM tls_audit.probe_certificates('127.0.0.1', " . $old->port . ", ca_file => '$ca')",
	connstr => $old->connstr('postgres') . ' user=probe_user');
like($err, qr/permission denied to read ca_file/, 'naming a server file needs pg_read_server_files');

($rc, $out, $err) = $old->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = 'db.example.com, *.example.org'; SELECT * FROM tls_audit.probe('127.0.0.1', " . $old->port . ")");
like($err, qr/not allowed by tls_audit.probe_allowed_hosts/, 'allow-list refuses other hosts');
is($old->safe_psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '127.0.0.1'; SELECT count(*) FROM tls_audit.probe('127.0.0.1', " . $old->port . ") WHERE accepted"),
	'4', 'allow-list admits a listed host');
# 1.1: an entry may name the one port it allows (host:port, [IPv6]:port).
my $port = $old->port;
my $other = $port + 1;
is($old->safe_psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '[::1]:$port, 127.0.0.1:$port'; SELECT count(*) FROM tls_audit.probe('127.0.0.1', $port) WHERE accepted"),
	'4', 'allow-list admits the host on its listed port');
($rc, $out, $err) = $old->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '127.0.0.1:$port'; SELECT * FROM tls_audit.probe('127.0.0.1', $other)");
like($err, qr/probe target "127.0.0.1" port $other is not allowed by tls_audit.probe_allowed_hosts/,
	'allow-list refuses another port of a listed host');
($rc, $out, $err) = $old->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '127.0.0.1:$other'; SELECT * FROM tls_audit.probe_certificates('127.0.0.1', $port)");
like($err, qr/port $port is not allowed/, 'probe_certificates() obeys the port too');
($rc, $out, $err) = $old->psql('postgres', "SET tls_audit.probe_allowed_hosts = '127.0.0.1:99999'");
like($err, qr/port must be a number from 1 to 65535/, 'a bad port is rejected when set');
($rc, $out, $err) = $old->psql('postgres', "SET tls_audit.probe_allowed_hosts = 'a,,b'");
like($err, qr/invalid value for parameter "tls_audit.probe_allowed_hosts"/, 'malformed allow-list rejected when set');

$_->stop for ($old, $modern, $nossl);
done_testing();
