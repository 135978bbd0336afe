#!/usr/bin/env bash
# Releases 1.0 and 1.1 are frozen: what their scripts create must never
# change. This test keeps that promise checkable while still letting the
# scripts' explanatory comments be reworded: it strips every comment-only
# line that lies outside a dollar-quoted body (such lines never reach the
# catalog) and compares a SHA-256 of what remains with the value recorded
# when the version was released (test/sql-released.sha256). A comment inside
# a function body is part of the function and stays in the fingerprint.
# Also proves the fingerprint reacts to a changed statement and to a changed
# comment inside a body, and ignores a reworded comment outside one.
# Needs only awk and sha256sum; run by test/run-tests.sh with the unit suite.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sql_released.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

# statements FILE: the file without its comment-only lines outside $tag$ bodies.
statements() {
    awk '
    {
        line = $0
        if (tag == "" && line ~ /^[ \t]*--/) next
        print line
        rest = line
        while (match(rest, /\$[A-Za-z_]*\$/)) {
            t = substr(rest, RSTART, RLENGTH)
            if (tag == "") tag = t; else if (t == tag) tag = ""
            rest = substr(rest, RSTART + RLENGTH)
        }
    }' "$1"
}
fingerprint() { statements "$1" | sha256sum | cut -d' ' -f1; }

# The released scripts against their recorded fingerprints.
while read -r sum name; do
    [ -n "$sum" ] || continue
    case $sum in \#*) continue ;; esac
    file=$repo/src/sql/released/$name
    if [ ! -f "$file" ]; then not_ok "$name is missing"; continue; fi
    got=$(fingerprint "$file")
    if [ "$got" = "$sum" ]; then ok "$name: statements as released"; else
        not_ok "$name: statements changed since its release (fingerprint $got, released $sum)"
    fi
done <"$repo/test/sql-released.sha256"
for file in "$repo"/src/sql/released/*.sql; do
    grep -q " $(basename "$file")\$" "$repo/test/sql-released.sha256" ||
        not_ok "$(basename "$file") has no recorded fingerprint"
done

# The fingerprint itself: it must see what matters and only that.
cat >"$work/base.sql" <<'SQL'
-- a comment outside any body
CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $function$
BEGIN
    -- a comment inside the body
    RETURN 1;
END
$function$;
SQL
base=$(fingerprint "$work/base.sql")
sed 's/outside any body/reworded outside/' "$work/base.sql" >"$work/a.sql"
[ "$(fingerprint "$work/a.sql")" = "$base" ] && ok "a reworded comment outside a body is ignored" ||
    not_ok "a reworded comment outside a body is ignored"
sed 's/inside the body/changed inside/' "$work/base.sql" >"$work/b.sql"
[ "$(fingerprint "$work/b.sql")" != "$base" ] && ok "a changed comment inside a body is seen" ||
    not_ok "a changed comment inside a body is seen"
sed 's/RETURN 1/RETURN 2/' "$work/base.sql" >"$work/c.sql"
[ "$(fingerprint "$work/c.sql")" != "$base" ] && ok "a changed statement is seen" ||
    not_ok "a changed statement is seen"

echo "sql-released: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
