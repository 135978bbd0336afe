# Faults: broken server certificate/key files at reload time, kill -9 of a
# backend inside a tls_audit function (crash-restart rebuilds shared memory),
# the library preloaded where the extension does not exist, and DROP EXTENSION
# followed by CREATE EXTENSION. After each: the server runs, serves TLS with
# the context it had, nothing crashed, and the extension answers.
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use IO::Socket::INET;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

# restart_after_crash: PostgreSQL::Test::Cluster turns it off; the crash test needs it.
my $node = new_tls_node('faults', cert => 'server-chain.crt', key => 'server.key',
	conf => "restart_after_crash = on\n");
my $pgdata = $node->data_dir;

sub sha256_of
{
	my ($cert) = @_;
	(my $fp = lc(openssl_field($cert, 'fingerprint', '-sha256'))) =~ s/://g;
	return $fp;
}
my $served_sha = sha256_of('server.crt');

sub reload_and_wait
{
	my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT pg_conf_load_time() > '$before'::timestamptz")
	  or die 'the server did not reload';
}

# A new TLS session works and gets the certificate served before the fault:
# the sha256 of the peer certificate as the server's own session sees it.
sub tls_still_served
{
	my ($what) = @_;
	my $out = tls_query($node,
		q{SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()});
	like($out, qr/^t\|TLSv1\.[23]$/, "$what: new TLS connections still work");
	is($node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()'),
		$served_sha, "$what: the certificate served is still the old one");
}

sub put_file
{
	my ($name, $content) = @_;
	open my $fh, '>', "$pgdata/$name" or die "$name: $!";
	print $fh $content;
	close $fh;
	chmod 0600, "$pgdata/$name";
}

sub restore_files
{
	unlink "$pgdata/server.crt", "$pgdata/server.key";
	copy(cert_path('server-chain.crt'), "$pgdata/server.crt") or die $!;
	copy(cert_path('server.key'), "$pgdata/server.key") or die $!;
	chmod 0600, "$pgdata/server.key";
	reload_and_wait();
}

# Baseline: the served certificate is known before any fault.
tls_query($node, 'SELECT 1');
is($node->safe_psql('postgres', 'SELECT served_sha256, file_errors IS NULL FROM tls_audit.server_tls()'),
	"$served_sha|t", 'baseline: served certificate known, no file errors');
# Which checks run_checks() reports: every one of them must still answer when
# a file is broken (each input is read on its own).
my $checks_sql = q{SELECT string_agg(DISTINCT "check", ',' ORDER BY "check") FROM tls_audit.run_checks()};
my $all_checks = $node->safe_psql('postgres', $checks_sql);
like($all_checks, qr/server_cert_expiry/, "baseline: run_checks() reports the checks ($all_checks)");
# The served chain's expiry is checked from the served certificate, whatever
# happens to the files: never "not available" while the server presents one.
my $served_checked_sql = q{SELECT string_agg(severity || ': ' || message, ' / ') FROM tls_audit.run_checks()
	WHERE "check" = 'server_cert_expiry'};
unlike($node->safe_psql('postgres', $served_checked_sql), qr/not available/,
	'baseline: the server certificate expiry is checked');

# --- broken files at reload time --------------------------------------------------

my %faults = (
	'certificate file missing' => sub { unlink "$pgdata/server.crt" or die $! },
	'certificate file unreadable' => sub { chmod 0000, "$pgdata/server.crt" or die $! },
	'certificate file corrupt' => sub { put_file('server.crt', "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n") },
	'certificate file truncated' => sub { copy(cert_path('truncated.pem'), "$pgdata/server.crt") or die $! },
	'key file replaced by garbage' => sub { put_file('server.key', "this is not a key\n") },
);
my %reported = (
	'certificate file missing' => qr/ssl_cert_file/,
	'certificate file unreadable' => qr/ssl_cert_file/,
	'certificate file corrupt' => qr/ssl_cert_file/,
	'certificate file truncated' => qr/ssl_cert_file/,
	'key file replaced by garbage' => qr/ssl_key_file/,
);
for my $fault (sort keys %faults)
{
	my $log_offset = -s $node->logfile;
	$faults{$fault}->();
	reload_and_wait();
	ok($node->log_contains(qr/SSL configuration was not reloaded|could not load/, $log_offset),
		"$fault: the server logged that the new SSL configuration was refused");
	tls_still_served($fault);
	my ($errors) = $node->safe_psql('postgres',
		q{SELECT array_to_string(file_errors, ' / ') FROM tls_audit.server_tls()});
	like($errors, $reported{$fault}, "$fault: server_tls().file_errors reports it");
	is($node->safe_psql('postgres', 'SELECT count(*) > 0 FROM tls_audit.server_certificates'), 't',
		"$fault: server_certificates still answers");
	is($node->safe_psql('postgres', $checks_sql), $all_checks, "$fault: run_checks() still answers every check");
	my $served_checked = $node->safe_psql('postgres', $served_checked_sql);
	unlike($served_checked, qr/not available/,
		"$fault: the served certificate's expiry is still checked ($served_checked)");
	restore_files();
	is($node->safe_psql('postgres', 'SELECT file_errors IS NULL FROM tls_audit.server_tls()'), 't',
		"$fault: no file errors once restored");
}

# --- kill -9 of a backend inside a tls_audit function -------------------------------

# A TCP server that accepts and never answers: the probe waits in our code for
# the answer to SSLRequest (the kernel completes the handshake from the backlog).
my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 5)
  or die "listen: $!";
my $silent_port = $silent->sockport;

my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->{stdin} .= "SELECT * FROM tls_audit.probe('127.0.0.1', $silent_port, NULL, 120000);\n";
$bg->{run}->pump_nb;
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tls_audit.probe(%' AND pid <> pg_backend_pid()}),
	'a backend is inside tls_audit.probe()');
my $victim = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tls_audit.probe(%' AND pid <> pg_backend_pid()});
# Give it time to be past connect and waiting for the answer.
$node->poll_query_until('postgres', "SELECT now() - query_start > interval '200 ms' FROM pg_stat_activity WHERE pid = $victim")
  or die 'the probe did not stay';
# Traffic in shared memory before the crash: a TLS session and a census entry.
tls_query($node, 'SELECT 1', application_name => 'before_crash');

my $log_offset = -s $node->logfile;
is(kill('KILL', $victim), 1, "kill -9 of backend $victim inside tls_audit.probe()");
# psql saw its connection die and may be gone already: only reap it.
eval { $bg->quit; 1 } or eval { $bg->{run}->kill_kill; 1 };
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server is back after the crash');
ok($node->log_contains(qr/terminated by signal 9/, $log_offset), 'postmaster saw the backend killed');
ok($node->log_contains(qr/all server processes terminated; reinitializing/, $log_offset),
	'postmaster reinitialized shared memory');
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $victim");

is($node->safe_psql('postgres', 'SELECT tls_audit.preloaded()'), 't', 'after the crash: still preloaded');
my $sessions = tls_query($node,
	q{SELECT count(*) FROM tls_audit.sessions WHERE pid = pg_backend_pid() AND protocol LIKE 'TLSv1._'},
	application_name => 'after_crash');
is($sessions, '1', 'after the crash: tls_audit.sessions shows the new TLS session (registry rebuilt)');
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM tls_audit.census}), 't',
	'after the crash: tls_audit.census works and counts new connections');
is($node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()'), $served_sha,
	'after the crash: server_tls() answers');
my ($prc, $pout, $perr) = $node->psql('postgres', "SELECT * FROM tls_audit.probe('127.0.0.1', $silent_port, NULL, 300)");
like($perr, qr/ERROR:  timed out after 300 ms while /,
	'after the crash: the probe works (a clean timeout against the silent server)')
  or diag("probe: rc $prc, $perr");
close $silent;

# --- preloaded, extension not created -------------------------------------------------

$node->safe_psql('postgres', 'CREATE DATABASE faults_noext');
is($node->safe_psql('faults_noext', q{SELECT count(*) FROM pg_extension WHERE extname = 'pg_tls_audit'}), '0',
	'faults_noext: extension not created');
my ($rc, $o, $e) = tls_psql($node, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', dbname => 'faults_noext');
is("$rc|$o", '0|t', 'faults_noext: TLS connections work with the library preloaded');
($rc, $o, $e) = tls_psql($node, 'SELECT tls_audit.version()', dbname => 'faults_noext');
isnt($rc, 0, 'faults_noext: the functions do not exist');
like($e, qr/schema "tls_audit" does not exist|does not exist/, 'faults_noext: clean "does not exist" error');

# --- DROP EXTENSION and re-create ------------------------------------------------------

$node->safe_psql('postgres', 'DROP EXTENSION pg_tls_audit');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'tls_audit'}
		  . q{ UNION ALL SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'tls_audit'}),
	"0\n0", 'DROP EXTENSION removes every view and function');
($rc, $o, $e) = tls_psql($node, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
is("$rc|$o", '0|t', 'without the extension: TLS connections work');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_tls_audit');
is(tls_query($node, q{SELECT count(*) FROM tls_audit.sessions WHERE pid = pg_backend_pid()}), '1',
	're-created: sessions view works');
is($node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()'), $served_sha,
	're-created: server_tls() works');
is($node->safe_psql('postgres', 'SELECT count(*) > 0 FROM tls_audit.census'), 't', 're-created: census works');

# --- nothing crashed apart from the deliberate kill ------------------------------------

my $log = slurp_file($node->logfile);
my @crashes = ($log =~ /(terminated by signal (?!9\b)\d+|PANIC)/g);
is(scalar @crashes, 0, 'no other backend crashed, no PANIC') or diag(join("\n", @crashes));
$node->stop;
is($node->start(fail_ok => 1), 1, 'the server restarts cleanly');
$node->stop;

done_testing();
