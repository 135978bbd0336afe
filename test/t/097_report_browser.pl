# tls_audit.report() in a real browser: headless Chromium loads the HTML
# report of a node with a TLS session whose application_name and client
# certificate subject carry markup. The serialized DOM holds the findings and
# the values, as text (no element came from the data); a 1280x2000 screenshot
# is not blank and is kept in the test's output directory; the page logs
# nothing to the console and asks for nothing over the network. The same
# checks run on a deliberately bad page first, to prove they can fail.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use File::Path qw(make_path);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TlsAuditTest;

my $chromium = `command -v chromium 2>/dev/null` || `command -v chromium-browser 2>/dev/null`;
chomp $chromium;
plan skip_all => 'chromium is not installed (test/deps.sh installs it)' unless $chromium;

my $checker = "$FindBin::RealBin/../browser_check.py";
my $out_dir = $PostgreSQL::Test::Utils::tmp_check . '/report_browser';
make_path($out_dir);

sub browse
{
	my ($html_file) = @_;
	my $json = `python3 $checker $chromium $html_file $out_dir 2>&1`;
	my $r = eval { decode_json($json) };
	BAIL_OUT("browser_check.py failed: $json") unless $r;
	return $r;
}

# Chromium must start at all (as root only with --no-sandbox, which the
# checker passes); if it cannot, skip with the reason.
{
	my $probe = "$out_dir/probe.html";
	open my $fh, '>', $probe or die "$probe: $!";
	print $fh "<!DOCTYPE html><html><body><p>probe</p></body></html>\n";
	close $fh;
	my $r = browse($probe);
	plan skip_all => "chromium cannot run here (exit $r->{dom_exit})"
	  unless $r->{dom_exit} == 0 && -s $r->{dom} && PostgreSQL::Test::Utils::slurp_file($r->{dom}) =~ /probe/;
}

# --- the checks can fail: a page with a script, a remote image, an error -----
{
	my $bad = "$out_dir/bad.html";
	open my $fh, '>', $bad or die "$bad: $!";
	print $fh qq{<!DOCTYPE html><html><body><p>bad</p><img src="http://203.0.113.9/x.png">}
	  . qq{<script>undefinedFunction();</script></body></html>\n};
	close $fh;
	my $r = browse($bad);
	ok(scalar @{ $r->{page_requests} } > 0, 'negative control: a remote image is seen as a page request')
	  or diag explain $r;
	ok((grep { /Uncaught/ } @{ $r->{console} }), 'negative control: a script error is seen on the console')
	  or diag explain $r;
	cmp_ok($r->{variance}, '<', 50, 'negative control: a nearly blank page has a low pixel variance');
}

# --- a node with markup in a session and a client certificate -----------------
my $node = new_tls_node("report");
my $certs = certs_dir();
my $keydir = PostgreSQL::Test::Utils::tempdir('evilcert');
my $subject = '/CN=<script>alert(1)<\/script>/O=Evil & Co "quoted"';
system_or_bail('openssl', 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', "$keydir/evil.key",
	'-subj', $subject, '-out', "$keydir/evil.csr");
open my $ext, '>', "$keydir/ext.cnf" or die;
print $ext "extendedKeyUsage = clientAuth\nbasicConstraints = CA:false\n";
close $ext;
system_or_bail('openssl', 'x509', '-req', '-in', "$keydir/evil.csr", '-CA', "$certs/intermediate.crt",
	'-CAkey', "$certs/intermediate.key", '-CAcreateserial', '-CAserial', "$keydir/serial", '-days', '30',
	'-extfile', "$keydir/ext.cnf", '-out', "$keydir/evil.crt");
chmod 0600, "$keydir/evil.key";

# The report is taken from inside the session that carries the markup: it
# lists itself among the sessions, and the census has counted it.
my $app = '<script>alert(2)</script>';
my $connstr = tls_connstr($node, application_name => "'$app'",
	extra => "sslcert=$keydir/evil.crt sslkey=$keydir/evil.key");
my ($stdout, $stderr);
my $rc = $node->psql('postgres', 'SELECT tls_audit.report()',
	connstr => $connstr, stdout => \$stdout, stderr => \$stderr, extra_params => [ '-A', '-t' ]);
is($rc, 0, 'report() over TLS with a client certificate') or diag $stderr;
like($stdout, qr/^<!DOCTYPE html>/, 'report() returns an HTML document');
cmp_ok(length($stdout), '<', 2_000_000, 'the report is under 2 MB');

my $html_file = "$out_dir/report.html";
open my $fh, '>', $html_file or die "$html_file: $!";
print $fh $stdout;
close $fh;

# Before the browser: the raw markup never reaches the document.
unlike($stdout, qr/<script/i, 'no script element in the document');
like($stdout, qr/&lt;script&gt;alert\(2\)&lt;\/script&gt;/, 'application_name is escaped');
like($stdout, qr/\\?&lt;script\\?&gt;alert\(1\)/, 'the client certificate subject is escaped');
like($stdout, qr/Evil &amp; Co/, 'ampersands are escaped');

my $r = browse($html_file);
is($r->{dom_exit}, 0, 'chromium loaded the report');
my $dom = PostgreSQL::Test::Utils::slurp_file($r->{dom});
unlike($dom, qr/<script/i, 'the DOM has no script element');
unlike($dom, qr/<img/i, 'the DOM has no image element');
unlike($dom, qr/\b(?:src|href)\s*=\s*"?https?:/i, 'the DOM references nothing over the network');
like($dom, qr/&lt;script&gt;alert\(2\)&lt;\/script&gt;/, 'the DOM shows application_name as text');
like($dom, qr/alert\(1\)/, 'the DOM shows the client certificate subject');
like($dom, qr/Posture summary/, 'the DOM has the posture summary');
like($dom, qr/ssl_enabled/, 'the DOM lists the findings');
like($dom, qr/CIS-PG-16:6\.8/, 'the DOM shows control ids');
like($dom, qr/<svg/, 'the DOM has the inline SVG charts');
my $cn = $node->safe_psql('postgres',
	q{SELECT subject FROM tls_audit.server_certificates WHERE "position" = 0 LIMIT 1});
ok(length($cn) > 0, 'the server certificate has a subject');
(my $cn_html = $cn) =~ s{&}{&amp;}g;
$cn_html =~ s{<}{&lt;}g;
$cn_html =~ s{>}{&gt;}g;
like($dom, qr{\Q$cn_html\E}, 'the DOM shows the server certificate');

is_deeply($r->{console}, [], 'no console messages (no error, no CSP violation)');
is_deeply($r->{page_requests}, [], 'the page made no network request');
is($r->{width}, 1280, 'screenshot width');
is($r->{height}, 2000, 'screenshot height');
cmp_ok($r->{variance}, '>', 200, "the screenshot is not blank (luminance variance $r->{variance})");
cmp_ok($r->{nonwhite_share}, '>', 0.02, "the screenshot has content ($r->{nonwhite_share} not white)");
note "screenshot kept at $r->{screenshot}";

# Markdown: same content, no markup.
my $md = $node->psql('postgres', q{SELECT tls_audit.report('markdown')}, connstr => $connstr,
	stdout => \$stdout, extra_params => [ '-A', '-t' ]);
like($stdout, qr/^# TLS audit report/, 'markdown report');
unlike($stdout, qr/<script/i, 'markdown has no raw markup');
like($stdout, qr/&lt;script&gt;alert\\\(2\\\)/, 'markdown escapes application_name');

$node->stop;
done_testing();
