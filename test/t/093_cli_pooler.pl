# pg_tls_check in front of Debian's pgbouncer (started here on 127.0.0.1 with
# its own certificate, in front of a test cluster): pgbouncer's ErrorResponse
# (severity, SQLSTATE and message only) marks it as a pooler, the report says
# only the client -> pooler leg was checked and names client_tls_sslmode, not
# pg_hba.conf; the cluster itself is not taken for a pooler.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

plan skip_all => 'pgbouncer is not installed (test/deps.sh installs it)' unless pgbouncer_path();

my $node = new_tls_node('cli_pooler');
# The cluster's superuser is the operating-system user running the test.
my $os_user = getpwuid($<);

sub check_json
{
	my ($rc, $out, $err) = run_tls_check('--timeout', '10000', '--format', 'json', @_);
	my $doc = eval { decode_json($out) } or diag("no JSON: $out $err");
	return ($rc, $doc);
}

sub finding
{
	my ($t, $name) = @_;
	return (grep { $_->{code} eq $name } @{ $t->{findings} })[0];
}

# Two pgbouncers, client_tls_sslmode require and prefer (require towards the cluster).
my ($require) = start_bouncer($node, 'require', "client_tls_sslmode = require\nserver_tls_sslmode = require");
my ($prefer) = start_bouncer($node, 'prefer', "client_tls_sslmode = prefer\nserver_tls_sslmode = require");

# The pooler works: a client reaches the cluster through it over TLS.
my ($rc, $stdout, $stderr) = ('', '', '');
IPC::Run::run([ 'psql', '-XAtc', 'SELECT 1',
	"host=127.0.0.1 port=$require dbname=postgres user=$os_user sslmode=require" ],
	'<', \undef, '>', \$stdout, '2>', \$stderr, IPC::Run::timeout(60));
is($stdout, "1\n", 'a client reaches the cluster through pgbouncer over TLS') or diag $stderr;

# client_tls_sslmode = require: pgbouncer's own 08P01 "SSL required".
my $doc;
($rc, $doc) = check_json('--plaintext', "127.0.0.1:$require");
my $t = $doc->{targets}[0];
is($t->{plaintext}{result}, 'refused', 'require: plaintext refused');
is($t->{plaintext}{sqlstate}, '08P01', "require: pgbouncer's SQLSTATE");
is($t->{plaintext}{message}, 'SSL required', "require: pgbouncer's message");
like($t->{plaintext}{pooler}, qr/pgbouncer.*client_tls_sslmode is require/, 'require: recognised as pgbouncer');
my $pooler = finding($t, 'pooler');
ok($pooler, 'require: a pooler finding');
like($pooler->{message} // '', qr/^pooler: only the client -> pooler leg was checked/, 'require: says which leg was checked');
my $refused = finding($t, 'plaintext_refused');
like($refused->{message} // '', qr/client_tls_sslmode/, 'require: the plaintext note names client_tls_sslmode');
unlike($refused->{message} // '', qr/pg_hba\.conf/, 'require: and not pg_hba.conf');
like($t->{certificates}[0]{subject} // '', qr/O=ec p384/, "the certificate checked is the pooler's own");
is($rc, 0, 'require: exit OK');

# client_tls_sslmode = prefer: plaintext reaches pgbouncer, which refuses the
# unknown user with its own ErrorResponse shape.
($rc, $doc) = check_json('--plaintext', "127.0.0.1:$prefer");
$t = $doc->{targets}[0];
is($t->{plaintext}{result}, 'refused', 'prefer, unknown user: refused');
isnt($t->{plaintext}{message}, 'SSL required', 'prefer: not the SSL refusal');
like($t->{plaintext}{pooler} // '', qr/shaped like pgbouncer/, "prefer: recognised by the ErrorResponse's shape");
ok(finding($t, 'pooler'), 'prefer: a pooler finding');
like(finding($t, 'plaintext_refused')->{message}, qr/client_tls_sslmode/, 'prefer: the note names client_tls_sslmode');

# Text output says it too.
($rc, $stdout, $stderr) = run_tls_check('--timeout', '10000', '--plaintext', "127.0.0.1:$require");
like($stdout, qr/plaintext +refused .*\(pooler: only the client -> pooler leg was checked\)/, 'text: the plaintext line');
like($stdout, qr/pooler: only the client -> pooler leg was checked; recognised by pgbouncer/, 'text: the finding');

# The cluster itself, refusing plaintext with PostgreSQL's own ErrorResponse,
# is no pooler and keeps the pg_hba.conf note.
$node->append_conf('pg_hba.conf', '');
my $hba = $node->data_dir . '/pg_hba.conf';
my $old = PostgreSQL::Test::Utils::slurp_file($hba);
open my $fh, '>', $hba or die "$hba: $!";
print $fh "hostnossl all all 127.0.0.1/32 reject\n$old";
close $fh;
$node->reload;
($rc, $doc) = check_json('--plaintext', '127.0.0.1:' . $node->port);
$t = $doc->{targets}[0];
is($t->{plaintext}{result}, 'refused', 'cluster: plaintext refused');
is($t->{plaintext}{sqlstate}, '28000', "cluster: PostgreSQL's SQLSTATE");
is($t->{plaintext}{pooler}, undef, 'cluster: not a pooler');
is(finding($t, 'pooler'), undef, 'cluster: no pooler finding');
like(finding($t, 'plaintext_refused')->{message}, qr/pg_hba\.conf decides/, 'cluster: the note names pg_hba.conf');

stop_bouncers();
$node->stop('fast');
done_testing();
