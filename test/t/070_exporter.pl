# tls_audit.metrics through the real prometheus-postgres-exporter (Debian's
# package) with monitoring/postgres_exporter/queries.yaml: TLS sessions open at
# known protocol versions, the exporter on 127.0.0.1 scraped over HTTP, and
# the metric names, labels and values compared with what was opened, with
# openssl's view of the certificates and with the extension's own views.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use HTTP::Tiny;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use Time::Piece;
use TlsAuditTest;

my $exporter_bin = $ENV{TLS_AUDIT_EXPORTER} // '/usr/bin/prometheus-postgres-exporter';
my $queries = "$FindBin::RealBin/../../monitoring/postgres_exporter/queries.yaml";
if (!-x $exporter_bin)
{
	plan skip_all => "$exporter_bin not installed" if $ENV{TLS_AUDIT_SKIP_EXPORTER};
	die "$exporter_bin not found: apt-get install prometheus-postgres-exporter "
	  . "(test/deps.sh does), or set TLS_AUDIT_SKIP_EXPORTER=1 to skip this test\n";
}
-f $queries or die "$queries not found";

my $node = new_tls_node('exporter', conf => "ssl_crl_file = '" . cert_path('intermediate.crl') . "'");
$node->safe_psql('postgres', 'CREATE ROLE regress_prom LOGIN IN ROLE pg_monitor');
# Count only what this test opens.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');

# --- TLS sessions at known versions ------------------------------------------
sub open_session
{
	my (%opt) = @_;
	my $legacy = ($opt{max} // '') =~ /^TLSv1(\.1)?$/;
	local $ENV{OPENSSL_CONF} = legacy_openssl_conf() if $legacy;
	return $node->background_psql('postgres', extra_params => [ '-d', tls_connstr($node, %opt) ]);
}
my %opened = ('TLSv1.1' => 1, 'TLSv1.2' => 2, 'TLSv1.3' => 1);
my @sessions;
my $old_session;
for my $v (sort keys %opened)
{
	for my $i (1 .. $opened{$v})
	{
		my $s = open_session(min => $v, max => $v, application_name => "m_$i");
		is($s->query_safe('SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()'), $v, "session $i at $v");
		push @sessions, $s;
		$old_session = $s if $v eq 'TLSv1.1';
	}
}

# --- the exporter, on loopback only --------------------------------------------
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $log = "$PostgreSQL::Test::Utils::log_path/070_exporter_prometheus.log";
my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' user=regress_prom dbname=postgres sslmode=disable';
# The collectors we turn off, under the names this exporter knows: 0.11
# (Debian 12) calls the bgwriter collector "bgwriter", 0.17 (Debian 13)
# "stat_bgwriter" and refuses a flag it does not know.
my $usage = `$exporter_bin --help 2>&1`;
my @no_collectors = map { "--no-collector.$_" } grep { $usage =~ /--\[no-\]collector\.$_\s|--collector\.$_\s/ } qw(database bgwriter stat_bgwriter);
ok(grep({ /database/ } @no_collectors) && grep({ /bgwriter/ } @no_collectors),
	'the exporter knows the database and bgwriter collectors: ' . join(' ', @no_collectors));
my $exporter;
{
	# Only our flags and DSN: no PG_EXPORTER_* from the caller's environment.
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(PG_EXPORTER_|DATA_SOURCE_)/ } keys %ENV;
	$ENV{DATA_SOURCE_NAME} = $dsn;
	$exporter = IPC::Run::start(
		[
			$exporter_bin, "--web.listen-address=127.0.0.1:$port",
			"--extend.query-path=$queries", '--disable-default-metrics',
			'--disable-settings-metrics', @no_collectors, '--log.level=info'
		],
		'<', \undef, '>', $log, '2>&1');
}
my $exporter_pid = $exporter->{KIDS}[0]{PID};
END { $exporter->kill_kill if $exporter; }

my $http = HTTP::Tiny->new(timeout => 10);
my $url = "http://127.0.0.1:$port/metrics";
my $ready;
for (1 .. 300)
{
	my $r = $http->get($url);
	if ($r->{success}) { $ready = 1; last; }
	die "the exporter exited:\n" . slurp_file($log) unless $exporter->pumpable;
	usleep(100_000);
}
ok($ready, 'exporter answers on 127.0.0.1') or BAIL_OUT("exporter not ready:\n" . slurp_file($log));

# Every TCP socket the exporter listens on, from /proc (IPv4 and IPv6).
sub listening_addresses
{
	my ($pid) = @_;
	my %inodes;
	opendir my $dh, "/proc/$pid/fd" or return ();
	for (readdir $dh)
	{
		my $target = readlink "/proc/$pid/fd/$_" // next;
		$inodes{$1} = 1 if $target =~ /^socket:\[(\d+)\]$/;
	}
	my @found;
	for my $table ('/proc/net/tcp', '/proc/net/tcp6')
	{
		open my $fh, '<', $table or next;
		while (<$fh>)
		{
			my @f = split ' ';
			next unless @f > 9 && $f[3] eq '0A' && $inodes{ $f[9] };
			push @found, $f[1];
		}
	}
	return sort @found;
}
is_deeply([ listening_addresses($exporter_pid) ], [ sprintf('0100007F:%04X', $port) ],
	'the exporter listens on 127.0.0.1 only, on the chosen port');

# --- scraping ----------------------------------------------------------------
# Parse the text format into { name => { labels => "k=v,...", ... } } with
# the exporter's own "server" label dropped; also HELP and TYPE per name.
sub parse_metrics
{
	my ($text) = @_;
	my (%samples, %help, %type);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^# HELP (\S+) (.*)$/) { $help{$1} = $2; next; }
		if ($line =~ /^# TYPE (\S+) (\S+)$/) { $type{$1} = $2; next; }
		next if $line =~ /^#/ || $line eq '';
		$line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/ or die "unparsable line: $line";
		my ($name, $labels, $value) = ($1, $2 // '', $3);
		my %l;
		while ($labels =~ /\G([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)",?/gc)
		{
			my ($k, $v) = ($1, $2);
			$v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
			$l{$k} = $v;
		}
		delete $l{server};
		my $key = join ',', map { "$_=$l{$_}" } sort keys %l;
		die "duplicate sample $name\{$key}" if exists $samples{$name}{$key};
		$samples{$name}{$key} = $value;
	}
	return (\%samples, \%help, \%type);
}

my ($t0, $t1, $body);
sub scrape
{
	$t0 = time;
	my $r = $http->get($url);
	$t1 = time;
	$r->{success} or die "GET $url: $r->{status} $r->{reason}\n$r->{content}";
	$body = $r->{content};
	return parse_metrics($body);
}

my ($m, $help, $type) = scrape();
note $body =~ s/^(?:# \w+ )?(?:go|process|promhttp)_.*\n//mgr;

is($m->{pg_up}{''}, '1', 'exporter connected');
is((values %{ $m->{pg_exporter_user_queries_load_error} })[0], '0', 'queries.yaml loaded without error');
is($m->{pg_exporter_last_scrape_error}{''}, '0', 'no scrape error (every query ran)');

# Every metric of the view comes out of the exporter, with the view's HELP and
# TYPE, and the exporter shows no tls_audit metric the view lacks.
my $as_prom = 'SET ROLE regress_prom; ';
my %view_meta = map { my ($n, $t, $h) = split /\|/, $_, 3; ($n => [ $t, $h ]) } split /\n/,
  $node->safe_psql('postgres', $as_prom . 'SELECT DISTINCT metric, type, help FROM tls_audit.metrics ORDER BY 1');
is_deeply([ sort grep { /^tls_audit_/ } keys %$m ], [ sort keys %view_meta ],
	'the exporter shows exactly the metric families of tls_audit.metrics');
is_deeply({ map { $_ => [ $type->{$_}, $help->{$_} ] } keys %view_meta }, \%view_meta,
	'TYPE and HELP of each family are the view\'s');
ok(exists $view_meta{$_}, "view has $_") for qw(tls_audit_server_certificate_expiry_seconds
  tls_audit_ca_certificate_expiry_seconds tls_audit_crl_next_update_seconds tls_audit_sessions
  tls_audit_sessions_below_floor tls_audit_findings tls_audit_census_connections_total
  tls_audit_server_reload_pending tls_audit_server_ssl_enabled tls_audit_sessions_by_auth_method
  tls_audit_sessions_by_key_exchange_group tls_audit_census_connections_by_auth_method_total);

# --- certificate expiry against openssl ---------------------------------------
sub openssl_epoch
{
	my ($date) = @_;    # e.g. "Nov 23 17:11:21 2027 GMT"
	$date =~ s/\s+/ /g;
	return Time::Piece->strptime($date, '%b %d %H:%M:%S %Y GMT')->epoch;
}
sub close_to_expiry
{
	my ($got, $end, $what) = @_;
	# The exporter's now() lies within the scrape: end - t1 <= value <= end - t0.
	ok(defined $got && $got >= $end - $t1 - 1 && $got <= $end - $t0 + 1,
		"$what: seconds to expiry ($got) = openssl enddate - scrape time (" . ($end - $t0) . ")");
}
my $subject = sub { openssl_field($_[0], 'subject', '-nameopt', 'RFC2253') };
my $leaf_end = openssl_epoch(openssl_field('server.crt', 'enddate'));
my $int_end = openssl_epoch(openssl_field('intermediate.crt', 'enddate'));
my $root_end = openssl_epoch(openssl_field('root.crt', 'enddate'));
my $exp = $m->{tls_audit_server_certificate_expiry_seconds};
for my $source (qw(file served))
{
	close_to_expiry($exp->{ "position=0,source=$source,subject=" . $subject->('server.crt') },
		$leaf_end, "server certificate, $source, leaf");
	close_to_expiry($exp->{ "position=1,source=$source,subject=" . $subject->('intermediate.crt') },
		$int_end, "server certificate, $source, intermediate");
}
is(scalar keys %$exp, 4, 'two chain positions from the file and two served');
my $ca = $m->{tls_audit_ca_certificate_expiry_seconds};
close_to_expiry($ca->{ 'position=0,subject=' . $subject->('intermediate.crt') }, $int_end, 'CA file, intermediate');
close_to_expiry($ca->{ 'position=1,subject=' . $subject->('root.crt') }, $root_end, 'CA file, root');
is(scalar keys %$ca, 2, 'both certificates of ssl_ca_file');
my $crl_next = `openssl crl -in @{[cert_path('intermediate.crl')]} -noout -nextupdate`;
$crl_next =~ s/^nextUpdate=//;
chomp $crl_next;
close_to_expiry($m->{tls_audit_crl_next_update_seconds}{ 'issuer=' . $subject->('intermediate.crt') },
	openssl_epoch($crl_next), 'CRL next update of the intermediate CA');
is($m->{tls_audit_server_ssl_enabled}{''}, '1', 'ssl enabled');
is($m->{tls_audit_server_reload_pending}{''}, '0', 'no reload pending');

# --- sessions ------------------------------------------------------------------
my %per_version;
my %tls_series;
while (my ($k, $v) = each %{ $m->{tls_audit_sessions} })
{
	next unless $k =~ /^cipher=(.*),protocol=(.*),transport=tls$/;
	$per_version{$2} += $v;
	$tls_series{"$2|$1"} = $v;
}
is_deeply(\%per_version, \%opened, 'TLS sessions per protocol = the sessions opened (1 TLSv1.1, 2 TLSv1.2, 1 TLSv1.3)');
# Ground truth for the cipher label: PostgreSQL's own pg_stat_ssl.
my %want_ciphers = map { my ($k, $n) = split /=/; ($k => $n) } split /\n/,
  $node->safe_psql('postgres', q{SELECT version || '|' || cipher || '=' || count(*) FROM pg_stat_ssl WHERE ssl GROUP BY version, cipher});
is_deeply(\%tls_series, \%want_ciphers, 'sessions per protocol and cipher agree with pg_stat_ssl');
cmp_ok($m->{tls_audit_sessions}{'cipher=,protocol=,transport=unix'} // 0, '>=', 1, "the exporter's own unix session is counted");
is($m->{tls_audit_sessions_below_floor}{''}, '1', 'one session below the TLSv1.2 floor (the TLSv1.1 one)');

# --- findings ----------------------------------------------------------------
my %want_findings = map { split /=/ } split /\n/, $node->safe_psql('postgres', $as_prom
	  . q{SELECT s || '=' || (SELECT count(*) FROM tls_audit.run_checks() c WHERE c.severity = s)
	      FROM unnest(ARRAY['critical', 'warning', 'info', 'ok']) s});
is_deeply({ map { /^severity=(.*)$/; ($1 => $m->{tls_audit_findings}{$_}) } keys %{ $m->{tls_audit_findings} } },
	\%want_findings, 'findings per severity = run_checks() as the monitoring role');
cmp_ok($want_findings{critical}, '>=', 1, 'a critical finding (TLSv1.1 session below the floor, TLSv1 allowed)');

# --- census ------------------------------------------------------------------
my $census = $m->{tls_audit_census_connections_total};
is($census->{"outcome=authenticated,protocol=$_,transport=tls"}, $opened{$_},
	"census: $opened{$_} authenticated $_ connection(s) since the reset") for sort keys %opened;
is_deeply(
	{ map { $_ => $census->{$_} } grep { /transport=tls/ } keys %$census },
	{ map { ("outcome=authenticated,protocol=$_,transport=tls" => $opened{$_}) } keys %opened },
	'no other TLS census series');
is($m->{tls_audit_census_evictions_total}{''}, '0', 'no census evictions');
cmp_ok($m->{tls_audit_census_entries}{''}, '>=', 3, 'census entries');

# --- metrics_text() agrees with the exporter -----------------------------------
my ($tm) = parse_metrics($node->safe_psql('postgres', $as_prom . 'SELECT tls_audit.metrics_text()'));
is_deeply({ map { $_ => [ sort keys %{ $tm->{$_} } ] } keys %$tm },
	{ map { $_ => [ sort keys %{ $m->{$_} } ] } grep { /^tls_audit_/ } keys %$m },
	'metrics_text() has the same families and label sets as the exporter');
is_deeply($tm->{tls_audit_findings}, $m->{tls_audit_findings}, 'metrics_text() findings = the exporter\'s');

# --- live: closing the old session shows in the next scrape ---------------------
$old_session->quit;
my $gone;
for (1 .. 100)
{
	($m) = scrape();
	if (($m->{tls_audit_sessions_below_floor}{''} // '') eq '0') { $gone = 1; last; }
	usleep(100_000);
}
ok($gone, 'after closing the TLSv1.1 session, no session is below the floor');
ok(!grep({ /protocol=TLSv1\.1,/ } keys %{ $m->{tls_audit_sessions} }), 'and no TLSv1.1 sessions series');
is($m->{tls_audit_census_connections_total}{'outcome=authenticated,protocol=TLSv1.1,transport=tls'},
	'1', 'the census still counts it');

$_->quit for grep { $_ != $old_session } @sessions;
$exporter->kill_kill;
undef $exporter;
ok(!kill(0, $exporter_pid), 'exporter stopped');

# --- without shared_preload_libraries: the census families are simply absent ----
my $plain = new_tls_node('exporter_plain', preload => 0);
$plain->safe_psql('postgres', 'CREATE ROLE regress_prom LOGIN IN ROLE pg_monitor');
is( $plain->safe_psql('postgres', $as_prom . 'SELECT string_agg(DISTINCT metric, \',\' ORDER BY metric) FROM tls_audit.metrics'),
	join(',',
		qw(tls_audit_ca_certificate_expiry_seconds tls_audit_findings
		  tls_audit_server_certificate_expiry_seconds tls_audit_server_reload_pending tls_audit_server_ssl_enabled
		  tls_audit_sessions tls_audit_sessions_below_floor tls_audit_sessions_by_auth_method
		  tls_audit_sessions_by_key_exchange_group)),
	'not preloaded: every family but the census ones, and no error');

# metrics_text() escapes label values: a CA whose subject has a quote and a
# backslash (RFC 2253 escapes them with backslashes too).
my $odd = $plain->data_dir . '/odd.crt';
system_or_bail('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
	'-keyout', PostgreSQL::Test::Utils::tempdir('oddkey') . '/odd.key', '-out', $odd,
	'-subj', q{/O=Quote " and \\\\ backslash, comma/CN=odd CA});
my $odd_subject = `openssl x509 -in $odd -noout -subject -nameopt RFC2253`;
chomp $odd_subject;
$odd_subject =~ s/^subject=//;
like($odd_subject, qr/"/, 'the odd subject has a quote');
$plain->safe_psql('postgres', "ALTER SYSTEM SET ssl_ca_file = 'odd.crt'");
$plain->reload;
$plain->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM tls_audit.metrics WHERE metric = 'tls_audit_ca_certificate_expiry_seconds' AND labels->>'subject' LIKE '%odd CA%'})
  or die 'ssl_ca_file was not reloaded';
my $text = $plain->safe_psql('postgres', $as_prom . 'SELECT tls_audit.metrics_text()');
($tm) = parse_metrics($text);
is_deeply([ keys %{ $tm->{tls_audit_ca_certificate_expiry_seconds} } ], ["position=0,subject=$odd_subject"],
	'metrics_text(): an escaped label value reads back as the subject openssl prints');

# A CA whose subject holds a right-to-left override (U+202E): the label shows
# it as the visible text \u202E, in the view the exporter reads and in
# metrics_text(), so a dashboard cannot be made to show the name reordered.
my $bidi = $plain->data_dir . '/bidi.crt';
system_or_bail('openssl', 'req', '-x509', '-utf8', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
	'-keyout', PostgreSQL::Test::Utils::tempdir('bidikey') . '/bidi.key', '-out', $bidi,
	'-subj', "/O=bidi/CN=moc.\xE2\x80\xAEelgoog");
$plain->safe_psql('postgres', "ALTER SYSTEM SET ssl_ca_file = 'bidi.crt'");
$plain->reload;
$plain->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM tls_audit.ca_certificates WHERE subject LIKE '%bidi%'})
  or die 'ssl_ca_file was not reloaded';
my $raw = $plain->safe_psql('postgres', 'SELECT subject FROM tls_audit.ca_certificates');
like($raw, qr/\xE2\x80\xAE/, 'the CA subject itself holds U+202E');
(my $visible = $raw) =~ s/\xE2\x80\xAE/\\u202E/g;
is( $plain->safe_psql('postgres',
		q{SELECT labels->>'subject' FROM tls_audit.metrics WHERE metric = 'tls_audit_ca_certificate_expiry_seconds'}),
	$visible, 'tls_audit.metrics: the label shows U+202E as the text \\u202E');
$text = $plain->safe_psql('postgres', $as_prom . 'SELECT tls_audit.metrics_text()');
unlike($text, qr/\xE2\x80[\xAA-\xAE]|\xE2\x81[\xA6-\xA9]|\xE2\x80[\x8E\x8F]/,
	'metrics_text() holds no bidirectional control');
like($text, qr/subject="[^"]*\\\\u202E/, 'metrics_text(): written \\\\u202E in the text format');
($tm) = parse_metrics($text);
is_deeply([ keys %{ $tm->{tls_audit_ca_certificate_expiry_seconds} } ], ["position=0,subject=$visible"],
	'metrics_text(): the label reads back as the visible text');

# In a LATIN1 database the same bytes are other characters: left alone.
$plain->safe_psql('postgres',
	q{CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'});
$plain->safe_psql('latin', 'CREATE EXTENSION pg_tls_audit');
is( $plain->safe_psql('latin',
		q{SELECT tls_audit.show_bidi_controls(convert_from('\xe280ae41'::bytea, 'LATIN1'))
		         = convert_from('\xe280ae41'::bytea, 'LATIN1')}),
	't', 'LATIN1: show_bidi_controls() returns the text unchanged');
is($plain->safe_psql('postgres', q{SELECT tls_audit.show_bidi_controls(NULL) IS NULL}), 't',
	'show_bidi_controls(NULL) is NULL');
$plain->stop;

done_testing();
