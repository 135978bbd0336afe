#!/usr/bin/env bash
# Proves src/sql/expand.awk, which assembles the install and update scripts:
# whole parts and named regions are included exactly (marker lines left out),
# and every malformed part stops it with exit status 1 and a message naming
# the problem. Last, the project's own parts assemble without an error.
# Needs only awk; run by test/run-tests.sh with the unit suite.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sql_expand.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/sql" "$work/up"
cd "$work" || exit 1
printf '%s\n' 'serial integer' 'subject text' >columns
expand() { awk -v columns=columns -f "$repo/src/sql/expand.awk" "$@"; }
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }

# good NAME EXPECTED PART...: assembles the parts; must succeed with EXPECTED.
good() {
    local name=$1 expected=$2 out err
    shift 2
    if out=$(expand "$@" 2>"$work/err"); then
        if [ "$out" = "$expected" ]; then ok "$name"; else
            not_ok "$name"
            diff <(echo "$expected") <(echo "$out") | sed 's/^/#   /'
        fi
    else
        not_ok "$name (exit status $?: $(cat "$work/err"))"
    fi
}
# bad NAME MESSAGE PART...: must fail (status 1) with MESSAGE on stderr.
bad() {
    local name=$1 message=$2 status
    shift 2
    expand "$@" >/dev/null 2>"$work/err"
    status=$?
    if [ "$status" = 1 ] && grep -qF -- "$message" "$work/err"; then ok "$name"; else
        not_ok "$name (exit status $status, stderr: $(cat "$work/err"))"
    fi
}

# An install part with two regions and text outside them.
cat >src/sql/10_area.sql <<'EOF'
-- area header
CREATE TABLE t (a integer);
-- @region first
CREATE FUNCTION f(@CERTIFICATE_OUT_COLUMNS@) RETURNS void;
COMMENT ON FUNCTION f IS 'first';
-- @end first

-- @region second
CREATE VIEW v AS SELECT @CERTIFICATE_COLUMN_NAMES@;
-- @end second
EOF
whole='-- area header
CREATE TABLE t (a integer);
CREATE FUNCTION f(OUT serial integer,
    OUT subject text) RETURNS void;
COMMENT ON FUNCTION f IS '"'first'"';

CREATE VIEW v AS SELECT serial, subject;'

good "an install part is copied without its region markers, columns expanded" "$whole" src/sql/10_area.sql

printf '%s\n' '-- update header' '-- @include src/sql/10_area.sql' >up/whole.sql
good "-- @include of a whole part" "-- update header
$whole" up/whole.sql

printf '%s\n' '-- update' '-- @include src/sql/10_area.sql:second' 'SELECT 1;' >up/second.sql
good "-- @include of a region brings that region only" '-- update
CREATE VIEW v AS SELECT serial, subject;
SELECT 1;' up/second.sql

printf '%s\n' '-- @include src/sql/10_area.sql:first' '-- @include src/sql/10_area.sql:second' >up/both.sql
good "two regions of one part, in the order asked" "CREATE FUNCTION f(OUT serial integer,
    OUT subject text) RETURNS void;
COMMENT ON FUNCTION f IS 'first';
CREATE VIEW v AS SELECT serial, subject;" up/both.sql

good "parts are assembled in the order given" "-- update header
$whole
-- update
CREATE VIEW v AS SELECT serial, subject;
SELECT 1;" up/whole.sql up/second.sql

# Malformed includes.
printf '%s\n' '-- @include src/sql/10_area.sql:third' >up/unknown_region.sql
bad "an unknown region" "no region 'third' in src/sql/10_area.sql" up/unknown_region.sql
printf '%s\n' '-- @include src/sql/99_missing.sql' >up/missing.sql
bad "an unknown file" "no such file: src/sql/99_missing.sql" up/missing.sql
printf '%s\n' '-- @include ../etc/passwd' >up/outside.sql
bad "an include outside src/sql/NN_area.sql" "bad include" up/outside.sql
printf '%s\n' '-- @include src/sql/10_area.sql:first second' >up/two_names.sql
bad "an include with trailing words" "bad include" up/two_names.sql
printf '%s\n' '-- @regoin first' >up/typo.sql
bad "a '-- @' line that is no directive" "unknown directive '-- @regoin first'" up/typo.sql
bad "a part that does not exist" "no such file: up/none.sql" up/none.sql

# Malformed regions, in the included part or in a part given directly.
printf '%s\n' '-- @region open' 'SELECT 1;' >src/sql/20_unterminated.sql
printf '%s\n' '-- @include src/sql/20_unterminated.sql:open' >up/unterminated.sql
bad "an unterminated region (included)" "region 'open' is not closed" up/unterminated.sql
bad "an unterminated region (given directly)" "region 'open' is not closed" src/sql/20_unterminated.sql
printf '%s\n' '-- @region outer' '-- @region inner' 'SELECT 1;' '-- @end inner' '-- @end outer' >src/sql/21_nested.sql
bad "nested regions" "region 'inner' inside region 'outer' (line 1): regions do not nest" src/sql/21_nested.sql
printf '%s\n' '-- @region twice' 'SELECT 1;' '-- @end twice' '-- @region twice' 'SELECT 2;' '-- @end twice' >src/sql/22_duplicate.sql
bad "a region name used twice" "region 'twice' is defined twice" src/sql/22_duplicate.sql
printf '%s\n' '-- @region one' 'SELECT 1;' '-- @end two' >src/sql/23_mismatch.sql
bad "an @end naming another region" "'-- @end two' closes region 'one'" src/sql/23_mismatch.sql
printf '%s\n' 'SELECT 1;' '-- @end one' >src/sql/24_stray_end.sql
bad "an @end without a region" "'-- @end one' without an open region" src/sql/24_stray_end.sql
printf '%s\n' '-- @region Bad-Name' '-- @end Bad-Name' >src/sql/25_bad_name.sql
bad "a region name that is not a-z, 0-9, _" "bad region name" src/sql/25_bad_name.sql

# Includes that bring no SQL.
printf '%s\n' '-- @region empty' '-- only a comment' '' '-- @end empty' 'SELECT 1;' >src/sql/30_empty.sql
printf '%s\n' '-- @include src/sql/30_empty.sql:empty' >up/empty_region.sql
bad "a region without SQL" "region 'empty' of src/sql/30_empty.sql holds no SQL" up/empty_region.sql
printf '%s\n' '-- nothing here' >src/sql/31_comments.sql
printf '%s\n' '-- @include src/sql/31_comments.sql' >up/empty_part.sql
bad "a whole part without SQL" "src/sql/31_comments.sql holds no SQL" up/empty_part.sql
: >src/sql/32_empty_file.sql
printf '%s\n' '-- @include src/sql/32_empty_file.sql' >up/empty_file.sql
bad "an empty file" "src/sql/32_empty_file.sql holds no SQL" up/empty_file.sql
printf '%s\n' 'SELECT 1;' '-- @include src/sql/10_area.sql:first' >src/sql/33_includes.sql
printf '%s\n' '-- @include src/sql/33_includes.sql' >up/nested_include.sql
bad "an include inside an included part" "an included part may not include another" up/nested_include.sql

# The project's own parts: the install script and the current update script
# assemble, and no region marker reaches them.
cd "$repo" || exit 1
for set in "src/sql/[0-9]*.sql" "src/sql/upgrade/*/*.sql"; do
    # shellcheck disable=SC2086 # the pattern is meant to expand, in name order
    parts=$(printf '%s\n' $set | LC_ALL=C sort)
    # shellcheck disable=SC2086
    if out=$(awk -v columns=src/sql/certificate_columns -f src/sql/expand.awk $parts 2>"$work/err"); then
        if grep -nE '^-- @' <<<"$out" >"$work/markers"; then
            not_ok "the project's parts $set: directive lines in the output: $(head -3 "$work/markers")"
        else ok "the project's parts $set assemble"; fi
    else
        not_ok "the project's parts $set assemble ($(cat "$work/err"))"
    fi
done

echo "sql_expand: $passed passed, $failed failed"
[ "$failed" = 0 ]
