# Unauthenticated clients cannot empty the census. With
# tls_audit.census_max = 10, failed logins with ever new application names
# and bare SSLRequest+close from many loopback addresses must not evict the
# authenticated clients' entries; when authenticated entries are evicted,
# floor_readiness_summary() says the answer is incomplete.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('census_evict',
	hba => "hostssl all evict_pw 127.0.0.1/32 scram-sha-256",
	conf => "tls_audit.census_max = 10\nssl_min_protocol_version = 'TLSv1.2'");
is($node->safe_psql('postgres', 'SHOW tls_audit.census_max'), '10', 'census_max is 10');
$node->safe_psql('postgres',
	"SET password_encryption = 'scram-sha-256'; CREATE ROLE evict_pw LOGIN PASSWORD 'right-pw'");
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');

# Six authenticated clients over TLSv1.2: floor_readiness('TLSv1.3') names them.
my @real = map { "real_$_" } 1 .. 6;
tls_query($node, 'SELECT 1', min => 'TLSv1.2', max => 'TLSv1.2', application_name => $_) for @real;
my $names_sql = q{SELECT string_agg(application_name, ',' ORDER BY application_name COLLATE "C")
  FROM tls_audit.floor_readiness('TLSv1.3') WHERE application_name LIKE 'real\_%'};
is($node->safe_psql('postgres', $names_sql), join(',', @real), 'floor_readiness names the six clients');

# 20 failed logins, each with a new application name.
for my $i (1 .. 20)
{
	my ($rc) = tls_psql($node, 'SELECT 1', user => 'evict_pw', extra => 'password=wrong-pw',
		application_name => "attacker_$i");
	isnt($rc, 0, "failed login $i refused") if $i == 1;
}
# 50 bare SSLRequest + close, each from another loopback address.
my $sent = 0;
for my $i (2 .. 51)
{
	my $sock = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $node->port,
		LocalAddr => "127.0.0.$i",
		Proto => 'tcp',
		Timeout => 5) or next;
	print $sock pack('NN', 8, 80877103);
	my $answer = '';
	$sock->sysread($answer, 1);
	close $sock;
	$sent++ if $answer eq 'S';
}
cmp_ok($sent, '>=', 40, "bare SSLRequest+close from $sent loopback addresses");
# Three handshakes below the floor.
for (1 .. 3)
{
	my ($rc) = tls_psql($node, 'SELECT 1', min => 'TLSv1.1', max => 'TLSv1.1', application_name => 'old_client');
	isnt($rc, 0, 'TLSv1.1 refused') if $_ == 1;
}
# The server logs the refusals asynchronously to the clients: wait (bounded)
# until the census has seen the last ones.
# The next connection merges them (even one whose key the census counts
# without its lock), so this wait ends at once unless that breaks.
ok($node->poll_query_until('postgres',
	q{SELECT evicted_unauthenticated + dropped_unauthenticated >= 40 FROM tls_audit.census_info()}),
	'the refused handshakes are counted by the next connection');

is($node->safe_psql('postgres', $names_sql), join(',', @real),
	'after 20 failed logins and 50 bare SSLRequests: floor_readiness still names all six clients');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.census WHERE outcome = 'authenticated' AND application_name LIKE 'real\\_%'"),
	'6', 'the six authenticated entries are all present');
is($node->safe_psql('postgres',
		"SELECT count(*) <= 2, count(application_name) FROM tls_audit.census WHERE outcome <> 'authenticated'"),
	't|0', 'unauthenticated entries: at most census_max/4 = 2, none with an application_name');
my ($ea, $eu, $du) = split /\|/, $node->safe_psql('postgres',
	'SELECT evicted_authenticated, evicted_unauthenticated, dropped_unauthenticated FROM tls_audit.census_info()');
is($ea, '0', 'no authenticated entry evicted');
cmp_ok($eu + $du, '>=', 40, "unauthenticated entries evicted ($eu) or dropped ($du)");
is($node->safe_psql('postgres',
		"SELECT complete, evicted_since IS NULL, clients_not_ready >= 6 FROM tls_audit.floor_readiness_summary('TLSv1.3')"),
	't|t|t', 'floor_readiness_summary: complete, no eviction time');
is($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'census_incomplete'}),
	'ok', 'census_incomplete: ok while no authenticated entry was evicted');

# More authenticated clients than fit: authenticated entries are evicted, and
# the summary says the answer may be missing clients.
tls_query($node, 'SELECT 1', min => 'TLSv1.2', max => 'TLSv1.2', application_name => "more_$_") for 1 .. 12;
is($node->safe_psql('postgres', "SELECT count(*) FROM tls_audit.census WHERE outcome <> 'authenticated'"),
	'0', 'authenticated newcomers evict the unauthenticated entries first');
($ea) = split /\|/, $node->safe_psql('postgres', 'SELECT evicted_authenticated FROM tls_audit.census_info()');
cmp_ok($ea, '>', 0, "authenticated entries evicted ($ea)");
is($node->safe_psql('postgres',
		"SELECT complete, evicted_since IS NOT NULL, evicted_since <= now() FROM tls_audit.floor_readiness_summary('TLSv1.3')"),
	'f|t|t', 'floor_readiness_summary: incomplete, evicted_since set');
is($node->safe_psql('postgres',
		"SELECT complete FROM tls_audit.floor_readiness_summary('TLSv1.3', '1 hour')"),
	'f', 'incomplete within since = 1 hour too');
# An empty floor_readiness() then does not mean "everyone is ready": run_checks() says so.
like($node->safe_psql('postgres',
		q{SELECT severity || '|' || object || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'census_incomplete'}),
	qr/^warning\|tls_audit\.census\|authenticated census entries were evicted since \d{4}-\d\d-\d\d [^:]+:\d\d:\d\d[^:]*: floor_readiness\(\)/,
	'census_incomplete: a warning with the first eviction time');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.census WHERE application_name = 'more_12'"),
	'1', 'the newest client is kept');

# A reset makes the census complete again.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
is($node->safe_psql('postgres',
		"SELECT s.complete, s.evicted_since IS NULL, i.evicted_authenticated, i.evicted_unauthenticated, i.dropped_unauthenticated
		   FROM tls_audit.floor_readiness_summary() s, tls_audit.census_info() i"),
	't|t|0|0|0', 'census_reset() zeroes the eviction counters');
is($node->safe_psql('postgres', q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'census_incomplete'}),
	'ok', 'census_incomplete: ok again after the reset');

$node->stop;

# --- long keys: the text area fills before the table --------------------------
# The census keeps each key as text in an area of census_max x 280 bytes
# (doc/census.md, Memory). Keys with client subjects of some 480 bytes need
# twice that: with census_max = 10 the area holds four of them, so later ones
# evict the least recently seen entries although the table is not full, and
# every entry still shows its subject whole.
my $texts = new_tls_node('census_texts', conf => "tls_audit.census_max = 10");
$texts->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
my $certs = certs_dir();
my $keydir = PostgreSQL::Test::Utils::tempdir('longdn');
open my $ext, '>', "$keydir/ext.cnf" or die;
print $ext "extendedKeyUsage = clientAuth\nbasicConstraints = CA:false\n";
close $ext;
my %subject;
for my $i (1 .. 8)
{
	my $ou = join('', map { "/OU=unit $_ of client $i " . ('x' x 40) } 1 .. 7);
	system_or_bail('openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
		'-keyout', "$keydir/c$i.key", '-subj', "/CN=census-text-$i$ou/O=pg_tls_audit tests", '-out', "$keydir/c$i.csr");
	system_or_bail('openssl', 'x509', '-req', '-in', "$keydir/c$i.csr", '-CA', "$certs/intermediate.crt",
		'-CAkey', "$certs/intermediate.key", '-CAcreateserial', '-CAserial', "$keydir/serial", '-days', '30',
		'-extfile', "$keydir/ext.cnf", '-out', "$keydir/c$i.crt");
	chmod 0600, "$keydir/c$i.key";
	my $dn = `openssl x509 -in $keydir/c$i.crt -noout -subject -nameopt RFC2253`;
	chomp $dn;
	$dn =~ s/^[^=]*=//;
	$subject{"long_$i"} = $dn;
	tls_query($texts, 'SELECT 1', application_name => "long_$i",
		extra => "sslcert=$keydir/c$i.crt sslkey=$keydir/c$i.key");
}
cmp_ok(length($subject{long_1}), '>', 450, 'the subjects are long (' . length($subject{long_1}) . ' bytes)');
cmp_ok(length($subject{long_1}), '<', 511, 'and within the census field');

sub long_entries
{
	my %got;
	for my $line (split /\n/, $texts->safe_psql('postgres',
		"SELECT application_name || '|' || connections || '|' || client_subject
		   FROM tls_audit.census WHERE application_name LIKE 'long\\_%'"))
	{
		my ($app, $n, $dn) = split /\|/, $line, 3;
		$got{$app} = [ $n, $dn ];
	}
	return %got;
}
my %got = long_entries();
ok(exists $got{long_8}, 'the newest long key is kept');
cmp_ok(scalar(keys %got), '<=', 4, 'at most four long keys fit the text area: ' . join(',', sort keys %got));
is(scalar(grep { $got{$_}[1] eq $subject{$_} && $got{$_}[0] == 1 } keys %got), scalar(keys %got),
	'every kept long key shows its whole subject and one connection');
my ($entries, $evicted) = split /\|/, $texts->safe_psql('postgres',
	"SELECT entries, evicted_authenticated FROM tls_audit.census_info()");
cmp_ok($entries, '<', 10, "the table is not full ($entries entries)");
cmp_ok($evicted, '>=', 4, "yet entries were evicted for the texts ($evicted)");

# The kept keys are found again after the area was compacted, and survive a
# restart through the census file (saved and loaded in the full-width form).
tls_query($texts, 'SELECT 1', application_name => 'long_8',
	extra => "sslcert=$keydir/c8.crt sslkey=$keydir/c8.key");
%got = long_entries();
is($got{long_8}[0], '2', 'a second connection with the newest long key counts on its entry');
my %before = %got;
$texts->restart;
%got = long_entries();
is(join(';', map { "$_=$got{$_}[0]=$got{$_}[1]" } sort keys %got),
	join(';', map { "$_=$before{$_}[0]=$before{$_}[1]" } sort keys %before),
	'the long keys and their counts come back whole after a restart');

$texts->stop;
done_testing();
