# Clients behind a real pgbouncer (Debian's package, started here on
# 127.0.0.1 with its own certificate, in front of a test cluster):
# tls_audit.pooler_clients() must say, connection for connection, what each
# client itself saw (psql's \conninfo): TLSv1.2, TLSv1.3 and plaintext
# through a lax pooler, a client certificate through a strict one (verify-full
# on both legs); pooler_servers() shows the pooler -> server leg;
# pooler_settings() and the pooler checks read SHOW CONFIG; a password in
# tls_audit.poolers is critical and never shown; a pooler stopped mid-test
# gives pooler_unreachable and an error row, not an error; pooler_certificates()
# and the metrics (tls_audit_pooler_up, client connections per protocol and
# cipher, served certificate expiry) with the pooler up and down; a mute pooler
# (never accepting, mute in the TLS handshake, or mute after the login) is
# bounded by tls_audit.pooler_timeout, shows its wait event and is cancellable.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();
use TlsAuditTest;

plan skip_all => 'pgbouncer is not installed (test/deps.sh installs it)' unless pgbouncer_path();

my $node = new_tls_node('poolers');
my $os_user = getpwuid($<);

# A fake pooler on 127.0.0.1 that stops answering at one step; returns its
# port. 'tls': answers the SSL request with 'S', then says nothing (libpq
# waits in the TLS handshake). 'query': refuses TLS ('N'), logs the client in
# (AuthenticationOk, ReadyForQuery), then answers no query. Connections are
# held open; the process ends with the test (or after 120 s).
my @fakes;
END { local $?; $_->kill_kill(grace => 1) for grep { $_->pumpable } @fakes; }
sub mute_server
{
	my ($mode) = @_;
	my $script = <<'PERL';
use strict;
use IO::Socket::INET;
$| = 1;
my $mode = shift;
my $l = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => 0,
	Proto => 'tcp', ReuseAddr => 1) or die "listen: $!";
print $l->sockport, "\n";
$SIG{ALRM} = sub { exit 0 };
alarm 120;
# One length-prefixed packet of the startup phase (undef when the client left).
sub packet {
	my ($c) = @_;
	return undef unless (sysread($c, my $len, 4) // 0) == 4;
	my ($n, $body) = (unpack('N', $len) - 4, '');
	while ($n > 0 && length($body) < $n) {
		sysread($c, $body, $n - length($body), length($body)) or return undef;
	}
	return $body;
}
my @held;
while (my $c = $l->accept) {
	push @held, $c;
	my $p = packet($c) // next;
	my $code = unpack('N', $p);
	if ($code == 80877103 || $code == 80877104) {    # SSLRequest, GSSENCRequest
		if ($mode eq 'tls' && $code == 80877103) { syswrite($c, 'S'); next; }
		syswrite($c, 'N');
		next if $mode eq 'tls';
		packet($c) // next;
	}
	syswrite($c, pack('a N N', 'R', 8, 0) . pack('a N a', 'Z', 5, 'I')) if $mode eq 'query';
}
PERL
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start([ $^X, '-e', $script, $mode ], '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout(180));
	push @fakes, $h;
	$h->pump until $out =~ /^(\d+)\n/ || $err ne '';
	die "fake pooler ($mode) did not start: $err" unless $out =~ /^(\d+)\n/;
	return $1;
}

# edge: pgbouncer's weak spots (prefer towards clients, require towards the server).
# The operating-system user is the admin of both consoles.
my ($port, $bouncer) =
  start_bouncer($node, 'edge', "client_tls_sslmode = prefer\nserver_tls_sslmode = require", admin => 1);
# strict: client certificates and TLSv1.3 only towards clients, verify-full towards the server.
my ($strict_port) = start_bouncer($node, 'strict', <<"INI", admin => 1);
client_tls_sslmode = verify-full
client_tls_ca_file = @{[ cert_path('ca-bundle.crt') ]}
client_tls_protocols = tlsv1.3
server_tls_sslmode = verify-full
server_tls_ca_file = @{[ cert_path('ca-bundle.crt') ]}
INI
pass('pgbouncer listens');

# No pooler configured: empty answers, and every pooler check is ok.
is($node->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.pooler_clients()'), '0', 'no pooler: no rows');
is($node->safe_psql('postgres',
	q{SELECT string_agg(DISTINCT severity, ',') FROM tls_audit.run_checks() WHERE "check" LIKE 'pooler%'}),
	'ok', 'no pooler: the pooler checks are ok');

my $conninfo = "host=127.0.0.1 port=$port dbname=pgbouncer user=$os_user sslmode=disable";
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'edge=$conninfo'");
$node->reload;
# The postmaster checks the value with libpq (PQconninfoParse), loaded on
# first use, and unloads it again (src/pg/libpq_on_demand.cpp): every backend
# would inherit a libpq the postmaster kept.
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.poolers') <> ''")
  or die 'the postmaster did not apply tls_audit.poolers';
unlike(slurp_file('/proc/' . $node->{_pid} . '/maps'), qr{/libpq},
	'the postmaster checked tls_audit.poolers and kept no libpq');

# Clients held open through the pooler, each asking psql what it negotiated.
my @clients;
sub open_client
{
	my ($app, $extra) = @_;
	my %c = (app => $app, in => '', out => '', err => '');
	my $connstr = "host=127.0.0.1 port=$port dbname=postgres user=$os_user application_name=$app $extra";
	$c{h} = IPC::Run::start([ 'psql', '-XAt', '-d', $connstr ],
		'<', \$c{in}, '>', \$c{out}, '2>', \$c{err}, IPC::Run::timeout(60));
	# A marker after \conninfo: its output differs between psql versions, the
	# marker ends the wait on every version (and psql flushes before reading on).
	$c{in} .= "\\conninfo\n\\echo conninfo-end\n";
	$c{h}->pump until $c{out} =~ /^conninfo-end$/m || $c{err} ne '';
	($c{protocol}, $c{cipher}) = conninfo_tls($c{out});
	push @clients, \%c;
	return \%c;
}

# The protocol and cipher in psql's \conninfo output (undef without TLS): a
# sentence up to PostgreSQL 17 ("SSL connection (protocol: TLSv1.2, cipher:
# ECDHE-..., ...)"), a table from 18 on ("SSL Protocol|TLSv1.2" and
# "SSL Cipher|..." with -A -t; "SSL Connection|false" without TLS).
sub conninfo_tls
{
	my ($out) = @_;
	return ($1, $2) if $out =~ /SSL connection \(protocol: ([^,]+), cipher: ([^,]+),/;
	my ($protocol) = $out =~ /^SSL Protocol\|(.+)$/m;
	my ($cipher) = $out =~ /^SSL Cipher\|(.+)$/m;
	return ($protocol, $cipher);
}

my $v12 = open_client('app_tls12', 'sslmode=require ssl_max_protocol_version=TLSv1.2');
my $v13 = open_client('app_tls13', 'sslmode=require ssl_min_protocol_version=TLSv1.3');
my $plain = open_client('app_plain', 'sslmode=disable');
is($v12->{protocol}, 'TLSv1.2', 'the TLSv1.2 client negotiated TLSv1.2 with the pooler') or diag($v12->{out} . $v12->{err});
is($v13->{protocol}, 'TLSv1.3', 'the TLSv1.3 client negotiated TLSv1.3 with the pooler') or diag($v13->{out} . $v13->{err});
is($plain->{protocol}, undef, 'the plaintext client has no TLS') or diag($plain->{out});

my $rows = $node->safe_psql('postgres', q{
	SELECT application_name, transport, coalesce(protocol, '-'), coalesce(cipher, '-'),
	       client_addr, client_port IS NOT NULL, connect_time IS NOT NULL, ptr <> '', coalesce(error, '')
	  FROM tls_audit.pooler_clients()
	 WHERE pooler = 'edge' AND datname = 'postgres'
	 ORDER BY application_name});
my %seen = map { my @f = split /\|/, $_, -1; ($f[0] => \@f) } split /\n/, $rows;
is(scalar(keys %seen), 3, 'pooler_clients(): one row per client connection') or diag($rows);
for my $c ($v12, $v13)
{
	my $r = $seen{ $c->{app} } // [];
	is($r->[1], 'tls', "$c->{app}: transport tls");
	is($r->[2], $c->{protocol}, "$c->{app}: the protocol the client saw");
	is($r->[3], $c->{cipher}, "$c->{app}: the cipher the client saw");
	is(join(',', @$r[4 .. 8]), '127.0.0.1,t,t,t,', "$c->{app}: address, port, connect time, ptr, no error");
}
is(join(',', @{ $seen{app_plain} // [] }[1 .. 3]), 'tcp,-,-', 'app_plain: tcp, NULL protocol and cipher');

# Metrics, read as a pg_monitor member: the pooler is up, and its client
# connections per protocol and cipher are what the clients themselves saw.
# The plaintext series also counts the admin-console connection that reads
# SHOW CLIENTS (sslmode=disable).
$node->safe_psql('postgres', 'CREATE ROLE regress_prom IN ROLE pg_monitor');
my $as_prom = 'SET ROLE regress_prom; ';
sub pooler_samples
{
	my ($family) = @_;
	return $node->safe_psql('postgres', $as_prom . qq{
		SELECT string_agg(l.labels || '=' || l.value, E'\\n' ORDER BY l.labels)
		  FROM (SELECT (SELECT string_agg(key || ':' || value, ',' ORDER BY key) FROM jsonb_each_text(labels)) AS labels,
		               value FROM tls_audit.metrics WHERE metric = '$family') AS l});
}
is(pooler_samples('tls_audit_pooler_up'), 'pooler:edge=1', 'metrics: the pooler is up');
is(pooler_samples('tls_audit_pooler_client_connections'), join("\n", sort
	"cipher:$v12->{cipher},pooler:edge,protocol:TLSv1.2,transport:tls=1",
	"cipher:$v13->{cipher},pooler:edge,protocol:TLSv1.3,transport:tls=1",
	'cipher:,pooler:edge,protocol:,transport:tcp=2'),
	'metrics: client connections per protocol and cipher, as the clients saw them');

# The certificate the pooler serves: pooler_certificates() and its metric
# against openssl's reading of the file pgbouncer loaded.
my $leaf_subject = openssl_field('p384.crt', 'subject', '-nameopt', 'RFC2253');
my $int_subject = openssl_field('intermediate.crt', 'subject', '-nameopt', 'RFC2253');
is($node->safe_psql('postgres', $as_prom . q{
	SELECT string_agg(concat_ws('|', "position", subject, issuer, key_type, key_bits, sha256, verified,
	                            verify_error IS NOT NULL, hostname_match, verified_against, protocol,
	                            coalesce(error, '-')), E'\n' ORDER BY "position")
	  FROM tls_audit.pooler_certificates()}),
	join("\n",
		"0|$leaf_subject|$int_subject|EC|384|" . lc(join('', openssl_field('p384.crt', 'fingerprint', '-sha256') =~ /[0-9A-F]/g))
		  . '|f|t|t|system|TLSv1.3|-',
		"1|$int_subject|" . openssl_field('intermediate.crt', 'issuer', '-nameopt', 'RFC2253') . '|RSA|2048|'
		  . lc(join('', openssl_field('intermediate.crt', 'fingerprint', '-sha256') =~ /[0-9A-F]/g))
		  . '|f|t|t|system|TLSv1.3|-'),
	'pooler_certificates(): the served chain, not verified against the system store');
my $t_before = time;
my $expiry = pooler_samples('tls_audit_pooler_certificate_expiry_seconds');
my $t_after = time;
my $leaf_end = `date -d "@{[ openssl_field('p384.crt', 'enddate') ]}" +%s`;
chomp $leaf_end;
my ($leaf_left) = $expiry =~ /^pooler:edge,position:0,subject:\Q$leaf_subject\E=(\S+)$/m;
ok(defined $leaf_left && $leaf_left >= $leaf_end - $t_after - 1 && $leaf_left <= $leaf_end - $t_before + 1,
	'metrics: seconds until the served leaf expires = openssl enddate - now') or diag($expiry);
is(scalar(() = $expiry =~ /^pooler:edge,/mg), 2, 'metrics: both served certificates');

# The pooler -> server leg: the cluster's own view of pgbouncer's sessions.
my $servers = $node->safe_psql('postgres', q{
	SELECT DISTINCT transport || ' ' || protocol FROM tls_audit.pooler_servers()
	 WHERE pooler = 'edge' AND datname = 'postgres'});
my $sessions = $node->safe_psql('postgres', q{
	SELECT DISTINCT transport || ' ' || protocol FROM tls_audit.sessions
	 WHERE client_addr = '127.0.0.1'});  # only pgbouncer connects over TCP here
is($servers, $sessions, "pooler_servers(): the server leg as the cluster's sessions show it");
like($servers, qr/^tls TLSv1\.3$/, 'server leg: TLSv1.3');

# The census of the pooler's clients (tls_audit.pooler_sample_interval = 1 s):
# each client connection is counted once however many samples list it, a new
# connection counts again, and floor_readiness('TLSv1.3') names the TLSv1.2
# application with its exact count (not pgbouncer, whose server leg is TLSv1.3).
# Samples are seen in the pooler's log: one admin console login each (no
# pooler function is called while the census is watched).
sub console_logins
{
	my $log = PostgreSQL::Test::Utils::slurp_file(bouncer_dir() . "/edge.log");
	return scalar(() = $log =~ /login attempt: db=pgbouncer /g);
}
sub wait_samples
{
	my ($n) = @_;
	my $target = console_logins() + $n + 1;    # the last one read to its end
	for my $try (1 .. 300)
	{
		return 1 if console_logins() >= $target;
		Time::HiRes::sleep(0.1);
	}
	return 0;
}
sub pooler_census
{
	return $node->safe_psql('postgres', q{
		SELECT application_name || ' ' || transport || ' ' || coalesce(protocol, '-') || ' ' || connections
		  FROM tls_audit.census WHERE source = 'edge' ORDER BY application_name});
}
sub readiness
{
	return $node->safe_psql('postgres', q{
		SELECT application_name || ' ' || connections || ' ' || reason
		  FROM tls_audit.floor_readiness('TLSv1.3') ORDER BY application_name});
}
$node->append_conf('postgresql.conf', 'tls_audit.pooler_sample_interval = 1');
$node->reload;
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
ok(wait_samples(3), 'the worker samples the pooler every second');
is(pooler_census(), "app_plain tcp - 1\napp_tls12 tls TLSv1.2 1\napp_tls13 tls TLSv1.3 1",
	'census: each client through the pooler once, under source edge, after several samples');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM tls_audit.census WHERE source = 'edge' AND datname = 'pgbouncer'}),
	'0', 'census: the admin console (the worker itself) is not a client');
is($node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE c.key_exchange_group IS DISTINCT FROM p.key_exchange_group
	                           OR c.cipher IS DISTINCT FROM p.cipher) || ' of ' || count(*)
	  FROM tls_audit.census c JOIN tls_audit.pooler_clients() p USING (application_name)
	 WHERE c.source = 'edge' AND c.transport = 'tls' AND p.pooler = 'edge'}),
	'0 of 2', 'census: cipher and key-exchange group as pooler_clients() parses them');
is(readiness(), "app_plain 1 no TLS\napp_tls12 1 TLSv1.2 < TLSv1.3",
	"floor_readiness('TLSv1.3'): the applications behind the pooler, with their counts");
# A second TLSv1.2 connection of the same application, held across samples.
my $v12b = open_client('app_tls12', 'sslmode=require ssl_max_protocol_version=TLSv1.2');
ok(wait_samples(3), 'more samples');
is(readiness(), "app_plain 1 no TLS\napp_tls12 2 TLSv1.2 < TLSv1.3", 'a second connection: counted once more');
# It reconnects: a new connection (a new ptr or connect time) counts again.
$v12b->{in} .= "\\q\n";
$v12b->{h}->finish;
@clients = grep { $_ != $v12b } @clients;
# pgbouncer before 1.21 has no client id: its connect time (whole seconds)
# tells a new connection in a reused slot apart, so the next one starts in
# another second.
Time::HiRes::sleep(1.1);
open_client('app_tls12', 'sslmode=require ssl_max_protocol_version=TLSv1.2');
ok(wait_samples(3), 'samples after the reconnection');
is(readiness(), "app_plain 1 no TLS\napp_tls12 3 TLSv1.2 < TLSv1.3", 'the reconnection counts again, once');
is($node->safe_psql('postgres', q{SELECT clients_not_ready FROM tls_audit.floor_readiness_summary('TLSv1.3')}),
	'2', 'floor_readiness_summary(): the two applications behind the pooler');

# SHOW CONFIG.
is($node->safe_psql('postgres',
	"SELECT value FROM tls_audit.pooler_settings() WHERE pooler = 'edge' AND setting = 'client_tls_sslmode'"),
	'prefer', 'pooler_settings(): client_tls_sslmode');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM tls_audit.pooler_settings() WHERE setting NOT LIKE '%tls%'"),
	'0', 'pooler_settings(): only TLS settings');

sub pooler_checks
{
	return $node->safe_psql('postgres', q{
		SELECT "check" || ' ' || severity FROM tls_audit.run_checks()
		 WHERE "check" LIKE 'pooler%' ORDER BY "check", severity});
}
is(pooler_checks(), join("\n",
	'pooler_cert_expiry ok',             # the pooler's own certificate, probed over STARTTLS
	'pooler_ciphers warning',            # OpenSSL's default list keeps RSA key exchange for TLSv1.2,
	'pooler_ciphers warning',            # on both legs
	'pooler_client_tls warning',         # prefer
	'pooler_password_in_conninfo ok',
	'pooler_protocols ok',
	'pooler_server_tls warning',         # require: does not verify the database
	'pooler_unreachable ok'), 'run_checks(): the pooler checks');

# The pooler's served certificate, probed over STARTTLS: with a window wider
# than its validity it is reported, named by its subject.
like($node->safe_psql('postgres', q{SET tls_audit.expiry_warning_days = 36500;
	SELECT severity || ' ' || object FROM tls_audit.run_checks() WHERE "check" = 'pooler_cert_expiry'}),
	qr/^warning edge .*O=ec p384/, "pooler_cert_expiry: the pooler's own certificate");

# strict: a client with a certificate through a pooler that verifies both legs.
my $strict_conninfo = "host=127.0.0.1 port=$strict_port dbname=pgbouncer user=$os_user sslmode=require"
  . " sslrootcert=@{[ cert_path('ca-bundle.crt') ]}"
  . " sslcert=@{[ cert_path('client.crt') ]} sslkey=@{[ client_key('client.key') ]}";
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'edge=$conninfo; strict=$strict_conninfo'");
$node->reload;
# Read through its client certificate: no error row (its error says why not).
is($node->safe_psql('postgres', q{
	SELECT coalesce(string_agg(error, '; '), '') FROM tls_audit.pooler_settings()
	 WHERE pooler = 'strict' AND error IS NOT NULL}),
	'', 'strict: its admin console is read through the client certificate');
# Its connection string names sslrootcert: the served chain verifies against it.
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT concat_ws(' ', verified, hostname_match, verified_against, coalesce(error, '-')), ',')
	  FROM tls_audit.pooler_certificates() WHERE pooler = 'strict'}),
	't t sslrootcert -', 'pooler_certificates(): verified against the sslrootcert of the connection string');
my $certified = open_client('app_cert', "port=$strict_port sslmode=require sslcert=@{[ cert_path('client.crt') ]}"
	  . " sslkey=@{[ client_key('client.key') ]}");
is($certified->{protocol}, 'TLSv1.3', 'the client with a certificate reached the strict pooler') or diag($certified->{out} . $certified->{err});
is($node->safe_psql('postgres', q{
	SELECT transport || ' ' || protocol || ' ' || cipher FROM tls_audit.pooler_clients()
	 WHERE pooler = 'strict' AND application_name = 'app_cert'}),
	"tls TLSv1.3 $certified->{cipher}", 'pooler_clients(): the certified client as it saw itself');
is($node->safe_psql('postgres', q{
	SELECT DISTINCT transport || ' ' || protocol FROM tls_audit.pooler_servers()
	 WHERE pooler = 'strict' AND datname = 'postgres'}),
	'tls TLSv1.3', 'pooler_servers(): the verified server leg');
is($node->safe_psql('postgres', q{
	SELECT "check" || ' ' || severity FROM tls_audit.run_checks()
	 WHERE "check" IN ('pooler_client_tls', 'pooler_server_tls', 'pooler_protocols') AND object LIKE 'strict%'}),
	'', 'strict: no finding about its sslmodes and protocols');
like($node->safe_psql('postgres', q{
	SELECT string_agg(object, ',' ORDER BY object) FROM tls_audit.run_checks()
	 WHERE "check" = 'pooler_ciphers' AND object LIKE 'strict%'}),
	qr/^strict server_tls_ciphers: kRSA$/, 'strict: only the server leg (TLSv1.2 allowed) keeps RSA key exchange');
is($node->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT severity, ',') FROM tls_audit.run_checks()
	 WHERE "check" IN ('pooler_client_tls', 'pooler_server_tls') AND object LIKE 'edge%'}),
	'warning', 'edge: still its two warnings');

# A password in the setting: critical, never shown.
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'edge=$conninfo password=Sw0rdf1sh'");
$node->reload;
my $out = $node->safe_psql('postgres', q{
	SELECT severity || ' ' || message FROM tls_audit.run_checks()
	 WHERE "check" = 'pooler_password_in_conninfo'});
like($out, qr/^critical pooler edge: .*holds a password/, 'password in conninfo: critical');
unlike($out, qr/Sw0rdf1sh/, 'password in conninfo: not shown');
my $all = $node->safe_psql('postgres', q{
	SELECT string_agg(message || hint, ' ') FROM tls_audit.run_checks()});
unlike($all, qr/Sw0rdf1sh/, 'no finding shows the password');

# A malformed value is refused at reload: the previous value stays.
# (PostgreSQL itself logged the valid value above as "changed to": only what
# follows is the refusal's.)
my $refusal_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'host=127.0.0.1 password=Sw0rdf1sh'");
$node->reload;
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM tls_audit.pooler_settings() WHERE pooler = 'edge'}),
	't', 'a malformed value keeps the previous one');
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
like($log, qr/invalid tls_audit.poolers: entry 1 starts with the connection keyword "host"/,
	'the refusal says why');
like(PostgreSQL::Test::Utils::slurp_file($node->logfile, $refusal_offset),
	qr/invalid value for parameter "tls_audit\.poolers" \(not shown: it may hold a password\)/,
	'the refusal names the setting');
unlike(PostgreSQL::Test::Utils::slurp_file($node->logfile, $refusal_offset), qr/Sw0rdf1sh/,
	'the refusal never shows the value (it holds a password)');

# The pooler stops: an error row and pooler_unreachable, not an error.
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'edge=$conninfo'");
$node->reload;
for my $c (@clients)
{
	$c->{in} .= "\\q\n";
	$c->{h}->finish;
}
$bouncer->kill_kill;
my ($rc, $stdout, $stderr) = ('', '', '');
$rc = $node->psql('postgres', q{SELECT pooler, error IS NOT NULL, usename IS NULL FROM tls_audit.pooler_clients()},
	stdout => \$stdout, stderr => \$stderr);
is($rc, 0, 'pooler_clients() with the pooler down: no error') or diag($stderr);
is($stdout, 'edge|t|t', 'pooler_clients(): one row with the error');
# The scrape still succeeds: up 0, no client or certificate sample.
($rc, $stdout, $stderr) = ('', '', '');
$rc = $node->psql('postgres', $as_prom . 'SELECT tls_audit.metrics_text()', stdout => \$stdout, stderr => \$stderr);
is($rc, 0, 'metrics_text() with the pooler down: no error') or diag($stderr);
like($stdout, qr/^tls_audit_pooler_up\{pooler="edge"\} 0$/m, 'metrics: tls_audit_pooler_up 0');
unlike($stdout, qr/^tls_audit_pooler_(client_connections|certificate_expiry_seconds)\{/m,
	'metrics: no client or certificate sample of a pooler that is down');
like($stdout, qr/^tls_audit_findings\{severity="warning"\} [1-9]/m, 'metrics: the other families are still there');
is($node->safe_psql('postgres', q{
	SELECT pooler || ' ' || (subject IS NULL) || ' ' || (error <> '') FROM tls_audit.pooler_certificates()}),
	'edge true true', 'pooler_certificates(): one row with the error');
# The queries of monitoring/postgres_exporter/queries.yaml for the poolers
# run as the exporter's role and agree with the view.
open my $yaml_fh, '<', "$FindBin::RealBin/../../monitoring/postgres_exporter/queries.yaml" or die $!;
my $yaml = do { local $/; <$yaml_fh> };
close $yaml_fh;
my $pooler_queries = 0;
while ($yaml =~ /^(tls_audit_pooler\w*):\n  query: \|\n((?:    .*\n)+)/mg)
{
	my ($key, $query) = ($1, $2);
	my ($family) = $query =~ /metric = '(\w+)'/;
	is($node->safe_psql('postgres', $as_prom . "SELECT count(*) FROM ($query) AS q"),
		$node->safe_psql('postgres', $as_prom . "SELECT count(*) FROM tls_audit.metrics WHERE metric = '$family'"),
		"queries.yaml $key: the rows of $family");
	$pooler_queries++;
}
is($pooler_queries, 3, 'queries.yaml has the three pooler families');
$out = $node->safe_psql('postgres', q{
	SELECT severity || ' ' || message FROM tls_audit.run_checks() WHERE "check" = 'pooler_unreachable'});
like($out, qr/^warning pooler edge could not be read: .*the TLS of its clients is not audited/,
	'pooler_unreachable: warning with the reason');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM tls_audit.run_checks() WHERE "check" = 'pooler_client_tls' AND severity = 'info'}),
	'1', 'the other pooler checks: info');
# The sampler meanwhile: no sample, one line in the log (not one per second).
Time::HiRes::sleep(2.5);
my @down = PostgreSQL::Test::Utils::slurp_file($node->logfile) =~ /pooler "edge" could not be sampled/g;
is(scalar(@down), 1, 'a pooler down: logged once by the sampler');

# Poolers that never answer, at each step of the conversation: mute from the
# start (the connection is never accepted), mute in the TLS handshake (the
# SSL request is answered 'S', then nothing), mute after the login (no answer
# to SHOW). Each is bounded by tls_audit.pooler_timeout (an error row), and a
# cancel (statement_timeout) ends each wait at once with 57014.
my $hole = silent_listener();
my %mute = (
	mute => "host=127.0.0.1 port=@{[ $hole->sockport ]} dbname=pgbouncer sslmode=disable",
	mute_tls => "host=127.0.0.1 port=@{[ mute_server('tls') ]} dbname=pgbouncer sslmode=require",
	mute_query => "host=127.0.0.1 port=@{[ mute_server('query') ]} dbname=pgbouncer sslmode=disable");
# tls_audit.poolers with these mute poolers, in this order.
sub set_mute_poolers
{
	$node->append_conf('postgresql.conf',
		"tls_audit.poolers = '" . join('; ', map { "$_=$mute{$_}" } @_) . "'");
	$node->reload;
}
set_mute_poolers(qw(mute mute_tls mute_query));
my $t0 = Time::HiRes::time();
is($node->safe_psql('postgres', q{SET tls_audit.pooler_timeout = 300;
	SELECT pooler || ': ' || error FROM tls_audit.pooler_settings()}),
	join("\n", 'mute: timeout after 300 ms connecting (tls_audit.pooler_timeout)',
		'mute_tls: timeout after 300 ms connecting (tls_audit.pooler_timeout)',
		'mute_query: timeout waiting for the answer to SHOW CONFIG (tls_audit.pooler_timeout)'),
	'mute poolers: a timeout row each (before, in and after the TLS handshake)');
cmp_ok(Time::HiRes::time() - $t0, '<', 30, 'the timeout bounds the wait');
for my $first (qw(mute_tls mute_query mute))
{
	set_mute_poolers($first, grep { $_ ne $first } sort keys %mute);
	$t0 = Time::HiRes::time();
	($rc, $stdout, $stderr) = ('', '', '');
	$rc = $node->psql('postgres', q{SET tls_audit.pooler_timeout = 60000; SET statement_timeout = 300;
		SELECT * FROM tls_audit.run_checks()}, stdout => \$stdout, stderr => \$stderr);
	like($stderr, qr/canceling statement due to statement timeout/, "a cancel ends the wait on $first");
	cmp_ok(Time::HiRes::time() - $t0, '<', 30, "$first: at once, not after tls_audit.pooler_timeout");
}

# While it waits, the backend shows the pooler's wait event.
my ($win, $wout, $werr) = ('', '', '');
my $waiter = IPC::Run::start([ 'psql', '-XAt', '-d', $node->connstr('postgres') ],
	'<', \$win, '>', \$wout, '2>', \$werr, IPC::Run::timeout(60));
$win .= "SET application_name = 'pooler_waiter'; SET tls_audit.pooler_timeout = 20000;\n"
  . "SELECT count(*) FROM tls_audit.pooler_settings();\n";
$waiter->pump_nb;
my $event = $node->pg_version >= 17 ? 'TlsAuditPooler' : 'Extension';
my $seen_event = '';
for my $try (1 .. 100)
{
	$seen_event = $node->safe_psql('postgres',
		"SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity WHERE application_name = 'pooler_waiter'");
	last if $seen_event eq "Extension/$event";
	$waiter->pump_nb;
	Time::HiRes::sleep(0.1);
}
is($seen_event, "Extension/$event", 'the wait event of a backend waiting on a pooler');
$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pooler_waiter'");
$win .= "\\q\n";
$waiter->finish;
like($werr, qr/canceling statement due to user request/, 'pg_cancel_backend() ends the wait');

# A shutdown while the sampler waits on the mute poolers (5 s of
# tls_audit.pooler_timeout each, most of the time): SIGTERM ends the wait at once.
Time::HiRes::sleep(1.5);
$t0 = Time::HiRes::time();
$node->stop('fast');
cmp_ok(Time::HiRes::time() - $t0, '<', 4.5, 'the sampler does not hold up a shutdown');
$node->start;

# A malformed value at server start fails closed: the functions refuse to
# run (instead of reading as "no pooler"), run_checks() reports it as a
# critical settings_not_applied, and neither shows the value.
my $start_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "tls_audit.poolers = 'edge=host=127.0.0.1 password=Sw0rdf1sh nonsense'");
$node->restart;
($rc, $stdout, $stderr) = ('', '', '');
$rc = $node->psql('postgres', 'SELECT * FROM tls_audit.pooler_clients()', stdout => \$stdout, stderr => \$stderr);
isnt($rc, 0, 'refused at start: pooler_clients() fails');
like($stderr, qr/tls_audit\.poolers in the configuration files was refused at start/, 'refused at start: says why');
$out = $node->safe_psql('postgres', q{
	SELECT severity || ' ' || message FROM tls_audit.run_checks() WHERE "check" = 'settings_not_applied'});
like($out, qr/^critical tls_audit\.poolers = \(not shown\) /, 'refused at start: settings_not_applied, critical');
unlike($out, qr/Sw0rdf1sh/, 'refused at start: the value is not shown');
like(PostgreSQL::Test::Utils::slurp_file($node->logfile),
	qr/WARNING:  tls_audit\.poolers = \(not shown\) from \S+ line \d+ was not applied: invalid value\n.*DETAIL:  invalid tls_audit\.poolers: the connection string of "edge" is invalid/,
	"refused at start: the extension's warning names the reason, not the value");
unlike(PostgreSQL::Test::Utils::slurp_file($node->logfile, $start_offset), qr/Sw0rdf1sh/,
	'refused at start: the server log never shows the value');

stop_bouncers();
$node->stop('fast');
done_testing();
