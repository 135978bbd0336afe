# The census attributes a connection to the application_name the session
# actually used when the client sets it after connecting: the
# real pgjdbc driver (which by default runs SET application_name right after
# the startup), a libpq client that does the same, a client that never sets
# a name, long-lived connections counted before they disconnect, and a
# startup that fails before the session runs.
#
# Oracle for "exactly N": pg_stat_database.sessions of a database only the
# clients under test connect to.
use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use TlsAuditTest;

my $jar = '/usr/share/java/postgresql.jar';
my @missing = grep { system("command -v $_ >/dev/null 2>&1") != 0 } qw(java javac cc pg_config);
push @missing, $jar unless -r $jar;
if (@missing)
{
	# test/deps.sh installs them (default-jdk-headless, libpostgresql-jdbc-java,
	# build-essential); only a run that skipped it may lack them.
	plan skip_all => "pgjdbc test needs @missing (apt-get install default-jdk-headless libpostgresql-jdbc-java)"
	  if ($ENV{TLS_AUDIT_SKIP_APT} // '') eq '1';
	BAIL_OUT("missing @missing although test/deps.sh ran");
}

my $tmp = PostgreSQL::Test::Utils::tempdir('jdbc');

# --- the clients -------------------------------------------------------------
# JdbcClient URL N MODE: N connections one after the other; MODE "query"
# runs a query on each (printing application_name|TLS version as the server
# sees them) and closes it; "hold" opens them, prints "ready", waits for a
# line on stdin, then closes them.
open my $fh, '>', "$tmp/JdbcClient.java" or die $!;
print $fh <<'JAVA';
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int n = Integer.parseInt(args[1]);
        boolean hold = args[2].equals("hold");
        List<Connection> open = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = DriverManager.getConnection(url);
            if (hold) {
                open.add(c);
                continue;
            }
            try (Statement s = c.createStatement();
                 ResultSet r = s.executeQuery(
                     "SELECT current_setting('application_name') || '|' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                r.next();
                System.out.println(r.getString(1));
            }
            c.close();
        }
        if (hold) {
            System.out.println("ready");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in)).readLine();
            for (Connection c : open) c.close();
        }
    }
}
JAVA
close $fh;

# pqclient CONNINFO STATEMENT...: libpq without application_name in the
# startup packet (no fallback_application_name either). Prints the first
# value of each result; "@wait" prints "waiting" and reads a line from
# stdin; a statement starting with "!" is expected to fail.
open $fh, '>', "$tmp/pqclient.c" or die $!;
print $fh <<'C';
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>

int main(int argc, char **argv) {
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "@wait") == 0) {
            char line[64];
            printf("waiting\n");
            fflush(stdout);
            if (fgets(line, sizeof line, stdin) == NULL) break;
            continue;
        }
        int expect_error = argv[i][0] == '!';
        PGresult *res = PQexec(conn, argv[i] + expect_error);
        ExecStatusType st = PQresultStatus(res);
        int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (ok == expect_error) {
            fprintf(stderr, "%s: %s\n", argv[i], ok ? "succeeded" : PQerrorMessage(conn));
            PQclear(res);
            PQfinish(conn);
            return 1;
        }
        if (st == PGRES_TUPLES_OK && PQntuples(res) > 0) printf("%s\n", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    PQfinish(conn);
    return 0;
}
C
close $fh;

sub pg_config_dir
{
	my $opt = shift;
	my $dir = `pg_config $opt`;
	chomp $dir;
	return $dir;
}
my ($incdir, $libdir) = (pg_config_dir('--includedir'), pg_config_dir('--libdir'));
command_ok([ 'javac', '-cp', $jar, '-d', $tmp, "$tmp/JdbcClient.java" ], 'javac JdbcClient.java');
command_ok([ 'cc', '-o', "$tmp/pqclient", "$tmp/pqclient.c", "-I$incdir", "-L$libdir", "-Wl,-rpath,$libdir", '-lpq' ],
	'cc pqclient.c (libpq)');

# --- the server ----------------------------------------------------------------
my $node = new_tls_node('census_jdbc');
my $port = $node->port;
my $user = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', 'CREATE DATABASE jdbcdb');

# The server's TLS range (reloaded; new connections use it).
sub server_tls
{
	my ($min, $max) = @_;
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET ssl_min_protocol_version = '$min'; ALTER SYSTEM SET ssl_max_protocol_version = '$max'; SELECT pg_reload_conf()"
	);
	# Bounded: the postmaster applies the reload before it forks the next backend.
	for (1 .. 100)
	{
		last if $node->safe_psql('postgres', 'SHOW ssl_min_protocol_version') eq $min;
		usleep(50_000);
	}
}

sub sessions_jdbcdb
{
	return $node->safe_psql('postgres',
		"SELECT pg_stat_clear_snapshot(); SELECT sessions FROM pg_stat_database WHERE datname = 'jdbcdb'");
}

sub backends_jdbcdb
{
	return $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE datname = 'jdbcdb'");
}

# Wait (bounded) until no backend of jdbcdb is left and the oracle shows
# $want more sessions than $before; returns the delta seen.
sub settle
{
	my ($before, $want) = @_;
	my $delta;
	for (1 .. 150)
	{
		$delta = sessions_jdbcdb() - $before;
		last if backends_jdbcdb() == 0 && $delta >= $want;
		usleep(100_000);
	}
	return $delta;
}

# census rows of jdbcdb: "name:outcome:connections,..." (name "-" for NULL).
sub census_jdbcdb
{
	my $where = shift // 'true';
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(coalesce(application_name, '-') || ':' || outcome || ':' || connections, ','
		                            ORDER BY application_name COLLATE \"C\" NULLS FIRST, outcome COLLATE \"C\"), '')
		   FROM tls_audit.census WHERE datname = 'jdbcdb' AND $where");
}

sub jdbc_url
{
	my ($appname, $host) = @_;
	$host //= '127.0.0.1';
	return "jdbc:postgresql://$host:$port/jdbcdb?user=$user&ssl=true&sslmode=require"
	  . "&sslfactory=org.postgresql.ssl.NonValidatingFactory&ApplicationName=$appname";
}

sub run_jdbc
{
	my ($appname, $n) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'java', '-cp', "$tmp:$jar", 'JdbcClient', jdbc_url($appname), $n, 'query' ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(180));
	ok($ok, "JDBC client: $n connections as $appname") or diag($err);
	return $out;
}

sub pq_conninfo
{
	my %opt = @_;
	return "host=127.0.0.1 port=$port user=$user dbname=" . ($opt{dbname} // 'jdbcdb') . ' sslmode=require';
}

sub run_pq
{
	my ($what, @statements) = @_;
	local $ENV{PGAPPNAME};    # the harness sets it: no name in the startup packet
	delete $ENV{PGAPPNAME};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ "$tmp/pqclient", pq_conninfo(), @statements ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	ok($ok, "libpq client: $what") or diag($err);
	return $out;
}

# Start a client that stops at "@wait"/"ready"; returns (handle, \stdin).
sub start_held
{
	my ($cmd, $marker) = @_;
	local $ENV{PGAPPNAME};
	delete $ENV{PGAPPNAME};
	my ($in, $out, $err) = ('', '', '');
	my $h = IPC::Run::start($cmd, '<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(180));
	$h->pump until $out =~ /$marker/;
	return ($h, \$in, \$out);
}

sub release_held
{
	my ($h, $in) = @_;
	$$in .= "go\n";
	$h->finish;
	return $? == 0;
}

# --- pgjdbc, at TLSv1.2 and TLSv1.3 -------------------------------------------
my $n = 4;
for my $case ([ 'TLSv1.2', 'TLSv1.2', 'TLSv1.2' ], [ 'TLSv1.3', 'TLSv1.3', '' ])
{
	my ($version, $min, $max) = @$case;
	(my $tag = $version) =~ s/\W//g;
	my $app = "jdbc-app-$tag";
	server_tls($min, $max);
	$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
	my $before = sessions_jdbcdb();
	my $out = run_jdbc($app, $n);
	is($out, join('', map { "$app|$version\n" } 1 .. $n), "the sessions ran as $app over $version (server view)");
	my $delta = settle($before, $n);
	is($delta, $n, "oracle: $n sessions in pg_stat_database");
	is(census_jdbcdb(), "$app:authenticated:$delta",
		"$version: census counts exactly the $delta JDBC sessions under $app, none without a name");
	is($node->safe_psql('postgres', "SELECT protocol FROM tls_audit.census WHERE application_name = '$app'"),
		$version, "$version: census protocol");
	# pgjdbc with its default sslNegotiation offers no ALPN (measured with
	# Debian 13's 42.7.7 on PostgreSQL 18): the census says NULL even where
	# the server selects ALPN for libpq 17+ (doc/reference.md, sessions.alpn).
	is($node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT coalesce(alpn, '<null>'), ',') FROM tls_audit.census WHERE application_name = '$app'"),
		'<null>', "$version: pgjdbc offers no ALPN, census alpn NULL");
	my $ready = $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(application_name || '|' || protocol || '|' || connections || '|' || reason, ','), '')
		   FROM tls_audit.floor_readiness('TLSv1.3') WHERE application_name LIKE 'jdbc-app-%'");
	if ($version eq 'TLSv1.2')
	{
		is($ready, "$app|TLSv1.2|$n|TLSv1.2 < TLSv1.3", "floor_readiness('TLSv1.3') names the TLSv1.2 JDBC clients");
	}
	else
	{
		is($ready, '', "floor_readiness('TLSv1.3'): TLSv1.3 JDBC clients are ready");
	}
}

# --- a long-lived JDBC connection is counted before it disconnects -----------
server_tls('TLSv1.2', '');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
my $before = sessions_jdbcdb();
my ($h, $in) = start_held([ 'java', '-cp', "$tmp:$jar", 'JdbcClient', jdbc_url('jdbc-pool'), 2, 'hold' ], qr/ready/);
is(backends_jdbcdb(), 2, 'two pooled JDBC connections open, idle, no query run');
is(census_jdbcdb(), 'jdbc-pool:authenticated:2', 'counted under their name while they are still connected');
ok(release_held($h, $in), 'JDBC pool closed');
is(settle($before, 2), 2, 'oracle: 2 sessions');
is(census_jdbcdb(), 'jdbc-pool:authenticated:2', 'not counted again when they disconnect');

# pgjdbc with an empty ApplicationName runs SET application_name = '':
# the sessions are counted once each, without a name.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
run_jdbc('', 2);
is(settle($before, 2), 2, 'oracle: 2 sessions');
is(census_jdbcdb(), '-:authenticated:2', 'JDBC with an empty ApplicationName: counted without a name');

# --- libpq: SET application_name after connecting ---------------------------
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
is(run_pq('SET application_name after connecting', "SET application_name = 'libpq-late'",
		"SELECT current_setting('application_name') || '|' || coalesce(application_name, '') FROM pg_stat_activity WHERE pid = pg_backend_pid()"),
	"libpq-late|libpq-late\n", 'the session runs as libpq-late');
run_pq('SET search_path, then the name, in separate transactions', 'SET search_path = public',
	"SET application_name = 'libpq-late'", 'SELECT 1');
is(settle($before, 2), 2, 'oracle: 2 sessions');
is(census_jdbcdb(), 'libpq-late:authenticated:2', 'libpq clients counted under the name they set after connecting');

# Long-lived: counted at the end of the SET's transaction, before disconnecting.
$before = sessions_jdbcdb();
($h, $in) = start_held([ "$tmp/pqclient", pq_conninfo(), "SET application_name = 'libpq-held'", '@wait' ],
	qr/waiting/);
is(census_jdbcdb("application_name = 'libpq-held'"), 'libpq-held:authenticated:1', 'a held libpq session is counted while connected');
ok(release_held($h, $in), 'held libpq client done');
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb("application_name = 'libpq-held'"), 'libpq-held:authenticated:1', 'and only once');

# --- clients that never set a name -------------------------------------------
# Counted without a name at the end of the first transaction that does more
# than SET, while still connected; once.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
($h, $in) = start_held([ "$tmp/pqclient", pq_conninfo(), 'SET search_path = public', 'SELECT 1', '@wait', 'SELECT 2' ],
	qr/waiting/);
is(census_jdbcdb(), '-:authenticated:1', 'a client that never sets a name: counted without one after its first query');
ok(release_held($h, $in), 'nameless client done');
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), '-:authenticated:1', 'counted once');

# Only SETs: counted at the end of the bounded number of transactions.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
($h, $in) = start_held([ "$tmp/pqclient", pq_conninfo(), ('SET search_path = public') x 5, '@wait' ], qr/waiting/);
is(census_jdbcdb(), '-:authenticated:1', 'five SET-only transactions: counted without a name, still connected');
ok(release_held($h, $in), 'SET-only client done');

# Nothing run at all: counted when it disconnects.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
($h, $in) = start_held([ "$tmp/pqclient", pq_conninfo(), '@wait' ], qr/waiting/);
is(census_jdbcdb(), '', 'an idle session that ran nothing is not counted yet');
ok(release_held($h, $in), 'idle client done');
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), '-:authenticated:1', 'counted once at disconnection');

# A name SET in a transaction that aborts is not the session's.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
run_pq('SET application_name in an aborted transaction', 'BEGIN', "SET application_name = 'rolled-back'",
	'!SELECT 1/0', 'ROLLBACK', 'SELECT 1');
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), '-:authenticated:1', 'the rolled-back name is not used');

# A name given by options=-c application_name=... (not the startup
# packet's application_name field): the session's name from the start,
# counted under it at the end of its first transaction.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
{
	local $ENV{PGAPPNAME};
	delete $ENV{PGAPPNAME};
	my ($out, $err) = ('', '');
	ok(IPC::Run::run([ "$tmp/pqclient", pq_conninfo() . " options='-c application_name=opt-name'", 'SELECT 1' ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60)),
		'libpq client: application_name in options') or diag($err);
}
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), 'opt-name:authenticated:1', 'a name set by options=-c is the census name');

# Disconnecting inside a transaction that set the name: counted at exit
# under that name (the exit callback runs before the rollback).
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
run_pq('disconnect inside a transaction', 'BEGIN', "SET application_name = 'open-tx'");
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), 'open-tx:authenticated:1', 'a name SET in a transaction left open at disconnection counts');

# A nameless startup refused after authentication (no such database):
# startup_failed, once, never authenticated.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
{
	local $ENV{PGAPPNAME};
	delete $ENV{PGAPPNAME};
	my ($out, $err) = ('', '');
	IPC::Run::run([ "$tmp/pqclient", pq_conninfo(dbname => 'no_such_db'), 'SELECT 1' ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	like($err, qr/does not exist/, 'connection to a missing database refused');
}
my $failed;
for (1 .. 100)
{
	$failed = $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(outcome || ':' || connections || ':' || (application_name IS NULL)::int, ','), '')
		   FROM tls_audit.census WHERE datname = 'no_such_db'");
	last if $failed ne '';
	usleep(50_000);
}
is($failed, 'startup_failed:1:1', 'a nameless startup that fails is counted once as startup_failed');

# Sessions with a name in the startup packet are counted at authentication as before.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$before = sessions_jdbcdb();
($h, $in) = start_held([ "$tmp/pqclient", pq_conninfo() . ' application_name=startup-name', '@wait' ], qr/waiting/);
is(census_jdbcdb(), 'startup-name:authenticated:1', 'a startup-packet name is counted at authentication');
ok(release_held($h, $in), 'named client done');
is(settle($before, 1), 1, 'oracle: 1 session');
is(census_jdbcdb(), 'startup-name:authenticated:1', 'once');

# --- what the server sees of each client (doc/reference.md) ------------------
# By host name "localhost": libpq sends SNI, Java's TLS stack does not (it
# sends SNI only for names with a dot). Both held open, read from
# tls_audit.sessions.
($h, $in) = start_held([ 'java', '-cp', "$tmp:$jar", 'JdbcClient', jdbc_url('jdbc-sni', 'localhost'), 1, 'hold' ],
	qr/ready/);
my ($h2, $in2) = start_held(
	[ "$tmp/pqclient", 'host=localhost hostaddr=127.0.0.1 port=' . $port . " user=$user dbname=jdbcdb sslmode=require application_name=libpq-sni", '@wait' ],
	qr/waiting/);
my $seen = $node->safe_psql('postgres',
	"SELECT string_agg(application_name || '|' || coalesce(sni, '-') || '|' || protocol || '|' || (key_exchange_group IS NOT NULL)::int, ','
	                   ORDER BY application_name)
	   FROM tls_audit.sessions WHERE datname = 'jdbcdb'");
is($seen, 'jdbc-sni|-|TLSv1.3|1,libpq-sni|localhost|TLSv1.3|1',
	'tls_audit.sessions: pgjdbc to localhost sends no SNI, libpq does; both name their key-exchange group');
diag('sessions seen: ' . $node->safe_psql('postgres',
	"SELECT string_agg(application_name || ' ' || coalesce(sni, '-') || ' ' || key_exchange_group || ' ' || cipher, '; ')
	   FROM tls_audit.sessions WHERE datname = 'jdbcdb'"));
ok(release_held($h, $in), 'Java client done');
ok(release_held($h2, $in2), 'libpq client done');

$node->stop;
done_testing();
