# tls_audit.sessions: every session's transport and TLS details, the protocol
# floor (tls_audit.min_protocol), visibility by role, walsenders, and no stale
# registry slots after many connections.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('sessions', allows_streaming => 1, conf => "max_connections = 40");

# A long-lived psql session (kept open while others look at it).
#   same options as tls_connstr, plus unix => 1 for a unix-socket session.
sub open_session
{
	my ($n, %opt) = @_;
	my $connstr =
	  $opt{unix}
	  ? $n->connstr('postgres') . " application_name=$opt{application_name}"
	  : tls_connstr($n, %opt);
	my $legacy = ($opt{max} // '') =~ /^TLSv1(\.1)?$/;
	local $ENV{OPENSSL_CONF} = legacy_openssl_conf() if $legacy;
	# psql uses the last -d it is given.
	return $n->background_psql('postgres', extra_params => [ '-d', $connstr ]);
}

is($node->safe_psql('postgres', 'SELECT tls_audit.preloaded()'), 't', 'registry active when preloaded');

# --- one session per transport and protocol version --------------------------
my %open;
for my $v (qw(TLSv1 TLSv1.1 TLSv1.2 TLSv1.3))
{
	(my $tag = $v) =~ s/\W//g;
	$open{$v} = open_session($node, min => $v, max => $v, application_name => "s_$tag");
}
$open{tcp} = open_session($node, sslmode => 'disable', application_name => 's_tcp');
$open{unix} = open_session($node, unix => 1, application_name => 's_unix');

my $floor_query = q{SELECT application_name, transport, coalesce(protocol, '-'), below_floor,
	coalesce(floor_reason, '-') FROM tls_audit.sessions WHERE application_name LIKE 's\_%' ORDER BY 1};
is( $node->safe_psql('postgres', $floor_query),
	join("\n",
		's_TLSv1|tls|TLSv1|t|TLSv1 < TLSv1.2',
		's_TLSv11|tls|TLSv1.1|t|TLSv1.1 < TLSv1.2',
		's_TLSv12|tls|TLSv1.2|f|-',
		's_TLSv13|tls|TLSv1.3|f|-',
		's_tcp|tcp|-|t|no TLS',
		's_unix|unix|-|f|-'),
	'floor TLSv1.2: TLSv1/1.1 and plain TCP below, 1.2/1.3 and unix not');

# The TLS columns agree with pg_stat_ssl, the addresses with pg_stat_activity.
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM tls_audit.sessions s
		JOIN pg_stat_ssl l USING (pid) JOIN pg_stat_activity a USING (pid)
		WHERE s.application_name LIKE 's\_%'
		  AND s.protocol IS NOT DISTINCT FROM l.version AND s.cipher IS NOT DISTINCT FROM l.cipher
		  AND s.bits IS NOT DISTINCT FROM l.bits AND s.client_addr IS NOT DISTINCT FROM a.client_addr
		  AND s.client_port = a.client_port AND s.backend_start = a.backend_start
		  AND s.usename = a.usename AND s.datname = a.datname}),
	'6', 'protocol, cipher, bits, address, port, start agree with pg_stat_ssl/pg_stat_activity');

# --- the floor follows a reload, without reconnecting ------------------------
$node->safe_psql('postgres', "ALTER SYSTEM SET tls_audit.min_protocol = 'TLSv1.3'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok( $node->poll_query_until(
		'postgres',
		"SELECT below_floor AND floor_reason = 'TLSv1.2 < TLSv1.3' FROM tls_audit.sessions WHERE application_name = 's_TLSv12'"),
	'after reload to TLSv1.3 the open TLSv1.2 session is below the floor');
is( $open{'TLSv1.2'}->query_safe(
		'SELECT below_floor, floor_reason FROM tls_audit.sessions WHERE pid = pg_backend_pid()'),
	't|TLSv1.2 < TLSv1.3',
	'the TLSv1.2 session itself sees the new floor without reconnecting');
is($node->safe_psql('postgres', "SELECT below_floor FROM tls_audit.sessions WHERE application_name = 's_TLSv13'"),
	'f', 'TLSv1.3 session is not below a TLSv1.3 floor');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET tls_audit.min_protocol');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok( $node->poll_query_until(
		'postgres', "SELECT NOT below_floor FROM tls_audit.sessions WHERE application_name = 's_TLSv12'"),
	'reset to the default floor: TLSv1.2 no longer flagged');

# An invalid floor is rejected with the valid names.
my ($rc, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET tls_audit.min_protocol = 'TLSv9'");
like($err, qr/invalid value for parameter "tls_audit.min_protocol": "TLSv9".*Available values: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3/s,
	'invalid floor rejected with the list of valid values');

# --- client certificate details ---------------------------------------------
my $row = tls_query(
	$node, q{SELECT client_subject, client_issuer, client_serial,
		to_char(client_not_before AT TIME ZONE 'UTC', 'Mon FMDD HH24:MI:SS YYYY "GMT"'),
		to_char(client_not_after AT TIME ZONE 'UTC', 'Mon FMDD HH24:MI:SS YYYY "GMT"'),
		client_days_left = floor(extract(epoch FROM client_not_after - now()) / 86400),
		client_key_type, client_key_bits, client_signature_algorithm, sni, key_exchange_group IS NOT NULL
		FROM tls_audit.sessions WHERE pid = pg_backend_pid()},
	cert => 'client.crt', key => 'client.key', host => 'localhost', min => 'TLSv1.3');
my @f = split /\|/, $row;
is($f[0], openssl_field('client.crt', 'subject', '-nameopt', 'RFC2253'), 'client_subject matches openssl');
is($f[1], openssl_field('client.crt', 'issuer', '-nameopt', 'RFC2253'), 'client_issuer matches openssl');
is($f[2], openssl_field('client.crt', 'serial'), 'client_serial matches openssl');
(my $want_nb = openssl_field('client.crt', 'startdate')) =~ s/\s+/ /g;
(my $want_na = openssl_field('client.crt', 'enddate')) =~ s/\s+/ /g;
is($f[3], $want_nb, 'client_not_before equals openssl x509 -startdate');
is($f[4], $want_na, 'client_not_after equals openssl x509 -enddate');
is($f[5], 't', 'client_days_left counts whole days to not_after');
my $text = `openssl x509 -in @{[cert_path('client.crt')]} -noout -text`;
my ($want_bits) = $text =~ /Public-Key: \((\d+) bit\)/;
my ($want_sig) = $text =~ /Signature Algorithm: (\S+)/;
is($f[6], 'RSA', 'client_key_type');
is($f[7], $want_bits, 'client_key_bits matches openssl');
is($f[8], $want_sig, 'client_signature_algorithm matches openssl');
is($f[9], 'localhost', 'sni is the host name the client asked for');
is($f[10], 't', 'key_exchange_group is named');

# A DN longer than pg_stat_ssl's 63 bytes appears whole.
$row = tls_query(
	$node, q{SELECT s.client_subject, length(l.client_dn) FROM tls_audit.sessions s
		JOIN pg_stat_ssl l USING (pid) WHERE pid = pg_backend_pid()},
	cert => 'client-longdn.crt', key => 'client-longdn.key');
my ($long, $pg_len) = split /\|/, $row;
is($long, openssl_field('client-longdn.crt', 'subject', '-nameopt', 'RFC2253'), 'long DN appears whole');
cmp_ok(length($long), '>', 63, 'the DN is longer than 63 bytes');
cmp_ok($pg_len, '<=', 63, 'while pg_stat_ssl cuts it');

# --- visibility --------------------------------------------------------------
$node->safe_psql(
	'postgres', q{CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN;
	CREATE ROLE mon LOGIN IN ROLE pg_monitor;});
my $bob = open_session($node, user => 'bob', cert => 'client.crt', key => 'client.key', application_name => 'bob_app');
my $bob_pid = $bob->query_safe('SELECT pg_backend_pid()');
my $who = q{SELECT usename, application_name, transport IS NOT NULL, protocol IS NOT NULL,
	client_subject IS NOT NULL, client_addr IS NOT NULL, backend_start IS NOT NULL, below_floor IS NOT NULL
	FROM tls_audit.sessions WHERE pid = };
is( tls_query(
		$node, $who . 'pg_backend_pid()',
		user => 'alice',
		cert => 'client.crt',
		key => 'client.key',
		application_name => 'alice_app'),
	'alice|alice_app|t|t|t|t|t|t', 'ordinary role sees its own row in full');
is(tls_query($node, $who . $bob_pid, user => 'alice'),
	'bob|bob_app|f|f|f|f|f|f', "ordinary role sees another role's row without TLS details");
is(tls_query($node, $who . $bob_pid, user => 'mon'), 'bob|bob_app|t|t|t|t|t|t', 'pg_monitor member sees all');
is(tls_query($node, 'SELECT count(*) FROM tls_audit.sessions WHERE protocol IS NOT NULL', user => 'alice'),
	'1', 'ordinary role sees TLS details of its own session only');
my ($src, undef, $serr) = tls_psql($node, 'SELECT count(*) FROM tls_audit.registry_slots()', user => 'alice');
like($serr, qr/permission denied/, 'registry_slots() is not for ordinary roles');
is(tls_query($node, "SELECT count(*) FROM tls_audit.registry_slots() WHERE pid = $bob_pid", user => 'mon'),
	'1', 'pg_monitor member may read registry_slots()');
$bob->quit;

# --- walsenders over TLS ------------------------------------------------------
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('sessions_standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
# The base backup gives files group access; the server refuses such a key.
chmod 0600, $standby->data_dir . '/server.key';
$standby->append_conf('postgresql.conf',
	"primary_conninfo = 'host=127.0.0.1 port=@{[$node->port]} sslmode=require application_name=standby_tls'");
$standby->start;
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) = 1 FROM tls_audit.sessions
		WHERE backend_type = 'walsender' AND application_name = 'standby_tls'}),
	'walsender appears');
is( $node->safe_psql(
		'postgres', q{SELECT s.transport, s.protocol, s.below_floor, s.usename = r.usename,
		s.key_exchange_group IS NOT NULL
		FROM tls_audit.sessions s JOIN pg_stat_replication r USING (pid)
		WHERE s.backend_type = 'walsender'}),
	'tls|TLSv1.3|f|t|t', 'walsender over TLS: transport, protocol, floor, registry details');
$standby->stop;

# --- no stale rows after many connections -------------------------------------
my $cycles = 200;
my $failed = 0;
for my $i (1 .. $cycles)
{
	my ($crc) = tls_psql($node, 'SELECT 1', cert => 'client.crt', key => 'client.key', host => 'localhost',
		application_name => "cycle$i");
	$failed++ if $crc != 0;
}
is($failed, 0, "$cycles TLS connect/disconnect cycles succeeded");
# Backends finish exiting asynchronously after their client leaves.
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'cycle%'}),
	'the cycling backends have exited');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.sessions WHERE application_name LIKE 'cycle%'}),
	'0', 'no rows left by the cycles');
is( $node->safe_psql(
		'postgres', q{SELECT (SELECT count(*) FROM tls_audit.sessions) =
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('client backend', 'walsender'))}),
	't', 'rows == live client backends and walsenders');
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM tls_audit.registry_slots() r
		LEFT JOIN pg_stat_activity a ON a.pid = r.pid AND a.backend_start = r.backend_start
		WHERE a.pid IS NULL}),
	'0', 'no stale registry slot: every slot belongs to a live backend');
is( $node->safe_psql(
		'postgres', q{SELECT (SELECT count(*) FROM tls_audit.registry_slots()) =
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('client backend', 'walsender'))}),
	't', 'registry slots in use == live sessions (every session, TLS or not, records how it authenticated)');

$_->quit for values %open;
$node->stop;

# --- without shared_preload_libraries ------------------------------------------
my $plain = new_tls_node('sessions_nopreload', preload => 0, conf => "tls_audit.min_protocol = 'TLSv1.3'");
is( tls_query(
		$plain, q{SELECT tls_audit.preloaded(), transport, protocol, below_floor, floor_reason,
		client_subject IS NULL, sni IS NULL FROM tls_audit.sessions WHERE pid = pg_backend_pid()},
		max => 'TLSv1.2', cert => 'client.crt', key => 'client.key', host => 'localhost'),
	'f|tls|TLSv1.2|t|TLSv1.2 < TLSv1.3|t|t',
	'not preloaded: view works from pg_stat_ssl data, registry columns NULL, floor from the config file');
is($plain->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.registry_slots()'), '0',
	'not preloaded: no registry slots');
$plain->stop;

done_testing();
