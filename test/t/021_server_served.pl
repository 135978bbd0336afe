# Where server_tls() learns what is served: the handshake capture, the
# loopback self-probe, or nothing (served_source).
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

sub sha256_of
{
	my ($cert) = @_;
	(my $fp = lc(openssl_field($cert, 'fingerprint', '-sha256'))) =~ s/://g;
	return $fp;
}
my $chain_sha = sha256_of('server-chain.crt');
my $renewed_sha = sha256_of('server-renewed-chain.crt');

# --- a session that lived through a reload -----------------------------------------

my $node = new_tls_node('served', cert => 'server-chain.crt', ca => 'root.crt');
my $long = $node->background_psql('postgres');
tls_query($node, 'SELECT 1');
is($long->query_safe('SELECT served_source, served_sha256 FROM tls_audit.server_tls()'), "handshake|$chain_sha",
	'long-lived session before any reload: the capture answers');

copy(cert_path('server-renewed-chain.crt'), $node->data_dir . '/server.crt') or die;
my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
$node->poll_query_until('postgres', "SELECT pg_conf_load_time() > '$before'::timestamptz") or die;
is(tls_query($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()'), $renewed_sha, 'renewed certificate served');
$long->query_safe('SELECT 1');    # the session processes the reload between commands

# The capture was made by a backend forked at the postmaster's reload, a
# moment before this session processed the same reload: it cannot tell that
# the capture is current, so it asks the server itself.
is($long->query_safe('SELECT served_source, served_sha256, reload_pending FROM tls_audit.server_tls()'),
	"self_probe|$renewed_sha|f", 'session that processed a reload: the self-probe answers, and is right');
my $at1 = $long->query_safe('SELECT served_at FROM tls_audit.server_tls()');
$long->query_safe('SELECT pg_sleep(1.1)');    # a new probe would have a later served_at
my $at2 = $long->query_safe('SELECT served_at FROM tls_audit.server_tls()');
is($at2, $at1, 'the self-probe answer is reused until the next reload');
is($node->safe_psql('postgres', 'SELECT served_source, served_sha256, reload_pending FROM tls_audit.server_tls()'),
	"handshake|$renewed_sha|f", 'a new session uses the capture');
$long->quit;
$node->stop;

# --- without shared_preload_libraries: no capture, the self-probe answers -------------

my $plain = new_tls_node('not_preloaded', preload => 0);
tls_query($plain, 'SELECT 1');
is($plain->safe_psql('postgres', 'SELECT served_source, served_sha256, reload_pending, key_matches_cert FROM tls_audit.server_tls()'),
	"self_probe|$chain_sha|f|t", 'not preloaded: self_probe');
is($plain->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.server_certificates WHERE source = 'served'}), '2',
	'served rows from the self-probe');
$plain->stop;

# --- no TCP listener: served is unknown, the files are still checked ----------------------

my $local = new_tls_node('unix_only', conf => "listen_addresses = ''");
is($local->safe_psql('postgres', 'SELECT served_source, served_sha256 IS NULL, reload_pending IS NULL, key_matches_cert, chain_complete FROM tls_audit.server_tls()'),
	'none|t|t|t|t', 'listen_addresses empty: served_source none, files still checked');
like($local->safe_psql('postgres', 'SELECT served_error FROM tls_audit.server_tls()'), qr/listen_addresses is empty/,
	'served_error says why');
is($local->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE source = 'file') || '|' || count(*) FILTER (WHERE source = 'served') FROM tls_audit.server_certificates}),
	'2|0', 'only file rows');
$local->stop;

done_testing();
