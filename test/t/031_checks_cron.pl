# tls_audit.record_checks() scheduled with the real pg_cron: a history row
# appears, the WARNING lines reach the server log, and NOTIFY tls_audit
# (opt-in: tls_audit.notify_channel) reaches a listening session with a JSON
# summary of the run.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use TlsAuditTest;

# pg_cron of the server under test (test/pg-versions.sh builds it for the
# versions Debian does not package; the runner says why when it could not).
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
plan skip_all => 'pg_cron is not available for this server: '
  . ($ENV{TLS_AUDIT_CRON_MISSING} || "no $sharedir/extension/pg_cron.control")
  unless -f "$sharedir/extension/pg_cron.control";

# pg_cron's jobs run in background workers of this database.
my $node = new_tls_node(
	'cron',
	conf => "shared_preload_libraries = 'pg_tls_audit,pg_cron'\n"
	  . "cron.database_name = 'postgres'\n"
	  . "cron.use_background_workers = on\n"
	  . "max_worker_processes = 16\n"
	  # 1.1: the NOTIFY is opt-in, with the payload the operator chose.
	  . "tls_audit.notify_channel = 'tls_audit'\n"
	  . "tls_audit.notify_payload = 'summary'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN tls_audit');

is($node->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.check_history'), '0', 'no history yet');
my $jobid = $node->safe_psql('postgres',
	q{SELECT cron.schedule('tls-audit-test', '* * * * *', 'SELECT tls_audit.record_checks()')});
like($jobid, qr/^\d+$/, "record_checks() scheduled every minute (job $jobid)");

# pg_cron 1.4 has minute granularity: the first run comes at the next minute.
my $seen = 0;
for (1 .. 180)
{
	$seen = $node->safe_psql('postgres', 'SELECT count(*) > 0 FROM tls_audit.check_history') eq 't';
	last if $seen;
	sleep 0.5;
}
ok($seen, 'a history row appeared within 90 seconds');
$node->safe_psql('postgres', "SELECT cron.unschedule($jobid)");

# The run as pg_cron saw it.
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM cron.job_run_details WHERE jobid = $jobid AND status IN ('succeeded', 'failed')")
  or die 'pg_cron never finished the job';
my ($status, $message) = split /\|/, $node->safe_psql('postgres',
	"SELECT status, return_message FROM cron.job_run_details WHERE jobid = $jobid ORDER BY runid LIMIT 1");
is($status, 'succeeded', 'pg_cron reports the job succeeded') or diag($message);

my ($runs, $rows, $worst) = split /\|/, $node->safe_psql(
	'postgres', q{SELECT count(DISTINCT run_at), count(*),
	  (array_agg(severity ORDER BY array_position(ARRAY['ok','info','warning','critical'], severity) DESC))[1]
	  FROM tls_audit.check_history WHERE run_at = (SELECT min(run_at) FROM tls_audit.check_history)});
is($runs, 1, 'one run recorded');
cmp_ok($rows, '>=', 20, "the run stored every check ($rows rows)");
# This node keeps the test harness's trust lines: hba_weak_auth is critical.
is($worst, 'critical', 'worst severity of the run');

# The WARNING lines reach the server log.
$node->poll_query_until('postgres', 'SELECT true');    # let the log catch up
like(slurp_file($node->logfile), qr/WARNING:  tls_audit critical hba_weak_auth \[pg_hba\.conf line \d+\]/,
	'a WARNING per problem in the server log');

# The NOTIFY reaches the listener (psql shows it after its next command).
my $notified = '';
for (1 .. 20)
{
	$notified .= $listener->query('SELECT 1');
	last if $notified =~ /Asynchronous notification "tls_audit"/;
	sleep 0.5;
}
like($notified, qr/Asynchronous notification "tls_audit" with payload "\{.*\}" received from server process/,
	'NOTIFY tls_audit arrived at the listener');
my ($json) = $notified =~ /with payload "(\{.*\})" received/;
my $payload = eval { decode_json($json // '') } // {};
is($payload->{worst_severity}, 'critical', 'payload: worst_severity');
is($payload->{database}, 'postgres', 'payload: database');
my %counts = %{ $payload->{counts} // {} };
is($counts{critical} + $counts{warning} + $counts{info} + $counts{ok}, $rows, 'payload: counts add up to the rows stored');
ok((grep { $_ eq 'hba_weak_auth' } @{ $payload->{failing_checks} // [] }), 'payload: failing_checks names hba_weak_auth');
like($payload->{run_at} // '', qr/^\d{4}-\d\d-\d\d/, 'payload: run_at');

$listener->quit;
$node->stop;
done_testing();
