# Connection census: persistence across a clean restart, a crash of the
# postmaster, corrupted and truncated census files, eviction at
# tls_audit.census_max, and the error without shared_preload_libraries.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $node = new_tls_node('census_persist', conf => 'tls_audit.census_max = 10');
my $file = $node->data_dir . '/pg_stat/pg_tls_audit_census';

sub persisted
{
	return $node->safe_psql('postgres',
		"SELECT coalesce(sum(connections), 0) FROM tls_audit.census WHERE application_name = 'persist_me'");
}

# Start the server after a crash: the old children may take a moment to
# notice that the postmaster is gone and release the shared memory.
sub start_after_crash
{
	for my $try (1 .. 30)
	{
		return 1 if $node->start(fail_ok => 1);
		# A failed start remembers the stale postmaster.pid: forget it.
		$node->{_pid} = undef;
		sleep 1;
	}
	return 0;
}

tls_query($node, 'SELECT 1', application_name => 'persist_me') for 1 .. 3;
is(persisted(), '3', 'three TLS connections counted');
is($node->safe_psql('postgres', 'SELECT file_loaded, loaded_entries, file_status FROM tls_audit.census_info()'),
	'f|0|no census file', 'first start: no census file');

# --- clean restart ------------------------------------------------------------
$node->restart;
ok(-f $file, 'census file written at shutdown');
is(persisted(), '3', 'census survives a clean restart');
like($node->safe_psql('postgres', 'SELECT file_loaded, loaded_entries > 0, file_status FROM tls_audit.census_info()'),
	qr/^t\|t\|loaded \d+ entries$/, 'census_info: file loaded');

# --- crash of the postmaster ----------------------------------------------------
tls_query($node, 'SELECT 1', application_name => 'persist_me');
$node->kill9;
ok(start_after_crash(), 'the server starts after kill -9 of the postmaster');
# No dump after a crash: the census is what the last clean shutdown wrote.
is(persisted(), '3', 'after a crash the census is the one of the last clean shutdown');
is($node->safe_psql('postgres', 'SELECT file_loaded FROM tls_audit.census_info()'), 't', 'file loaded after the crash');

# --- corrupted file -------------------------------------------------------------
$node->stop;
ok(-f $file, 'census file written at shutdown');
{
	open my $fh, '+<', $file or die "$file: $!";
	binmode $fh;
	seek $fh, 100, 0;
	read $fh, my $byte, 1;
	seek $fh, 100, 0;
	print $fh chr(ord($byte) ^ 0x5a);
	close $fh;
}
my $log_offset = -s $node->logfile;
$node->start;
ok($node->log_contains(qr/LOG:  pg_tls_audit: census file "pg_stat\/pg_tls_audit_census" ignored: checksum mismatch/, $log_offset),
	'a corrupted census file is ignored with a LOG line');
is($node->safe_psql('postgres', 'SELECT file_loaded, file_status FROM tls_audit.census_info()'),
	'f|census file ignored: checksum mismatch', 'census_info: file ignored');
is(persisted(), '0', 'the census starts empty');

# --- truncated file ---------------------------------------------------------------
tls_query($node, 'SELECT 1', application_name => 'persist_me');
$node->stop;
truncate $file, 30 or die "truncate: $!";
$log_offset = -s $node->logfile;
$node->start;
ok($node->log_contains(qr/census file .* ignored: truncated/, $log_offset), 'a truncated census file is ignored with a LOG line');
is(persisted(), '0', 'the census starts empty after a truncated file');

# --- eviction at census_max = 10 --------------------------------------------------
for my $i (1 .. 50)
{
	local $ENV{PGAPPNAME} = "evict_$i";
	$node->safe_psql('postgres', 'SELECT 1');
}
is($node->safe_psql('postgres', 'SHOW tls_audit.census_max'), '10', 'census_max is 10');
my ($entries, $max, $evicted, $visible, $newest) = split /\|/, $node->safe_psql(
	'postgres', q{
SELECT i.entries, i.max_entries, i.evicted,
       (SELECT count(*) FROM tls_audit.census),
       (SELECT count(*) FROM tls_audit.census WHERE application_name = 'evict_50')
  FROM tls_audit.census_info() i});
cmp_ok($visible, '<=', 10, "the view holds at most 10 entries ($visible)");
cmp_ok($entries, '<=', 10, "census_info().entries <= 10 ($entries)");
is($max, '10', 'census_info().max_entries');
cmp_ok($evicted, '>=', 40, "evictions are counted ($evicted)");
is($newest, '1', 'the most recent application is kept');

# Reset removes the file too.
$node->safe_psql('postgres', 'SELECT tls_audit.census_reset()');
ok(!-f $file, 'census_reset() removes the census file');
is($node->safe_psql('postgres', 'SELECT entries, evicted FROM tls_audit.census_info()'), '1|0', 'reset zeroes evictions and leaves only the new session');
$node->stop;

# --- not a regular file: never blocks the postmaster, says what it found ---
# A FIFO at the census path used to hang the postmaster in open() before it
# listened (deaf to pg_ctl stop); a directory and a link to /dev/zero were
# reported as "empty file".
for my $case (['a FIFO', sub { system('mkfifo', $file) == 0 or die "mkfifo: $?" }],
	['a directory', sub { mkdir $file or die "mkdir: $!" }],
	['a character device', sub { symlink '/dev/zero', $file or die "symlink: $!" }])
{
	my ($kind, $make) = @$case;
	$node->stop;
	unlink $file;
	rmdir $file;
	$make->();
	my $offset = -s $node->logfile;
	my $started = time;
	# pg_ctl's own wait is bounded (60 s); a hang would fail here.
	ok($node->start(fail_ok => 1), "census path is $kind: the server starts");
	cmp_ok(time - $started, '<', 60, "census path is $kind: without waiting on it");
	ok($node->log_contains(qr/WARNING:  pg_tls_audit: census file "pg_stat\/pg_tls_audit_census" ignored: it is \Q$kind\E/, $offset),
		"census path is $kind: a WARNING says so");
	is($node->safe_psql('postgres', 'SELECT file_loaded, file_status FROM tls_audit.census_info()'),
		"f|census file ignored: it is $kind", "census path is $kind: census_info says so");
	$node->stop;
	unlink $file;
	rmdir $file;
	$node->start;
}
$node->stop;

# --- without shared_preload_libraries ------------------------------------------------
my $plain = new_tls_node('census_nopreload', preload => 0);
my ($stdout, $stderr);
$plain->psql('postgres', "\\set VERBOSITY verbose\nSELECT * FROM tls_audit.census", stdout => \$stdout, stderr => \$stderr);
like($stderr, qr/ERROR:  55000: pg_tls_audit must be loaded via shared_preload_libraries/, 'census without preloading: 55000 error');
like($stderr, qr/HINT:  Add pg_tls_audit to shared_preload_libraries/, 'with a hint');
$plain->psql('postgres', 'SELECT tls_audit.floor_readiness_summary()', stderr => \$stderr);
like($stderr, qr/must be loaded via shared_preload_libraries/, 'floor_readiness_summary says so too');
is($plain->safe_psql('postgres', 'SELECT tls_audit.version()'), '1.2', 'the rest of the extension still works');
$plain->stop;

done_testing();
