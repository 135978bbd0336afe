# tls_audit.connection(): each client sees its own transport.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('connection');

# Every protocol version, each client pinned to one.
for my $version (qw(TLSv1 TLSv1.1 TLSv1.2 TLSv1.3))
{
	my $row = tls_query($node, 'SELECT ssl, protocol, cipher IS NOT NULL, bits > 0 FROM tls_audit.connection()',
		min => $version, max => $version);
	is($row, "t|$version|t|t", "$version client sees its own protocol");
}

# A unix-socket session is not TLS.
is($node->safe_psql('postgres', 'SELECT ssl, protocol IS NULL, server_cert_sha256 IS NULL FROM tls_audit.connection()'),
	'f|t|t', 'unix socket session: ssl=false and NULLs');

# A plain TCP session without TLS.
is(tls_query($node, 'SELECT ssl FROM tls_audit.connection()', sslmode => 'disable'), 'f', 'non-TLS TCP session: ssl=false');

# The client certificate's fields match openssl x509 on the same file.
my $row = tls_query(
	$node, q{SELECT client_cert_present, client_subject, client_issuer, client_serial,
		to_char(client_not_before AT TIME ZONE 'UTC', 'Mon FMDD HH24:MI:SS YYYY "GMT"'),
		to_char(client_not_after AT TIME ZONE 'UTC', 'Mon FMDD HH24:MI:SS YYYY "GMT"')
		FROM tls_audit.connection()},
	cert => 'client.crt', key => 'client.key');
my ($present, $subject, $issuer, $serial, $nb, $na) = split /\|/, $row;
is($present, 't', 'client certificate present');
is($subject, openssl_field('client.crt', 'subject', '-nameopt', 'RFC2253'), 'client subject matches openssl (RFC 2253)');
is($issuer, openssl_field('client.crt', 'issuer', '-nameopt', 'RFC2253'), 'client issuer matches openssl');
is($serial, openssl_field('client.crt', 'serial'), 'client serial matches openssl');
(my $want_nb = openssl_field('client.crt', 'startdate')) =~ s/\s+/ /g;
(my $want_na = openssl_field('client.crt', 'enddate')) =~ s/\s+/ /g;
is($nb, $want_nb, 'client not_before matches openssl');
is($na, $want_na, 'client not_after matches openssl');

# A DN longer than pg_stat_ssl's 63 bytes appears whole.
my $long = tls_query($node, 'SELECT client_subject FROM tls_audit.connection()',
	cert => 'client-longdn.crt', key => 'client-longdn.key');
is($long, openssl_field('client-longdn.crt', 'subject', '-nameopt', 'RFC2253'), 'long DN is not truncated');
cmp_ok(length($long), '>', 63, 'the long DN is longer than 63 bytes');

# No client certificate: the columns are NULL.
is(tls_query($node, 'SELECT client_cert_present, client_subject IS NULL FROM tls_audit.connection()'),
	'f|t', 'no client certificate: client columns NULL');

# SNI is what the client asked for when connecting by host name.
is(tls_query($node, 'SELECT sni FROM tls_audit.connection()', host => 'localhost'), 'localhost',
	'sni is localhost when connecting by name');
is(tls_query($node, 'SELECT sni IS NULL FROM tls_audit.connection()'), 't', 'no SNI for an IP address');

# The served certificate's fingerprint matches openssl's.
my $want = lc(openssl_field('server-chain.crt', 'fingerprint', '-sha256'));
$want =~ s/://g;
is(tls_query($node, 'SELECT server_cert_sha256 FROM tls_audit.connection()'), $want,
	'server_cert_sha256 equals openssl x509 -fingerprint -sha256');

# Key exchange group is named for TLSv1.3.
like(tls_query($node, 'SELECT key_exchange_group FROM tls_audit.connection()', min => 'TLSv1.3'),
	qr/^(x25519|X25519|secp\d+r1|x448|ffdhe\d+)$/, 'TLSv1.3 key exchange group is named');

is($node->safe_psql('postgres', 'SELECT tls_audit.version()'), '1.2', 'version()');

$node->stop;
done_testing();
