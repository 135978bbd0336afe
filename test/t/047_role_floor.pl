# A protocol floor per role (tls_audit.role_min_protocol, tls_audit.enforce_floor):
# (role, +group, *), tls_audit.enforce_floor = off | log | on, the census
# outcome policy_violation, tls_audit.sessions.role_floor/floor_reason, the
# lock-out guard (unix sockets are never affected), and bad values (reload
# keeps the previous value; at start the floor fails closed).
# Oracles: whether real libpq clients get in, the server log (LOG and FATAL
# lines, with SQLSTATE through log_error_verbosity = verbose), the census.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $floors = 'etl=TLSv1.3, +reporting=TLSv1.3, legacy_app=TLSv1.1, *=TLSv1.2';
my $node = new_tls_node('role_floor',
	conf => "log_error_verbosity = verbose\ntls_audit.role_min_protocol = '$floors'\n");
$node->safe_psql('postgres', q{
	CREATE ROLE etl LOGIN;
	CREATE ROLE legacy_app LOGIN;
	CREATE ROLE other LOGIN;
	CREATE ROLE reporting NOLOGIN;
	CREATE ROLE mid NOLOGIN IN ROLE reporting;
	CREATE ROLE analyst LOGIN IN ROLE mid;       -- member of reporting through mid
	CREATE ROLE boss LOGIN SUPERUSER;            -- not exempt over TCP, not a member of reporting
});

sub reload_with
{
	my (%set) = @_;
	for my $name (sort keys %set)
	{
		$node->safe_psql('postgres', "ALTER SYSTEM SET tls_audit.$name = '$set{$name}'");
	}
	$node->reload;
	# Every new backend reads the files; wait until one sees the values.
	for my $name (sort keys %set)
	{
		$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.$name') = '$set{$name}'")
		  or die "tls_audit.$name not reloaded";
	}
}

# One connection attempt: (admitted?, stderr). %opt as tls_connstr; tcp => 1
# for plain TCP (sslmode=disable).
sub attempt
{
	my ($user, %opt) = @_;
	my $app = "rf_${user}_" . ($opt{tcp} ? 'tcp' : ($opt{max} // 'any'));
	my ($rc, $stdout, $stderr) = tls_psql($node, 'SELECT 1', user => $user, application_name => $app,
		($opt{tcp} ? (sslmode => 'disable') : (min => $opt{max}, max => $opt{max})));
	return ($rc == 0 && $stdout eq '1', $stderr);
}

sub census
{
	my ($where) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(concat_ws('|', usename, coalesce(protocol, transport), outcome, connections), E'\\n'
		                   ORDER BY usename COLLATE \"C\", coalesce(protocol, transport) COLLATE \"C\", outcome COLLATE \"C\")
		   FROM tls_audit.census WHERE usename IN ('etl', 'analyst', 'other', 'legacy_app', 'boss') AND $where");
}

# --- enforce_floor = off: nothing is refused, the sessions view shows the floors
is($node->safe_psql('postgres', 'SHOW tls_audit.enforce_floor'), 'off', 'enforce_floor defaults to off');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
{
	my %bg;
	$bg{etl} = $node->background_psql('postgres',
		extra_params => [ '-d', tls_connstr($node, user => 'etl', max => 'TLSv1.2', application_name => 'v_etl') ]);
	$bg{analyst} = $node->background_psql('postgres',
		extra_params => [ '-d', tls_connstr($node, user => 'analyst', min => 'TLSv1.3', application_name => 'v_analyst') ]);
	$bg{other} = $node->background_psql('postgres',
		extra_params => [ '-d', tls_connstr($node, user => 'other', sslmode => 'disable', application_name => 'v_other') ]);
	$bg{boss} = $node->background_psql('postgres',
		extra_params => [ '-d', tls_connstr($node, user => 'boss', max => 'TLSv1.2', application_name => 'v_boss') ]);
	$bg{unix} = $node->background_psql('postgres',
		extra_params => [ '-d', $node->connstr('postgres') . ' user=etl application_name=v_unix' ]);
	is($node->safe_psql('postgres', q{SELECT string_agg(concat_ws('|', application_name, usename, transport,
			coalesce(role_floor, '-'), below_floor, coalesce(floor_reason, '-')), E'\n' ORDER BY application_name)
			FROM tls_audit.sessions WHERE application_name LIKE 'v\_%'}),
		join("\n",
			'v_analyst|analyst|tls|TLSv1.3|f|-',
			'v_boss|boss|tls|TLSv1.2|f|-',
			'v_etl|etl|tls|TLSv1.3|t|TLSv1.2 < TLSv1.3 (role etl)',
			'v_other|other|tcp|TLSv1.2|t|no TLS (all roles)',
			'v_unix|etl|unix|TLSv1.3|f|-'),
		'sessions: role_floor per role, +group (through a nested membership) and *; below_floor and floor_reason follow it');
	# Without an entry for the role, tls_audit.min_protocol applies as before.
	reload_with(role_min_protocol => 'etl=TLSv1.3');
	is($node->safe_psql('postgres', q{SELECT string_agg(concat_ws('|', application_name,
			coalesce(role_floor, '-'), below_floor, coalesce(floor_reason, '-')), E'\n' ORDER BY application_name)
			FROM tls_audit.sessions WHERE application_name IN ('v_boss', 'v_other', 'v_etl')}),
		"v_boss|-|f|-\nv_etl|TLSv1.3|t|TLSv1.2 < TLSv1.3 (role etl)\nv_other|-|t|no TLS",
		'sessions: a role without an entry is judged by tls_audit.min_protocol');
	reload_with(role_min_protocol => $floors);
	$_->quit for values %bg;
}
my ($ok) = attempt('etl', max => 'TLSv1.2');
ok($ok, 'off: etl below its floor is admitted');
is(census("outcome = 'policy_violation'"), '', 'off: no policy_violation in the census');
is($node->safe_psql('postgres', q{SELECT concat_ws('|', usename, protocol, role_floor, connections, reason)
		FROM tls_audit.role_floor_readiness() WHERE application_name LIKE 'rf\_%'}),
	'etl|TLSv1.2|TLSv1.3|1|TLSv1.2 < TLSv1.3 (role etl)',
	'off: role_floor_readiness lists the authenticated client that log or on would catch');

# --- enforce_floor = log ----------------------------------------------------
reload_with(enforce_floor => 'log');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
my $offset = -s $node->logfile;
my @admitted = (
	[ 'etl', max => 'TLSv1.2' ], [ 'etl', max => 'TLSv1.3' ],
	[ 'analyst', max => 'TLSv1.2' ], [ 'analyst', max => 'TLSv1.3' ],
	[ 'other', max => 'TLSv1.1' ], [ 'other', max => 'TLSv1.2' ], [ 'other', tcp => 1 ],
	[ 'legacy_app', max => 'TLSv1.1' ], [ 'boss', max => 'TLSv1.1' ]);
for my $a (@admitted)
{
	my ($in, $err) = attempt(@$a);
	ok($in, "log: @$a admitted") or diag($err);
}
my ($unix_rc) = $node->psql('postgres', 'SELECT 1', connstr => $node->connstr('postgres') . ' user=etl');
is($unix_rc, 0, 'log: etl over the unix socket admitted');
my $log = slurp_file($node->logfile, $offset);
my @lines = $log =~ /LOG:  (?:\w+: )?pg_tls_audit: session of role "(\w+)" below its protocol floor: ([^\n]*)/g;
my %logged;
while (my ($role, $reason) = splice(@lines, 0, 2)) { push @{ $logged{$role} }, $reason; }
is_deeply(
	\%logged,
	{
		etl => ['TLSv1.2 < TLSv1.3 (role etl)'],
		analyst => ['TLSv1.2 < TLSv1.3 (group reporting)'],
		other => [ 'TLSv1.1 < TLSv1.2 (all roles)', 'no TLS (all roles)' ],
		boss => ['TLSv1.1 < TLSv1.2 (all roles)'],
	},
	'log: one LOG line per session below its floor (role, +group, *, no TLS, superuser), none for the others')
  or diag($log);
is(census('true'),
	join("\n",
		'analyst|TLSv1.2|policy_violation|1', 'analyst|TLSv1.3|authenticated|1',
		'boss|TLSv1.1|policy_violation|1',
		'etl|TLSv1.2|policy_violation|1', 'etl|TLSv1.3|authenticated|1', 'etl|unix|authenticated|1',
		'legacy_app|TLSv1.1|authenticated|1',
		'other|TLSv1.1|policy_violation|1', 'other|TLSv1.2|authenticated|1', 'other|tcp|policy_violation|1'),
	'log: the census counts each violation once, as policy_violation, with its application name kept');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.census
		WHERE outcome = 'policy_violation' AND application_name LIKE 'rf\_%'}),
	'5', 'log: policy_violation entries keep the application name (the role authenticated)');
is($node->safe_psql('postgres', q{SELECT string_agg(concat_ws('|', usename, coalesce(protocol, '-'), role_floor,
		connections, reason), E'\n' ORDER BY usename, protocol) FROM tls_audit.role_floor_readiness()
		WHERE usename IN ('etl', 'analyst', 'other', 'legacy_app', 'boss')}),
	join("\n",
		'analyst|TLSv1.2|TLSv1.3|1|TLSv1.2 < TLSv1.3 (group reporting)',
		'boss|TLSv1.1|TLSv1.2|1|TLSv1.1 < TLSv1.2 (all roles)',
		'etl|TLSv1.2|TLSv1.3|1|TLSv1.2 < TLSv1.3 (role etl)',
		'other|TLSv1.1|TLSv1.2|1|TLSv1.1 < TLSv1.2 (all roles)',
		'other|-|TLSv1.2|1|no TLS (all roles)'),
	'role_floor_readiness: the census per role floor (role, +group, *, no TLS), none for clients at their floor');
# policy_violation entries count as authenticated clients in floor readiness.
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.floor_readiness('TLSv1.3')
		WHERE usename = 'etl' AND protocol = 'TLSv1.2'}), '1', 'floor_readiness sees policy_violation clients');

# --- enforce_floor = on -----------------------------------------------------
reload_with(enforce_floor => 'on');
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
$offset = -s $node->logfile;
my @refused = (
	[ [ 'etl', max => 'TLSv1.2' ], 'etl', 'TLSv1.3', 'TLSv1.2' ],
	[ [ 'analyst', max => 'TLSv1.2' ], 'analyst', 'TLSv1.3', 'TLSv1.2' ],
	[ [ 'other', max => 'TLSv1.1' ], 'other', 'TLSv1.2', 'TLSv1.1' ],
	[ [ 'other', tcp => 1 ], 'other', 'TLSv1.2', 'no TLS' ],
	[ [ 'boss', max => 'TLSv1.1' ], 'boss', 'TLSv1.2', 'TLSv1.1' ]);
for my $r (@refused)
{
	my ($args, $role, $floor, $used) = @$r;
	my ($in, $err) = attempt(@$args);
	ok(!$in, "on: @$args refused");
	like($err, qr/FATAL:  role "$role" must connect with \Q$floor\E or newer, this session uses \Q$used\E/,
		"on: @$args: the message names the role, the floor and the session's protocol");
	like($err, qr/HINT:  Connect over TLS \Q$floor\E or newer/, "on: @$args: with a HINT");
}
for my $a ([ 'etl', max => 'TLSv1.3' ], [ 'analyst', max => 'TLSv1.3' ], [ 'other', max => 'TLSv1.2' ],
	[ 'legacy_app', max => 'TLSv1.1' ], [ 'boss', max => 'TLSv1.2' ])
{
	my ($in, $err) = attempt(@$a);
	ok($in, "on: @$a at or above its floor admitted") or diag($err);
}
($unix_rc) = $node->psql('postgres', 'SELECT 1', connstr => $node->connstr('postgres') . ' user=other');
is($unix_rc, 0, 'on: a role with a floor still gets in over the unix socket');
$log = slurp_file($node->logfile, $offset);
my $fatals = () = $log =~ /FATAL:  28000: role "\w+" must connect with/g;
is($fatals, scalar @refused, 'on: one FATAL with SQLSTATE 28000 per refused session in the server log');
is(census("outcome IN ('policy_violation', 'startup_failed')"),
	join("\n",
		'analyst|TLSv1.2|policy_violation|1', 'boss|TLSv1.1|policy_violation|1', 'etl|TLSv1.2|policy_violation|1',
		'other|TLSv1.1|policy_violation|1', 'other|tcp|policy_violation|1'),
	'on: refused sessions counted as policy_violation, not as startup_failed');
is(census(q{outcome <> 'policy_violation' AND ((usename IN ('etl', 'analyst') AND protocol = 'TLSv1.2')
		OR (usename IN ('other', 'boss') AND protocol = 'TLSv1.1') OR (usename = 'other' AND transport = 'tcp'))}),
	'', 'on: no refused session counted under another outcome');

# --- the lock-out guard -------------------------------------------------------
reload_with(role_min_protocol => '*=TLSv1.3');
my ($in) = attempt('postgres', max => 'TLSv1.2');
ok(!$in, 'lock-out guard: *=TLSv1.3 refuses the bootstrap superuser over TCP with TLSv1.2');
is($node->safe_psql('postgres', 'SELECT current_user'), 'postgres',
	'lock-out guard: the superuser still gets in over the unix socket');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET tls_audit.enforce_floor');
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.enforce_floor') = 'off'");
($in) = attempt('postgres', max => 'TLSv1.2');
ok($in, 'lock-out guard: after undoing the setting over the unix socket, TCP works again');
reload_with(enforce_floor => 'on');

# --- bad values ---------------------------------------------------------------
my ($rc, $stdout, $stderr) = $node->psql('postgres',
	"ALTER SYSTEM SET tls_audit.role_min_protocol = 'etl=TLSv1.3, reporting TLSv1.3'");
isnt($rc, 0, 'ALTER SYSTEM refuses an invalid list');
like($stderr, qr/DETAIL:  invalid entry 2 "reporting TLSv1\.3": expected name=protocol/,
	'the refusal names the offending item');
like($stderr, qr/HINT:  Write a comma-separated list of name=protocol items/, 'with a HINT');

# An invalid value in the file at a reload: the previous value stays, the log names the item.
# (postgresql.auto.conf would override the file: the values move to postgresql.conf.)
$node->append_conf('postgresql.conf', "tls_audit.role_min_protocol = '*=TLSv1.3'\ntls_audit.enforce_floor = on\n");
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ALL');
$node->reload;
$offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "tls_audit.role_min_protocol = 'etl=TLSv1.3, +=TLSv1.2'\n");
$node->append_conf('postgresql.conf', "tls_audit.enforce_floor = 'maybe'\n");
$node->reload;
ok($node->wait_for_log(qr/invalid entry 2 "\+=TLSv1\.2": empty role name/, $offset),
	'reload: the log names the offending item');
ok($node->wait_for_log(qr/invalid value for parameter "tls_audit\.enforce_floor": "maybe"/, $offset),
	'reload: an invalid enforce_floor is logged');
is($node->safe_psql('postgres', 'SHOW tls_audit.role_min_protocol'), '*=TLSv1.3',
	'reload: the previous role_min_protocol stays');
is($node->safe_psql('postgres', 'SHOW tls_audit.enforce_floor'), 'on', 'reload: the previous enforce_floor stays');
($in) = attempt('etl', max => 'TLSv1.2');
ok(!$in, 'reload: the previous floors are still enforced');

# An invalid value at start: the server starts, says so loudly, and fails closed.
$node->restart;
$log = slurp_file($node->logfile);
like($log, qr/tls_audit\.role_min_protocol = 'etl=TLSv1\.3, \+=TLSv1\.2' from \S+ line \d+ was not applied/,
	'start: a WARNING names the refused role_min_protocol');
like($log, qr/The protocol floors are unknown until the value is fixed/, 'start: and says the floors fail closed');
like($log, qr/tls_audit\.enforce_floor = 'maybe' from \S+ line \d+ was not applied.*\n.*enforced \(as with on\)/,
	'start: a WARNING for enforce_floor says it is enforced as on');
($in, $stderr) = attempt('legacy_app', max => 'TLSv1.3');
ok(!$in, 'start: with the list refused and enforce_floor refused, every TCP session is refused (fail closed)');
like($stderr, qr/FATAL:  connection of role "legacy_app" refused: the protocol floors of tls_audit\.role_min_protocol are unknown/,
	'start: the refusal says why');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'start: the unix socket still works');
# Fixing the list in the file (enforce_floor still refused, so on) restores the floors.
$node->append_conf('postgresql.conf', "tls_audit.role_min_protocol = 'etl=TLSv1.3'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.role_min_protocol') = 'etl=TLSv1.3'");
($in, $stderr) = attempt('legacy_app', max => 'TLSv1.1');
ok($in, 'fixed list: a role without an entry gets in again') or diag($stderr);
($in) = attempt('etl', max => 'TLSv1.2');
ok(!$in, 'fixed list: enforce_floor still refused at start, so still enforced (fail closed)');
$node->append_conf('postgresql.conf', "tls_audit.enforce_floor = 'log'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.enforce_floor') = 'log'");
($in) = attempt('etl', max => 'TLSv1.2');
ok($in, 'a valid enforce_floor from the file ends the fail-closed state');

$node->stop;
done_testing();
