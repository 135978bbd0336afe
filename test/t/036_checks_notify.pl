# tls_audit.record_checks()'s NOTIFY (opt-in): none unless
# tls_audit.notify_channel names a channel, and only the payload
# tls_audit.notify_payload chooses, since any role that can connect may LISTEN.
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

my $node = new_tls_node('notify');
$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN');

# An unprivileged role listens on the 1.0 channel and on the one set below.
my $listener = $node->background_psql('postgres', connstr => $node->connstr('postgres') . ' user=nobody');
$listener->query_safe('LISTEN tls_audit');
$listener->query_safe('LISTEN audit_events');

# What the listener has received so far (psql prints it after a command).
sub received
{
	my $got = '';
	for (1 .. 6)
	{
		$got .= $listener->query('SELECT 1');
		sleep 0.25;
	}
	return $got;
}

sub record
{
	$node->safe_psql('postgres', 'SET client_min_messages = error; SELECT tls_audit.record_checks()');
}

is($node->safe_psql('postgres', 'SHOW tls_audit.notify_channel'), '', 'no channel by default');
record();
unlike(received(), qr/Asynchronous notification/, 'default: record_checks() sends no NOTIFY');

$node->append_conf('postgresql.conf', "tls_audit.notify_channel = 'audit_events'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.notify_channel') = 'audit_events'") or die;
record();
my $got = received();
like($got, qr/Asynchronous notification "audit_events" with payload "(\{.*\})" received/, 'channel set: the NOTIFY arrives');
my ($json) = $got =~ /with payload "(\{.*\})" received/;
my $payload = eval { decode_json($json // '') } // {};
is(join(',', sort keys %$payload), 'database,run_at,worst_severity', 'default payload (severity): three keys only');
unlike($got, qr/"tls_audit"/, 'nothing on the 1.0 channel');

$node->append_conf('postgresql.conf', "tls_audit.notify_payload = 'none'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('tls_audit.notify_payload') = 'none'") or die;
record();
$got = received();
like($got, qr/Asynchronous notification "audit_events" received from server process/, 'payload none: an empty notification');
unlike($got, qr/with payload/, 'payload none: no payload');

# Superuser-set only.
my ($rc, $out, $err) = $node->psql('postgres', "SET tls_audit.notify_channel = 'x'",
	connstr => $node->connstr('postgres') . ' user=nobody');
like($err, qr/permission denied to set parameter "tls_audit\.notify_channel"/, 'ordinary roles cannot set the channel');
($rc, $out, $err) = $node->psql('postgres', "SET tls_audit.notify_channel = '" . ('c' x 64) . "'");
like($err, qr/invalid value for parameter "tls_audit\.notify_channel"/, 'a channel name longer than 63 bytes is refused');

$listener->quit;
$node->stop;
done_testing();
