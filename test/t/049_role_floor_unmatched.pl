# tls_audit.role_min_protocol entries that match no role fail open silently
# unless something says so: the check role_floor_unmatched (warning; critical
# with tls_audit.enforce_floor = on) names each one, with a hint for a role
# that differs only in case, after a rename too, and the automatic-reload
# worker logs a WARNING at each reload that leaves such entries. And
# weak_auth_in_use does not count the logins the floor refused.
# Oracles: real roles (CREATE / ALTER ROLE ... RENAME), real md5 logins over
# TLS, the server log, run_checks().
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('role_floor_unmatched',
	hba => "hostssl all pw_refused,pw_logged 127.0.0.1/32 md5\n",
	conf => "password_encryption = md5\n");
$node->safe_psql('postgres', q{
	SET client_min_messages = error;
	CREATE ROLE etl_team LOGIN;
	CREATE ROLE etl LOGIN;
	CREATE ROLE pw_refused LOGIN PASSWORD 'pw-refused-secret';
	CREATE ROLE pw_logged LOGIN PASSWORD 'pw-logged-secret';
});

sub set_floors
{
	my ($list, $enforce) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET tls_audit.role_min_protocol = '$list'");
	$node->safe_psql('postgres', "ALTER SYSTEM SET tls_audit.enforce_floor = '$enforce'");
	$node->reload;
	(my $quoted = $list) =~ s/'/''/g;
	$node->poll_query_until('postgres',
		"SELECT current_setting('tls_audit.enforce_floor') = '$enforce' "
		  . "AND current_setting('tls_audit.role_min_protocol') <> ''")
	  or die 'settings not reloaded';
}

sub unmatched
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(concat_ws('|', severity, object, hint), E'\n' ORDER BY object)
		    FROM tls_audit.run_checks() WHERE "check" = 'role_floor_unmatched'});
}

# --- every entry matches: ok ------------------------------------------------
set_floors('etl_team=TLSv1.3, etl=TLSv1.3, *=TLSv1.2', 'log');
is($node->safe_psql('postgres',
		q{SELECT severity || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'role_floor_unmatched'}),
	'ok|every tls_audit.role_min_protocol entry names an existing role', 'all entries match: one ok row');

# --- a case variant and a ghost, enforce_floor = log: warnings ---------------
my $offset = -s $node->logfile;
set_floors('"ETL_TEAM"=TLSv1.3, ghost=TLSv1.3, +ghosts=TLSv1.2, etl=TLSv1.3', 'log');
my $rows = unmatched();
like($rows, qr/^warning\|ETL_TEAM=TLSv1\.3\|[^\n]*role etl_team differs only in case/m,
	'ETL_TEAM: a warning with a hint naming etl_team');
like($rows, qr/^warning\|ghost=TLSv1\.3\|[^\n]*RENAME/m, 'ghost: a warning');
like($rows, qr/^warning\|\+ghosts=TLSv1\.2\|/m, '+ghosts (a group that does not exist): a warning');
unlike($rows, qr/(^|\|)etl=/m, 'etl exists: not reported');
is(scalar(() = $rows =~ /^warning/mg), 3, 'exactly the three unmatched entries');
ok($node->wait_for_log(
		qr/WARNING:  tls_audit\.role_min_protocol entries match no role: ETL_TEAM=TLSv1\.3 \(role etl_team differs only in case\); ghost=TLSv1\.3; \+ghosts=TLSv1\.2/,
		$offset),
	'the reload logs a WARNING naming the unmatched entries');

# The real role with the case variant is not protected: it gets in at TLSv1.2.
my ($rc) = tls_psql($node, 'SELECT 1', user => 'etl_team', max => 'TLSv1.2');
is($rc, 0, 'etl_team at TLSv1.2 is admitted: the ETL_TEAM entry protects nobody');

# --- enforce_floor = on: critical; a rename orphans an entry -----------------
set_floors('etl=TLSv1.3', 'on');
is($node->safe_psql('postgres',
		q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'role_floor_unmatched'}),
	'ok', 'on, every entry matches: ok');
$node->safe_psql('postgres', 'ALTER ROLE etl RENAME TO etl_renamed');
like(unmatched(), qr/^critical\|etl=TLSv1\.3\|/, 'after ALTER ROLE etl RENAME TO etl_renamed: etl=TLSv1.3 is critical');
$offset = -s $node->logfile;
$node->reload;
ok($node->wait_for_log(qr/WARNING:  tls_audit\.role_min_protocol entries match no role: etl=TLSv1\.3/, $offset),
	'the next reload logs the renamed role\'s entry');
ok($node->wait_for_log(qr/tls_audit\.enforce_floor = on admits the sessions they were meant to refuse/, $offset),
	'and says that enforce_floor = on admits those sessions');

# --- weak_auth_in_use counts only logins that reached a session --------------
# Both roles log in with md5 over TLSv1.2, below their floor: under on the
# login is refused after authenticating, under log it is admitted.
set_floors('pw_refused=TLSv1.3, pw_logged=TLSv1.3', 'on');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
{
	local $ENV{PGPASSWORD} = 'pw-refused-secret';
	my ($rc_refused, undef, $err) = tls_psql($node, 'SELECT 1', user => 'pw_refused', max => 'TLSv1.2');
	isnt($rc_refused, 0, 'on: pw_refused (md5, TLSv1.2) is refused by the floor');
	like($err, qr/must connect with TLSv1\.3/, 'on: refused by the floor, not by the password');
}
set_floors('pw_refused=TLSv1.3, pw_logged=TLSv1.3', 'log');
{
	local $ENV{PGPASSWORD} = 'pw-logged-secret';
	my ($rc_logged) = tls_psql($node, 'SELECT 1', user => 'pw_logged', max => 'TLSv1.2');
	is($rc_logged, 0, 'log: pw_logged (md5, TLSv1.2) is admitted');
}
is($node->safe_psql('postgres',
		q{SELECT string_agg(usename || '|' || outcome || '|' || coalesce(rejection_reason, '-'), E'\n' ORDER BY usename)
		    FROM tls_audit.census WHERE usename LIKE 'pw\_%'}),
	"pw_logged|policy_violation|-\npw_refused|policy_violation|refused by the role floor (tls_audit.enforce_floor = on)",
	'the census tells the refused violation from the admitted one');
is($node->safe_psql('postgres',
		q{SELECT string_agg(usename || '|' || auth_method, ',' ORDER BY usename)
		    FROM tls_audit.auth_readiness('scram-sha-256') WHERE usename LIKE 'pw\_%'}),
	'pw_logged|md5', 'auth_readiness: only the admitted md5 login');
like($node->safe_psql('postgres',
		q{SELECT string_agg(object, ',' ORDER BY object) FROM tls_audit.run_checks()
		   WHERE "check" = 'weak_auth_in_use' AND object LIKE 'pw\_%'}),
	qr/^pw_logged\@postgres from 127\.0\.0\.1( \([^,]+\))?$/, 'weak_auth_in_use: the refused login is not "in use"');

$node->stop;
done_testing();
