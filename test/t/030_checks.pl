# tls_audit.run_checks(): make every check fire on one node (settings changed
# by ALTER SYSTEM + reload, certificates switched by copying files), then
# configure the node cleanly and see every check report 'ok'.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node(
	'checks',
	server_openssl_conf => 1,    # so that RSA-1024 and SHA-1 certificates load
	hba => "host all all 10.0.0.0/8 md5\nhostnossl all all 192.168.0.0/16 scram-sha-256",
	conf => "ssl_ciphers = 'HIGH:3DES:eNULL:NULL-MD5:\@SECLEVEL=0'\npassword_encryption = md5");
my $pgdata = $node->data_dir;

# --- helpers --------------------------------------------------------------------

# run_checks() as [check, severity, object, message] rows; $pre runs first in
# the same session (e.g. SET of a threshold).
sub checks
{
	my ($pre) = @_;
	my $out = $node->safe_psql('postgres',
		($pre // '') . q{SELECT "check", severity, coalesce(object, ''), message FROM tls_audit.run_checks()});
	return [ map { [ split /\|/, $_, 4 ] } split /\n/, $out ];
}

sub rows_of
{
	my ($rows, $check) = @_;
	return grep { $_->[0] eq $check } @$rows;
}

# "severity:object" of each row of $check, sorted.
sub findings
{
	my ($rows, $check) = @_;
	return join(',', sort map { "$_->[1]:$_->[2]" } rows_of($rows, $check));
}

sub message_of
{
	my ($rows, $check, $object) = @_;
	my ($row) = grep { !defined $object || $_->[2] eq $object } rows_of($rows, $check);
	return $row ? $row->[3] : '';
}

sub reload_with
{
	my (%set) = @_;
	for my $name (sort keys %set)
	{
		$node->safe_psql('postgres', "ALTER SYSTEM SET $name = '$set{$name}'");
	}
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	for my $name (sort keys %set)
	{
		$node->poll_query_until('postgres', "SELECT current_setting('$name') = '$set{$name}'")
		  or die "reload did not apply $name";
	}
}

sub fingerprint
{
	my $fp = lc(openssl_field(shift, 'fingerprint', '-sha256'));
	$fp =~ s/://g;
	return $fp;
}

# Install $cert/$key as the server's files, reload, and wait until a new TLS
# connection is served the new certificate.
sub use_cert
{
	my ($cert, $key) = @_;
	copy(cert_path($cert), "$pgdata/server.crt") or die "copy $cert: $!";
	copy(cert_path($key), "$pgdata/server.key") or die "copy $key: $!";
	chmod 0600, "$pgdata/server.key";
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	my $want = fingerprint($cert);
	local $ENV{OPENSSL_CONF} = legacy_openssl_conf();    # the client accepts weak certificates too
	for (1 .. 100)
	{
		my ($rc, $out) = tls_psql($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()');
		return if $rc == 0 && $out eq $want;
		select(undef, undef, undef, 0.1);
	}
	die "the server never presented $cert";
}

# Whether the server negotiates $cipher with an OpenSSL client at TLSv1.2.
sub negotiates
{
	my ($cipher) = @_;
	my $port = $node->port;
	my $out = `echo | openssl s_client -connect 127.0.0.1:$port -starttls postgres -tls1_2 -cipher '$cipher:\@SECLEVEL=0' 2>&1`;
	return $out =~ /Cipher is \Q$cipher\E/ ? 1 : 0;
}

# A long-lived session (kept open while the checks look at it).
sub open_session
{
	my (%opt) = @_;
	local $ENV{OPENSSL_CONF} = legacy_openssl_conf();
	return $node->background_psql('postgres', extra_params => [ '-d', tls_connstr($node, %opt) ]);
}

# --- settings, ciphers, pg_hba.conf, passwords, sessions ------------------------

$node->safe_psql('postgres', "CREATE ROLE tap_md5 LOGIN PASSWORD 'not-a-secret'");    # md5, by the setting
my $old = open_session(min => 'TLSv1.1', max => 'TLSv1.1', cert => 'client.crt', key => 'client.key',
	application_name => 'tap_old');
is($old->query_safe(q{SELECT protocol FROM tls_audit.connection()}), 'TLSv1.1', 'a TLSv1.1 session is open');

my $rows = checks();
is(findings($rows, 'ssl_enabled'), 'ok:', 'ssl_enabled: ok');
is(findings($rows, 'min_protocol'), 'critical:ssl_min_protocol_version',
	'min_protocol: ssl_min_protocol_version TLSv1 is below the floor TLSv1.2 (critical)');
like(message_of($rows, 'min_protocol'), qr/allows TLSv1, below the floor TLSv1\.2/, 'min_protocol message');
is(findings($rows, 'max_protocol'), 'ok:', 'max_protocol: ok');

# The weak ciphers are the ones this OpenSSL really enables for the setting.
my $weak = findings($rows, 'weak_ciphers');
like($weak, qr/critical:eNULL/, 'weak_ciphers: NULL encryption (critical)');
like($weak, qr/critical:MD5/, 'weak_ciphers: MD5 MAC (critical)');
like($weak, qr/warning:kRSA/, 'weak_ciphers: RSA key exchange (warning)');
like(message_of($rows, 'weak_ciphers', 'MD5'), qr/NULL-MD5/, 'the MD5 row names NULL-MD5');
my $has_3des = `openssl ciphers -s -tls1_2 '3DES:\@SECLEVEL=0' 2>/dev/null` =~ /DES-CBC3/ ? 1 : 0;
is(($weak =~ /warning:3DES/ ? 1 : 0), $has_3des,
	'3DES is reported exactly when this OpenSSL can enable it (' . ($has_3des ? 'it can' : 'it cannot') . ')');
ok(negotiates('NULL-SHA256'), 'the server really negotiates a reported NULL cipher');
ok(negotiates('AES128-GCM-SHA256'), 'the server really negotiates a reported kRSA cipher');

like(findings($rows, 'hba_hostnossl'), qr/^info:pg_hba\.conf line 5,warning:pg_hba\.conf line 2$/,
	'hba_hostnossl: the 192.168/16 line (warning) and the loopback line (info)');
like(findings($rows, 'hba_host_without_ssl'), qr/warning:pg_hba\.conf line 1(,|$)/,
	'hba_host_without_ssl: the host ... md5 line');
my $weak_auth = findings($rows, 'hba_weak_auth');
like($weak_auth, qr/warning:pg_hba\.conf line 1(,|$)/, 'hba_weak_auth: md5 on TCP (warning)');
like($weak_auth, qr/critical:pg_hba\.conf line 4(,|$)/, 'hba_weak_auth: hostssl trust (critical)');
like($weak_auth, qr/critical:pg_hba\.conf line 5(,|$)/, 'hba_weak_auth: hostnossl trust (critical)');
# (initdb's own lines follow ours: loopback ones, and a "local all all trust"
# that our line 3 shadows.)
my $plain = findings($rows, 'hba_plaintext_reachable');
like($plain, qr/^critical:pg_hba\.conf line 1,critical:pg_hba\.conf line 2,/,
	'hba_plaintext_reachable: the private host and hostnossl lines are critical');
like($plain, qr/,info:pg_hba\.conf line 5(,|$)/, 'hba_plaintext_reachable: the loopback hostnossl line is info');
is(scalar(() = $plain =~ /critical/g), 2, 'hba_plaintext_reachable: nothing else is critical');
my $shadowed = findings($rows, 'hba_shadowed_line');
unlike($shadowed, qr/line [1-5](,|$)/, 'hba_shadowed_line: none of our lines is shadowed');
like(message_of($rows, 'hba_shadowed_line'), qr/pg_hba\.conf line 3 \("local all all trust"\)/,
	"hba_shadowed_line: initdb's local line is shadowed by our line 3");
is(findings($rows, 'password_encryption'), 'warning:password_encryption', 'password_encryption = md5: warning');
is(findings($rows, 'md5_passwords'), 'warning:pg_authid', 'md5_passwords: warning');
like(message_of($rows, 'md5_passwords'), qr/1 role with an MD5 password hash: tap_md5/, 'md5_passwords names the role');
is(findings($rows, 'sessions_below_floor'), "warning:postgres\@postgres from 127.0.0.1",
	'sessions_below_floor: the TLSv1.1 session');
like(message_of($rows, 'sessions_below_floor'), qr/1 session below the floor \(TLSv1\.1 < TLSv1\.2\)/,
	'with the reason');
is(findings($rows, 'client_cert_expiry'), 'ok:', 'client_cert_expiry: the client certificate is valid for a year');
for my $check (qw(server_cert_expiry server_cert_key_strength server_cert_signature server_cert_self_signed
	server_cert_chain server_key_permissions ca_file_expiry crl_expiry))
{
	is(findings($rows, $check), 'ok:', "$check: ok for the good chain");
}

# A role that may run the checks but not read the server's files: those
# checks say so ('info'), the others still run.
$node->safe_psql('postgres',
	'CREATE ROLE tap_limited; GRANT EXECUTE ON FUNCTION tls_audit.run_checks() TO tap_limited');
$rows = checks('SET ROLE tap_limited;');
is(findings($rows, 'server_cert_expiry'), 'info:', 'without privileges on server_tls(): server_cert_expiry is info');
like(message_of($rows, 'server_cert_expiry'), qr/^not available: permission denied for function server_tls/,
	'and says why');
is(findings($rows, 'hba_weak_auth') . ' ' . findings($rows, 'hba_plaintext_reachable') . ' '
	  . findings($rows, 'md5_passwords'), 'info: info: info:',
	'hba and md5 checks: info for a non-superuser');
like(findings($rows, 'weak_ciphers'), qr/critical:eNULL/, 'the settings checks still run');
like(findings($rows, 'sessions_below_floor'), qr/^ok:$/, 'and another role\'s sessions are not its business');

# The client certificate expires within a widened warning window.
$rows = checks('SET tls_audit.expiry_warning_days = 400;');
is(findings($rows, 'client_cert_expiry'),
	'warning:' . openssl_field('client.crt', 'subject', '-nameopt', 'RFC2253'),
	'client_cert_expiry: warning within 400 days');
like(message_of($rows, 'client_cert_expiry'), qr/client certificate expires in 36\d days .*in use by pid \d+/,
	'with the days left and the pid');

# The floor follows tls_audit.min_protocol.
reload_with('tls_audit.min_protocol' => 'TLSv1');
$rows = checks();
is(findings($rows, 'min_protocol') . ' ' . findings($rows, 'sessions_below_floor'), 'ok: ok:',
	'floor TLSv1: min_protocol and sessions_below_floor ok');
reload_with('tls_audit.min_protocol' => 'TLSv1.2', ssl_max_protocol_version => 'TLSv1.2');
$rows = checks();
is(findings($rows, 'max_protocol'), 'warning:ssl_max_protocol_version', 'max_protocol TLSv1.2: warning');
reload_with(ssl_max_protocol_version => '');
$old->quit;

# --- server certificates --------------------------------------------------------

use_cert('expired-chain.crt', 'expired.key');
$rows = checks();
is(findings($rows, 'server_cert_expiry'), 'critical:O=expired,CN=localhost', 'expired certificate: critical');
like(message_of($rows, 'server_cert_expiry'), qr/expired 10 days ago/, 'says when it expired');

use_cert('expiring-3d-chain.crt', 'expiring-3d.key');
$rows = checks();
is(findings($rows, 'server_cert_expiry'), 'critical:O=expiring in 3 days,CN=localhost',
	'certificate expiring in 3 days: critical (tls_audit.expiry_critical_days = 7)');
$rows = checks('SET tls_audit.expiry_critical_days = 2;');
is(findings($rows, 'server_cert_expiry'), 'warning:O=expiring in 3 days,CN=localhost',
	'with tls_audit.expiry_critical_days = 2: warning');
$rows = checks('SET tls_audit.expiry_critical_days = 2; SET tls_audit.expiry_warning_days = 2;');
is(findings($rows, 'server_cert_expiry'), 'ok:', 'with both windows at 2 days: ok');

use_cert('sha1-chain.crt', 'sha1.key');
$rows = checks();
is(findings($rows, 'server_cert_signature'), 'warning:O=sha1 signed,CN=localhost', 'SHA-1 signature: warning');
like(message_of($rows, 'server_cert_signature'), qr/sha1WithRSAEncryption/, 'names the algorithm');

use_cert('rsa1024-chain.crt', 'rsa1024.key');
$rows = checks();
is(findings($rows, 'server_cert_key_strength'), 'critical:O=rsa 1024,CN=localhost', 'RSA-1024 key: critical');
like(message_of($rows, 'server_cert_key_strength'), qr/RSA key of 1024 bits/, 'names the size');

use_cert('selfsigned.crt', 'selfsigned.key');
$rows = checks();
is(findings($rows, 'server_cert_self_signed'), 'warning:O=self signed,CN=localhost', 'self-signed: warning');

use_cert('server-chain.crt', 'server.key');
$rows = checks();
is(join(' ', map { findings($rows, $_) } qw(server_cert_expiry server_cert_key_strength server_cert_signature
	server_cert_self_signed server_cert_chain server_cert_reload_pending)), join(' ', ('ok:') x 6),
	'back to the good chain: the certificate checks are ok');

# Renewed on disk but not reloaded.
copy(cert_path('server-renewed-chain.crt'), "$pgdata/server.crt") or die;
$rows = checks();
is(findings($rows, 'server_cert_reload_pending'), "warning:server.crt", 'renewed on disk: reload pending');
use_cert('server-renewed-chain.crt', 'server.key');
is(findings(checks(), 'server_cert_reload_pending'), 'ok:', 'after the reload: ok');

# A leaf without its intermediate, with only the root trusted.
copy(cert_path('server.crt'), "$pgdata/server.crt") or die;
copy(cert_path('root.crt'), "$pgdata/root.crt") or die;
$rows = checks();
is($node->safe_psql('postgres', 'SELECT chain_complete FROM tls_audit.server_tls()'), 'f',
	'server_tls(): leaf only, chain incomplete');
is(findings($rows, 'server_cert_chain'), 'warning:server.crt', 'server_cert_chain: incomplete chain (warning)');
like(message_of($rows, 'server_cert_chain'), qr/incomplete: .*Intermediate/, 'with the reason');
copy(cert_path('ca-bundle.crt'), "$pgdata/root.crt") or die;

# A renewed certificate copied without its key.
copy(cert_path('server-newkey.crt'), "$pgdata/server.crt") or die;
$rows = checks();
is(findings($rows, 'server_cert_chain'), 'critical:server.key', 'certificate without its key: critical');
copy(cert_path('server-chain.crt'), "$pgdata/server.crt") or die;

# A world-readable key (the server refuses such a key at the next reload).
chmod 0644, "$pgdata/server.key";
$rows = checks();
is(findings($rows, 'server_key_permissions'), 'critical:server.key', 'key mode 0644: critical');
like(message_of($rows, 'server_key_permissions'), qr/mode 0644/, 'with the mode');
chmod 0600, "$pgdata/server.key";

# An expired certificate in ssl_ca_file.
copy(cert_path('expired.crt'), "$pgdata/root.crt") or die;
$rows = checks();
is(findings($rows, 'ca_file_expiry'), 'critical:O=expired,CN=localhost', 'expired CA certificate: critical');
copy(cert_path('ca-bundle.crt'), "$pgdata/root.crt") or die;

# A CRL due within 30 days (make-certs.sh issues it with -crldays 30).
copy(cert_path('intermediate.crl'), "$pgdata/crl.pem") or die;
reload_with(ssl_crl_file => 'crl.pem');
$rows = checks();
is(findings($rows, 'crl_expiry'), 'warning:crl.pem', 'CRL due for its next update within 30 days: warning');
like(message_of($rows, 'crl_expiry'), qr/CRL of O=pg_tls_audit tests,CN=pg_tls_audit Test Intermediate CA: next update expires in (29|30) days/,
	'names the issuing CA');
# ssl_ca_file holds the root too, which has no CRL: with CRL_CHECK_ALL every
# client certificate through the intermediate fails (022 proves it).
is(findings($rows, 'crl_coverage'), 'critical:' . openssl_field('root.crt', 'subject', '-nameopt', 'RFC2253'),
	'crl_coverage: the root CA of ssl_ca_file has no CRL');
# With only the root in ssl_ca_file, the CRL's issuer is no CA there: the
# earliest next update server_tls() knows is still checked.
copy(cert_path('root.crt'), "$pgdata/root.crt") or die;
$rows = checks();
is(findings($rows, 'crl_expiry'), 'warning:crl.pem', 'CRL of a CA not in ssl_ca_file: still a warning');
like(message_of($rows, 'crl_expiry'), qr/CRL of a CA not in ssl_ca_file: next update expires in (29|30) days/,
	'says its CA is not in ssl_ca_file');
copy(cert_path('ca-bundle.crt'), "$pgdata/root.crt") or die;
is(findings(checks('SET tls_audit.expiry_warning_days = 10;'), 'crl_expiry'), 'ok:', 'outside a 10-day window: ok');
reload_with(ssl_crl_file => '');
is(findings(checks(), 'crl_expiry'), 'ok:', 'no CRL configured: ok');

# The same CRL in ssl_crl_dir, under its issuer-hash name.
chomp(my $crl_hash = `openssl crl -hash -noout -in @{[cert_path('intermediate.crl')]}`);
mkdir "$pgdata/crls" or die "mkdir: $!";
copy(cert_path('intermediate.crl'), "$pgdata/crls/$crl_hash.r0") or die;
reload_with(ssl_crl_dir => 'crls');
is(findings(checks(), 'crl_expiry'), 'warning:crls', 'a CRL in ssl_crl_dir due within 30 days: warning');
reload_with(ssl_crl_dir => '');

# --- ssl off ----------------------------------------------------------------------

reload_with(ssl => 'off');
$rows = checks();
is(findings($rows, 'ssl_enabled'), 'critical:ssl', 'ssl off with listen_addresses set: critical');
is(join(',', map { $_->[1] } map { rows_of($rows, $_) } qw(min_protocol weak_ciphers server_cert_expiry crl_expiry)),
	'info,info,info,info', 'the server TLS checks do not apply');
like(message_of($rows, 'hba_host_without_ssl', 'pg_hba.conf line 1'), qr/and ssl is off/, 'host lines: ssl is off');
reload_with(ssl => 'on');

# --- a clean, well-configured server: every check ok -------------------------------

use_cert('server-chain.crt', 'server.key');

reload_with(
	ssl_min_protocol_version => 'TLSv1.2',
	ssl_ciphers => 'HIGH:!aNULL:!eNULL:!kRSA',
	password_encryption => 'scram-sha-256');
$node->safe_psql('postgres', 'DROP ROLE tap_md5');
open my $hba, '>', "$pgdata/pg_hba.conf" or die;
print $hba "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n";
close $hba;
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
# The connections made above authenticated with trust over TCP and md5:
# weak_auth_in_use would warn about them (046 tests that).
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');

$rows = checks();
# pq_key_exchange has no ok row: info or warning by what the server's OpenSSL
# can do (057_pq_key_exchange.pl tests each case).
my @not_ok = grep { $_->[1] ne 'ok' && $_->[0] ne 'pq_key_exchange' } @$rows;
my $pq_severity = join(',', map { $_->[1] } rows_of($rows, 'pq_key_exchange'));
like($pq_severity, qr/^(info|warning)$/, 'clean server: pq_key_exchange is one info or warning row');
is(scalar(@not_ok), 0, 'clean server: every other check is ok')
  or diag(join("\n", map { join(' | ', @$_) } @not_ok));
is(join(',', map { $_->[0] } @$rows),
	join(',', qw(ssl_enabled min_protocol max_protocol weak_ciphers key_exchange_groups pq_key_exchange
		server_cert_expiry
		server_cert_key_strength
		server_cert_signature server_cert_self_signed server_cert_chain server_key_permissions
		server_cert_reload_pending server_tls_reload_would_fail server_tls_reload_failed server_tls_auto_reload
		ca_file_expiry crl_expiry crl_coverage
		hba_hostnossl hba_host_without_ssl hba_weak_auth hba_plaintext_reachable hba_shadowed_line
		password_encryption md5_passwords sessions_below_floor client_cert_expiry census_save_failed
		settings_not_applied role_floor_unmatched
		outbound_sslmode outbound_password_in_conninfo outbound_root_cert outbound_sslkeylogfile
		weak_auth_in_use census_incomplete
		pooler_client_tls pooler_server_tls pooler_protocols pooler_ciphers pooler_cert_expiry pooler_password_in_conninfo
		pooler_unreachable)),
	'one ok row per check, in order');
is($node->safe_psql('postgres', 'SELECT worst_severity, critical + warning + info, ok FROM tls_audit.summary'),
	"$pq_severity|1|43", "summary: worst severity $pq_severity, pq_key_exchange's; the other 43 ok");
ok(!negotiates('NULL-SHA256') && !negotiates('AES128-GCM-SHA256'),
	'the clean cipher list really refuses NULL and kRSA suites');

# Key exchange groups: ssl_groups on 18, ssl_ecdh_curve before (one curve).
my $groups_setting = $node->pg_version >= 18 ? 'ssl_groups' : 'ssl_ecdh_curve';
reload_with($groups_setting => 'secp384r1');
$rows = checks();
is(findings($rows, 'key_exchange_groups'), 'warning:secp384r1', "$groups_setting = secp384r1: key_exchange_groups warning");
like(message_of($rows, 'key_exchange_groups'), qr/neither X25519 nor P-256/, '... because clients need X25519 or P-256');
is($node->safe_psql('postgres', 'SELECT groups FROM tls_audit.server_tls()'), 'secp384r1', 'server_tls() shows the groups');
reload_with($groups_setting => 'prime256v1');
is(findings(checks(), 'key_exchange_groups'), 'ok:', 'prime256v1: ok');

# PostgreSQL 18's ssl_tls13_ciphers: a 64-bit-tag suite is judged like the others.
SKIP:
{
	skip 'ssl_tls13_ciphers is new in PostgreSQL 18', 3 if $node->pg_version < 18;
	reload_with(ssl_tls13_ciphers => 'TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_8_SHA256');
	$rows = checks();
	is(findings($rows, 'weak_ciphers'), 'warning:CCM8', 'ssl_tls13_ciphers with CCM_8: weak_ciphers warning');
	like(message_of($rows, 'weak_ciphers', 'CCM8'), qr/^ssl_tls13_ciphers enables 1 cipher suite .*TLS_AES_128_CCM_8_SHA256/,
		'... naming the setting and the suite');
	is($node->safe_psql('postgres', 'SELECT tls13_ciphers FROM tls_audit.server_tls()'),
		'TLS_AES_256_GCM_SHA384:TLS_AES_128_CCM_8_SHA256', 'server_tls() shows ssl_tls13_ciphers');
}

$node->stop;
done_testing();
