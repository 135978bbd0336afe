# tls_audit.reload_preflight(), reload_would_succeed() and the checks
# server_tls_reload_would_fail and crl_coverage, on real clusters.
#
# Oracle: the server itself. Each broken state is first judged by the
# pre-flight, then pg_reload_conf() is run and the server log must say "SSL
# configuration was not reloaded" with the same reason (or, for states the
# server accepts, must not), and the served certificate must not change while
# the pre-flight runs.
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('preflight', cert => 'server-chain.crt', key => 'server.key', ca => 'ca-bundle.crt');
my $pgdata = $node->data_dir;

sub install_file
{
	my ($from, $to, $mode) = @_;
	unlink "$pgdata/$to" if -f "$pgdata/$to";
	copy(cert_path($from), "$pgdata/$to") or die "copy $from: $!";
	chmod($mode // 0600, "$pgdata/$to");
}

sub restore_good
{
	rmdir "$pgdata/server.crt" if -d "$pgdata/server.crt";
	install_file('server-chain.crt', 'server.crt', 0644);
	install_file('server.key', 'server.key', 0600);
}

sub stage
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(ok::text, 'null') || '|' || coalesce(error, '') FROM tls_audit.reload_preflight() WHERE stage = '$name'");
}

sub would_succeed
{
	return $node->safe_psql('postgres', 'SELECT tls_audit.reload_would_succeed()');
}

sub reload_check
{
	return $node->safe_psql('postgres',
		q{SELECT severity || '|' || coalesce(object, '') || '|' || message FROM tls_audit.run_checks()
		  WHERE "check" = 'server_tls_reload_would_fail' ORDER BY severity});
}

sub served_sha
{
	return $node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()');
}

# pg_reload_conf(); returns what the server logged while reloading.
sub reload_and_log
{
	my $offset = -s $node->logfile;
	my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT pg_conf_load_time() > '$before'::timestamptz")
	  or die 'the server did not reload';
	# The postmaster logs the SSL outcome before the backends see the new time.
	return slurp_file($node->logfile, $offset);
}

# A broken state: the pre-flight fails at $stage with $reason, the check is
# critical, the running server is untouched, and a real reload is refused
# with the same reason.
sub expect_refused
{
	my ($what, $stage_name, $reason, $server_words) = @_;
	my $served = served_sha();
	my ($ok, $error) = split /\|/, stage($stage_name), 2;
	is($ok, 'false', "$what: pre-flight stage $stage_name fails");
	like($error, $reason, "$what: OpenSSL's reason") or diag($error);
	is(would_succeed(), 'f', "$what: reload_would_succeed() is false");
	like(reload_check(), qr/^critical\|.*stage \Q$stage_name\E\)/, "$what: server_tls_reload_would_fail is critical");
	is(served_sha(), $served, "$what: the pre-flight did not change the served certificate");
	my $log = reload_and_log();
	like($log, qr/SSL configuration was not reloaded/, "$what: the server refuses the reload too");
	if ($server_words)
	{
		like($log, $server_words, "$what: the server logs its own reason");
	}
	elsif ($error ne '')
	{
		like($log, qr/\Q$error\E/, "$what: the server logs the reason the pre-flight gave");
	}
	restore_good();
}

# --- a good configuration ------------------------------------------------------

is($node->safe_psql('postgres', q{SELECT string_agg(stage || '=' || ok, ',') FROM tls_audit.reload_preflight()}),
	'certificate=true,key=true,key_match=true,ca=true,crl=true,dh_params=true,ciphers=true,protocols=true',
	'all eight stages, in the server\'s order, pass');
is(would_succeed(), 't', 'reload_would_succeed() on a good configuration');
like(reload_check(), qr/^ok\|/, 'server_tls_reload_would_fail ok');

# --- broken files --------------------------------------------------------------

unlink "$pgdata/server.crt";
expect_refused('ssl_cert_file deleted', 'certificate', qr/No such file/);

open my $fh, '>', "$pgdata/server.crt" or die;
close $fh;
expect_refused('ssl_cert_file empty', 'certificate', qr/no start line/);

install_file('server.key', 'server.crt', 0644);
expect_refused('ssl_cert_file holding only a key', 'certificate', qr/no start line/);

unlink "$pgdata/server.crt";
mkdir "$pgdata/server.crt" or die;
# The server reads a directory as an empty file ("no start line"); the
# pre-flight does not hand OpenSSL a path and says what is there instead.
expect_refused('ssl_cert_file a directory', 'certificate',
	qr/^ssl_cert_file "server\.crt" is a directory: the next reload or restart will hang or fail$/,
	qr/could not load server certificate file "server\.crt": no start line/);

install_file('server-newkey.key', 'server.key', 0600);
expect_refused('a key that does not match', 'key_match', qr/key values mismatch/);

chmod 0644, "$pgdata/server.key";
expect_refused('a world-readable key', 'key', qr/has group or world access/);

# RSA-1024 at Debian's default security level (2): the server's OpenSSL
# refuses the certificate before ssl_ciphers could lower the level.
install_file('rsa1024-chain.crt', 'server.crt', 0644);
install_file('rsa1024.key', 'server.key', 0600);
my ($ok1024) = split /\|/, stage('certificate');
if ($ok1024 eq 'false')
{
	expect_refused('an RSA-1024 key', 'certificate', qr/ee key too small/);
}
else
{
	# A system whose OpenSSL configuration allows 1024-bit keys: then the
	# server loads it too.
	is(would_succeed(), 't', 'RSA-1024 allowed by this system\'s OpenSSL level');
	unlike(reload_and_log(), qr/SSL configuration was not reloaded/, 'and the server loads it');
	restore_good();
	reload_and_log();
}

# A chain missing its intermediate loads (the server does not verify its own
# chain; clients may then fail to verify it: server_cert_chain's business):
# the pre-flight says a reload succeeds, as it does.
install_file('server.crt', 'server.crt', 0644);
is(would_succeed(), 't', 'leaf without its intermediate: a reload would succeed');
unlike(reload_and_log(), qr/SSL configuration was not reloaded/, 'and the server does reload it');
restore_good();
reload_and_log();

# --- settings changed in the configuration files, not applied yet --------------

$node->append_conf('postgresql.conf', "ssl_crl_file = 'missing.crl'");
like(stage('crl'), qr/^false\|/, 'pending ssl_crl_file (unreadable) seen through pg_file_settings');
is($node->safe_psql('postgres', q{SELECT file FROM tls_audit.reload_preflight() WHERE stage = 'crl'}),
	'missing.crl', 'the pending file is the one checked');
expect_refused('an unreadable ssl_crl_file', 'crl', qr/./);

open $fh, '>', "$pgdata/garbage.crl" or die;
print $fh "this is not a CRL\n";
close $fh;
$node->append_conf('postgresql.conf', "ssl_crl_file = 'garbage.crl'");
expect_refused('a garbage ssl_crl_file', 'crl', qr/no certificate or crl found/i);
$node->append_conf('postgresql.conf', "ssl_crl_file = ''");
reload_and_log();
is(would_succeed(), 't', 'good again after the CRL setting is cleared');

# --- privileges ----------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN; CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM tls_audit.reload_preflight()',
	extra_params => ['-U', 'nobody']);
isnt($rc, 0, 'PUBLIC may not run reload_preflight()');
like($err, qr/permission denied/, 'permission denied for PUBLIC');
($rc, $out, $err) = $node->psql('postgres', 'SELECT tls_audit.reload_would_succeed()', extra_params => ['-U', 'nobody']);
like($err, qr/permission denied/, 'nor reload_would_succeed()');
($rc, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM tls_audit.reload_preflight()',
	extra_params => ['-U', 'watcher']);
is($out, '8', 'pg_monitor may');

# --- CRL coverage --------------------------------------------------------------
# ssl_ca_file = intermediate + root, ssl_crl_file = the intermediate's CRL
# only: the server checks CRLs for the whole chain, so the intermediate (whose
# CRL would come from the root) fails and every client certificate with it.

my $crl_node = new_tls_node('crl', cert => 'server-chain.crt', key => 'server.key', ca => 'ca-bundle.crt',
	conf => "ssl_crl_file = '" . cert_path('intermediate.crl') . "'",
	hba => 'hostssl all all 127.0.0.1/32 cert');
$crl_node->safe_psql('postgres', 'CREATE ROLE tls_audit_client LOGIN');
my $root_subject = openssl_field('root.crt', 'subject', '-nameopt', 'RFC2253');
is($crl_node->safe_psql('postgres', q{SELECT string_agg(crl_present::text, ',' ORDER BY position) FROM tls_audit.ca_certificates}),
	'true,false', 'ca_certificates.crl_present: the intermediate has a CRL, the root has none');
is($crl_node->safe_psql('postgres',
		q{SELECT severity || '|' || object FROM tls_audit.run_checks() WHERE "check" = 'crl_coverage'}),
	"critical|$root_subject", 'crl_coverage is critical for the root');
my $offset = -s $crl_node->logfile;
my ($crc, $cout, $cerr) = tls_psql($crl_node, 'SELECT 1', cert => 'client.crt', key => 'client.key',
	user => 'tls_audit_client');
isnt($crc, 0, 'a client certificate below the CA without a CRL is refused');
like(slurp_file($crl_node->logfile, $offset), qr/could not accept SSL connection|certificate verify failed|unable to get certificate CRL/,
	'the server log shows the refusal');
# The oracle's other half: with the root's CRL too, the same client gets in.
my $crl_dir = $crl_node->data_dir;
system("cat '" . cert_path('intermediate.crl') . "' '" . cert_path('root.crl') . "' > '$crl_dir/all.crl'") == 0
  or die 'cannot write all.crl';
$crl_node->append_conf('postgresql.conf', "ssl_crl_file = 'all.crl'");
$crl_node->reload;
$crl_node->poll_query_until('postgres', q{SELECT bool_and(crl_present) FROM tls_audit.ca_certificates})
  or die 'the CRL setting was not applied';
like($crl_node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'crl_coverage'}),
	qr/^ok$/, 'crl_coverage ok once every CA has a CRL');
($crc, $cout, $cerr) = tls_psql($crl_node, 'SELECT 1', cert => 'client.crt', key => 'client.key',
	user => 'tls_audit_client');
is($crc, 0, 'the same client certificate is accepted once the root\'s CRL is there') or diag($cerr);

done_testing();
