# tls_audit.sessions while backends exit (a row is complete or absent): a row of a TLS
# session with a client certificate is complete (subject and SNI set) or
# absent, never half there. Short-lived client-certificate sessions come and
# go while another session reads tls_audit.sessions over and over, in one
# transaction, sometimes with a fresh backend status snapshot and sometimes
# with the transaction's old one (whose backends have long exited).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('sessions_exiting', conf => 'max_connections = 40');
$node->safe_psql('postgres', q{
	CREATE TABLE seen (bad int, good int);
	CREATE TABLE stop_reading ();
	CREATE FUNCTION read_sessions() RETURNS void LANGUAGE plpgsql AS $$
	DECLARE
		b int;
		g int;
		started timestamptz := clock_timestamp();
	BEGIN
		FOR i IN 1 .. 20000 LOOP
			EXIT WHEN EXISTS (SELECT FROM stop_reading) OR clock_timestamp() - started > interval '60 s';
			IF i % 3 <> 0 THEN PERFORM pg_stat_clear_snapshot(); END IF;
			SELECT count(*) FILTER (WHERE client_subject IS NULL OR sni IS NULL),
			       count(*) FILTER (WHERE client_subject IS NOT NULL AND sni IS NOT NULL)
			  INTO b, g
			  FROM tls_audit.sessions WHERE application_name = 'churn' AND protocol IS NOT NULL;
			INSERT INTO seen VALUES (b, g);
			PERFORM pg_sleep(0.002);
		END LOOP;
	END $$;
});

# The reader: one psql over the unix socket (its own row has no TLS).
my ($out, $err) = ('', '');
my $reader = IPC::Run::start(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	  '-c', 'BEGIN; SELECT read_sessions(); COMMIT;' ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(120));

# The churn: short client-certificate sessions with SNI (host=localhost).
my $connstr = tls_connstr($node, cert => 'client.crt', key => 'client.key', host => 'localhost',
	application_name => 'churn');
my $ok = 0;
for my $i (1 .. 150)
{
	my $rc = $node->psql('postgres', 'SELECT pg_sleep(0.01)', connstr => $connstr);
	$ok++ if $rc == 0;
}
is($ok, 150, '150 short client-certificate sessions ran');
$node->safe_psql('postgres', 'INSERT INTO stop_reading DEFAULT VALUES');
$reader->finish;
is($?, 0, 'the reader finished') or diag($err);

my ($reads, $bad, $good) = split /\|/,
  $node->safe_psql('postgres', 'SELECT count(*), sum(bad), sum(good) FROM seen');
cmp_ok($reads, '>', 50, "the reader read tls_audit.sessions many times ($reads)");
cmp_ok($good, '>', 0, "complete churn rows were seen ($good)");
is($bad, 0, 'no row of a client-certificate session without its subject or SNI');

# A live session still shows everything, and exited ones leave nothing behind.
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.sessions WHERE application_name = 'churn'}),
	'0', 'no churn session left');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.registry_slots() r
	WHERE NOT EXISTS (SELECT FROM pg_stat_activity a WHERE a.pid = r.pid AND a.backend_start = r.backend_start)}),
	'0', 'registry_slots() lists no slot of an exited backend');
my ($rc, $live) = tls_psql($node, q{SELECT client_subject IS NOT NULL AND sni = 'localhost'
	FROM tls_audit.sessions WHERE pid = pg_backend_pid()},
	cert => 'client.crt', key => 'client.key', host => 'localhost');
is($live, 't', 'a live client-certificate session has its subject and SNI');

done_testing();
