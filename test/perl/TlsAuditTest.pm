# Shared helpers for pg_tls_audit's TAP tests.
#
# Builds on PostgreSQL::Test::Cluster: a TLS-enabled node with the library
# preloaded and the extension created, certificates generated for this test
# run, and libpq connection strings for a chosen protocol range and client
# certificate. The server accepts TLSv1 through TLSv1.3 so that old clients
# can be simulated; clients below TLSv1.2 get an OpenSSL configuration that
# lowers their own security level (Debian's default refuses them).
package TlsAuditTest;

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Spec;
use IO::Socket::INET;
use IPC::Run;
use Time::HiRes ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(certs_dir cert_path client_key new_tls_node tls_connstr psql_connstr
  legacy_openssl_conf tls_psql tls_query openssl_field
  run_tls_check silent_listener pgbouncer_path bouncer_dir start_bouncer stop_bouncers);

my $certs;

# Directory of generated certificates: $TLS_AUDIT_TEST_CERTS, or made once
# per test file with test/certs/make-certs.sh.
sub certs_dir
{
	return $certs if defined $certs;
	if ($ENV{TLS_AUDIT_TEST_CERTS} && -f "$ENV{TLS_AUDIT_TEST_CERTS}/server.crt")
	{
		$certs = $ENV{TLS_AUDIT_TEST_CERTS};
		return $certs;
	}
	my $script = dirname(__FILE__) . '/../certs/make-certs.sh';
	$certs = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('certs'));
	system_or_bail('bash', $script, $certs);
	return $certs;
}

sub cert_path { return certs_dir() . '/' . shift; }

# libpq refuses client keys readable by others: hand out a private copy.
# Its path is absolute: tempdir() may give a relative one (from PostgreSQL 17
# on it is under $TESTDATADIR, else ./tmp_check, where 15 used $TESTDIR), and
# a path handed to the server (a connection string in a setting, read by a
# backend whose working directory is the data directory) must name the same
# file there.
sub client_key
{
	my ($name) = @_;
	my $dir = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('keys'));
	my $copy = "$dir/$name";
	copy(cert_path($name), $copy) or die "copy $name: $!";
	chmod 0600, $copy;
	return $copy;
}

# The OpenSSL configuration for clients that must speak TLSv1 or TLSv1.1
# (written by make-certs.sh next to the certificates).
sub legacy_openssl_conf
{
	return cert_path('legacy-openssl.cnf');
}

# A started TLS node named $name with the extension created.
#   cert => 'server-chain.crt', key => 'server.key', ca => 'ca-bundle.crt',
#   preload => 1, conf => "extra postgresql.conf lines",
#   hba => "extra pg_hba.conf lines (put before the defaults)",
#   allows_streaming => 0|1, server_openssl_conf => 1 (lower the server's level)
sub new_tls_node
{
	my ($name, %opt) = @_;
	my $cert = $opt{cert} // 'server-chain.crt';
	my $key = $opt{key} // 'server.key';
	my $ca = exists $opt{ca} ? $opt{ca} : 'ca-bundle.crt';
	my $preload = $opt{preload} // 1;

	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opt{allows_streaming} // 0);
	my $pgdata = $node->data_dir;
	copy(cert_path($cert), "$pgdata/server.crt") or die "copy $cert: $!";
	copy(cert_path($key), "$pgdata/server.key") or die "copy $key: $!";
	chmod 0600, "$pgdata/server.key";
	my $ca_line = '';
	if (defined $ca)
	{
		copy(cert_path($ca), "$pgdata/root.crt") or die "copy $ca: $!";
		$ca_line = "ssl_ca_file = 'root.crt'";
	}
	my $preload_line = $preload ? "shared_preload_libraries = 'pg_tls_audit'" : '';
	$node->append_conf(
		'postgresql.conf', <<"CONF");
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
$ca_line
ssl_min_protocol_version = 'TLSv1'
ssl_ciphers = 'ALL:\@SECLEVEL=0'
$preload_line
@{[ $opt{conf} // '' ]}
CONF

	# Our lines first: pg_hba uses the first match.
	my $hba = "$pgdata/pg_hba.conf";
	my $old = PostgreSQL::Test::Utils::slurp_file($hba);
	open my $fh, '>', $hba or die "$hba: $!";
	print $fh ($opt{hba} // '') . "\n"
	  . "local all all trust\n"
	  . "hostssl all all 127.0.0.1/32 trust\n"
	  . "hostnossl all all 127.0.0.1/32 trust\n"
	  . ($opt{allows_streaming} ? "hostssl replication all 127.0.0.1/32 trust\n" : '')
	  . $old;
	close $fh;

	if ($opt{server_openssl_conf})
	{
		# Let the server load weak certificates (RSA-1024, SHA-1).
		local $ENV{OPENSSL_CONF} = legacy_openssl_conf();
		$node->start;
	}
	else
	{
		$node->start;
	}
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_tls_audit');
	return $node;
}

# A libpq connection string for a TLS connection to $node.
#   min => 'TLSv1', max => 'TLSv1.3', cert => 'client.crt', key => 'client.key',
#   host => '127.0.0.1' (use 'localhost' to send SNI), sslmode => 'require',
#   user => ..., dbname => 'postgres', extra => '...'
sub tls_connstr
{
	my ($node, %opt) = @_;
	my $host = $opt{host} // '127.0.0.1';
	my $s = "host=$host port=" . $node->port
	  . " dbname=" . ($opt{dbname} // 'postgres')
	  . " sslmode=" . ($opt{sslmode} // 'require');
	$s .= " user=$opt{user}" if $opt{user};
	$s .= " ssl_min_protocol_version=$opt{min}" if $opt{min};
	$s .= " ssl_max_protocol_version=$opt{max}" if $opt{max};
	$s .= " sslcert=" . cert_path($opt{cert}) if $opt{cert};
	$s .= " sslkey=" . client_key($opt{key}) if $opt{key};
	$s .= " application_name=$opt{application_name}" if $opt{application_name};
	$s .= " $opt{extra}" if $opt{extra};
	return $s;
}

# psql -XAtq with ON_ERROR_STOP, as PostgreSQL::Test::Cluster::psql runs it,
# but with the SQL in a file and nothing on stdin: a connection the server
# refuses makes psql exit before it reads stdin, and then writing the SQL to
# its stdin can fail the test with a broken pipe. Returns (exit code, stdout,
# stderr), trailing newlines removed.
my $psql_dir;

sub psql_connstr
{
	my ($connstr, $sql) = @_;
	$psql_dir //= PostgreSQL::Test::Utils::tempdir();
	my $file = "$psql_dir/query.sql";
	open my $fh, '>', $file or die "$file: $!";
	print $fh $sql;
	close $fh;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $connstr, '-f', $file ],
		'<', '/dev/null', '>', \$stdout, '2>', \$stderr,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	my $rc = $? >> 8;
	$stdout =~ s/\r(?=\n)//g;
	chomp $stdout;
	chomp $stderr;
	return ($rc, $stdout, $stderr);
}

# Run $sql over a TLS connection; returns (exit code, stdout, stderr).
# Clients below TLSv1.2 run with the legacy OpenSSL configuration.
sub tls_psql
{
	my ($node, $sql, %opt) = @_;
	my $connstr = tls_connstr($node, %opt);
	my $legacy = ($opt{min} // '') =~ /^TLSv1(\.1)?$/ || ($opt{max} // '') =~ /^TLSv1(\.1)?$/;
	local $ENV{OPENSSL_CONF} = $legacy ? legacy_openssl_conf() : $ENV{OPENSSL_CONF};
	return psql_connstr($connstr, $sql);
}

# Like tls_psql, but fails the test on error and returns stdout.
sub tls_query
{
	my ($node, $sql, %opt) = @_;
	my ($rc, $stdout, $stderr) = tls_psql($node, $sql, %opt);
	is($rc, 0, "query over TLS succeeded: $sql") or diag($stderr);
	return $stdout;
}

# `openssl x509 -noout -<field>` of a generated certificate, without the "field=" prefix.
sub openssl_field
{
	my ($cert, $field, @extra) = @_;
	my $out = `openssl x509 -in @{[cert_path($cert)]} -noout -$field @extra`;
	chomp $out;
	$out =~ s/^[^=]*=//;
	return $out;
}

# Run pg_tls_check (from PATH) with @args, stdin empty, bounded by two
# minutes; returns (exit code, stdout, stderr, wall time in ms).
sub run_tls_check
{
	my @args = @_;
	my ($stdout, $stderr) = ('', '');
	my $t0 = Time::HiRes::time();
	IPC::Run::run([ 'pg_tls_check', @args ], '<', \undef, '>', \$stdout, '2>', \$stderr,
		IPC::Run::timeout(120));
	my $ms = int((Time::HiRes::time() - $t0) * 1000);
	return ($? >> 8, $stdout, $stderr, $ms);
}

# A loopback listener that never accepts: the kernel completes the TCP
# handshake into the backlog, nobody ever answers. Keep the returned socket
# alive while it is needed; its port is ->sockport.
sub silent_listener
{
	my $s = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1', LocalPort => 0,
		Proto => 'tcp', ReuseAddr => 1)
	  or die "listen: $!";
	return $s;
}

# pgbouncer (Debian's package; test/deps.sh installs it), or '' when it is
# not installed: the tests that need it skip then.
sub pgbouncer_path
{
	my $path = `sh -c 'command -v pgbouncer'`;
	chomp $path;
	return $path;
}

# The pgbouncers a test started, stopped at its end (stop_bouncers(), or the
# END block below when the test dies first).
my ($bouncer_dir, @bouncers);

# The directory of this test file's pgbouncers: their configuration, log and
# pid files ("NAME.ini", "NAME.log", "NAME.pid"), the certificate they serve
# to clients (pooler.crt: p384-chain.crt, with its key) and their users file,
# which trusts the operating-system user (the test clusters' superuser).
sub bouncer_dir
{
	return $bouncer_dir if defined $bouncer_dir;
	my $dir = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir('bouncers'));
	copy(cert_path('p384-chain.crt'), "$dir/pooler.crt") or die "copy: $!";
	copy(cert_path('p384.key'), "$dir/pooler.key") or die "copy: $!";
	chmod 0600, "$dir/pooler.key";
	my $os_user = getpwuid($<);
	open my $users, '>', "$dir/users.txt" or die "$dir/users.txt: $!";
	print $users qq("$os_user" ""\n);
	close $users;
	$bouncer_dir = $dir;
	return $dir;
}

# Start a pgbouncer named $name in front of $node's database postgres,
# listening on 127.0.0.1 only (no unix socket), trust authentication, serving
# pooler.crt to clients, with these [pgbouncer] lines besides the common ones
# ($ini: its sslmodes, CA files, protocols). admin => 1 makes the
# operating-system user an admin of its console (admin_users). Waits up to 10
# seconds for its port (dies with pgbouncer's stderr otherwise); returns
# (port, IPC::Run harness).
sub start_bouncer
{
	my ($node, $name, $ini, %opt) = @_;
	my $dir = bouncer_dir();
	my $os_user = getpwuid($<);
	my $admin = $opt{admin} ? "admin_users = $os_user\n" : '';
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	open my $fh, '>', "$dir/$name.ini" or die "$dir/$name.ini: $!";
	print $fh <<"INI";
[databases]
postgres = host=127.0.0.1 port=@{[ $node->port ]} dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
${admin}logfile = $dir/$name.log
pidfile = $dir/$name.pid
client_tls_cert_file = $dir/pooler.crt
client_tls_key_file = $dir/pooler.key
$ini
INI
	close $fh;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ pgbouncer_path(), "$dir/$name.ini" ], '<', \undef, '>', \$out, '2>', \$err);
	push @bouncers, $h;
	for my $try (1 .. 100)
	{
		return ($port, $h) if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
		Time::HiRes::sleep(0.1);
	}
	die "pgbouncer $name did not start: $err";
}

# Stop every pgbouncer still running. pgbouncer 1.23+ waits on SIGTERM until
# its clients are gone: a short grace before SIGKILL, so that a failing test
# does not wait for them.
sub stop_bouncers
{
	$_->kill_kill(grace => 2) for grep { $_->pumpable } @bouncers;
	@bouncers = ();
	return;
}

END { local $?; stop_bouncers(); }

1;
