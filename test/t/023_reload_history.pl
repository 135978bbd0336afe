# tls_audit.reload_history, server_tls()'s last_reload_* columns and the
# check server_tls_reload_failed, on a real cluster with the library preloaded.
#
# Oracle: the server itself. Each reload is judged by the server's own log
# ("SSL configuration was not reloaded" and the reason before it), and the
# served certificate by a real TLS handshake (openssl x509 of the file served).
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use TlsAuditTest;

my $node = new_tls_node('history', cert => 'server-chain.crt', key => 'server.key', ca => 'ca-bundle.crt');
my $pgdata = $node->data_dir;

sub install_file
{
	my ($from, $to, $mode) = @_;
	unlink "$pgdata/$to" if -f "$pgdata/$to";
	copy(cert_path($from), "$pgdata/$to") or die "copy $from: $!";
	chmod($mode // 0600, "$pgdata/$to");
}

sub sha256_of
{
	my ($cert) = @_;
	my $fp = openssl_field($cert, 'fingerprint', '-sha256');
	$fp =~ s/://g;
	return lc $fp;
}

sub reloads
{
	return $node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.reload_history WHERE kind = 'reload'});
}

sub last_entry
{
	return $node->safe_psql('postgres',
		q{SELECT kind || '|' || outcome || '|' || coalesce(ok::text, 'null') || '|' || coalesce(error, '')
		    FROM tls_audit.reload_history ORDER BY seq DESC LIMIT 1});
}

# pg_reload_conf(), then wait (bounded) until the history has one more
# reload that is over; returns the server log written meanwhile.
sub reload_and_wait
{
	my $before = $node->safe_psql('postgres', 'SELECT max(seq) FROM tls_audit.reload_history');
	my $offset = -s $node->logfile;
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres',
		qq{SELECT seq > $before AND outcome <> 'in progress'
		     FROM tls_audit.reload_history ORDER BY seq DESC LIMIT 1})
	  or die 'the reload was not recorded';
	return slurp_file($node->logfile, $offset);
}

sub served_now
{
	# A TLS connection (it is captured) then what the latest entry says.
	tls_query($node, 'SELECT 1');
	return $node->safe_psql('postgres',
		q{SELECT coalesce(served_sha256, '') FROM tls_audit.reload_history ORDER BY seq DESC LIMIT 1});
}

# --- start ------------------------------------------------------------------

is($node->safe_psql('postgres', q{SELECT kind || '|' || outcome || '|' || ok FROM tls_audit.reload_history}),
	'start|loaded|true', 'one start entry after the server started');
is(served_now(), sha256_of('server.crt'), 'the start entry names the served leaf after a TLS connection');
is($node->safe_psql('postgres', 'SELECT last_reload_ok, last_reload_error IS NULL, last_reload_at IS NOT NULL FROM tls_audit.server_tls()'),
	't|t|t', 'server_tls(): last reload ok');

# --- a renewed, valid pair ------------------------------------------------------

install_file('server-renewed-chain.crt', 'server.crt', 0644);
my $log = reload_and_wait();
unlike($log, qr/SSL configuration was not reloaded/, 'the server loaded the renewed pair');
is(last_entry(), 'reload|loaded|true|', 'history: loaded');
is(served_now(), sha256_of('server-renewed.crt'), 'history: the renewed leaf is served afterwards');
is($node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()'), sha256_of('server-renewed.crt'),
	'server_tls() agrees on the served certificate');
like($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_failed'}),
	qr/^ok$/, 'server_tls_reload_failed ok');

# --- a bad pair: pg_reload_conf() is refused -------------------------------------

install_file('server-newkey.key', 'server.key', 0600);
$log = reload_and_wait();
like($log, qr/SSL configuration was not reloaded/, 'the server refused the mismatched key');
my ($kind, $outcome, $ok, $error) = split /\|/, last_entry(), 4;
is("$kind|$outcome|$ok", 'reload|kept previous configuration|false', 'history: kept previous configuration');
like($error, qr/key values mismatch|check of private key failed/, 'history: the reason') or diag($error);
like($log, qr/\Q$error\E/, 'the reason is the one in the server log');
is(served_now(), sha256_of('server-renewed.crt'), 'the previous certificate is still served');
is($node->safe_psql('postgres', 'SELECT last_reload_ok, last_reload_error FROM tls_audit.server_tls()'),
	"f|$error", 'server_tls(): last reload failed, with the reason');
like($node->safe_psql('postgres',
		q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_failed'}),
	qr/^critical$/, 'server_tls_reload_failed is critical');
like($node->safe_psql('postgres',
		q{SELECT message FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_failed'}),
	qr/kept the previous TLS configuration: \Q$error\E/, 'and names the reason');

# A world-readable key: the server's own permission rule.
install_file('server.key', 'server.key', 0644);
$log = reload_and_wait();
($kind, $outcome, $ok, $error) = split /\|/, last_entry(), 4;
is($ok, 'false', 'world-readable key: refused');
like($error, qr/group or world access/, 'world-readable key: the reason') or diag($error);

# Fixed: loaded again, the check is ok again.
chmod 0600, "$pgdata/server.key";
reload_and_wait();
is(last_entry(), 'reload|loaded|true|', 'fixed: loaded');
like($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_failed'}),
	qr/^ok$/, 'server_tls_reload_failed ok again');

# --- the ring is bounded ---------------------------------------------------------

my $t0 = time;
reload_and_wait() for 1 .. 32;
is($node->safe_psql('postgres', 'SELECT count(*), max(seq) - min(seq) FROM tls_audit.reload_history'),
	'32|31', 'at most 32 entries, the newest ones');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.reload_history WHERE kind = 'start'}),
	'0', 'the start entry was pushed out');
note(sprintf('32 reloads recorded in %.1f s', time - $t0));

# --- privileges -----------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN; CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM tls_audit.reload_history', extra_params => ['-U', 'nobody']);
like($err, qr/permission denied/, 'PUBLIC may not read reload_history');
($rc, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM tls_audit.reload_history', extra_params => ['-U', 'watcher']);
is($out, '32', 'pg_monitor may');

# --- not preloaded: a clean error -------------------------------------------------

my $plain = new_tls_node('plain', cert => 'server-chain.crt', key => 'server.key', preload => 0);
($rc, $out, $err) = $plain->psql('postgres', 'SELECT * FROM tls_audit.reload_history');
like($err, qr/needs pg_tls_audit in shared_preload_libraries/, 'not preloaded: reload_history says why');
is($plain->safe_psql('postgres', 'SELECT last_reload_at IS NULL AND last_reload_ok IS NULL FROM tls_audit.server_tls()'),
	't', 'not preloaded: server_tls() last_reload_* are NULL');
like($plain->safe_psql('postgres', q{SELECT severity || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_failed'}),
	qr/^info\|not available: .*shared_preload_libraries/, 'not preloaded: server_tls_reload_failed not available');

done_testing();
