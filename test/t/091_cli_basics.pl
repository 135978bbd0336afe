# pg_tls_check end to end against local clusters, compared with what
# `openssl s_client -starttls postgres` sees: protocol verdicts, ciphers and
# the chain; verification and host names; unreachable, plaintext-only and
# black-holed targets; the exit status of each real scenario; the output
# formats; a parallel scan; quiet server logs. Loopback only.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use JSON::PP;
use TAP::Parser;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

# PostgreSQL's default ssl_ciphers, for the servers that are not "old".
my $default_ciphers = "ssl_ciphers = 'HIGH:MEDIUM:+3DES:!aNULL'";

# Accepts TLSv1 and every cipher (new_tls_node's defaults).
my $old = new_tls_node('cli_old', ca => undef, conf => 'log_connections = on');
my $modern = new_tls_node('cli_modern', ca => undef,
	conf => "ssl_min_protocol_version = 'TLSv1.2'\n$default_ciphers\nlog_connections = on");
my $nossl = new_tls_node('cli_nossl', ca => undef, conf => 'ssl = off');
# The expired certificate is loaded under a permissive OpenSSL configuration,
# as an old installation would, so that loading never depends on the
# distribution's defaults.
my $expired = new_tls_node('cli_expired', ca => undef, cert => 'expired-chain.crt',
	key => 'expired.key', server_openssl_conf => 1,
	conf => "ssl_min_protocol_version = 'TLSv1.2'\n$default_ciphers");
my ($OLD, $MODERN, $NOSSL, $EXPIRED) = map { $_->port } $old, $modern, $nossl, $expired;
my $CLOSED = PostgreSQL::Test::Cluster::get_free_port();
my $hole = silent_listener();
my $BLACKHOLE = $hole->sockport;
note "clusters: old=$OLD modern=$MODERN nossl=$NOSSL expired=$EXPIRED; closed $CLOSED; black hole $BLACKHOLE";
my %log_offset = (old => -s $old->logfile, modern => -s $modern->logfile);

my $bundle = cert_path('ca-bundle.crt');

sub json_of
{
	my ($out, $what) = @_;
	my $doc = eval { decode_json($out) };
	ok($doc, "$what: JSON parses") or diag($out);
	return $doc // {};
}

# --- enumeration and chain against s_client ---

sub s_client
{
	my @args = @_;
	my $out = '';
	IPC::Run::run([ 'openssl', 's_client', '-starttls', 'postgres', @args ],
		'<', \undef, '>&', \$out, IPC::Run::timeout(20));
	return $out;
}

# "accepted VERSION CIPHER" or "refused", as s_client -brief reports it.
sub s_client_verdict
{
	my ($port, $flag) = @_;
	my $out = s_client('-brief', '-connect', "127.0.0.1:$port", "-$flag", '-cipher', 'ALL:@SECLEVEL=0');
	my ($proto) = $out =~ /^Protocol version: *(\S+)/m;
	my ($cipher) = $out =~ /^Ciphersuite: *(\S+)/m;
	return (defined $proto && defined $cipher) ? "accepted $proto $cipher" : 'refused';
}

# SHA-256 fingerprints (lower-case hex) of the certificates s_client -showcerts prints, in order.
sub s_client_chain
{
	my ($port) = @_;
	my $out = s_client('-connect', "127.0.0.1:$port", '-showcerts');
	my @fps;
	for my $pem ($out =~ /(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)/sg)
	{
		my $fp = '';
		IPC::Run::run([ 'openssl', 'x509', '-noout', '-fingerprint', '-sha256' ],
			'<', \"$pem\n", '>', \$fp, IPC::Run::timeout(20));
		$fp =~ s/.*=//s;
		$fp =~ s/[:\s]//g;
		push @fps, lc $fp;
	}
	return join("\n", @fps);
}

my %flag = ('TLSv1' => 'tls1', 'TLSv1.1' => 'tls1_1', 'TLSv1.2' => 'tls1_2', 'TLSv1.3' => 'tls1_3');
my %expect_verdicts = (
	OLD => 'TLSv1:accepted TLSv1.1:accepted TLSv1.2:accepted TLSv1.3:accepted',
	MODERN => 'TLSv1:refused TLSv1.1:refused TLSv1.2:accepted TLSv1.3:accepted');
for my $server ([ OLD => $OLD ], [ MODERN => $MODERN ])
{
	my ($name, $port) = @$server;
	my ($rc, $out) = run_tls_check('--format', 'json', '--ca-file', $bundle, "127.0.0.1:$port");
	my $t = json_of($out, "$name server")->{targets}[0];
	my @verdicts;
	for my $v ('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3')
	{
		my $p = $t->{protocols}{$v};
		my $mine = ($p && $p->{accepted}) ? "accepted $v $p->{cipher}" : 'refused';
		is($mine, s_client_verdict($port, $flag{$v}), "$name server: $v verdict and cipher match s_client");
		push @verdicts, "$v:" . ($mine =~ s/ .*//r);
	}
	# Each scenario must show what it is set up to show, not just agree with
	# s_client (which would also agree if both saw nothing).
	is("@verdicts", $expect_verdicts{$name}, "$name server: the protocol versions it is configured for");
	my $theirs = s_client_chain($port);
	isnt($theirs, '', "$name server: s_client -showcerts printed a chain");
	is(join("\n", map { $_->{sha256} } @{ $t->{certificates} // [] }), $theirs,
		"$name server: chain matches s_client -showcerts");
	is(scalar @{ $t->{certificates} // [] }, 2, "$name server: two certificates presented");
}

# --- verification ---
my ($rc, $out, $err) = run_tls_check('--format', 'json', '--ca-file', $bundle, "127.0.0.1:$MODERN");
my $t = json_of($out, 'CA bundle')->{targets}[0];
is("$t->{verified} $t->{hostname_match} $rc", '1 1 0', 'verifies against the CA bundle, host name matches, exit 0');
($rc, $out) = run_tls_check('--format', 'json', '--ca-file', cert_path('root.crt'), "127.0.0.1:$MODERN");
$t = json_of($out, 'root alone')->{targets}[0];
ok($t->{verified} && JSON::PP::is_bool($t->{verified}), 'verifies against the root alone (intermediate presented)');
($rc, $out) = run_tls_check('--format', 'json', '--ca-file', cert_path('selfsigned.crt'), "127.0.0.1:$MODERN");
$t = json_of($out, 'unknown CA')->{targets}[0];
is(($t->{verified} ? 'true' : 'false') . " $t->{verify_error} $rc", 'false unable to get local issuer certificate 2',
	'unknown CA: not verified, CRITICAL');
($rc, $out) = run_tls_check('--format', 'json', '--ca-file', $bundle, '--sni', 'wrong.example', "127.0.0.1:$MODERN");
$t = json_of($out, 'wrong host name')->{targets}[0];
is(($t->{verified} ? 'true' : 'false') . ' ' . ($t->{hostname_match} ? 'true' : 'false') . " $rc", 'true false 2',
	'wrong host name: verified chain, no match, CRITICAL');
is(join(' ', map { $_->{code} } grep { $_->{severity} eq 'CRITICAL' } @{ $t->{findings} // [] }),
	'hostname_mismatch', 'wrong host name: finding says so');
($rc, $out) = run_tls_check('--format', 'json', '--ca-file', $bundle, '--sni', 'localhost', "127.0.0.1:$MODERN");
$t = json_of($out, 'SNI localhost')->{targets}[0];
ok($t->{hostname_match} && JSON::PP::is_bool($t->{hostname_match}), 'SNI localhost matches the certificate');

# --- errors ---
($rc, $out) = run_tls_check('--format', 'json', "127.0.0.1:$NOSSL");
$t = json_of($out, 'ssl=off')->{targets}[0];
is(($t->{error} // 'null') . " $rc", 'server does not support SSL 3', "ssl=off: 'server does not support SSL', UNKNOWN");
my $ms;
($rc, $out, $err, $ms) = run_tls_check('--timeout', '2000', "127.0.0.1:$CLOSED");
like("$out$err", qr/connection refused/, 'closed port: connection refused');
is($rc, 3, 'closed port: exit 3');
cmp_ok($ms, '<', 2000, 'closed port: answer within the timeout');
($rc, $out, $err, $ms) = run_tls_check('--timeout', '700', "127.0.0.1:$BLACKHOLE");
like("$out$err", qr/timed out after 700 ms while waiting for the answer to SSLRequest/,
	'black hole: times out waiting for the SSLRequest answer');
is($rc, 3, 'black hole: exit 3');
ok($ms >= 650 && $ms < 1700, "black hole: gives up at the timeout ($ms ms)");

# --- exit codes, each from a real scenario ---
($rc, $out) = run_tls_check('--ca-file', $bundle, "127.0.0.1:$MODERN");
is($rc, 0, 'exit 0: floor TLSv1.2, valid verified chain');
like($out, qr/127\.0\.0\.1:$MODERN  OK/, 'exit 0: text output says OK');
my $end = openssl_field('server-chain.crt', 'enddate');
my $end_epoch = `date -d '$end' +%s`;
chomp $end_epoch;
like($end_epoch, qr/^\d+$/, "the leaf's notAfter parses ($end)");
my $leaf_days = int(($end_epoch - time) / 86400);
($rc, $out) = run_tls_check('--ca-file', $bundle, '--min-days', $leaf_days + 1, "127.0.0.1:$MODERN");
is($rc, 1, 'exit 1: leaf expires within --min-days ' . ($leaf_days + 1));
like($out, qr/WARNING +the server certificate expires in $leaf_days days/, 'exit 1: says when');
($rc, $out) = run_tls_check("127.0.0.1:$EXPIRED");
is($rc, 2, 'exit 2: expired certificate');
like($out, qr/CRITICAL +the server certificate expired [0-9]+ days? ago/, 'exit 2: says expired');
($rc) = run_tls_check("127.0.0.1:$OLD");
is($rc, 2, 'exit 2: accepts TLSv1 below --min-protocol TLSv1.2');
($rc) = run_tls_check('--min-protocol', 'TLSv1', "127.0.0.1:$OLD");
is($rc, 0, 'exit 0: the same server with --min-protocol TLSv1');
($rc) = run_tls_check("127.0.0.1:$CLOSED");
is($rc, 3, 'exit 3: unreachable');
($rc) = run_tls_check('--format', 'xml', "127.0.0.1:$MODERN");
is($rc, 3, 'exit 3: bad usage');
($rc) = run_tls_check("127.0.0.1:$MODERN", "127.0.0.1:$CLOSED", "127.0.0.1:$EXPIRED");
is($rc, 2, 'overall exit: CRITICAL outranks UNKNOWN and OK');

# --- formats ---
($rc, $out) = run_tls_check('--format', 'tap', '--ca-file', $bundle,
	"127.0.0.1:$MODERN", "127.0.0.1:$OLD", "127.0.0.1:$CLOSED");
{
	my $p = TAP::Parser->new({ tap => $out });
	while (defined(my $r = $p->next)) { }
	my @e = $p->parse_errors;
	is(sprintf('%s planned=%d run=%d passed=%d failed=%d', (@e ? "errors: @e" : 'valid'),
			$p->tests_planned // 0, $p->tests_run, scalar($p->passed), scalar($p->failed)),
		'valid planned=3 run=3 passed=1 failed=2', '--format tap is valid TAP (TAP::Parser)');
}
($rc, $out) = run_tls_check('--format', 'tap', '--ca-file', $bundle, "127.0.0.1:$MODERN");
{
	my $file = PostgreSQL::Test::Utils::tempdir('tap') . '/ok.tap';
	open my $fh, '>', $file or die "$file: $!";
	print $fh $out;
	close $fh;
	my $prove = '';
	my $ok = IPC::Run::run([ 'prove', '-e', 'cat', $file ], '<', \undef, '>&', \$prove, IPC::Run::timeout(60));
	ok($ok, 'prove accepts the TAP of a healthy server') or diag($prove);
}

($rc, $out) = run_tls_check('--format', 'json', "127.0.0.1:$MODERN", "127.0.0.1:$NOSSL", "127.0.0.1:$EXPIRED");
my $doc = json_of($out, '--format json with three targets');
is(join(' ', map { $_->{status} } @{ $doc->{targets} // [] }) . " / " . ($doc->{status} // '') . ' ' . ($doc->{exit_code} // ''),
	'OK UNKNOWN CRITICAL / CRITICAL 2', 'json: statuses per target and overall');
my @keys = qw(host port status error protocols certificates verified verify_error hostname_match findings);
my @missing = map { my $tg = $_; map { "$tg->{port}:$_" } grep { !exists $tg->{$_} } @keys } @{ $doc->{targets} // [] };
is("@missing", '', 'json: every target has the documented keys');
is(scalar @{ $doc->{targets} // [] }, 3, 'json: three targets');

($rc, $out) = run_tls_check('--format', 'nagios', "127.0.0.1:$MODERN", "127.0.0.1:$EXPIRED");
like($out, qr/^PG_TLS CRITICAL - 127\.0\.0\.1:$EXPIRED CRITICAL: .* \| ok=1 warning=0 critical=1 unknown=0 /,
	'nagios: status line with perfdata');

{
	my $file = PostgreSQL::Test::Utils::tempdir('targets') . '/targets.txt';
	open my $fh, '>', $file or die "$file: $!";
	printf $fh "# fleet\n127.0.0.1:%s   # modern\n\n127.0.0.1:%s\n", $MODERN, $NOSSL;
	close $fh;
	($rc, $out) = run_tls_check('--format', 'json', '--targets', $file);
	$doc = json_of($out, '--targets FILE');
	is(join(' ', map { $_->{port} } @{ $doc->{targets} // [] }), "$MODERN $NOSSL", '--targets FILE with comments');
}

# --- parallel scan ---
my @single;
for (1 .. 3) { (undef, undef, undef, $ms) = run_tls_check("127.0.0.1:$OLD"); push @single, $ms; }
my $single_ms = (sort { $a <=> $b } @single)[1];
my @servers = ($OLD, $MODERN, $EXPIRED);
# The fastest of three runs: a burst of other work on the machine slows one
# run, not the scan's ability to overlap its probes.
my @parallel;
for (1 .. 3) {
	($rc, $out, $err, $ms) = run_tls_check('--jobs', '8', '--format', 'json', map { "127.0.0.1:$servers[$_ % 3]" } 0 .. 19);
	push @parallel, $ms;
}
$ms = (sort { $a <=> $b } @parallel)[0];
$doc = json_of($out, '20 targets');
is(scalar(grep { !defined $_->{error} } @{ $doc->{targets} // [] }), 20, '20 targets: all probed');
note "single probe $single_ms ms (median of 3); 20 targets with --jobs 8: $ms ms (fastest of 3: @parallel); 20 x single: " . 20 * $single_ms . ' ms';
# Under half, not under an eighth: on a 2-CPU machine the servers' forks and
# handshakes, not the waiting, bound the speed-up (3x to 5x measured).
cmp_ok($ms * 2, '<', 20 * $single_ms, '20 targets with --jobs 8 take under half the time of 20 single probes');

# --- the servers stayed quiet: probes end with close_notify, not resets ---
my @noise;
for my $n ([ old => $old ], [ modern => $modern ])
{
	my $log = slurp_file($n->[1]->logfile, $log_offset{ $n->[0] });
	# The log is the one the probes reached.
	like($log, qr/connection received: host=127\.0\.0\.1/, "$n->[0] server: the probes are in its log");
	push @noise, grep { !/unsupported protocol|wrong version number|no protocols available/ }
	  grep { /could not accept SSL connection|SSL error|unexpected EOF/ } split /\n/, $log;
}
is(join("\n", @noise[ 0 .. ($#noise < 2 ? $#noise : 2) ]), '', 'server logs show no SSL errors from completed probes');

close $hole;
done_testing();
