# How each session authenticated (and whether it could be stronger): auth_method,
# hba_file/hba_line, client_cert_verified and extended_master_secret in
# tls_audit.sessions and the census, auth_readiness(), fips_readiness() and
# the check weak_auth_in_use, with real clients: md5, scram-sha-256,
# password, trust, cert, clientcert=verify-full and verify-ca, an md5 line
# with an MD5 secret versus one with a SCRAM secret, TLSv1.2 with and without
# extended master secret.
#
# Oracles: the server log with log_connections = on ("connection
# authenticated: identity=... method=M (FILE:LINE)", logged since 14 for
# every method that establishes an identity); pg_authid's secret type for an
# md5 line (the log says md5 there, PostgreSQL ran SCRAM); for EMS,
# `openssl s_client` with the same client OpenSSL configuration reports
# "Extended master secret: no".
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $hba = join("\n",
	'hostssl all am_md5 127.0.0.1/32 md5',                                  # 1
	'hostssl all am_md5scram 127.0.0.1/32 md5',                             # 2
	'hostssl all am_scram 127.0.0.1/32 scram-sha-256',                      # 3
	'hostssl all am_pw 127.0.0.1/32 password',                              # 4
	'hostssl certdb tls_audit_client 127.0.0.1/32 cert',                    # 5
	'hostssl postgres tls_audit_client 127.0.0.1/32 scram-sha-256 clientcert=verify-full',  # 6
	'hostssl all am_vca 127.0.0.1/32 scram-sha-256 clientcert=verify-ca',  # 7
	'hostnossl all am_trust 127.0.0.1/32 trust');                          # 8
my $node = new_tls_node('auth_method', hba => $hba, conf => "log_connections = on\npassword_encryption = 'scram-sha-256'");
my $pgdata = $node->data_dir;
my $v = $node->safe_psql('postgres', 'SHOW server_version_num');
$node->safe_psql('postgres', q{
	SET password_encryption = 'md5';
	CREATE ROLE am_md5 LOGIN PASSWORD 'pw-md5';
	SET password_encryption = 'scram-sha-256';
	CREATE ROLE am_md5scram LOGIN PASSWORD 'pw-md5scram';
	CREATE ROLE am_scram LOGIN PASSWORD 'pw-scram';
	CREATE ROLE am_pw LOGIN PASSWORD 'pw-pw';
	CREATE ROLE am_vca LOGIN PASSWORD 'pw-vca';
	CREATE ROLE am_trust LOGIN;
	CREATE ROLE tls_audit_client LOGIN PASSWORD 'pw-client';
	CREATE DATABASE certdb;
	GRANT pg_read_all_stats TO am_md5, am_md5scram, am_scram, am_pw, am_vca, am_trust, tls_audit_client;
});
$node->safe_psql('certdb', 'CREATE EXTENSION pg_tls_audit');
is($node->safe_psql('postgres', q{SELECT string_agg(rolname || '=' || left(rolpassword, 3), ',' ORDER BY rolname)
	FROM pg_authid WHERE rolname IN ('am_md5', 'am_md5scram')}), 'am_md5=md5,am_md5scram=SCR',
	'oracle: am_md5 has an MD5 secret, am_md5scram a SCRAM secret');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');

my $cols = q{SELECT concat_ws('|', auth_method, coalesce(hba_file, '-'), hba_line, client_cert_verified,
	coalesce(left(extended_master_secret::text, 1), '-'), protocol) FROM tls_audit.sessions WHERE pid = pg_backend_pid()};

# The session's own row, and the "connection authenticated" log line of its
# identity written since $offset: [method, file, line].
sub login
{
	my ($name, %opt) = @_;
	my $offset = -s $node->logfile;
	my $out = tls_query($node, $cols, application_name => "am_$name", %opt);
	my $log = slurp_file($node->logfile, $offset);
	my @oracle = $log =~ /connection authenticated: identity="[^"]*" method=(\S+) \((.*):(\d+)\)/;
	return ($out, @oracle);
}

# tls_audit.sessions.hba_file: the file the server logged (16+), NULL on 15.
my $file18;

# md5 line, MD5 secret: md5.
my ($row, $m, $f, $l) = login('md5', user => 'am_md5', extra => 'password=pw-md5');
is("$m:$l", 'md5:1', 'oracle: the server logged method=md5 on line 1');
like($f, qr{/pg_hba\.conf$}, 'oracle: in pg_hba.conf');
$file18 = $v >= 160000 ? $f : '-';
is($row, "md5|$file18|1|f|t|TLSv1.3", 'md5 line, MD5 secret: auth_method md5, line 1');

# md5 line, SCRAM secret: PostgreSQL runs SCRAM (the log still says md5).
($row, $m, undef, $l) = login('md5scram', user => 'am_md5scram', extra => 'password=pw-md5scram');
is("$m:$l", 'md5:2', 'oracle: the server logged method=md5 (the line) on line 2');
is($row, "scram-sha-256|$file18|2|f|t|TLSv1.3", 'md5 line, SCRAM secret: auth_method scram-sha-256');
# A client that refuses anything but SCRAM proves SCRAM ran on the wire.
($row) = login('md5scram_only', user => 'am_md5scram', extra => 'password=pw-md5scram require_auth=scram-sha-256')
  if $v >= 160000;
is($row, "scram-sha-256|$file18|2|f|t|TLSv1.3", 'the same with require_auth=scram-sha-256 (libpq 16+)')
  if $v >= 160000;

($row, $m, undef, $l) = login('scram', user => 'am_scram', extra => 'password=pw-scram');
is("$m:$l", 'scram-sha-256:3', 'oracle: scram-sha-256 on line 3');
is($row, "scram-sha-256|$file18|3|f|t|TLSv1.3", 'scram-sha-256 line');

($row, $m, undef, $l) = login('pw', user => 'am_pw', extra => 'password=pw-pw');
is("$m:$l", 'password:4', 'oracle: password on line 4');
is($row, "password|$file18|4|f|t|TLSv1.3", 'password line');

# cert: verified.
($row, $m, undef, $l) = login('cert', user => 'tls_audit_client', dbname => 'certdb',
	cert => 'client.crt', key => 'client.key');
is("$m:$l", 'cert:5', 'oracle: cert on line 5');
is($row, "cert|$file18|5|t|t|TLSv1.3", 'cert line: client_cert_verified');

# scram + clientcert=verify-full: verified.
($row, $m, undef, $l) = login('vfull', user => 'tls_audit_client', cert => 'client.crt', key => 'client.key',
	extra => 'password=pw-client');
is("$m:$l", 'scram-sha-256:6', 'oracle: scram-sha-256 on line 6');
is($row, "scram-sha-256|$file18|6|t|t|TLSv1.3", 'clientcert=verify-full: client_cert_verified');

# scram + clientcert=verify-ca: verified.
($row) = login('vca', user => 'am_vca', cert => 'client.crt', key => 'client.key', extra => 'password=pw-vca');
is($row, "scram-sha-256|$file18|7|t|t|TLSv1.3", 'clientcert=verify-ca: client_cert_verified');
# Without a certificate the verify-ca line refuses the client.
my ($rc, undef, $err) = tls_psql($node, 'SELECT 1', user => 'am_vca', extra => 'password=pw-vca');
isnt($rc, 0, 'verify-ca line without a client certificate: refused');

# A certificate presented (and chain-valid) on a line that does not ask for one: not "verified".
($row) = login('presented', user => 'am_scram', cert => 'client.crt', key => 'client.key', extra => 'password=pw-scram');
is($row, "scram-sha-256|$file18|3|f|t|TLSv1.3", 'certificate presented on a plain scram line: not verified');
is( tls_query($node, 'SELECT client_subject IS NOT NULL FROM tls_audit.sessions WHERE pid = pg_backend_pid()',
		user => 'am_scram', cert => 'client.crt', key => 'client.key', extra => 'password=pw-scram'),
	't', '(the certificate was received)');

# trust without TLS: no identity is logged for trust; the line is 8.
($row) = login('trust', user => 'am_trust', sslmode => 'disable');
is($row, "trust|$file18|8|f|-", 'trust over TCP without TLS: no EMS value, no protocol');

# The harness's own unix-socket session (local ... trust).
like($node->safe_psql('postgres', q{SELECT concat_ws('|', auth_method, hba_line, client_cert_verified,
	coalesce(left(extended_master_secret::text, 1), '-')) FROM tls_audit.sessions WHERE pid = pg_backend_pid()}),
	qr/^trust\|\d+\|f\|-$/, 'unix socket session: trust');

# --- extended master secret ------------------------------------------------------
my $no_ems_conf = "$pgdata/../client-no-ems.cnf";
open my $fh, '>', $no_ems_conf or die;
print $fh <<'CNF';
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
CNF
close $fh;

($row) = login('tls12', user => 'am_scram', extra => 'password=pw-scram', max => 'TLSv1.2');
is($row, "scram-sha-256|$file18|3|f|t|TLSv1.2", 'TLSv1.2 with EMS (OpenSSL default)');
{
	local $ENV{OPENSSL_CONF} = $no_ems_conf;
	# Oracle: OpenSSL's own client with this configuration negotiates no EMS.
	my $s_client = `echo | openssl s_client -starttls postgres -connect 127.0.0.1:@{[$node->port]} -tls1_2 2>&1`;
	like($s_client, qr/Extended master secret: no/, 'oracle: s_client with this configuration negotiates no EMS');
	($row) = login('noems', user => 'am_scram', extra => 'password=pw-scram', max => 'TLSv1.2');
	is($row, "scram-sha-256|$file18|3|f|f|TLSv1.2", 'TLSv1.2 without EMS: extended_master_secret false');
	($row) = login('noems13', user => 'am_scram', extra => 'password=pw-scram', max => 'TLSv1.3');
	is($row, "scram-sha-256|$file18|3|f|t|TLSv1.3", 'TLSv1.3 (same configuration): always EMS');
}
{
	local $ENV{OPENSSL_CONF} = $no_ems_conf;
	my $open = $node->background_psql('postgres',
		extra_params => [ '-d', tls_connstr($node, user => 'am_scram', max => 'TLSv1.2', application_name => 'am_open',
			extra => 'password=pw-scram') ]);
	is($node->safe_psql('postgres', q{SELECT string_agg(concat_ws('|', source, usename, application_name, protocol, connections), ','
			ORDER BY source, application_name) FROM tls_audit.fips_readiness()}),
		'census|am_scram|am_noems|TLSv1.2|1,census|am_scram|am_open|TLSv1.2|1,session|am_scram|am_open|TLSv1.2|1',
		'fips_readiness(): the open session and the census entries without EMS');
	$open->quit;
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.fips_readiness('1 hour') WHERE source = 'census'}), '2',
	'fips_readiness(since): the recent entries');

# --- census ---------------------------------------------------------------------
# A wrong password on the md5 line: auth_failed, method md5.
($rc) = tls_psql($node, 'SELECT 1', user => 'am_md5', extra => 'password=wrong');
isnt($rc, 0, 'wrong md5 password refused');

is( $node->safe_psql(
		'postgres', q{SELECT string_agg(concat_ws('|', application_name, outcome, auth_method, hba_line, client_cert_verified,
			coalesce(left(extended_master_secret::text, 1), '-')), ',' ORDER BY application_name COLLATE "C")
		FROM tls_audit.census WHERE application_name IN ('am_md5', 'am_md5scram', 'am_pw', 'am_cert', 'am_vfull',
			'am_trust', 'am_noems', 'am_tls12')}),
	'am_cert|authenticated|cert|5|t|t,am_md5|authenticated|md5|1|f|t,am_md5scram|authenticated|scram-sha-256|2|f|t,'
	  . 'am_noems|authenticated|scram-sha-256|3|f|f,am_pw|authenticated|password|4|f|t,'
	  . 'am_tls12|authenticated|scram-sha-256|3|f|t,am_trust|authenticated|trust|8|f|-,'
	  . 'am_vfull|authenticated|scram-sha-256|6|t|t',
	'census: the same facts per entry');
is($node->safe_psql('postgres', q{SELECT concat_ws('|', auth_method, hba_line) FROM tls_audit.census
	WHERE usename = 'am_md5' AND outcome = 'auth_failed'}), 'md5|1', 'census: the failed md5 login keeps its method and line');

# --- auth_readiness -------------------------------------------------------------------
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(concat_ws('|', usename, application_name, auth_method, reason, connections), ','
			ORDER BY usename, application_name) FROM tls_audit.auth_readiness() WHERE usename LIKE 'am\_%'}),
	'am_md5|am_md5|md5|md5 < scram-sha-256|1,am_pw|am_pw|password|password < scram-sha-256|1,'
	  . 'am_trust|am_trust|trust|trust over TCP|1',
	'auth_readiness(): md5, password and trust over TCP, not the md5 line that ran SCRAM');
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(usename || ':' || reason, ',' ORDER BY usename)
			FROM tls_audit.auth_readiness('md5', '1 day') WHERE usename LIKE 'am\_%'}),
	'am_pw:password < md5,am_trust:trust over TCP', 'auth_readiness(md5, since)');
my ($stdout, $stderr);
$rc = $node->psql('postgres', q{\set VERBOSITY verbose
SELECT * FROM tls_audit.auth_readiness('cert')}, stdout => \$stdout, stderr => \$stderr);
isnt($rc, 0, 'unknown target: error');
like($stderr, qr/ERROR:  22023: unknown target authentication method "cert"/, 'SQLSTATE 22023');
like($stderr, qr/HINT:  Valid names: password, md5, scram-sha-256\./, 'HINT lists the valid names');
$rc = $node->psql('postgres', 'SELECT * FROM tls_audit.auth_readiness(NULL)', stderr => \$stderr);
like($stderr, qr/target authentication method must not be NULL/, 'NULL target: error');

# --- metrics by method (bounded labels: method and outcome) ---------------------
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(labels->>'auth_method' || '=' || value, ',' ORDER BY labels->>'auth_method')
			FROM tls_audit.metrics WHERE metric = 'tls_audit_census_connections_by_auth_method_total'
			AND labels->>'outcome' = 'auth_failed'}),
	'md5=1', 'metrics: census attempts per method and outcome (the failed md5 login)');
is( $node->safe_psql(
		'postgres', q{SELECT (SELECT value FROM tls_audit.metrics WHERE metric = 'tls_audit_census_connections_by_auth_method_total'
			AND labels = '{"auth_method": "password", "outcome": "authenticated"}')
			= (SELECT sum(connections) FROM tls_audit.census WHERE auth_method = 'password' AND outcome = 'authenticated')}),
	't', 'metrics: the per-method counter equals the census sum');
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(labels->>'auth_method' || '=' || value, ',')
			FROM tls_audit.metrics WHERE metric = 'tls_audit_sessions_by_auth_method' AND labels->>'auth_method' = 'trust'}),
	'trust=1', 'metrics: open sessions per method (this unix-socket session)');

# --- weak_auth_in_use -----------------------------------------------------------------
my $weak = $node->safe_psql('postgres', q{SELECT string_agg(severity || ':' || object, ',' ORDER BY object)
	FROM tls_audit.run_checks() WHERE "check" = 'weak_auth_in_use' AND object LIKE 'am\_%'});
is($weak, 'warning:am_md5@postgres from 127.0.0.1 (am_md5),warning:am_pw@postgres from 127.0.0.1 (am_pw),'
	. 'warning:am_trust@postgres from 127.0.0.1 (am_trust)', 'weak_auth_in_use: a warning per weak client');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
is($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'weak_auth_in_use'}),
	'ok', 'weak_auth_in_use: ok once the census holds no weak client');
login('scram_again', user => 'am_scram', extra => 'password=pw-scram');
is($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'weak_auth_in_use'}),
	'ok', 'weak_auth_in_use: scram clients do not count');

# The census file keeps the new fields across a clean restart.
login('md5_again', user => 'am_md5', extra => 'password=pw-md5');
$node->restart;
is($node->safe_psql('postgres', q{SELECT concat_ws('|', auth_method, hba_line, client_cert_verified, extended_master_secret)
	FROM tls_audit.census WHERE application_name = 'am_md5_again'}), 'md5|1|f|t', 'census file: fields kept across a restart');

$node->stop;
done_testing();
