# pg_hba.conf as an access matrix: tls_audit.can_connect() against real
# connection attempts, plus hba_rules, plaintext_paths() and the checks
# hba_plaintext_reachable / hba_shadowed_line.
#
# Oracle: the server itself. For several pg_hba.conf variants (host /
# hostssl / hostnossl / reject order, groups with indirect membership,
# samerole, sameuser, @file lists, samehost / samenet, regular expressions on
# 16+, physical replication) every cell of (role, database, client address
# 127.0.0.1 / 127.0.0.2 / ::1, sslmode disable / require) is tried with psql.
# What happened is read from the server: the "connection authenticated ...
# (pg_hba.conf:N)" line of log_connections names the line that decided (every
# TCP line uses a password method, so each success names its line), or the
# refusal says "pg_hba.conf rejects connection" / "no pg_hba.conf entry".
# can_connect() must agree on every cell. 127.0.0.2 as a client address comes
# from a small TCP relay that binds its outgoing socket to 127.0.0.2 (Linux
# would otherwise use 127.0.0.1 as source for any loopback destination).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Select;
use IO::Socket::INET;
use IO::Socket::IP;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('hba', conf => "listen_addresses = '127.0.0.1,::1'\nlog_connections = on\n"
	  . "password_encryption = 'scram-sha-256'\nwal_level = replica\nmax_wal_senders = 4");
my $pgdata = $node->data_dir;
my $major = $node->pg_version->major;

$node->safe_psql('postgres', <<'SQL');
CREATE ROLE grp_a;
CREATE ROLE grp_mid IN ROLE grp_a;
CREATE ROLE alice LOGIN REPLICATION PASSWORD 'pw' IN ROLE grp_a;
CREATE ROLE bob LOGIN REPLICATION PASSWORD 'pw' IN ROLE grp_mid;
CREATE ROLE carol LOGIN REPLICATION PASSWORD 'pw';
CREATE ROLE hba_nobody LOGIN;
SQL
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(app alice grp_a);

# --- the 127.0.0.2 relay -------------------------------------------------------

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 8, ReuseAddr => 1)
  or die "relay listen: $!";
my $relay_port = $listen->sockport;
my $relay_pid = fork();
die "fork: $!" unless defined $relay_pid;
if ($relay_pid == 0)
{
	alarm(1200);    # never outlive the test by much
	while (my $client = $listen->accept)
	{
		my $server = IO::Socket::INET->new(
			PeerAddr => '127.0.0.1',
			PeerPort => $node->port,
			LocalAddr => '127.0.0.2');
		if (!$server) { close $client; next; }
		my $sel = IO::Select->new($client, $server);
	  RELAY: while (1)
		{
			my @ready = $sel->can_read(60);
			last unless @ready;
			for my $fh (@ready)
			{
				my $n = sysread($fh, my $buf, 65536);
				last RELAY unless $n;
				my $to = $fh == $client ? $server : $client;
				my $off = 0;
				while ($off < $n)
				{
					my $w = syswrite($to, $buf, $n - $off, $off);
					last RELAY unless $w;
					$off += $w;
				}
			}
		}
		close $client;
		close $server;
	}
	POSIX::_exit(0);
}
close $listen;
END { kill 'TERM', $relay_pid if $relay_pid; }

# ::1 usable? (the server listens there when the host has IPv6 loopback)
my $v6 = IO::Socket::IP->new(PeerHost => '::1', PeerPort => $node->port, Timeout => 5);
my @addresses = ('127.0.0.1', '127.0.0.2');
if ($v6) { push @addresses, '::1'; close $v6; }
else { diag('::1 is not usable on this host: IPv6 cells skipped'); }

# --- helpers -----------------------------------------------------------------------

sub write_hba
{
	my ($text, %files) = @_;
	for my $f (keys %files)
	{
		open my $fh, '>', "$pgdata/$f" or die "$f: $!";
		print $fh $files{$f};
		close $fh;
	}
	open my $fh, '>', "$pgdata/pg_hba.conf" or die $!;
	print $fh $text;
	close $fh;
	my $before = $node->safe_psql('postgres', 'SELECT pg_conf_load_time()');
	$node->reload;
	# New backends see the postmaster's reload time once it has re-read pg_hba.conf.
	foreach (1 .. 100)
	{
		last if $node->safe_psql('postgres', "SELECT pg_conf_load_time() > '$before'") eq 't';
		select(undef, undef, undef, 0.05);
	}
}

sub log_since
{
	my ($pos) = @_;
	open my $fh, '<', $node->logfile or die $!;
	seek $fh, $pos, 0;
	local $/;
	my $text = <$fh> // '';
	close $fh;
	return $text;
}

# What the server did with one connection attempt.
sub attempt
{
	my ($role, $db, $address, $sslmode, $replication) = @_;
	my ($host, $port) = $address eq '127.0.0.2' ? ('127.0.0.1', $relay_port) : ($address, $node->port);
	my $connstr = "host=$host port=$port user=$role password=pw sslmode=$sslmode gssencmode=disable "
	  . "connect_timeout=10 dbname=" . ($replication ? 'postgres replication=true' : $db);
	my $pos = -s $node->logfile;
	my (undef, $stdout, $stderr) = psql_connstr($connstr, $replication ? 'IDENTIFY_SYSTEM' : 'SELECT 1');
	my $log = log_since($pos);
	return "line $1" if $log =~ /connection authenticated: .*pg_hba\.conf:(\d+)\)/;
	return 'rejected' if $stderr =~ /pg_hba\.conf rejects connection/;
	return 'no matching line' if $stderr =~ /no pg_hba\.conf entry/;
	return "unexpected: $stderr";
}

my ($compared, $disagreements) = (0, 0);

# Every cell of the matrix for the current pg_hba.conf.
sub compare_matrix
{
	my ($variant, %opt) = @_;
	my @cells;
	for my $address (@addresses)
	{
		for my $sslmode ('disable', 'require')
		{
			for my $role (qw(alice bob carol))
			{
				push @cells, [ $role, $_, $address, $sslmode, 0 ] for qw(app alice grp_a);
				push @cells, [ $role, undef, $address, $sslmode, 1 ] if $opt{replication};
			}
		}
	}
	# can_connect() for all cells in one query.
	my $values = join(",\n",
		map {
			my ($r, $d, $a, $s, $rep) = @{ $cells[$_] };
			sprintf("(%d, '%s', %s, '%s', '%s', %s)", $_, $r, defined $d ? "'$d'" : 'NULL', $a,
				$s eq 'disable' ? 'tcp' : 'tls', $rep ? 'true' : 'false')
		} 0 .. $#cells);
	my @answers = split /\n/, $node->safe_psql('postgres', <<"SQL");
SELECT c.outcome || coalesce(' ' || c.line_number, '')
  FROM (VALUES $values) AS v(n, r, d, a, t, rep),
       LATERAL tls_audit.can_connect(v.r, v.d, v.a::inet, v.t, v.rep) AS c
 ORDER BY v.n
SQL
	is(scalar(@answers), scalar(@cells), "$variant: can_connect answers every cell");
	for my $i (0 .. $#cells)
	{
		my ($role, $db, $address, $sslmode, $rep) = @{ $cells[$i] };
		my $expected = $answers[$i] // 'none';
		$expected =~ s/^allowed (\d+)$/line $1/;
		$expected =~ s/^(rejected|no matching line).*/$1/;
		my $actual = attempt($role, $db, $address, $sslmode, $rep);
		$compared++;
		next if $actual eq $expected;
		$disagreements++;
		diag("$variant: $role/" . ($db // 'replication') . " from $address sslmode=$sslmode: "
			  . "server: $actual, can_connect: $expected");
	}
}

sub scalar_query { return $node->safe_psql('postgres', shift); }

# --- the relay really shows 127.0.0.2 ----------------------------------------

write_hba("local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n");
{
	my $pos = -s $node->logfile;
	attempt('alice', 'app', '127.0.0.2', 'disable', 0);
	like(log_since($pos), qr/connection received: host=127\.0\.0\.2/, 'the relay connects from 127.0.0.2');
}

# --- variant 1: a host line before hostssl; reject for plain 127.0.0.2 ----------

write_hba(<<'HBA');
local all all trust
host all alice 127.0.0.1/32 md5
hostssl all all 127.0.0.0/8 scram-sha-256
hostnossl all all 127.0.0.2/32 reject
host all all ::1/128 password
HBA
compare_matrix('first match');
# GSSAPI-encrypted paths exist only on servers built with GSSAPI (Debian's
# packages are; a --without-gssapi build is not): said once, then left out.
my $gss_build = `pg_config --configure` =~ /--with-gssapi/ ? 1 : 0;
is(scalar_query("SELECT count(*) > 0 FROM tls_audit.plaintext_paths() WHERE transport = 'gss'"),
	$gss_build ? 't' : 'f', 'plaintext_paths: gss paths exactly when the server is built with GSSAPI');
is(scalar_query("SELECT string_agg(line_number || ':' || transport || ':' || address_scope, ',' ORDER BY rule_number, transport)"
	  . " FROM tls_audit.plaintext_paths() WHERE transport <> 'gss'"),
	'2:tcp:loopback,2:tls:loopback,5:tcp:loopback,5:tls:loopback',
	'plaintext_paths: the md5 host line before hostssl (not hidden by it) and the ::1 password line, plain and weak');
is(scalar_query("SELECT string_agg(line_number || ':' || address_scope || ':' || tls_required || ':' || auth_strength, ','"
	  . " ORDER BY rule_number) FROM tls_audit.hba_rules"),
	'1:local:false:none,2:loopback:false:weak,3:loopback:true:strong,4:loopback:false:reject,5:loopback:false:weak',
	'hba_rules: scope, tls_required and strength of each line');
is(scalar_query("SELECT string_agg(severity || ':' || coalesce(object, ''), ',') FROM tls_audit.run_checks()"
	  . " WHERE \"check\" = 'hba_plaintext_reachable'"),
	'info:pg_hba.conf line 2,info:pg_hba.conf line 5', 'hba_plaintext_reachable: loopback paths are info');

# --- variant 2: groups (indirect membership), samerole ---------------------------

write_hba(<<'HBA');
local all all trust
hostnossl all +grp_a 127.0.0.1/32 reject
host samerole all 127.0.0.0/8 scram-sha-256
host all +grp_mid 0.0.0.0/0 md5
hostssl all all ::1/128 scram-sha-256
hostssl all carol 127.0.0.2/32 password
host replication +grp_a 127.0.0.0/8 scram-sha-256
HBA
compare_matrix('groups', replication => 1);
is(scalar_query("SELECT roles::text FROM tls_audit.hba_rules WHERE line_number = 2"),
	'{"+grp_a (4 members)"}', 'hba_rules: +grp_a matches itself, grp_mid, alice and bob (indirect)');

# --- variant 3: @file lists, sameuser, hostnossl reject before hostssl ------------

write_hba(<<'HBA', 'hba_dbs.txt' => "app grp_a\n", 'hba_users.txt' => "bob\ncarol\n");
local all all trust
host sameuser all 127.0.0.1/32 scram-sha-256
host @hba_dbs.txt @hba_users.txt 127.0.0.0/8 md5
hostnossl all all all reject
hostssl all all all password
host replication all all scram-sha-256
HBA
compare_matrix('@file', replication => 1);
is(scalar_query("SELECT databases::text || ' ' || roles::text FROM tls_audit.hba_rules WHERE line_number = 3"),
	'{app,grp_a} {bob,carol}', 'hba_rules: @file lists as the server parsed them');

# --- variant 4: samehost / samenet, replication ----------------------------------

write_hba(<<'HBA');
local all all trust
host replication alice 127.0.0.1/32 scram-sha-256
host replication all ::1/128 md5
hostssl all all samehost scram-sha-256
host all bob samenet md5
host app all samenet password
HBA
compare_matrix('samehost', replication => 1);
like(scalar_query("SELECT detail FROM tls_audit.can_connect('carol', 'app', '127.0.0.2', 'tcp')"),
	qr/samenet covers .*127\.0\.0\.1\/8/, 'can_connect says what samenet covers on this host');

# --- variant 5: regular expressions (16+; a plain name before) ------------------------

write_hba(<<'HBA');
local all all trust
host all /^(alice|bob)$ 127.0.0.1/32 scram-sha-256
host /^grp all 127.0.0.0/8 md5
hostnossl all all 0.0.0.0/0 password
hostssl all all ::/0 scram-sha-256
HBA
compare_matrix($major >= 16 ? 'regex' : 'slash names');

# --- variant 6: a shadowed line; nothing for some cells ------------------------------

write_hba(<<'HBA');
local all all trust
hostnossl all all 127.0.0.1/32 reject
host all all 127.0.0.0/8 scram-sha-256
hostssl app carol 127.0.0.1/32 password
HBA
compare_matrix('shadowed');
is(scalar_query("SELECT shadowed_by FROM tls_audit.hba_rules WHERE line_number = 4"), '3',
	'hba_rules: line 4 is shadowed by line 3');
is(scalar_query("SELECT string_agg(severity || ':' || coalesce(object, ''), ',') FROM tls_audit.run_checks()"
	  . " WHERE \"check\" = 'hba_shadowed_line'"),
	'warning:pg_hba.conf line 4', 'hba_shadowed_line warns about it');

cmp_ok($compared, '>=', 200, "cells compared with real connections ($compared)");
is($disagreements, 0, 'can_connect() agrees with the server on every cell');

# --- host names: said, not resolved (no DNS in tests) ----------------------------------

write_hba(<<'HBA');
local all all trust
host all all db.example.invalid scram-sha-256
hostnossl all all 192.168.0.0/16 md5
host all all 0.0.0.0/0 reject
HBA
is(scalar_query("SELECT outcome || ' ' || line_number || ' ' || otherwise_line FROM tls_audit.can_connect('alice', 'app', '192.168.1.5', 'tcp')"),
	'depends on DNS 2 3', 'host-name line: depends on DNS, otherwise line 3');
like(scalar_query("SELECT detail FROM tls_audit.can_connect('alice', 'app', '192.168.1.5', 'tcp')"),
	qr/resolves to "db\.example\.invalid"/, 'detail names the host name');
is(scalar_query("SELECT string_agg(line_number || ':' || address_scope, ',' ORDER BY rule_number) FROM tls_audit.plaintext_paths() WHERE transport <> 'gss'"),
	'2:public,3:private', 'plaintext_paths: the host-name line counts as public');
is(scalar_query("SELECT string_agg(severity || ':' || coalesce(object, ''), ',') FROM tls_audit.run_checks()"
	  . " WHERE \"check\" = 'hba_plaintext_reachable'"),
	'critical:pg_hba.conf line 2,critical:pg_hba.conf line 3', 'hba_plaintext_reachable: critical beyond loopback');

# --- bad input and privileges ----------------------------------------------------------------

sub error_of
{
	my ($sql, %opt) = @_;
	my ($stdout, $stderr);
	$node->psql('postgres', $sql, stdout => \$stdout, stderr => \$stderr, %opt);
	return $stderr;
}
like(error_of("SELECT tls_audit.can_connect('no_such_role', 'app', '127.0.0.1', 'tcp')"),
	qr/role "no_such_role" does not exist/, 'unknown role: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'no_such_db', '127.0.0.1', 'tcp')"),
	qr/database "no_such_db" does not exist/, 'unknown database: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', 'not an address', 'tcp')"),
	qr/invalid input syntax for type inet/, 'malformed address: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', '10.0.0.0/8', 'tcp')"),
	qr/is not a single host address/, 'a network is not a client address');
like(error_of("SELECT tls_audit.can_connect(NULL, 'app', '127.0.0.1', 'tcp')"), qr/role must not be NULL/,
	'NULL role: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', '127.0.0.1', 'smoke')"), qr/unknown transport/,
	'unknown transport: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', NULL, 'tcp')"), qr/needs a client address/,
	'tcp without an address: clean error');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', '127.0.0.1', 'unix')"), qr/has no client address/,
	'unix with an address: clean error');
is(scalar_query("SELECT outcome || ' ' || line_number FROM tls_audit.can_connect('alice', 'app', NULL, 'unix')"),
	'allowed 1', 'unix socket: the local line');
like(error_of("SELECT * FROM tls_audit.hba_rules", extra_params => [ '-U', 'hba_nobody' ]),
	qr/permission denied/, 'hba_rules: not for a plain role');
like(error_of("SELECT tls_audit.can_connect('alice', 'app', '127.0.0.1', 'tcp')", extra_params => [ '-U', 'hba_nobody' ]),
	qr/permission denied/, 'can_connect: not for a plain role');
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION tls_audit.plaintext_paths() TO hba_nobody');
like(error_of("SELECT * FROM tls_audit.plaintext_paths()", extra_params => [ '-U', 'hba_nobody' ]),
	qr/permission denied for (view|function) pg_hba_file_rules/,
	'granted the function but not pg_hba_file_rules: still refused');

done_testing();
