# Post-quantum key exchange from both sides: what the server offers
# (server_tls(), the check pq_key_exchange, probe_groups()) and which clients
# used a hybrid ML-KEM group (sessions, pq_readiness(), its summary).
#
# What can be tested depends on the server: its OpenSSL (3.5 has the hybrid
# groups, 3.0 does not) and its PostgreSQL (18's ssl_groups takes a list,
# ssl_ecdh_curve up to 17 one curve). The file finds out which case it runs
# in and tests that case fully; every case has tests, none is skipped whole.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('pq', conf => "ssl_min_protocol_version = 'TLSv1.2'\nssl_ciphers = 'HIGH:!aNULL'");
my $version = $node->safe_psql('postgres', 'SHOW server_version_num');
my $hybrid = $node->safe_psql('postgres', 'SELECT hybrid_groups_supported FROM tls_audit.server_tls()') eq 't';
my $openssl = `openssl version`;
chomp $openssl;
my $groups_setting = $version >= 180000 ? 'ssl_groups' : 'ssl_ecdh_curve';
diag("PostgreSQL $version, server OpenSSL has hybrid groups: " . ($hybrid ? 'yes' : 'no') . "; client $openssl");

# The client's own OpenSSL must agree: the clients here are the same build.
is(($openssl =~ /^OpenSSL (\d+)\.(\d+)/ && ($1 > 3 || ($1 == 3 && $2 >= 5))) ? 1 : 0, $hybrid ? 1 : 0,
	'the client OpenSSL has hybrid groups exactly when the server\'s has');

sub checks_row
{
	my $out = $node->safe_psql('postgres',
		"SELECT severity, coalesce(object, ''), message, coalesce(hint, '') FROM tls_audit.run_checks() "
		  . "WHERE \"check\" = 'pq_key_exchange'");
	my @rows = split /\n/, $out;
	is(scalar(@rows), 1, 'pq_key_exchange reports one row');
	return [ split /\|/, $rows[0], 4 ];
}

# The group of a new TLS connection, as the session itself sees it.
sub session_group
{
	my (%opt) = @_;
	my ($rc, $out, $err) = tls_psql($node, 'SELECT key_exchange_group, protocol FROM tls_audit.connection()', %opt);
	is($rc, 0, "TLS connection ($opt{application_name}) succeeded") or diag($err);
	return $out;
}

# Client OpenSSL configurations that offer only classic groups (libpq reads
# OPENSSL_CONF; system_default applies to every context it makes): X25519
# alone, and X25519 or P-256 (a server up to 17 offers P-256 only).
my $dir = tempdir(CLEANUP => 1);
sub groups_conf
{
	my ($name, $groups) = @_;
	my $path = "$dir/$name.cnf";
	open my $fh, '>', $path or die "$path: $!";
	print $fh "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
	  . "system_default = system_default_sect\n[system_default_sect]\nGroups = $groups\n";
	close $fh;
	return $path;
}
my $x25519_conf = groups_conf('x25519-only', 'X25519');
my $classic_conf = groups_conf('classic', 'X25519:P-256');

# --- what the server offers ----------------------------------------------------------

my $tls = tls_query($node,
	"SELECT array_to_string(offered_groups, ':'), offered_groups_source FROM tls_audit.server_tls()",
	application_name => 'pq_offer');
my $unix = $node->safe_psql('postgres',
	"SELECT array_to_string(offered_groups, ':'), offered_groups_source FROM tls_audit.server_tls()");
my $default_groups = $version >= 180000 ? 'x25519:secp256r1' : 'secp256r1';
is($tls, "$default_groups|session", "default $groups_setting: the server's context offers $default_groups (own TLS session)");
is($unix, "$default_groups|settings", '... the same from a context built from the setting (unix socket)');

my $row = checks_row();
if (!$hybrid)
{
	# OpenSSL before 3.5 (PostgreSQL 15 on Debian 12).
	is($row->[0], 'info', 'no hybrid groups in this OpenSSL: pq_key_exchange is info');
	like($row->[2], qr/not supported by this OpenSSL \d+\.\d+/, '... saying this OpenSSL cannot, with its version');
	my $probe = $node->safe_psql('postgres',
		"SELECT group_name || '|' || coalesce(supported::text, 'null') || '|' || status || '|' || coalesce(note, '') "
		  . "FROM tls_audit.probe_groups('127.0.0.1', " . $node->port . ") WHERE group_name LIKE '%MLKEM%' ORDER BY 1");
	my @rows = split /\n/, $probe;
	is(scalar(@rows), 3, 'probe_groups() names the three hybrid groups');
	like($_, qr/\|null\|not testable\|not supported by this OpenSSL \d/, "... not testable: $_") for @rows;
}
elsif ($version < 180000)
{
	# OpenSSL 3.5 with PostgreSQL 17 (Debian 13): one curve only.
	is($row->[0], 'warning', 'PostgreSQL 17 with OpenSSL 3.5: pq_key_exchange warns');
	is($row->[1], 'ssl_ecdh_curve', '... about ssl_ecdh_curve');
	like($row->[2], qr/PostgreSQL 18 is needed/, '... saying PostgreSQL 18 is needed');
	like($row->[3], qr/Upgrade to PostgreSQL 18/, '... and the hint says to upgrade');
	like(session_group(application_name => 'pq_17'), qr/^secp256r1\|TLSv1\.3$/, 'a libpq client gets secp256r1');
}
else
{
	# OpenSSL 3.5 with PostgreSQL 18 (Debian 13): the default ssl_groups
	# keeps the hybrid group out; the hint's line brings it in.
	is($row->[0], 'warning', "default ssl_groups with OpenSSL 3.5: pq_key_exchange warns");
	is($row->[1], 'ssl_groups', '... about ssl_groups');
	my ($line) = $row->[3] =~ /Set (ssl_groups = '[^']+')/;
	is($line, "ssl_groups = 'X25519MLKEM768:X25519:prime256v1'", "the hint names the line: $row->[3]");
	like(session_group(application_name => 'pq_before'), qr/^x25519\|TLSv1\.3$/,
		'before: a libpq 18 client gets x25519');

	$node->append_conf('postgresql.conf', "$line\n");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT current_setting('ssl_groups') = 'X25519MLKEM768:X25519:prime256v1'")
	  or die 'the reload did not apply ssl_groups';
	$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');

	is(session_group(application_name => 'pq_hybrid'), 'X25519MLKEM768|TLSv1.3',
		"after the hint's line and a reload: the next session is X25519MLKEM768");
	is(tls_query($node, "SELECT array_to_string(offered_groups, ':'), offered_groups_source FROM tls_audit.server_tls()",
			application_name => 'pq_hybrid'),
		'X25519MLKEM768:x25519:secp256r1|session', 'server_tls() reads the new groups from the session\'s context');
	$row = checks_row();
	is($row->[0], 'info', 'pq_key_exchange is info now');
	like($row->[2], qr/offers the hybrid post-quantum key exchange X25519MLKEM768/, "... naming the group: $row->[2]");

	# Clients that cannot: one whose OpenSSL offers X25519 only, one limited to TLS 1.2.
	{
		local $ENV{OPENSSL_CONF} = $x25519_conf;
		is(session_group(application_name => 'pq_classic'), 'x25519|TLSv1.3', 'OPENSSL_CONF Groups = X25519: x25519');
	}
	like(session_group(application_name => 'pq_tls12', max => 'TLSv1.2'), qr/^[^|]*\|TLSv1\.2$/, 'a TLS 1.2 client');

	my $rows = $node->safe_psql('postgres',
		"SELECT application_name, protocol, coalesce(key_exchange_group, ''), hybrid, connections, reason "
		  . "FROM tls_audit.pq_readiness() WHERE application_name LIKE 'pq\\_%' ORDER BY application_name");
	my %by_app = map { my @f = split /\|/; ($f[0] => \@f) } split /\n/, $rows;
	is(join('|', @{ $by_app{pq_hybrid} }[1 .. 4]), 'TLSv1.3|X25519MLKEM768|t|2', 'pq_readiness: two hybrid connections');
	is($by_app{pq_hybrid}[5] // '', '', '... with no reason');
	is(join('|', @{ $by_app{pq_classic} }[1 .. 4]), 'TLSv1.3|x25519|f|1', 'the X25519-only client: not hybrid, once');
	like($by_app{pq_classic}[5], qr/^classic key exchange x25519/, "... reason: $by_app{pq_classic}[5]");
	is(join('|', @{ $by_app{pq_tls12} }[1, 3, 4]), 'TLSv1.2|f|1', 'the TLS 1.2 client: not hybrid, once');
	like($by_app{pq_tls12}[5], qr/^TLSv1\.2: hybrid post-quantum groups need TLS 1\.3/, "... reason: $by_app{pq_tls12}[5]");
	is(scalar(grep { $_->[3] eq 't' } values %by_app), 1, 'only the hybrid client is counted as hybrid');
	is($node->safe_psql('postgres',
			"SELECT string_agg(application_name || '=' || key_exchange_group, ',' ORDER BY application_name) "
			  . "FROM tls_audit.census WHERE application_name IN ('pq_hybrid', 'pq_classic') AND outcome = 'authenticated'"),
		'pq_classic=x25519,pq_hybrid=X25519MLKEM768', 'tls_audit.census: each entry names its group as OpenSSL does');

	# The summary over TLS clients: the unix-socket connections of this
	# test are the rest (no TLS).
	my $sum = $node->safe_psql('postgres',
		"SELECT connections_hybrid, connections_tls12, connections_total - connections_hybrid - connections_tls12 "
		  . "- connections_no_tls, connections_unknown, complete FROM tls_audit.pq_readiness_summary()");
	is($sum, '2|1|1|0|t', 'summary: 2 hybrid, 1 TLS 1.2, 1 classic TLS 1.3, none unknown, complete');

	# probe_groups() sees the hybrid group accepted, the other hybrids refused.
	my $probe = $node->safe_psql('postgres',
		"SELECT group_name || '|' || coalesce(supported::text, 'null') || '|' || status "
		  . "FROM tls_audit.probe_groups('127.0.0.1', " . $node->port . ") "
		  . "WHERE protocol = 'TLSv1.3' AND group_name LIKE '%MLKEM%' ORDER BY 1");
	is($probe, "SecP256r1MLKEM768|false|not supported\nSecP384r1MLKEM1024|false|not supported\nX25519MLKEM768|true|supported",
		'probe_groups(): X25519MLKEM768 accepted, the other hybrid groups not');
}

# --- every case: the census tells TLS 1.2 and classic clients apart --------------------

$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
session_group(application_name => 'pq_any_tls12', max => 'TLSv1.2');
{
	local $ENV{OPENSSL_CONF} = $classic_conf;
	session_group(application_name => 'pq_any_classic');
}
# The server's first group both sides have: x25519 from 18's default list,
# secp256r1 (the one curve) up to 17.
my $classic = $version >= 180000 ? 'x25519' : 'secp256r1';
my $rows = $node->safe_psql('postgres',
	"SELECT application_name, protocol, coalesce(key_exchange_group, ''), hybrid, connections FROM tls_audit.pq_readiness() "
	  . "WHERE application_name LIKE 'pq\\_any\\_%' ORDER BY application_name");
is($rows, "pq_any_classic|TLSv1.3|$classic|f|1\npq_any_tls12|TLSv1.2|$classic|f|1",
	'pq_readiness(): the classic-groups and the TLS 1.2 clients, each once, not hybrid');
is($node->safe_psql('postgres', 'SELECT connections_hybrid, connections_tls12 FROM tls_audit.pq_readiness_summary()'),
	'0|1', 'summary: none hybrid, one TLS 1.2');
is($node->safe_psql('postgres',
		"SELECT string_agg(application_name || '=' || coalesce(key_exchange_group, 'NULL'), ',' ORDER BY application_name) "
		  . "FROM tls_audit.census WHERE application_name LIKE 'pq\\_any\\_%'"),
	"pq_any_classic=$classic,pq_any_tls12=$classic", 'tls_audit.census: the group of each entry');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.census WHERE transport <> 'tls' AND key_exchange_group IS NOT NULL"),
	'0', 'tls_audit.census: no group without TLS');

# Bad input: pq_readiness() takes an interval; garbage is a clean error.
my ($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM tls_audit.pq_readiness('soon')");
isnt($rc, 0, 'pq_readiness(\'soon\') fails');
like($err, qr/invalid input syntax for type interval/, '... with PostgreSQL\'s own message');

$node->stop;
done_testing();
