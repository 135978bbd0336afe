# A probe blocked on the network waits on the backend's latch with an
# extension wait event, visible in pg_stat_activity from another session
# (visible to pg_stat_activity): TlsAuditProbe on PostgreSQL 17+ (WaitEventExtensionNew),
# Extension before. The target is a "black hole" on 127.0.0.1: a listening
# socket that never answers the SSLRequest.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('probe_wait');
my $hole = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp')
  or die "listen: $!";
my $hole_port = $hole->sockport;
my $expected = $node->safe_psql('postgres', 'SHOW server_version_num') >= 170000 ? 'TlsAuditProbe' : 'Extension';

for my $case (
	[ 'probe_certificates()', "SELECT count(*) FROM tls_audit.probe_certificates('127.0.0.1', $hole_port, timeout_ms => 60000)" ],
	[ 'probe()', "SELECT count(*) FROM tls_audit.probe('127.0.0.1', $hole_port, timeout_ms => 60000)" ])
{
	my ($name, $sql) = @$case;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/probing/, "SET application_name = 'probe_wait';\n\\echo probing\n$sql;\n");
	my $seen = $node->poll_query_until('postgres',
		"SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity WHERE application_name = 'probe_wait' AND state = 'active'",
		"Extension:$expected");
	ok($seen, "$name blocked on the network shows wait event Extension:$expected");
	# The wait still ends on a cancel.
	$node->safe_psql('postgres', "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'probe_wait'");
	ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'probe_wait' AND state = 'active'"),
		"$name: a cancel ends the wait");
	$bg->quit;
}

$hole->close;
$node->stop;
done_testing();
