# pg_tls_check --plaintext / --require-tls against real clusters: a
# hostssl-only pg_hba refuses with the server's own message, a host line and
# ssl = off accept, a listener that is not PostgreSQL is unknown; the server
# logs show no password attempt.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use POSIX ();
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

# Run pg_tls_check; returns (exit code, stdout, stderr).
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
	ok($doc, "JSON output for @_") or diag("$out\n$err");
	return ($rc, $doc);
}

my $conf = "log_connections = on\nlog_min_messages = debug1\npassword_encryption = 'scram-sha-256'";

# hostssl only: a plaintext StartupMessage finds no pg_hba line.
my $sslonly = new_tls_node('plain_sslonly', conf => $conf);
$sslonly->safe_psql('postgres', "CREATE ROLE alice LOGIN PASSWORD 'secret'");
{
	open my $fh, '>', $sslonly->data_dir . '/pg_hba.conf' or die $!;
	print $fh "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n";
	close $fh;
	$sslonly->reload;
}
my $port = $sslonly->port;
my $log_offset = -s $sslonly->logfile;
my ($rc, $doc) = check_json('--plaintext', '--user', 'alice', "127.0.0.1:$port");
my $pt = $doc->{targets}[0]{plaintext};
is($pt->{result}, 'refused', 'hostssl-only: refused');
is($pt->{sqlstate}, '28000', 'hostssl-only: SQLSTATE 28000');
like($pt->{message}, qr/^no pg_hba\.conf entry for host "127\.0\.0\.1", user "alice", database "alice", no encryption$/,
	'hostssl-only: the server\'s message');
is($pt->{user}, 'alice', 'the user asked for');
is($rc, 0, 'refused plaintext is no problem');
my $log = slurp_file($sslonly->logfile, $log_offset);
like($log, qr/FATAL:  \Q$pt->{message}\E/, 'the same message is in the server log');
($rc) = check('--require-tls', "127.0.0.1:$port");
is($rc, 0, '--require-tls passes when plaintext is refused');

# A host line (password authentication): the unencrypted connection reaches
# authentication; the probe sends no password.
my $host = new_tls_node('plain_host', conf => $conf,
	hba => "host all all 127.0.0.1/32 scram-sha-256");
$host->safe_psql('postgres', "CREATE ROLE alice LOGIN PASSWORD 'secret'");
$port = $host->port;
$log_offset = -s $host->logfile;
($rc, $doc) = check_json('--plaintext', '--user', 'alice', '--database', 'postgres', "127.0.0.1:$port");
$pt = $doc->{targets}[0]{plaintext};
is($pt->{result}, 'accepted', 'host line: accepted');
is($pt->{auth_request}, 'AuthenticationSASL (SCRAM-SHA-256)', 'host line: a SCRAM exchange was offered');
is($pt->{database}, 'postgres', 'the database asked for');
is($rc, 0, 'accepted plaintext without --require-tls is a note');
my ($note) = grep { $_->{code} eq 'plaintext_accepted' } @{ $doc->{targets}[0]{findings} };
is($note->{severity}, 'NOTE', 'noted');
like($note->{message}, qr/per user, database and client address/, 'the pg_hba limit is said');

# --require-tls: CRITICAL in every format, and as the exit status.
my %expect = (
	text => qr/^127\.0\.0\.1:\d+  CRITICAL\n.*^    CRITICAL  plaintext accepted/ms,
	json => qr/"status":"CRITICAL".*"code":"plaintext_accepted"/s,
	tap => qr/^not ok 1 - 127\.0\.0\.1:\d+ CRITICAL: plaintext accepted/m,
	nagios => qr/^PG_TLS CRITICAL - 127\.0\.0\.1:\d+ CRITICAL: plaintext accepted/,);
for my $format (sort keys %expect)
{
	my ($frc, $out) = check('--require-tls', '--user', 'alice', '--format', $format, "127.0.0.1:$port");
	is($frc, 2, "--require-tls --format $format: exit 2");
	like($out, $expect{$format}, "--require-tls --format $format: plaintext accepted is CRITICAL");
}
# The default user (a role that does not exist) gets the same answer.
($rc, $doc) = check_json('--require-tls', "127.0.0.1:$port");
is($doc->{targets}[0]{plaintext}{user}, 'pg_tls_audit_no_such_user', 'the documented default user');
is($doc->{targets}[0]{plaintext}{result}, 'accepted', 'default user: accepted');
is($rc, 2, 'default user: CRITICAL');
# Every --profile forbids plaintext: it probes and fails on it without
# --require-tls; --allow-plaintext leaves plaintext out.
($rc, $doc) = check_json('--profile', 'old', "127.0.0.1:$port");
is($doc->{targets}[0]{plaintext}{result}, 'accepted', '--profile: plaintext probed');
my ($crit) = grep { $_->{code} eq 'plaintext_accepted' } @{ $doc->{targets}[0]{findings} };
is($crit->{severity}, 'CRITICAL', '--profile: plaintext accepted is CRITICAL');
is($rc, 2, '--profile: exit 2');
($rc, $doc) = check_json('--profile', 'old', '--allow-plaintext', "127.0.0.1:$port");
is($doc->{targets}[0]{plaintext}, undef, '--profile --allow-plaintext: no plaintext probe');
ok(!grep({ $_->{code} eq 'plaintext_accepted' } @{ $doc->{targets}[0]{findings} }),
	'--profile --allow-plaintext: no plaintext finding');
$log = slurp_file($host->logfile, $log_offset);
like($log, qr/connection received: host=127\.0\.0\.1/, 'the probes reached the server');
unlike($log, qr/password authentication failed|expected password response|SASL authentication|invalid frontend message/i,
	'no password attempt in the server log');

# ssl = off: plaintext accepted (trust), and the TLS rows say TLS is not offered.
my $nossl = new_tls_node('plain_nossl', conf => "ssl = off\n$conf");
$port = $nossl->port;
($rc, $doc) = check_json('--require-tls', "127.0.0.1:$port");
my $t = $doc->{targets}[0];
is($t->{plaintext}{result}, 'accepted', 'ssl = off: accepted');
is($t->{plaintext}{auth_request}, 'AuthenticationOk', 'ssl = off: trust answers AuthenticationOk');
like($t->{error}, qr/server does not support SSL/, 'ssl = off: TLS is not offered');
is($t->{protocols}, undef, 'ssl = off: no protocol row');
is($t->{status}, 'CRITICAL', 'ssl = off with --require-tls: CRITICAL outranks the failed TLS probe');
is($rc, 2, 'ssl = off: exit 2');

# A listener that is not PostgreSQL: unknown. It answers like an HTTP server
# and hangs up; it serves a bounded number of connections for a bounded time.
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16, ReuseAddr => 1)
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
	for (1 .. 20)
	{
		my $c = $listener->accept or last;
		print $c "HTTP/1.0 400 Bad Request\r\n\r\n";
		close $c;
	}
	POSIX::_exit(0);
}
close $listener;
($rc, $doc) = check_json('--require-tls', "127.0.0.1:$fake_port");
$t = $doc->{targets}[0];
is($t->{plaintext}{result}, 'unknown', 'not PostgreSQL: unknown');
like($t->{plaintext}{detail}, qr/got byte 0x48 \('H'\)/, 'not PostgreSQL: what came back');
like($t->{error}, qr/not a PostgreSQL server/, 'not PostgreSQL: the TLS probe says so too');
is($rc, 3, 'not PostgreSQL: UNKNOWN');
kill 'TERM', $pid;
waitpid($pid, 0);

# Bad names are usage errors.
($rc, undef, my $err) = check('--plaintext', '--user', 'x' x 64, "127.0.0.1:$port");
is($rc, 3, 'too long --user: exit 3');
like($err, qr/user name is too long/, 'too long --user: said so');

done_testing();
