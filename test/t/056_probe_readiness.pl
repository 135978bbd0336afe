# tls_audit.probe_plaintext() and probe_certificates(..., ca_files) against
# local clusters: plaintext refused / accepted / unknown as pg_tls_check sees
# it, and the chain verified per CA bundle exactly as `openssl verify` does.
# Also: a 1.0 installation keeps its probe_certificates() and gets the new
# one with ALTER EXTENSION ... UPDATE, 1.0-style calls unchanged.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $conf = "log_connections = on\npassword_encryption = 'scram-sha-256'";
my $prober = new_tls_node('ready_prober');

# --- plaintext ---
my $sslonly = new_tls_node('ready_sslonly', conf => $conf);
{
	open my $fh, '>', $sslonly->data_dir . '/pg_hba.conf' or die $!;
	print $fh "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";
	close $fh;
	$sslonly->reload;
}
my $host = new_tls_node('ready_host', conf => $conf, hba => "host all all 127.0.0.1/32 scram-sha-256");
$host->safe_psql('postgres', "CREATE ROLE alice LOGIN PASSWORD 'secret'");
my $nossl = new_tls_node('ready_nossl', conf => "ssl = off");

sub plaintext
{
	my ($port, $args) = @_;
	$args //= '';
	return $prober->safe_psql('postgres',
		"SELECT concat_ws('|', result, auth_request, error_sqlstate, error_message, detail, probed_user, probed_dbname) "
		  . "FROM tls_audit.probe_plaintext('127.0.0.1', $port$args)");
}

is(plaintext($sslonly->port, ", 'alice'"),
	'refused|28000|no pg_hba.conf entry for host "127.0.0.1", user "alice", database "alice", no encryption|alice',
	'hostssl only: refused with the server\'s message');
my $log_offset = -s $host->logfile;
is(plaintext($host->port, ", user_name => 'alice', dbname => 'postgres'"),
	'accepted|AuthenticationSASL (SCRAM-SHA-256)|alice|postgres', 'host line: accepted, SCRAM offered');
is(plaintext($host->port), 'accepted|AuthenticationSASL (SCRAM-SHA-256)|pg_tls_audit_no_such_user',
	'the default user name');
unlike(slurp_file($host->logfile, $log_offset),
	qr/password authentication failed|expected password response|invalid frontend message/,
	'no password attempt in the server log');
is(plaintext($nossl->port), 'accepted|AuthenticationOk|pg_tls_audit_no_such_user', 'ssl = off: accepted');
my ($rc, $out, $err) = $prober->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', " . $nossl->port . ")");
like($err, qr/server does not support SSL/, 'ssl = off: the TLS probe says TLS is not offered');

my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 4, ReuseAddr => 1)
  or die "listen: $!";
my $fake_port = $listener->sockport;
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0)
{
	# The child must neither run the test's END blocks (which stop the
	# clusters) nor 18's PostgreSQL::Test::Cluster signal handler (it dies).
	$SIG{TERM} = $SIG{INT} = $SIG{ALRM} = 'DEFAULT';
	alarm 60;
	for (1 .. 4)
	{
		my $c = $listener->accept or last;
		print $c "HTTP/1.0 400 Bad Request\r\n\r\n";
		close $c;
	}
	POSIX::_exit(0);
}
close $listener;
like(plaintext($fake_port), qr/^unknown\|not a PostgreSQL answer to a StartupMessage: got byte 0x48 \('H'\)\|/,
	'not PostgreSQL: unknown');
kill 'TERM', $pid;
waitpid($pid, 0);

# Errors: NULLs, bad names, the allow-list, privileges.
($rc, $out, $err) = $prober->psql('postgres', "SELECT * FROM tls_audit.probe_plaintext(NULL)");
like($err, qr/ERROR:  host must not be NULL/, 'NULL host');
($rc, $out, $err) = $prober->psql('postgres',
	"SELECT * FROM tls_audit.probe_plaintext('127.0.0.1', 1, repeat('u', 64))");
like($err, qr/ERROR:  the plaintext probe's user name is too long/, 'too long user name');
($rc, $out, $err) = $prober->psql('postgres',
	"SET tls_audit.probe_allowed_hosts = '10.0.0.1'; SELECT * FROM tls_audit.probe_plaintext('127.0.0.1', 1)");
like($err, qr/is not allowed by tls_audit.probe_allowed_hosts/, 'the allow-list applies');
$prober->safe_psql('postgres', 'CREATE ROLE plain_user LOGIN');
($rc, $out, $err) = $prober->psql('postgres', "SET ROLE plain_user; SELECT * FROM tls_audit.probe_plaintext('127.0.0.1', 1)");
like($err, qr/permission denied for function probe_plaintext/, 'not executable by PUBLIC');

# --- trust-store readiness ---
my %server = (
	A => new_tls_node('ready_a', cert => 'rollover-a-chain.crt', key => 'rollover-server.key'),
	B => new_tls_node('ready_b', cert => 'rollover-b-chain.crt', key => 'rollover-server.key'));
my %chain = (A => 'rollover-a-chain.crt', B => 'rollover-b-chain.crt');
my @bundles = qw(old new both);
my $array = "ARRAY[" . join(',', map { "'" . cert_path("rollover-bundle-$_.crt") . "'" } @bundles) . "]";

for my $s (sort keys %server)
{
	my $rows = $prober->safe_psql('postgres',
		"SELECT ca_bundle, verified, coalesce(anchor_subject, '-'), coalesce(path_length::text, '-'), coalesce(verify_error, '-') "
		  . "FROM tls_audit.probe_certificates('127.0.0.1', " . $server{$s}->port . ", ca_files => $array) "
		  . "WHERE position = 0");
	my @rows = map { [ split /\|/ ] } split /\n/, $rows;
	is(scalar @rows, 3, "server $s: one row set per bundle");
	my $count = $prober->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.probe_certificates('127.0.0.1', " . $server{$s}->port . ", ca_files => $array)");
	is($count, 6, "server $s: both certificates for each bundle");
	for my $i (0 .. $#bundles)
	{
		my $b = $bundles[$i];
		my $cmd = "OPENSSL_CONF=/dev/null openssl verify -show_chain -nameopt RFC2253 -CAfile "
		  . cert_path("rollover-bundle-$b.crt") . " -untrusted " . cert_path($chain{$s}) . " "
		  . cert_path('rollover-server.crt') . " 2>&1";
		my $ossl = `$cmd`;
		my $ok = ($? == 0 && $ossl =~ /: OK$/m) ? 't' : 'f';
		my @depth = $ossl =~ /^depth=\d+: (.*?)(?: \(untrusted\))?$/mg;
		my ($file, $verified, $anchor, $len, $error) = @{ $rows[$i] };
		is($file, cert_path("rollover-bundle-$b.crt"), "server $s, bundle $b: named");
		is($verified, $ok, "server $s, bundle $b: verified equals openssl verify");
		if ($ok eq 't')
		{
			is($anchor, $depth[-1], "server $s, bundle $b: the root openssl ends at");
			is($len, 3, "server $s, bundle $b: path length");
		}
		else
		{
			is($anchor, '-', "server $s, bundle $b: no anchor");
			like($error, qr/unable to get local issuer certificate/, "server $s, bundle $b: why");
		}
	}
}

# Without ca_files: the 1.0 behaviour, plus the anchor of that one store.
my $pa = $server{A}->port;
is($prober->safe_psql('postgres',
		"SELECT ca_bundle, verified, anchor_subject FROM tls_audit.probe_certificates('127.0.0.1', $pa, NULL, 5000, '"
		  . cert_path('rollover-bundle-new.crt') . "') WHERE position = 0"),
	cert_path('rollover-bundle-new.crt') . '|t|O=pg_tls_audit tests,CN=pg_tls_audit Rollover New Root',
	'ca_file alone: one row set, with its anchor');
is($prober->safe_psql('postgres',
		"SELECT count(*), bool_or(ca_bundle IS NOT NULL), bool_or(verified) FROM tls_audit.probe_certificates('127.0.0.1', $pa)"),
	'2|f|f', 'neither: the system store, which does not know the test roots');
# ca_file and ca_files together: ca_file first.
is($prober->safe_psql('postgres',
		"SELECT string_agg(verified::text, ',' ORDER BY ca_bundle = '" . cert_path('rollover-bundle-old.crt') . "') "
		  . "FROM tls_audit.probe_certificates('127.0.0.1', $pa, ca_file => '" . cert_path('rollover-bundle-new.crt')
		  . "', ca_files => ARRAY['" . cert_path('rollover-bundle-old.crt') . "']) WHERE position = 0"),
	'true,false', 'ca_file and ca_files: both bundles');

($rc, $out, $err) = $prober->psql('postgres',
	"SELECT * FROM tls_audit.probe_certificates('127.0.0.1', $pa, ca_files => ARRAY[NULL::text])");
like($err, qr/ERROR:  ca_files must not contain NULL/, 'NULL element');
($rc, $out, $err) = $prober->psql('postgres',
	"SELECT * FROM tls_audit.probe_certificates('127.0.0.1', 1, ca_files => ARRAY['" . cert_path('garbage.txt') . "'])");
like($err, qr/ERROR:  could not load CA file .*garbage\.txt/, 'a bad bundle fails before connecting');
$prober->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION tls_audit.probe_certificates(text, integer, text, integer, text, text[]) TO plain_user');
($rc, $out, $err) = $prober->psql('postgres',
	"SET ROLE plain_user; SELECT * FROM tls_audit.probe_certificates('127.0.0.1', $pa, ca_files => ARRAY['/etc/passwd'])");
like($err, qr/permission denied to read ca_files/, 'ca_files needs pg_read_server_files');

# --- from 1.0 ---
my $v10 = new_tls_node('ready_v10', preload => 1);
$v10->safe_psql('postgres', 'DROP EXTENSION pg_tls_audit; CREATE EXTENSION pg_tls_audit VERSION \'1.0\'');
my $call10 = "SELECT count(*), bool_and(verified) FROM tls_audit.probe_certificates('127.0.0.1', $pa, NULL, 5000, '"
  . cert_path('rollover-bundle-both.crt') . "')";
is($v10->safe_psql('postgres', $call10), '2|t', '1.0: its probe_certificates() runs on the new library');
$v10->safe_psql('postgres', "ALTER EXTENSION pg_tls_audit UPDATE TO '1.1'");
is($v10->safe_psql('postgres', $call10), '2|t', 'after the update: the 1.0 call is unchanged');
is($v10->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.probe_certificates('127.0.0.1', $pa, ca_files => $array)"), 6,
	'after the update: ca_files');
like($v10->safe_psql('postgres', "SELECT result FROM tls_audit.probe_plaintext('127.0.0.1', " . $host->port . ")"),
	qr/^accepted$/, 'after the update: probe_plaintext()');

done_testing();
