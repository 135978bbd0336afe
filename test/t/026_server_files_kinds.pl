# A FIFO, a device, a directory, a socket, a file growing while it is read
# and a 50 MB file at ssl_cert_file, ssl_key_file, ssl_ca_file or
# ssl_crl_file: every reader of the extension answers at once with a finding
# or an error, never a wait, and the server still stops fast.
#
# Oracle: wall-clock time (each query well under its statement_timeout
# backstop; pg_ctl stop -m fast within 10 s) and the words of the answer
# (the pre-flight and run_checks() name what the path is). The postmaster is
# never reloaded while such a file is in place: it would open the file itself
# (PostgreSQL's own behaviour, not the extension's).
use strict;
use warnings;

use File::Copy qw(copy);
use FindBin;
use IO::Socket::UNIX;
use POSIX ();
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use TlsAuditTest;

# pg_ctl gives up after this (the default is 60 s or more); the test asserts 10 s.
$ENV{PGCTLTIMEOUT} = 30;

my $interval = 1;
my $node = new_tls_node('kinds', cert => 'server-chain.crt', key => 'server.key', ca => 'ca-bundle.crt',
	conf => "tls_audit.auto_reload = off\ntls_audit.auto_reload_interval = ${interval}s");
my $pgdata = $node->data_dir;
copy(cert_path('intermediate.crl'), "$pgdata/root.crl") or die "copy crl: $!";
chmod 0644, "$pgdata/root.crl";
$node->append_conf('postgresql.conf', "ssl_crl_file = 'root.crl'\n");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
is($node->safe_psql('postgres', 'SELECT tls_audit.reload_would_succeed()'), 't', 'the good files load');

my %setting_file = (
	ssl_cert_file => 'server.crt',
	ssl_key_file => 'server.key',
	ssl_ca_file => 'root.crt',
	ssl_crl_file => 'root.crl');
my %stage_of = (ssl_cert_file => 'certificate', ssl_key_file => 'key', ssl_ca_file => 'ca', ssl_crl_file => 'crl');
my %good = (
	'server.crt' => ['server-chain.crt', 0644],
	'server.key' => ['server.key', 0600],
	'root.crt' => ['ca-bundle.crt', 0644],
	'root.crl' => ['intermediate.crl', 0644]);

# Kept aside while an odd file stands at the path.
sub move_aside { my $f = shift; rename("$pgdata/$f", "$pgdata/$f.good") or die "aside $f: $!"; }

sub put_back
{
	my $f = shift;
	my $p = "$pgdata/$f";
	if (-d $p && !-l $p) { rmdir $p or die "rmdir $p: $!"; }
	elsif (-e $p || -l $p) { unlink $p or die "unlink $p: $!"; }
	rename("$p.good", $p) or die "put back $f: $!";
}

my $grower;    # pid of the process appending to a growing file

# The odd file of each kind at $path.
my %make = (
	fifo => sub { my $p = shift; system('mkfifo', $p) == 0 or die "mkfifo: $?"; },
	dev_zero => sub { symlink('/dev/zero', shift) or die "symlink: $!"; },
	directory => sub { mkdir(shift) or die "mkdir: $!"; },
	socket => sub {
		my $p = shift;
		# The socket file stays after the listener is closed: open() still fails on it.
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $p, Listen => 1) or die "socket: $!";
		close $s;
	},
	growing => sub {
		my $p = shift;
		open my $fh, '>', $p or die "$p: $!";
		close $fh;
		chmod 0600, $p;
		$grower = fork // die "fork: $!";
		if ($grower == 0)
		{
			# The child must not run the test's END blocks (they stop the node)
			# nor the test library's signal handler: plain TERM, then _exit.
			$SIG{TERM} = 'DEFAULT';
			# At most a minute, 4 kB every 10 ms: grows past the 1 MB cap in seconds.
			my $until = time + 60;
			while (time < $until)
			{
				open my $out, '>>', $p or POSIX::_exit(0);
				print $out ('x' x 4095) . "\n";
				close $out;
				sleep 0.01;
			}
			POSIX::_exit(0);
		}
		sleep 0.2;
	},
	big => sub {
		my $p = shift;
		open my $fh, '>', $p or die "$p: $!";
		truncate($fh, 50 * 1024 * 1024) or die "truncate: $!";
		close $fh;
		chmod 0600, $p;
	});

# What the pre-flight and run_checks() must say about the path.
my %words = (
	fifo => qr/is a FIFO: the next reload or restart will hang or fail/,
	dev_zero => qr/is a character device: the next reload or restart will hang or fail/,
	directory => qr/is a directory: the next reload or restart will hang or fail/,
	socket => qr/is a socket: the next reload or restart will hang or fail/,
	growing => qr/too large|grew while being read|no start line|not a regular|could not|bad|PEM|ASN1|no certificate/i,
	big => qr/too large/);

# Runs $sql with a 5 s statement_timeout backstop; returns (stdout, stderr, seconds).
sub timed
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	$node->psql('postgres', "SET statement_timeout = '5s'; $sql",
		stdout => \$out, stderr => \$err, timeout => 30);
	return ($out, $err, time - $t0);
}

# Each reader answers quickly, and never by running into the backstop.
sub readers_answer
{
	my ($label, $setting, $kind) = @_;
	my $stage = $stage_of{$setting};
	for my $sql (
		'SELECT count(*) FROM tls_audit.server_tls()',
		'SELECT count(*) FROM tls_audit.server_certificates()',
		'SELECT count(*) FROM tls_audit.ca_certificates()',
		'SELECT count(*) FROM tls_audit.reload_preflight()',
		'SELECT count(*) FROM tls_audit.run_checks()',
		'SELECT count(*) FROM tls_audit.metrics')
	{
		my ($out, $err, $took) = timed($sql);
		ok($took < 5 && $err !~ /statement timeout/, "$label: $sql answers in ${\ sprintf('%.2f', $took)} s")
		  or diag("stderr: $err");
	}
	my ($critical, $merr) = timed(
		q{SELECT value FROM tls_audit.metrics WHERE metric = 'tls_audit_findings' AND labels->>'severity' = 'critical'});
	ok($critical =~ /^\d+$/ && $critical >= 1, "$label: metrics count the critical finding ($critical)") or diag($merr);
	my ($pf) = timed(
		"SELECT coalesce(ok::text, 'null') || '|' || coalesce(error, '') FROM tls_audit.reload_preflight() WHERE stage = '$stage'");
	like($pf, qr/^false\|/, "$label: the pre-flight's $stage stage fails");
	like($pf, $words{$kind}, "$label: and says what the path is") or diag($pf);
	my ($checks) = timed(
		q{SELECT severity || '|' || message FROM tls_audit.run_checks() WHERE "check" = 'server_tls_reload_would_fail'});
	like($checks, qr/^critical\|/m, "$label: run_checks() has a critical server_tls_reload_would_fail");
	like($checks, $words{$kind}, "$label: naming the file's problem") or diag($checks);
	if ($kind ne 'growing' && $kind ne 'big')
	{
		my ($errs) = timed('SELECT array_to_string(file_errors, E\'\n\') FROM tls_audit.server_tls()');
		like($errs, qr/\Q$setting\E .* is (a FIFO|a character device|a directory|a socket), not a regular file/,
			"$label: server_tls() file_errors names the kind") or diag($errs);
	}
}

sub worker_status
{
	my ($s) = timed(q{SELECT state || '|' || files_watched || '|' || coalesce(extract(epoch FROM last_check_at)::text, '')
		FROM tls_audit.auto_reload_status});
	return $s;
}

# The worker's rounds go on (last_check_at moves) within a few intervals.
sub worker_goes_on
{
	my ($label) = @_;
	my (undef, undef, $first) = split /\|/, worker_status();
	my $t0 = time;
	my $now = worker_status();
	while (time - $t0 < 4 * $interval + 3)
	{
		$now = worker_status();
		my (undef, undef, $at) = split /\|/, $now;
		return pass("$label: the worker goes on ($now)") if ($at // '') ne '' && ($first // '') ne '' && $at > $first;
		sleep 0.2;
	}
	fail("$label: the worker goes on");
	diag("status: $now");
}

sub stop_fast
{
	my ($label) = @_;
	my $t0 = time;
	$node->stop('fast');
	my $took = time - $t0;
	ok($took < 10, "$label: pg_ctl stop -m fast takes " . sprintf('%.2f', $took) . ' s (< 10)');
}

sub set_auto_reload
{
	my ($mode) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET tls_audit.auto_reload = '$mode'");
	# Only with regular files in place: the postmaster reads them on a reload.
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	my $t0 = time;
	while (time - $t0 < 10)
	{
		last if worker_status() =~ /^\Q@{[ $mode eq 'off' ? 'off' : 'watching' ]}\E\|/;
		sleep 0.2;
	}
}

my @cases = (
	[fifo => qw(ssl_cert_file ssl_key_file ssl_ca_file ssl_crl_file)],
	[dev_zero => qw(ssl_cert_file ssl_key_file ssl_ca_file ssl_crl_file)],
	[directory => qw(ssl_cert_file ssl_ca_file)],
	[socket => qw(ssl_cert_file ssl_key_file)],
	[growing => qw(ssl_cert_file ssl_ca_file)],
	[big => qw(ssl_cert_file ssl_crl_file)]);

my $t_all = time;
for my $case (@cases)
{
	my ($kind, @settings) = @$case;
	for my $setting (@settings)
	{
		my $label = "$kind at $setting";
		my $file = $setting_file{$setting};
		my $path = "$pgdata/$file";
		$node->start unless $node->{_pid};

		# auto_reload = off: the worker reads nothing and keeps going.
		set_auto_reload('off');
		move_aside($file);
		$make{$kind}->($path);
		readers_answer("$label (auto_reload off)", $setting, $kind);
		like(worker_status(), qr/^off\|0\|/, "$label: with auto_reload off the worker watches no file");
		worker_goes_on("$label (auto_reload off)");

		# auto_reload = on (turned on with the good file, then the odd file comes).
		kill 'TERM', $grower if $grower;
		waitpid($grower, 0) if $grower;
		$grower = undef;
		put_back($file);
		set_auto_reload('on');
		move_aside($file);
		$make{$kind}->($path);
		worker_goes_on("$label (auto_reload on)");
		my ($out, $err, $took) = timed('SELECT count(*) FROM tls_audit.run_checks()');
		ok($took < 5, "$label (auto_reload on): run_checks() answers");
		like(worker_status(), qr/^(watching|settling|refused|error)\|[1-9]/,
			"$label (auto_reload on): the worker watches the files");

		stop_fast($label);
		kill 'TERM', $grower if $grower;
		waitpid($grower, 0) if $grower;
		$grower = undef;
		put_back($file);
		# Back to off for the next case (read at start).
		$node->append_conf('postgresql.auto.conf', "tls_audit.auto_reload = 'off'\n");
	}
}
note(sprintf('all cases took %.1f s', time - $t_all));

done_testing();
