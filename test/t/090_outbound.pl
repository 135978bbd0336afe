# tls_audit.outbound_connections and the outbound_* checks with real
# components: a streaming standby made with pg_basebackup (sslmode=prefer,
# then disable, then verify-full with sslrootcert), logical replication
# subscriptions (require, disable), postgres_fdw and dblink_fdw foreign
# servers and user mappings; unset sslmode, a service name, PGSSLMODE in the
# server's environment, stored passwords (never printed), a malformed
# connection string, and what a pg_monitor member sees. Every connection goes
# to 127.0.0.1; the "remote" links (192.0.2.0/24, TEST-NET-1) are only
# configured, never connected to.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use TlsAuditTest;

my $root = cert_path('root.crt');
my $expired = cert_path('expired.crt');

# The primary accepts replication with and without TLS (trust on loopback).
my $primary = new_tls_node('primary', allows_streaming => 'logical',
	hba => "host replication all 127.0.0.1/32 trust");
my $pport = $primary->port;
$primary->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);'
	  . 'CREATE PUBLICATION p FOR TABLE t; CREATE ROLE mon LOGIN IN ROLE pg_monitor; CREATE ROLE plain LOGIN;');

# libpq is loaded on first use (src/pg/libpq_on_demand.cpp), not linked: a
# backend that has called nothing needing it has no libpq mapped; once it
# has read tls_audit.outbound_connections (libpq parses the connection
# strings), it has. Both in one session, read from the backend's own maps.
my $libpq_maps = "SELECT coalesce(string_agg(DISTINCT substring(l FROM '[^/]+\$'), ' '), 'none') "
  . "FROM regexp_split_to_table(pg_read_file('/proc/' || pg_backend_pid() || '/maps'), E'\\n') l "
  . "WHERE l ~ '/libpq'";
my ($libpq_before, $libpq_after) = split /\n/,
  $primary->safe_psql('postgres',
	"$libpq_maps; SELECT count(*) FROM tls_audit.outbound_connections \\g /dev/null\n$libpq_maps;");
is($libpq_before, 'none', 'libpq: not mapped in a backend that has not needed it');
like($libpq_after, qr/(^| )libpq\.so\.5/, 'libpq: mapped once tls_audit.outbound_connections needed it');

# Wait (bounded) until $sql on $node returns 't'.
sub wait_true
{
	my ($node, $sql, $what) = @_;
	for (1 .. 600)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		usleep(100_000);
	}
	fail("timed out waiting for $what");
	return 0;
}

# One row of the view as "col|col|..." for kind/name.
sub link_row
{
	my ($node, $cols, $kind, $name, %opt) = @_;
	return $node->safe_psql('postgres',
		"SELECT $cols FROM tls_audit.outbound_connections WHERE kind = '$kind' AND name = '$name'", %opt);
}

sub findings
{
	my ($node, $check) = @_;
	return $node->safe_psql('postgres',
		"SELECT severity || ' ' || coalesce(object, '') || ': ' || message FROM tls_audit.run_checks() "
		  . "WHERE \"check\" = '$check' ORDER BY 1");
}

# ---------------------------------------------------------------------------
# Physical replication: a standby made with pg_basebackup.
# ---------------------------------------------------------------------------
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
chmod 0600, $standby->data_dir . '/server.key';
$standby->append_conf('postgresql.conf',
	"primary_conninfo = 'host=127.0.0.1 port=$pport sslmode=prefer application_name=sb_prefer'");
$standby->start;
wait_true($primary, "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'sb_prefer' "
	  . "AND state = 'streaming'", 'the standby (prefer) to stream');

is(link_row($standby, 'host, port, sslmode, sslmode_source, verifies_server, password_in_conninfo, error IS NULL',
		'physical_replication', 'primary_conninfo'),
	"127.0.0.1|$pport|prefer|connection string|f|f|t", 'standby: primary_conninfo with sslmode=prefer');
like(link_row($standby, 'live_tls', 'physical_replication', 'primary_conninfo'),
	qr/walreceiver pid \d+ streaming from 127\.0\.0\.1:$pport; live connection sslmode=prefer \(TLS is not guaranteed[^;]*; TLSv1\.3, TLS_\w+ \(\d+ bits\)$/,
	'live_tls: the walreceiver streams over TLSv1.3, though its sslmode could fall back');
# Recording it loads nothing into the server: a client backend of the standby
# has no libpqwalreceiver mapped; the walreceiver loads it itself.
is($standby->safe_psql('postgres', "SELECT pg_read_file('/proc/self/maps') LIKE '%libpqwalreceiver%'"), 'f',
	'a client backend has no libpqwalreceiver mapped');
my $walrcv_pid = $standby->safe_psql('postgres', 'SELECT pid FROM pg_stat_wal_receiver');
my $walrcv_maps = slurp_file("/proc/$walrcv_pid/maps");
like($walrcv_maps, qr/libpqwalreceiver/, 'the walreceiver has loaded libpqwalreceiver itself');
# The primary sees the walreceiver's link: TLS (prefer found TLS), and its protocol.
is($primary->safe_psql('postgres', "SELECT backend_type, transport, protocol, below_floor FROM tls_audit.sessions "
		  . "WHERE application_name = 'sb_prefer'"),
	'walsender|tls|TLSv1.3|f', 'the primary: the walsender of sb_prefer uses TLSv1.3');
like(findings($standby, 'outbound_sslmode'), qr/^ok : every outbound link to a remote host/,
	'outbound_sslmode: prefer to a loopback address is not flagged');

# sslmode=disable: the walsender arrives without TLS; sessions_below_floor on the primary.
$standby->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = "
	  . "'host=127.0.0.1 port=$pport sslmode=disable application_name=sb_plain'; SELECT pg_reload_conf()");
wait_true($primary, "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'sb_plain' "
	  . "AND state = 'streaming'", 'the standby (disable) to stream');
is($primary->safe_psql('postgres', "SELECT backend_type, transport, below_floor, floor_reason FROM tls_audit.sessions "
		  . "WHERE application_name = 'sb_plain'"),
	'walsender|tcp|t|no TLS', 'the primary: the plaintext walsender is below the floor');
like(findings($primary, 'sessions_below_floor'), qr/^warning .*1 session below the floor \(no TLS\)/m,
	'sessions_below_floor reports the replication connection without TLS');
like(link_row($standby, 'live_tls', 'physical_replication', 'primary_conninfo'),
	qr/live connection sslmode=disable \(no TLS\)[^;]*; connected without TLS$/, 'live_tls: the live link has no TLS');

# verify-full with sslrootcert: verified, and the root certificate is checked.
$standby->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = "
	  . "'host=127.0.0.1 port=$pport sslmode=verify-full sslrootcert=$root application_name=sb_verified'; "
	  . "SELECT pg_reload_conf()");
wait_true($primary, "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'sb_verified' "
	  . "AND state = 'streaming'", 'the standby (verify-full) to stream');
is(link_row($standby, 'sslmode, verifies_server, sslrootcert', 'physical_replication', 'primary_conninfo'),
	"verify-full|t|$root", 'standby: primary_conninfo with verify-full and sslrootcert');
like(link_row($standby, 'live_tls', 'physical_replication', 'primary_conninfo'),
	qr/live connection sslmode=verify-full \(TLS is in use[^;]*; TLSv1\.3, TLS_\w+ \(\d+ bits\)$/,
	'live_tls: the TLS protocol and cipher of the walreceiver\'s link');
is($primary->safe_psql('postgres', "SELECT transport, protocol FROM tls_audit.sessions "
		  . "WHERE application_name = 'sb_verified'"),
	'tls|TLSv1.3', 'the primary: the verified walsender link uses TLSv1.3');
like(findings($standby, 'outbound_root_cert'), qr/^ok : every outbound link that verifies the server has a usable root certificate \(1 link\)/,
	'outbound_root_cert: ok with the real root CA');
# A pg_monitor member sees primary_conninfo (pg_read_all_settings) and the walreceiver.
is(link_row($standby, 'sslmode, live_tls LIKE \'walreceiver pid % streaming from%\'', 'physical_replication',
		'primary_conninfo', connstr => $standby->connstr('postgres') . ' user=mon'),
	'verify-full|t', 'pg_monitor sees primary_conninfo and the walreceiver');
my ($rc, $out, $err) = $standby->psql('postgres', 'SELECT * FROM tls_audit.outbound_connections',
	connstr => $standby->connstr('postgres') . ' user=plain');
like($err, qr/permission denied for view outbound_connections/, 'an ordinary role may not read the view');
$standby->stop;

# ---------------------------------------------------------------------------
# The primary (not a standby): a malformed primary_conninfo, unset sslmode,
# a service name, PGSSLMODE in the environment.
# ---------------------------------------------------------------------------
$primary->safe_psql('postgres',
	"ALTER SYSTEM SET primary_conninfo = 'host=192.0.2.9 password=Secret3x port'; SELECT pg_reload_conf()");
wait_true($primary, "SELECT current_setting('primary_conninfo') LIKE '%Secret3x%'", 'the reload');
my $bad = link_row($primary, 'sslmode IS NULL, error', 'physical_replication', 'primary_conninfo');
like($bad, qr/^t\|invalid connection string: missing "\.\.\." in connection info string$/,
	'malformed conninfo: a clean error row, no fragment of the string')
  or diag($bad);
unlike($primary->safe_psql('postgres', 'SELECT o::text FROM tls_audit.outbound_connections o'),
	qr/Secret3x/, 'the password of the malformed string is not shown');
# A password with double quotes inside: libpq echoes 'battery"staple' in its
# message; no part of the password may be shown.
$primary->safe_psql('postgres',
	q{ALTER SYSTEM SET primary_conninfo = 'host=192.0.2.9 password=correct"horse battery"staple'; SELECT pg_reload_conf()});
wait_true($primary, "SELECT current_setting('primary_conninfo') LIKE '%staple%'", 'the reload');
my $quoted = $primary->safe_psql('postgres',
	q{SELECT o::text FROM tls_audit.outbound_connections o}) . "\n" . findings($primary, 'outbound_sslmode');
like($quoted, qr/invalid connection string/, 'a password with quotes: the string is reported as invalid');
unlike($quoted, qr/correct|horse|battery|staple/, 'a password with quotes: no part of it is shown')
  or diag($quoted);
like(findings($primary, 'outbound_sslmode'), qr/^info primary_conninfo: cannot be judged: invalid connection string/m,
	'outbound_sslmode: the malformed string is info');

$primary->safe_psql('postgres',
	"ALTER SYSTEM SET primary_conninfo = 'host=192.0.2.9 user=rep'; SELECT pg_reload_conf()");
wait_true($primary, "SELECT current_setting('primary_conninfo') LIKE '%user=rep%'", 'the reload');
is(link_row($primary, 'sslmode, sslmode_source, live_tls', 'physical_replication', 'primary_conninfo'),
	'prefer|libpq default|not a standby: primary_conninfo is not in use', 'unset sslmode: libpq\'s default');
like(findings($primary, 'outbound_sslmode'),
	qr/^critical primary_conninfo: sslmode=prefer \(libpq default\) to 192\.0\.2\.9: a man-in-the-middle/m,
	'outbound_sslmode: critical for the default prefer to a remote host');

$primary->safe_psql('postgres',
	"ALTER SYSTEM SET primary_conninfo = 'service=upstream'; SELECT pg_reload_conf()");
wait_true($primary, "SELECT current_setting('primary_conninfo') = 'service=upstream'", 'the reload');
like(link_row($primary, 'sslmode_source, array_to_string(notes, \'; \')', 'physical_replication', 'primary_conninfo'),
	qr/^libpq default\|.*service 'upstream' is used: its entry in the service file may set sslmode/,
	'a service name: what the service file sets is not known and said so');

# PGSSLMODE in the server's environment applies to every link that sets none.
$primary->safe_psql('postgres', "ALTER SYSTEM SET primary_conninfo = 'host=192.0.2.9'");
{
	local $ENV{PGSSLMODE} = 'verify-ca';
	$primary->restart;
}
is(link_row($primary, 'sslmode, sslmode_source, verifies_server', 'physical_replication', 'primary_conninfo'),
	'verify-ca|environment|t', 'PGSSLMODE of the server\'s environment is the effective sslmode');
like(findings($primary, 'outbound_sslmode'), qr/^warning primary_conninfo: sslmode=verify-ca \(environment\)/m,
	'outbound_sslmode: verify-ca is a warning (no host-name check)');
$primary->safe_psql('postgres', 'ALTER SYSTEM RESET primary_conninfo');
$primary->restart;

# ---------------------------------------------------------------------------
# Logical replication: a second cluster subscribes with require and disable.
# ---------------------------------------------------------------------------
my $sub = new_tls_node('subscriber');
$sub->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY); CREATE ROLE mon LOGIN IN ROLE pg_monitor;');
my $pub_conn = "host=127.0.0.1 port=$pport dbname=postgres";
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION s_req CONNECTION '$pub_conn sslmode=require' PUBLICATION p");
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION s_plain CONNECTION '$pub_conn sslmode=disable' PUBLICATION p WITH (copy_data = false)");
# Configured only: a remote publisher that is never contacted.
$sub->safe_psql('postgres', "CREATE SUBSCRIPTION s_remote CONNECTION 'host=192.0.2.1 dbname=x password=TopSecret1' "
	  . "PUBLICATION p WITH (connect = false)");
wait_true($sub, 'SELECT count(*) = 3 FROM t', 'the initial copy');
wait_true($sub, "SELECT count(*) = 2 FROM pg_stat_subscription s JOIN pg_subscription u ON u.oid = s.subid "
	  . "WHERE s.relid IS NULL AND s.pid IS NOT NULL", 'both apply workers');

is(link_row($sub, 'host, sslmode, sslmode_source, verifies_server', 'subscription', 's_req'),
	'127.0.0.1|require|connection string|f', 'subscription with sslmode=require');
like(link_row($sub, 'live_tls', 'subscription', 's_req'), qr/^apply worker pid \d+ running; TLSv1\.3, TLS_\w+ \(\d+ bits\)/,
	'live_tls: the apply worker is running, over TLSv1.3');
like(link_row($sub, 'live_tls', 'subscription', 's_plain'), qr/^apply worker pid \d+ running; connected without TLS/,
	'live_tls: the disable subscription\'s apply worker has no TLS');
is(link_row($sub, 'sslmode', 'subscription', 's_plain'), 'disable', 'subscription with sslmode=disable');
is(link_row($sub, 'sslmode, sslmode_source, password_in_conninfo, live_tls', 'subscription', 's_remote'),
	'prefer|libpq default|t|subscription disabled: no apply worker', 'unset sslmode and a stored password');
is($primary->safe_psql('postgres', "SELECT transport, below_floor FROM tls_audit.sessions "
		  . "WHERE backend_type = 'walsender' AND application_name IN ('s_req', 's_plain') ORDER BY application_name"),
	"tcp|t\ntls|f", 'the publisher: the require subscription arrives with TLS, the disable one without');

my $all = $sub->safe_psql('postgres', 'SELECT o::text FROM tls_audit.outbound_connections o')
  . $sub->safe_psql('postgres', 'SELECT c::text FROM tls_audit.run_checks() c');
unlike($all, qr/TopSecret1/, 'the stored password is never printed');
my $sslmode = findings($sub, 'outbound_sslmode');
like($sslmode, qr/^critical subscription s_remote: sslmode=prefer \(libpq default\) to 192\.0\.2\.1/m,
	'outbound_sslmode: critical for the remote subscription');
unlike($sslmode, qr/s_req|s_plain/, 'loopback subscriptions are not flagged');
like(findings($sub, 'outbound_password_in_conninfo'), qr/^warning subscription s_remote: a plaintext password/m,
	'outbound_password_in_conninfo fires');

# pg_monitor may not read subconninfo (PostgreSQL's rule): NULL options and why.
like(link_row($sub, "coalesce(sslmode, 'NULL') || '|' || error", 'subscription', 's_req',
		connstr => $sub->connstr('postgres') . ' user=mon'),
	qr/^NULL\|subconninfo is not readable by this role/, 'pg_monitor: subscription options are hidden');

# ---------------------------------------------------------------------------
# postgres_fdw and dblink_fdw.
# ---------------------------------------------------------------------------
$sub->safe_psql('postgres', <<"SQL");
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION dblink;
CREATE SERVER fdw_local FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '$pport', dbname 'postgres', sslmode 'verify-full', sslrootcert '$root', fetch_size '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_local;
CREATE FOREIGN TABLE ft (id int) SERVER fdw_local OPTIONS (table_name 't');
CREATE SERVER fdw_remote FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '192.0.2.2', dbname 'x', sslmode 'verify-full', sslrootcert '/nonexistent/root.crt');
CREATE USER MAPPING FOR CURRENT_USER SERVER fdw_remote OPTIONS (user 'app', password 'MapSecret2');
CREATE USER MAPPING FOR PUBLIC SERVER fdw_remote OPTIONS (user 'pub');
CREATE SERVER fdw_expired FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '192.0.2.3', dbname 'x', sslmode 'verify-ca', sslrootcert '$expired');
CREATE SERVER dbl FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (host '127.0.0.1', port '$pport', dbname 'postgres', sslmode 'require');
CREATE USER MAPPING FOR CURRENT_USER SERVER dbl;
SQL
is($sub->safe_psql('postgres', 'SELECT count(*) FROM ft'), '3', 'postgres_fdw reads over its verify-full link');
is($sub->safe_psql('postgres', "SELECT x FROM dblink('dbl', 'SELECT 42') AS r(x int)"), '42',
	'dblink connects through its foreign server');
my $me = $sub->safe_psql('postgres', 'SELECT current_user');

is(link_row($sub, 'host, port, sslmode, verifies_server, sslrootcert', 'foreign_server', 'fdw_local'),
	"127.0.0.1|$pport|verify-full|t|$root", 'postgres_fdw server: options read, fetch_size left out');
is(link_row($sub, 'sslmode, password_in_conninfo', 'user_mapping', "$me\@fdw_remote"), 'verify-full|t',
	'user mapping: merged over the server, password flagged');
is(link_row($sub, 'sslmode, password_in_conninfo', 'user_mapping', 'public@fdw_remote'), 'verify-full|f',
	'PUBLIC user mapping');
is(link_row($sub, 'sslmode, error IS NULL', 'user_mapping', "$me\@fdw_local"), 'verify-full|t',
	'a visible user mapping without options is not reported as hidden');
is(link_row($sub, 'host, sslmode, verifies_server', 'foreign_server', 'dbl'), '127.0.0.1|require|f',
	'dblink_fdw server');
unlike($sub->safe_psql('postgres', 'SELECT o::text FROM tls_audit.outbound_connections o')
	  . $sub->safe_psql('postgres', 'SELECT c::text FROM tls_audit.run_checks() c'),
	qr/MapSecret2/, 'the user mapping\'s password is never printed');

my $rootcheck = findings($sub, 'outbound_root_cert');
like($rootcheck, qr/^warning foreign_server fdw_remote: sslrootcert \/nonexistent\/root\.crt is not usable: No such file/m,
	'outbound_root_cert: a missing root certificate is a warning');
like($rootcheck, qr/^critical foreign_server fdw_expired: sslrootcert \S+expired\.crt: CA .* expired/m,
	'outbound_root_cert: an expired CA file is critical');
unlike($rootcheck, qr/fdw_local/, 'the real root CA of fdw_local is fine');
like(findings($sub, 'outbound_password_in_conninfo'), qr/^warning user_mapping \Q$me\E\@fdw_remote: a plaintext password is stored in the user mapping/m,
	'outbound_password_in_conninfo: the user mapping');

# pg_monitor: servers are visible, other roles' user mappings are not.
is(link_row($sub, "sslmode || '|' || coalesce(error, '')", 'foreign_server', 'fdw_remote',
		connstr => $sub->connstr('postgres') . ' user=mon'),
	'verify-full|', 'pg_monitor sees foreign servers');
like(link_row($sub, "coalesce(sslmode, 'NULL') || '|' || error", 'user_mapping', "$me\@fdw_remote",
		connstr => $sub->connstr('postgres') . ' user=mon'),
	qr/^NULL\|the user mapping's options are not visible to this role/, 'pg_monitor: user mappings are hidden');

$sub->stop;
$primary->stop;
done_testing();
