# Connection census outcomes: a login refused after authentication (role or
# database that does not exist, under trust) is counted as startup_failed
# with the FATAL's message as reason, not as authenticated. Oracle: the
# server log's FATAL lines and the number of attempts made.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

# WAL senders allowed (the test framework's default is none): the walsender cases below.
my $node = new_tls_node('census_outcomes', hba => "hostssl all wrongpw_user 127.0.0.1/32 scram-sha-256",
	conf => "wal_level = replica\nmax_wal_senders = 4");
$node->safe_psql('postgres', "SET password_encryption = 'scram-sha-256'; CREATE ROLE wrongpw_user LOGIN PASSWORD 'right-pw'");
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
my $log_offset = -s $node->logfile;

# Unauthenticated keys carry no application name (a client chooses it before authenticating), so the
# failed attempts are found by role and database.
sub census_rows
{
	my ($where) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(concat_ws('|', outcome, usename, datname, transport, rejection_reason, connections), E'\\n'
		                   ORDER BY outcome COLLATE \"C\", datname COLLATE \"C\")
		   FROM tls_audit.census WHERE $where");
}

# Nonexistent role under trust: 3 attempts.
my $role_attempts = 3;
for (1 .. $role_attempts)
{
	my ($rc, $stdout, $stderr) = tls_psql($node, 'SELECT 1', user => 'nosuch_role', application_name => 'norole');
	isnt($rc, 0, 'login as a nonexistent role is refused');
	like($stderr, qr/role "nosuch_role" does not exist/, 'refused for the role');
}
# Nonexistent database under trust: 2 attempts.
my $db_attempts = 2;
for (1 .. $db_attempts)
{
	my ($rc, $stdout, $stderr) = tls_psql($node, 'SELECT 1', dbname => 'nosuch_db', application_name => 'nodb');
	isnt($rc, 0, 'login to a nonexistent database is refused');
	like($stderr, qr/database "nosuch_db" does not exist/, 'refused for the database');
}
# A normal login and a wrong password.
tls_query($node, 'SELECT 1', application_name => 'normal');
tls_query($node, 'SELECT 1', application_name => 'normal');
my ($rc, $stdout, $stderr) = tls_psql($node, 'SELECT 1', user => 'wrongpw_user', extra => 'password=wrong-pw',
	application_name => 'wrongpw');
isnt($rc, 0, 'wrong password is refused');

# The oracle: the FATAL lines in the server log.
my $log = slurp_file($node->logfile, $log_offset);
my $role_fatals = () = $log =~ /FATAL:  role "nosuch_role" does not exist/g;
my $db_fatals = () = $log =~ /FATAL:  database "nosuch_db" does not exist/g;
is($role_fatals, $role_attempts, "the server logged $role_attempts FATALs for the role");
is($db_fatals, $db_attempts, "the server logged $db_attempts FATALs for the database");

is(census_rows("usename = 'nosuch_role'"),
	"startup_failed|nosuch_role|postgres|tls|role \"nosuch_role\" does not exist|$role_fatals",
	'nonexistent role: startup_failed with the FATAL as reason, once per attempt, no authenticated entry');
is(census_rows("datname = 'nosuch_db'"),
	"startup_failed|postgres|nosuch_db|tls|database \"nosuch_db\" does not exist|$db_fatals",
	'nonexistent database: startup_failed with the FATAL as reason');
is(census_rows("application_name = 'normal'"), 'authenticated|postgres|postgres|tls|2', 'normal logins stay authenticated');
is(census_rows("usename = 'wrongpw_user'"), 'auth_failed|wrongpw_user|postgres|tls|1', 'a wrong password is auth_failed');

# startup_failed does not make a client "not ready" for a higher floor.
is($node->safe_psql('postgres',
		"SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.3') WHERE usename = 'nosuch_role' OR datname = 'nosuch_db'"),
	'0', 'startup_failed entries are not floor readiness rows');
is($node->safe_psql('postgres', "SELECT count(*) FROM tls_audit.census WHERE outcome <> 'authenticated' AND application_name IS NOT NULL"),
	'0', 'no unauthenticated entry keeps the application name the client chose');

# Over a unix socket too (no TLS): the reason and the outcome.
($rc, $stdout, $stderr) =
  psql_connstr($node->connstr('postgres') . ' user=nosuch_local application_name=nolocal', 'SELECT 1');
isnt($rc, 0, 'unix-socket login as a nonexistent role is refused');
is(census_rows("usename = 'nosuch_local'"), 'startup_failed|nosuch_local|postgres|unix|role "nosuch_local" does not exist|1',
	'unix-socket startup failure counted');

# WAL senders: a replication connection is counted like any other; one refused
# after authentication (the role lacks REPLICATION: a FATAL in InitPostgres)
# is startup_failed with that FATAL as reason. Oracle: the server log.
$node->safe_psql('postgres', 'CREATE ROLE norepl LOGIN; CREATE ROLE withrepl LOGIN REPLICATION');
$log_offset = -s $node->logfile;
($rc, $stdout, $stderr) = tls_psql($node, 'IDENTIFY_SYSTEM', user => 'norepl', extra => 'replication=database');
isnt($rc, 0, 'a WAL sender for a role without REPLICATION is refused');
my ($walsender_fatal) = slurp_file($node->logfile, $log_offset) =~ /FATAL:  ([^\n]*(?:walsender|WAL sender)[^\n]*)/;
ok(defined $walsender_fatal, 'the server logged the WAL sender FATAL') or diag(slurp_file($node->logfile, $log_offset));
is(census_rows("usename = 'norepl'"), 'startup_failed|norepl|postgres|tls|' . ($walsender_fatal // '?') . '|1',
	'refused WAL sender: startup_failed with the FATAL as reason');
($rc, $stdout, $stderr) = tls_psql($node, 'IDENTIFY_SYSTEM', user => 'withrepl', extra => 'replication=database',
	application_name => 'walsender_ok');
is($rc, 0, 'a WAL sender for a REPLICATION role starts') or diag($stderr);
is(census_rows("usename = 'withrepl'"), 'authenticated|withrepl|postgres|tls|1', 'started WAL sender: authenticated');

$node->stop;
done_testing();
