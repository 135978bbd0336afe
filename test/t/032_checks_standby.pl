# tls_audit.record_checks() on a streaming hot standby: it runs the checks,
# returns the worst severity and logs, but writes no history (and sends no
# NOTIFY, which a standby cannot) -- without an error.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $primary = new_tls_node('primary', allows_streaming => 1);
is($primary->safe_psql('postgres', 'SELECT tls_audit.record_checks() IS NOT NULL'), 't',
	'record_checks() on the primary');
my $rows = $primary->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.check_history');
cmp_ok($rows, '>=', 20, "the primary stored a run ($rows rows)");

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
chmod 0600, $standby->data_dir . '/server.key';    # the backup does not keep the key's mode
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.check_history'), $rows,
	'the standby sees the primary\'s history');

# On the standby: no error, the worst severity, WARNING lines, nothing written.
my ($rc, $stdout, $stderr) = $standby->psql('postgres', 'SELECT tls_audit.record_checks()');
is($rc, 0, 'record_checks() on the standby returns without error') or diag($stderr);
like($stdout, qr/^(ok|info|warning|critical)$/, "it returns the worst severity ($stdout)");
like($stderr, qr/WARNING:  tls_audit critical hba_weak_auth/, 'and reports the problems as WARNINGs');
unlike($stderr, qr/ERROR/, 'no error');
like(slurp_file($standby->logfile), qr/record_checks\(\): server is in recovery, \d+ findings \(worst: \w+\) not recorded/,
	'the standby logs that it recorded nothing');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.check_history'), $rows,
	'the standby wrote no history');
is($standby->safe_psql('postgres', 'SELECT count(*) > 0 FROM tls_audit.run_checks()'), 't',
	'run_checks() works on the standby');
is($standby->safe_psql('postgres', 'SELECT last_run_at IS NOT NULL, worst_severity IS NOT NULL FROM tls_audit.summary'),
	't|t', 'summary works on the standby');

# The primary is unaffected.
$primary->wait_for_catchup($standby);
is($primary->safe_psql('postgres', 'SELECT count(*) FROM tls_audit.check_history'), $rows,
	'the primary\'s history is unchanged');

$standby->stop;
$primary->stop;
done_testing();
