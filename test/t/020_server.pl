# tls_audit.server_tls(), server_certificates and ca_certificates on a TLS
# server: the chain on disk, expiry, key match and key file permissions, chain
# completeness, what is served versus what is on disk (reload_pending), and
# that no key material ever shows up.
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('server', cert => 'server-chain.crt', key => 'server.key', ca => 'root.crt');
my $pgdata = $node->data_dir;

# Everything a test may print: all columns of all three surfaces, as text.
my $everything = q{
	SELECT t::text FROM tls_audit.server_tls() t
	UNION ALL SELECT c::text FROM tls_audit.server_certificates c
	UNION ALL SELECT a::text FROM tls_audit.ca_certificates a};

sub sha256_of
{
	my ($cert) = @_;
	(my $fp = lc(openssl_field($cert, 'fingerprint', '-sha256'))) =~ s/://g;
	return $fp;
}

sub server_tls
{
	my ($columns) = @_;
	return $node->safe_psql('postgres', "SELECT $columns FROM tls_audit.server_tls()");
}

# Put a generated file in place of a data-directory file (same inode: the
# way `cp` renews a certificate).
sub install_file
{
	my ($from, $to) = @_;
	copy(cert_path($from), "$pgdata/$to") or die "copy $from: $!";
}

# pg_reload_conf(), then wait until the postmaster has processed it (new
# sessions inherit its reload time).
sub reload_and_wait
{
	my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT pg_conf_load_time() > '$before'::timestamptz")
	  or die 'the server did not reload';
}

my $chain_sha = sha256_of('server-chain.crt');

# --- the chain on disk ---------------------------------------------------------

my @rows = split /\n/, $node->safe_psql('postgres',
	q{SELECT position, subject, issuer, sha256 FROM tls_audit.server_certificates
	  WHERE source = 'file' ORDER BY position});
is(scalar @rows, 2, 'leaf + intermediate file: two file rows');
my ($pos0, $subject0, $issuer0, $sha0) = split /\|/, $rows[0];
my ($pos1, $subject1) = split /\|/, $rows[1];
is($pos0, '0', 'position 0 first');
is($pos1, '1', 'position 1 second');
is($subject0, openssl_field('server.crt', 'subject', '-nameopt', 'RFC2253'), 'position 0 subject equals openssl x509');
is($issuer0, openssl_field('server.crt', 'issuer', '-nameopt', 'RFC2253'), 'position 0 issuer equals openssl x509');
is($subject1, openssl_field('intermediate.crt', 'subject', '-nameopt', 'RFC2253'),
	'position 1 subject equals openssl x509 of the intermediate');
is($sha0, $chain_sha, 'position 0 sha256 equals openssl fingerprint');

my $enddate = openssl_field('server.crt', 'enddate');
chomp(my $end_epoch = `date -u -d '$enddate' +%s`);
my $want_days = int(($end_epoch - time()) / 86400);
my ($days, $na_epoch) = split /\|/, server_tls('days_left, extract(epoch FROM not_after)::bigint');
cmp_ok(abs($days - $want_days), '<=', 1, "days_left $days matches openssl -enddate ($want_days) within a day");
is($na_epoch, $end_epoch, 'not_after equals openssl -enddate');

is(server_tls('ssl_enabled, key_matches_cert, key_file_mode, key_file_owner, key_file_permissions_ok, chain_complete, chain_error IS NULL, file_errors IS NULL'),
	't|t|0600|' . scalar(getpwuid($>)) . '|t|t|t|t', 'a good configuration: key matches, 0600, chain complete, no errors');
is(server_tls('cert_file, key_file, ca_file, crl_file IS NULL'), 'server.crt|server.key|root.crt|t', 'file settings');
is(server_tls('min_protocol, max_protocol IS NULL, ciphers'), 'TLSv1|t|ALL:@SECLEVEL=0', 'protocol range and ciphers');

# --- served: self-probe first, then the handshake capture ----------------------

is(server_tls('served_source, served_sha256, file_sha256, reload_pending, served_error IS NULL'),
	"self_probe|$chain_sha|$chain_sha|f|t", 'no TLS connection yet: the self-probe answers');

my $own = tls_query($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()');
is($own, $chain_sha, 'a TLS client sees the chain file leaf');
is(server_tls('served_source, served_sha256, reload_pending, served_at IS NOT NULL'),
	"handshake|$chain_sha|f|t", 'after a TLS connection, the capture answers from a unix-socket session');
is(tls_query($node, 'SELECT served_source, served_sha256 FROM tls_audit.server_tls()'), "handshake|$chain_sha",
	'the same from a TLS session');
is($node->safe_psql('postgres',
	q{SELECT string_agg(position || ':' || subject, ',' ORDER BY position) FROM tls_audit.server_certificates WHERE source = 'served'}),
	"0:$subject0,1:$subject1", 'served rows: the leaf and the configured intermediate');
my ($served_days, $served_na) = split /\|/, server_tls('served_days_left, extract(epoch FROM served_not_after)::bigint');
is($served_na, $end_epoch, 'served_not_after equals the served leaf expiry');

# --- the CA file --------------------------------------------------------------------

is($node->safe_psql('postgres', 'SELECT count(*), min(subject), bool_and(is_ca), bool_and(self_signed), bool_and(crl_next_update IS NULL) FROM tls_audit.ca_certificates'),
	'1|' . openssl_field('root.crt', 'subject', '-nameopt', 'RFC2253') . '|t|t|t', 'ca_certificates: the root, no CRL');

# --- key file permissions (checked on disk; the server refuses to start with 0644) ----

chmod 0644, "$pgdata/server.key";
is(server_tls('key_file_mode, key_file_permissions_ok, key_matches_cert'), '0644|f|t', 'key chmod 0644: key_file_permissions_ok = false');
like(server_tls('array_to_string(file_errors, E\'\n\')'), qr/group or world access/, 'file_errors says why');
chmod 0600, "$pgdata/server.key";
is(server_tls('key_file_mode, key_file_permissions_ok, file_errors IS NULL'), '0600|t|t', 'back to 0600');

# --- a leaf-only certificate file with only the root in ssl_ca_file --------------------

install_file('server.crt', 'server.crt');
my ($complete, $why) = split /\|/, server_tls('chain_complete, chain_error');
is($complete, 'f', 'leaf only, root-only CA file: chain_complete = false');
like($why, qr/Intermediate CA.*neither in ssl_cert_file nor in ssl_ca_file/, "with a reason: $why");
is(server_tls('reload_pending'), 't', 'the served chain (leaf + intermediate) differs from the file: reload pending');
install_file('server-chain.crt', 'server.crt');
is(server_tls('chain_complete, reload_pending'), 't|f', 'chain file back: complete, nothing pending');

# --- a renewed certificate copied without its key ----------------------------------

install_file('server-newkey.crt', 'server.crt');
my $newkey_sha = sha256_of('server-newkey.crt');
is(server_tls('key_matches_cert, file_sha256, served_sha256, reload_pending'), "f|$newkey_sha|$chain_sha|t",
	'certificate of another key on disk: key_matches_cert = false, served is still the old one');
my $log_offset = -s $node->logfile;
reload_and_wait();
$node->wait_for_log(qr/SSL configuration was not reloaded/, $log_offset);
is(tls_query($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()'), $chain_sha,
	'after the failed reload the server still serves the old pair');
is(server_tls('key_matches_cert, served_source, served_sha256, file_sha256, reload_pending'),
	"f|handshake|$chain_sha|$newkey_sha|t", 'server_tls() after the failed reload');
like(server_tls('array_to_string(file_errors, E\'\n\')'), qr/does not belong to the certificate/, 'file_errors names the mismatch');

# Nothing of either key in any output or in the log.
my $output = $node->safe_psql('postgres', $everything) . tls_query($node, $everything);
my $log = slurp_file($node->logfile);
my @key_lines;
for my $key ('server.key', 'server-newkey.key')
{
	push @key_lines, grep { length($_) >= 16 && !/-----/ } split /\n/, slurp_file(cert_path($key));
}
cmp_ok(scalar @key_lines, '>', 10, 'key base64 lines to look for');
unlike($output, qr/PRIVATE KEY/, 'no PEM key marker in query output');
unlike($log, qr/PRIVATE KEY/, 'no PEM key marker in the server log');
my @leaked = grep { index($output, $_) >= 0 || index($log, $_) >= 0 } @key_lines;
is(scalar @leaked, 0, 'no base64 line of either key in output or log');
# Also no 16-character piece of any key line.
my @pieces = grep { index($output . $log, $_) >= 0 } map { substr($_, 0, 16), substr($_, -16) } @key_lines;
is(scalar @pieces, 0, 'no 16-character fragment of a key line either');

install_file('server-chain.crt', 'server.crt');
reload_and_wait();

# --- renewed on disk, not reloaded: reload_pending ------------------------------------

tls_query($node, 'SELECT 1');    # a capture under the current context
install_file('server-renewed-chain.crt', 'server.crt');
my $renewed_sha = sha256_of('server-renewed-chain.crt');
is($node->safe_psql('postgres', 'SELECT ssl FROM tls_audit.connection()'), 'f', 'this is a unix-socket session');
is(server_tls('reload_pending, served_sha256, file_sha256, key_matches_cert'), "t|$chain_sha|$renewed_sha|t",
	'renewed certificate on disk without reload: reload_pending = true');
reload_and_wait();
is(tls_query($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()'), $renewed_sha,
	'a new TLS connection after the reload gets the renewed certificate');
is(server_tls('reload_pending, served_source, served_sha256'), "f|handshake|$renewed_sha",
	'after pg_reload_conf() and a new TLS connection: reload_pending = false');
my ($renewed_days) = server_tls('served_days_left');
cmp_ok($renewed_days, '>', 700, 'served_days_left is the renewed certificate\'s');

# --- CA bundle and CRL ---------------------------------------------------------------

install_file('ca-bundle.crt', 'root.crt');
install_file('intermediate.crl', 'root.crl');
$node->append_conf('postgresql.conf', "ssl_crl_file = 'root.crl'");
reload_and_wait();
my $next_update = `openssl crl -in @{[cert_path('intermediate.crl')]} -noout -nextupdate`;
$next_update =~ s/^nextUpdate=//;
chomp(my $next_epoch = `date -u -d '$next_update' +%s`);
is($node->safe_psql('postgres',
	q{SELECT string_agg(position || ':' || (crl_next_update IS NOT NULL) || ':' || is_ca, ',' ORDER BY position) FROM tls_audit.ca_certificates}),
	'0:true:true,1:false:true', 'ca_certificates: the intermediate has its CRL, the root none');
is($node->safe_psql('postgres', 'SELECT extract(epoch FROM crl_next_update)::bigint FROM tls_audit.ca_certificates WHERE position = 0'),
	$next_epoch, 'crl_next_update equals openssl crl -nextupdate');
is(server_tls('crl_file, extract(epoch FROM crl_next_update)::bigint, file_errors IS NULL'), "root.crl|$next_epoch|t",
	'server_tls() shows the CRL file and its next update');

# The same CRL in ssl_crl_dir instead, under the issuer-hash name the server's
# lookup uses; other names in the directory are not read, by the server or by us.
chomp(my $crl_hash = `openssl crl -hash -noout -in @{[cert_path('intermediate.crl')]}`);
mkdir "$pgdata/crls" or die "mkdir: $!";
install_file('intermediate.crl', "crls/$crl_hash.r0");
install_file('garbage.txt', 'crls/notes.txt');
$node->append_conf('postgresql.conf', "ssl_crl_file = ''\nssl_crl_dir = 'crls'");
reload_and_wait();
is($node->safe_psql('postgres', 'SELECT extract(epoch FROM crl_next_update)::bigint FROM tls_audit.ca_certificates WHERE position = 0'),
	$next_epoch, 'ssl_crl_dir: ca_certificates has the CRL of the intermediate');
is(server_tls('crl_file IS NULL, extract(epoch FROM crl_next_update)::bigint, file_errors IS NULL'), "t|$next_epoch|t",
	'ssl_crl_dir: server_tls() has its next update; a file without a hashed name is ignored');
install_file('garbage.txt', "crls/$crl_hash.r1");
like(server_tls('file_errors[1]'), qr/ssl_crl_dir "crls\/$crl_hash\.r1": /,
	'ssl_crl_dir: a hashed name that is not a CRL is a file error');
$node->append_conf('postgresql.conf', "ssl_crl_dir = ''\nssl_crl_file = 'root.crl'");
reload_and_wait();

# --- privileges --------------------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE ROLE tap_nobody LOGIN; CREATE ROLE tap_monitor LOGIN IN ROLE pg_monitor');
my ($rc, $out, $err) = tls_psql($node, 'SELECT * FROM tls_audit.server_tls()', user => 'tap_nobody');
isnt($rc, 0, 'a role without pg_monitor cannot call server_tls()');
like($err, qr/permission denied for function server_tls/, 'permission denied');
is(tls_query($node, 'SELECT key_matches_cert, served_source FROM tls_audit.server_tls()', user => 'tap_monitor'),
	't|handshake', 'a pg_monitor member can');

$node->stop;
done_testing();
