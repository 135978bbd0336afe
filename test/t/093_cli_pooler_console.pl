# pg_tls_check --pooler: Debian's pgbouncer (started here on 127.0.0.1 with
# its own certificate, in front of a test cluster) audited through its admin
# console from the outside. Clients at TLSv1.2, TLSv1.3 and in plaintext stay
# connected while the tool reads SHOW CLIENTS; each client row must say what
# that client itself saw (psql's \conninfo). Then every output format, the
# JSON schema, a stopped pooler (pooler_unreachable, exit UNKNOWN, no hang),
# a pooler that never answers (bounded by --timeout) and bad connection
# strings (clean usage errors that never echo a password).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes ();
use TlsAuditTest;

plan skip_all => 'pgbouncer is not installed (test/deps.sh installs it)' unless pgbouncer_path();

my $node = new_tls_node('cli_pooler_console');
# The cluster's superuser is the operating-system user running the test; it
# is also the admin console's user (admin_users).
my $os_user = getpwuid($<);
my ($port, $bouncer) =
  start_bouncer($node, 'bouncer', "client_tls_sslmode = prefer\nserver_tls_sslmode = require", admin => 1);

# The clients through the pooler, stopped at the end.
my @running;
END { $_->kill_kill for grep { $_->pumpable } @running; }

my $console = "host=127.0.0.1 port=$port dbname=pgbouncer user=$os_user";

# Three clients through the pooler that stay connected: each runs a query
# (session pooling then keeps its server connection) and asks \conninfo, and
# waits for the end of its standard input, closed at the end of the test.
my %clients = (
	app_tls12 => 'sslmode=require ssl_max_protocol_version=TLSv1.2',
	app_tls13 => 'sslmode=require ssl_min_protocol_version=TLSv1.3',
	app_plain => 'sslmode=disable');
my (%client_in, %client_out, %client);
for my $app (sort keys %clients)
{
	$client_in{$app} = "SELECT 1;\n\\conninfo\n";
	$client_out{$app} = '';
	$client{$app} = IPC::Run::start(
		[ 'psql', '-X',
		  "host=127.0.0.1 port=$port dbname=postgres user=$os_user application_name=$app $clients{$app}" ],
		'<', \$client_in{$app}, '>', \$client_out{$app}, '2>&1', IPC::Run::timeout(120));
	push @running, $client{$app};
	$client{$app}->pump_nb;
}

sub check_json
{
	my ($rc, $out, $err, $ms) = run_tls_check('--timeout', '10000', '--format', 'json', @_);
	my $doc = eval { decode_json($out) } or diag("no JSON: $out $err");
	return ($rc, $doc, $out, $err, $ms);
}

# Wait until pgbouncer lists the three clients (the tool's own reading).
my ($rc, $doc, $json);
for my $try (1 .. 100)
{
	($rc, $doc, $json) = check_json('--pooler', "edge=$console");
	$_->pump_nb for values %client;
	my @apps = grep { /^app_/ } map { $_->{application_name} // '' } @{ $doc->{poolers}[0]{clients} // [] };
	last if @apps == 3 && @{ $doc->{poolers}[0]{servers} // [] } >= 2;
	Time::HiRes::sleep(0.2);
}
my $p = $doc->{poolers}[0];
is($p->{name}, 'edge', 'the pooler is named as given');
is($p->{address}, "127.0.0.1:$port", 'the address the console was reached at');
is($p->{error}, undef, 'the console was read');
my %row = map { ($_->{application_name} // '') => $_ } @{ $p->{clients} };
is(scalar(grep { /^app_/ } keys %row), 3, 'SHOW CLIENTS lists the three clients');

is($row{app_tls12}{transport}, 'tls', 'TLSv1.2 client: transport tls');
is($row{app_tls12}{protocol}, 'TLSv1.2', 'TLSv1.2 client: protocol');
is($row{app_tls13}{protocol}, 'TLSv1.3', 'TLSv1.3 client: protocol');
is($row{app_plain}{transport}, 'tcp', 'plaintext client: transport tcp');
is($row{app_plain}{protocol}, undef, 'plaintext client: no protocol');
is($row{app_plain}{tls}, '', "plaintext client: pgbouncer's empty tls column");
is($row{app_tls12}{user}, $os_user, 'the user');
is($row{app_tls12}{database}, 'postgres', 'the database');
is($row{app_tls12}{address}, '127.0.0.1', 'the client address');
ok(grep({ $_->{transport} eq 'tls' } @{ $p->{servers} }), 'SHOW SERVERS: the pooler -> server leg is TLS');
my %setting = map { $_->{setting} => $_->{value} } @{ $p->{settings} };
is($setting{client_tls_sslmode}, 'prefer', 'SHOW CONFIG: client_tls_sslmode');
is($setting{server_tls_sslmode}, 'require', 'SHOW CONFIG: server_tls_sslmode');
like($p->{certificate}{chain}[0]{subject} // '', qr/O=ec p384/, "the certificate probed is the pooler's own");
my %finding = map { $_->{code} => $_ } @{ $p->{findings} };
is($finding{pooler_client_tls}{severity}, 'WARNING', 'client_tls_sslmode = prefer: WARNING');
is($finding{pooler_server_tls}{severity}, 'WARNING', 'server_tls_sslmode = require: WARNING');
is($finding{pooler_unreachable}, undef, 'not unreachable');
is($p->{status}, 'WARNING', 'the pooler is WARNING');
is($doc->{status}, 'WARNING', 'the report is WARNING');
is($rc, 1, 'exit 1 (WARNING)');
is_deeply($doc->{targets}, [], 'no target: only the pooler');

# The schema (python3-jsonschema, from test/deps.sh).
my $schema = "$FindBin::RealBin/../../doc/pg_tls_check.schema.json";
my $validator = "$FindBin::RealBin/../validate_json_schema.py";
my ($vout, $verr);
IPC::Run::run([ 'python3', $validator, $schema, '-' ], '<', \$json, '>', \$vout, '2>', \$verr);
is($? >> 8, 0, 'the JSON with a pooler validates against the schema') or diag $verr;
(my $broken = $json) =~ s/"transport":"tcp"/"transport":"carrier-pigeon"/;
IPC::Run::run([ 'python3', $validator, $schema, '-' ], '<', \$broken, '>', \$vout, '2>', \$verr);
is($? >> 8, 1, 'a pooler row with an unknown transport does not validate');

# Each client's row says what the client saw itself (psql's \conninfo: a
# sentence up to PostgreSQL 17, a table from 18 on).
$_->finish for values %client;
for my $app ('app_tls12', 'app_tls13')
{
	my $seen = $client_out{$app};
	my ($protocol) = $seen =~ /SSL connection \(protocol: ([^,]+),/;
	($protocol) = $seen =~ /SSL Protocol\s*\|\s*(\S+)/ unless defined $protocol;
	my ($cipher) = $seen =~ /cipher: ([^,]+),/;
	($cipher) = $seen =~ /SSL Cipher\s*\|\s*(\S+)/ unless defined $cipher;
	ok(defined $protocol && defined $cipher, "$app: the client says what it negotiated") or diag $seen;
	is($row{$app}{protocol}, $protocol, "$app: the protocol the client saw") or diag $seen;
	is($row{$app}{cipher}, $cipher, "$app: the cipher the client saw") or diag $seen;
}
unlike($client_out{app_plain}, qr/SSL connection|SSL Protocol\s*\|\s*TLS/, 'the plaintext client saw no TLS');

# Every format shows the pooler.
my ($out, $err);
($rc, $out, $err) = run_tls_check('--timeout', '10000', '--pooler', "edge=$console");
like($out, qr/^pooler edge \(127\.0\.0\.1:$port\)  WARNING$/m, 'text: the pooler line');
like($out, qr/client_tls_sslmode = 'prefer'/, 'text: the setting');
like($out, qr/^1 pooler: 0 OK, 1 WARNING, 0 CRITICAL, 0 UNKNOWN$/m, 'text: the summary');
($rc, $out, $err) = run_tls_check('--timeout', '10000', '--format', 'tap', '--pooler', "edge=$console");
like($out, qr/^1\.\.1\nnot ok 1 - pooler edge WARNING/m, 'tap: one test for the pooler');
($rc, $out, $err) = run_tls_check('--timeout', '10000', '--format', 'nagios', '--pooler', "edge=$console");
like($out, qr/^PG_TLS WARNING - pooler edge WARNING: .*'pooler_edge_days'=\d+/, 'nagios: status line and perfdata');
($rc, $out, $err) = run_tls_check('--timeout', '10000', '--format', 'prometheus', '--pooler', "edge=$console");
like($out, qr/^tls_audit_probe_pooler_up\{pooler="edge"\} 1$/m, 'prometheus: up');
like($out, qr/^tls_audit_probe_pooler_status\{pooler="edge"\} 1$/m, 'prometheus: status');
like($out, qr/^tls_audit_probe_pooler_certificate_expiry_seconds\{pooler="edge",position="0",/m,
	'prometheus: certificate expiry');
($rc, $out, $err) = run_tls_check('--timeout', '10000', '--format', 'html', '--pooler', "edge=$console");
like($out, qr/<section id="poolers">.*<code>edge<\/code>/s, 'html: the pooler row');

# A pooler and a target in one run; two poolers need two names.
($rc, $doc) = check_json('--pooler', "edge=$console", '127.0.0.1:' . $node->port);
is(scalar @{ $doc->{targets} }, 1, 'a target and a pooler: one target');
is(scalar @{ $doc->{poolers} }, 1, 'a target and a pooler: one pooler');
($rc, $out, $err) = run_tls_check('--pooler', "edge=$console", '--pooler', "edge=$console");
is($rc, 3, 'a repeated name: exit UNKNOWN');
like($err, qr/--pooler 2 \("edge"\): repeats a name/, 'a repeated name: the message');
($rc, $doc) = check_json('--pooler', $console, '--pooler', "second=$console");
is_deeply([ map { $_->{name} } @{ $doc->{poolers} } ], [ 'pooler1', 'second' ], 'an unnamed pooler is pooler<N>');

# Bad connection strings are usage errors that show nothing of the string.
($rc, $out, $err) = run_tls_check('--pooler', "host='127.0.0.1 port=$port");
is($rc, 3, 'an unterminated quote: exit UNKNOWN');
like($err, qr/--pooler 1 \("pooler1"\): invalid connection string: unterminated quoted string/,
	'an unterminated quote: libpq says what is wrong');
is($out, '', 'an unterminated quote: no report');
($rc, $out, $err) = run_tls_check('--pooler', "edge=$console nosuchkeyword=hunter2");
is($rc, 3, 'an unknown keyword: exit UNKNOWN');
unlike($err, qr/hunter2/, 'an unknown keyword: its value is not shown');
($rc, $out, $err) = run_tls_check('--pooler', "edge=$console password=hunter2");
is($rc, 3, 'a password in the connection string: exit UNKNOWN');
like($err, qr/holds a password \(not shown\)/, 'a password: said');
unlike($err . $out, qr/hunter2/, 'a password: never shown');

# A pooler that accepts TCP and never answers: pooler_unreachable within
# --timeout, not a hang.
my $silent = silent_listener();
my $ms;
($rc, $doc, $json, $err, $ms) = check_json('--timeout', '1000', '--pooler',
	'quiet=host=127.0.0.1 port=' . $silent->sockport . ' dbname=pgbouncer connect_timeout=0');
is($rc, 3, 'a silent pooler: exit UNKNOWN');
like($doc->{poolers}[0]{error} // '', qr/timeout after 1000 ms connecting/, 'a silent pooler: the timeout');
cmp_ok($ms, '<', 8000, "a silent pooler: bounded by --timeout ($ms ms)");
close $silent;

# The pooler stopped: pooler_unreachable, exit UNKNOWN.
$bouncer->kill_kill;
($rc, $doc, $json) = check_json('--pooler', "edge=$console");
$p = $doc->{poolers}[0];
is($rc, 3, 'stopped pooler: exit UNKNOWN');
is($p->{status}, 'UNKNOWN', 'stopped pooler: status UNKNOWN');
like($p->{error} // '', qr/Connection refused|could not connect/, "stopped pooler: libpq's reason");
is_deeply([ map { "$_->{severity} $_->{code}" } @{ $p->{findings} } ], ['UNKNOWN pooler_unreachable'],
	'stopped pooler: only pooler_unreachable');
is($p->{certificate}, undef, 'stopped pooler: no certificate');
IPC::Run::run([ 'python3', $validator, $schema, '-' ], '<', \$json, '>', \$vout, '2>', \$verr);
is($? >> 8, 0, 'the JSON of an unreachable pooler validates') or diag $verr;

$_->kill_kill for grep { $_->pumpable } @running;
@running = ();
stop_bouncers();
$node->stop('fast');
done_testing();
