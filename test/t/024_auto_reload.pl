# tls_audit.auto_reload: the background worker reloads renewed TLS files that
# load, and only those, on a real cluster (interval 1 s, bounded waits).
#
# Oracle: the server itself. A reload is seen in the server's reload history
# (kept by the postmaster) and in the certificate a real TLS handshake is
# served; a refusal by the absence of both, the worker's WARNING, its status
# row and the finding.
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use TlsAuditTest;

my $interval = 1;
my $node = new_tls_node('auto', cert => 'server-chain.crt', key => 'server.key', ca => 'root.crt',
	conf => "tls_audit.auto_reload = on\ntls_audit.auto_reload_interval = ${interval}s");
my $pgdata = $node->data_dir;

sub install_file
{
	my ($from, $to, $mode) = @_;
	my $tmp = "$pgdata/$to.tmp";
	copy(cert_path($from), $tmp) or die "copy $from: $!";
	chmod($mode // 0600, $tmp);
	rename($tmp, "$pgdata/$to") or die "rename: $!";
}

sub sha256_of
{
	my $fp = openssl_field(shift, 'fingerprint', '-sha256');
	$fp =~ s/://g;
	return lc $fp;
}

sub served
{
	# A new TLS connection is served what the postmaster loaded last.
	tls_query($node, 'SELECT 1');
	return $node->safe_psql('postgres', 'SELECT served_sha256 FROM tls_audit.server_tls()');
}

sub reloads
{
	return $node->safe_psql('postgres', q{SELECT count(*) FROM tls_audit.reload_history WHERE kind = 'reload'});
}

sub status
{
	return $node->safe_psql('postgres', 'SELECT state FROM tls_audit.auto_reload_status');
}

# Wait (bounded) until the worker reloaded; returns the seconds it took.
sub wait_for_reload
{
	my ($before) = @_;
	my $t0 = time;
	while (time - $t0 < 10 * $interval + 5)
	{
		return time - $t0 if reloads() > $before;
		sleep 0.2;
	}
	return undef;
}

sub wait_for_state
{
	my ($want) = @_;
	my $t0 = time;
	while (time - $t0 < 10 * $interval + 5)
	{
		my $s = status();
		return $s if $s eq $want;
		sleep 0.2;
	}
	return status();
}

# --- the worker runs and watches ----------------------------------------------------

is(wait_for_state('watching'), 'watching', 'the worker watches the files');
is($node->safe_psql('postgres', 'SELECT mode, running, files_watched FROM tls_audit.auto_reload_status'),
	'on|t|3', 'status: mode on, running, three files (cert, key, CA)');
is(served(), sha256_of('server.crt'), 'the original certificate is served');

# --- a renewed valid pair is reloaded ----------------------------------------------

my $before = reloads();
my $offset = -s $node->logfile;
install_file('server-renewed-chain.crt', 'server.crt', 0644);
my $took = wait_for_reload($before);
ok(defined $took, 'renewed pair: the worker reloaded the server');
ok(defined $took && $took <= 2 * $interval + 2, 'within two intervals (and polling slack)')
  or diag("took $took s");
is(served(), sha256_of('server-renewed.crt'), 'the renewed certificate is served');
is($node->safe_psql('postgres',
		q{SELECT outcome || '|' || served_sha256 FROM tls_audit.reload_history ORDER BY seq DESC LIMIT 1}),
	'loaded|' . sha256_of('server-renewed.crt'), 'history shows the reload and the served leaf');
like($node->safe_psql('postgres', 'SELECT last_action FROM tls_audit.auto_reload_status'),
	qr/^reload: .*pre-flight passed/, 'status: last action reload, and why');
like(slurp_file($node->logfile, $offset), qr/tls_audit\.auto_reload: the TLS files changed and the reload pre-flight passed: reloading/,
	'the worker logged what it did and why');
is(wait_for_state('watching'), 'watching', 'watching again');

# --- files that must not be reloaded -------------------------------------------------

# Each: change the files, wait three intervals: no reload, state refused with
# the reason, one WARNING, the served certificate unchanged, a finding.
sub expect_refused
{
	my ($what, $change, $reason) = @_;
	my $served = served();
	my $n = reloads();
	my $log_offset = -s $node->logfile;
	$change->();
	is(wait_for_state('refused'), 'refused', "$what: refused");
	sleep 3 * $interval;    # more rounds: no second WARNING, no reload
	is(reloads(), $n, "$what: no reload");
	is(served(), $served, "$what: served certificate unchanged");
	like($node->safe_psql('postgres', 'SELECT last_error FROM tls_audit.auto_reload_status'), $reason,
		"$what: the status says why");
	my @warnings = (slurp_file($node->logfile, $log_offset) =~ /WARNING:  tls_audit\.auto_reload: [^\n]*/g);
	is(scalar(@warnings), 1, "$what: one WARNING for this state") or diag(join("\n", @warnings));
	like($warnings[0] // '', $reason, "$what: the WARNING says why");
	like($node->safe_psql('postgres',
			q{SELECT severity || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'server_tls_auto_reload'}),
		qr/^warning\|.*not reloaded/, "$what: server_tls_auto_reload finding");
}

sub restore_renewed
{
	my $n = reloads();
	install_file('server-renewed-chain.crt', 'server.crt', 0644);
	install_file('server.key', 'server.key', 0600);
	is(wait_for_state('watching'), 'watching', 'restored: watching');
}

expect_refused('a key that does not match', sub { install_file('server-newkey.key', 'server.key', 0600) },
	qr/key values mismatch/);
restore_renewed();

expect_refused('a world-readable key', sub { chmod 0644, "$pgdata/server.key" }, qr/group or world access/);
chmod 0600, "$pgdata/server.key";
is(wait_for_state('watching'), 'watching', 'key private again: watching');

expect_refused('a chain missing its intermediate', sub { install_file('server.crt', 'server.crt', 0644) },
	qr/chain does not verify/);
restore_renewed();

# RSA-1024 at Debian's default security level (2): OpenSSL refuses the
# certificate (022_reload_preflight.pl shows the server does too).
expect_refused('an RSA-1024 key', sub {
	install_file('rsa1024.key', 'server.key', 0600);
	install_file('rsa1024-chain.crt', 'server.crt', 0644);
}, qr/key too small/);
restore_renewed();

# A half-written file: not loaded while it is incomplete; loaded once whole.
my $full = slurp_file(cert_path('server-chain.crt'));
{
	my $n = reloads();
	open my $fh, '>', "$pgdata/server.crt" or die;
	print $fh substr($full, 0, int(length($full) / 2));
	close $fh;
	is(wait_for_state('refused'), 'refused', 'half-written certificate: refused');
	is(reloads(), $n, 'half-written certificate: not reloaded');
	open $fh, '>', "$pgdata/server.crt" or die;
	print $fh $full;
	close $fh;
	ok(defined wait_for_reload($n), 'completed: reloaded');
	is(served(), sha256_of('server.crt'), 'completed: the whole certificate is served');
}

# --- other settings pending: wait, unless forced ----------------------------------------

{
	$node->safe_psql('postgres', q{ALTER SYSTEM SET work_mem = '7MB'});
	my $n = reloads();
	my $offset2 = -s $node->logfile;
	install_file('server-renewed-chain.crt', 'server.crt', 0644);
	is(wait_for_state('waiting'), 'waiting', 'pending work_mem: the worker waits');
	sleep 2 * $interval;
	is(reloads(), $n, 'pending work_mem: no reload');
	is($node->safe_psql('postgres', 'SHOW work_mem'), '4MB', 'work_mem not applied behind the operator\'s back');
	like(slurp_file($node->logfile, $offset2), qr/LOG:  tls_audit\.auto_reload: .*other settings are waiting.*work_mem/,
		'the worker logged that it waited and why');
	like($node->safe_psql('postgres',
			q{SELECT severity FROM tls_audit.run_checks() WHERE "check" = 'server_tls_auto_reload'}),
		qr/^info$/, 'the finding says it waits');

	# force: set with the pending setting applied by the same manual reload,
	# then a new pending one: the worker reloads anyway.
	$node->safe_psql('postgres', q{ALTER SYSTEM SET tls_audit.auto_reload = 'force'});
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', q{SELECT mode = 'force' FROM tls_audit.auto_reload_status}) or die;
	$node->safe_psql('postgres', q{ALTER SYSTEM SET work_mem = '9MB'});
	$n = reloads();
	install_file('server-chain.crt', 'server.crt', 0644);
	ok(defined wait_for_reload($n), 'force: reloaded despite the pending setting');
	is(served(), sha256_of('server.crt'), 'force: the new certificate is served');
	$node->safe_psql('postgres', q{ALTER SYSTEM RESET work_mem; ALTER SYSTEM SET tls_audit.auto_reload = 'on'});
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', q{SELECT mode = 'on' FROM tls_audit.auto_reload_status}) or die;
}

# --- a Kubernetes secret volume: the ..data symlink is swapped ---------------------------

{
	my $vol = "$pgdata/secret";
	mkdir $vol;
	mkdir "$vol/..v1";
	copy(cert_path('server-chain.crt'), "$vol/..v1/tls.crt") or die;
	copy(cert_path('server.key'), "$vol/..v1/tls.key") or die;
	chmod 0600, "$vol/..v1/tls.key";
	symlink('..v1', "$vol/..data") or die;
	symlink('..data/tls.crt', "$vol/tls.crt") or die;
	symlink('..data/tls.key', "$vol/tls.key") or die;
	# Relative to the data directory (the server's working directory): the
	# test's data_dir may itself be relative (18's test framework).
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET ssl_cert_file = 'secret/tls.crt'; ALTER SYSTEM SET ssl_key_file = 'secret/tls.key'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	$node->poll_query_until('postgres', "SELECT setting = 'secret/tls.crt' FROM pg_settings WHERE name = 'ssl_cert_file'")
	  or die;
	is(wait_for_state('watching'), 'watching', 'secret volume: watching');
	is(served(), sha256_of('server.crt'), 'secret volume: served');

	mkdir "$vol/..v2";
	copy(cert_path('server-renewed-chain.crt'), "$vol/..v2/tls.crt") or die;
	copy(cert_path('server.key'), "$vol/..v2/tls.key") or die;
	chmod 0600, "$vol/..v2/tls.key";
	my $n = reloads();
	symlink('..v2', "$vol/..data_tmp") or die;
	rename("$vol/..data_tmp", "$vol/..data") or die "rename: $!";    # atomic, as kubelet does
	ok(defined wait_for_reload($n), 'the ..data swap is seen and reloaded');
	is(served(), sha256_of('server-renewed.crt'), 'the swapped-in certificate is served');
}

# --- the worker survives its own end -------------------------------------------------------

{
	my $pid = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_tls_audit auto reload'});
	ok($pid > 0, 'the worker shows in pg_stat_activity');
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	ok($node->poll_query_until('postgres',
			qq{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_tls_audit auto reload' AND pid <> $pid}),
		'the worker is started again after the restart delay');
	is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server stayed up');
}

# --- privileges ---------------------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN; CREATE ROLE watcher LOGIN IN ROLE pg_monitor');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM tls_audit.auto_reload_status', extra_params => ['-U', 'nobody']);
like($err, qr/permission denied/, 'PUBLIC may not read auto_reload_status');
($rc, $out, $err) = $node->psql('postgres', 'SELECT mode FROM tls_audit.auto_reload_status', extra_params => ['-U', 'watcher']);
is($out, 'on', 'pg_monitor may');

# --- bad settings fail closed ---------------------------------------------------------------

{
	my $offset3 = -s $node->logfile;
	# postgresql.auto.conf is read last: its line is the one that counts.
	$node->append_conf('postgresql.auto.conf', "tls_audit.auto_reload = sometimes");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	sleep 1;
	is($node->safe_psql('postgres', 'SHOW tls_audit.auto_reload'), 'on', 'an invalid value keeps the previous one');
	like(slurp_file($node->logfile, $offset3), qr/invalid value for parameter "tls_audit.auto_reload"/, 'and is logged');
}

done_testing();
