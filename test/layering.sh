#!/usr/bin/env bash
# Proves that the layers hold by construction: `make` (PGXS) refuses a core,
# CLI or src/libpq source that includes a PostgreSQL or glue header, and builds the same
# tree with a harmless extra file. Each case compiles a deliberately bad file
# in a scratch copy of the tree; prints TAP.
#   bash test/layering.sh            (PG_CONFIG=... to pick a server)
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
server_inc=$("$pg_config" --includedir-server)
work=$(mktemp -d /tmp/pg_tls_audit-layering.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work" 2>/dev/null)

n=0 failed=0
# compile_case DESCRIPTION EXPECT(ok|fail) FILE CONTENT [PATTERN]: build
# only FILE's object (with the flags make gives that layer).
compile_case() {
    local what=$1 expect=$2 file=$3 content=$4 pattern=${5:-} out rc
    printf '%s\n' "$content" >"$work/$file"
    out=$(make -C "$work" -s PG_CONFIG="$pg_config" "${file%.cpp}.o" 2>&1)
    rc=$?
    rm -f "$work/$file" "$work/${file%.cpp}.o" "$work/${file%.cpp}.d"
    n=$((n + 1))
    if { [ "$expect" = ok ] && [ $rc = 0 ]; } ||
        { [ "$expect" = fail ] && [ $rc != 0 ] && [[ -z $pattern || $out == *"$pattern"* ]]; }; then
        echo "ok $n - $what"
    else
        failed=$((failed + 1))
        echo "not ok $n - $what (make exit $rc)"
        printf '%s\n' "$out" | head -5 | sed 's/^/#   /'
    fi
}

compile_case "a harmless core file compiles" ok src/core/certs/zz_layering.cpp \
    '#include "certs/x509.hpp"
int zz_layering() { return 1; }'
compile_case "a harmless glue file compiles with core and PostgreSQL headers" ok src/pg/zz_layering.cpp \
    '#include "certs/x509.hpp"
#include "postgres.hpp"
int zz_layering() { return 1; }'
compile_case "core: #include \"postgres.h\" is not found" fail src/core/base/zz_layering.cpp \
    '#include "postgres.h"' "postgres.h"
compile_case "core: #include \"postgres.hpp\" (glue) is not found" fail src/core/base/zz_layering.cpp \
    '#include "postgres.hpp"' "postgres.hpp"
compile_case "core: the glue header by relative path is refused" fail src/core/base/zz_layering.cpp \
    '#include "../../pg/postgres.hpp"' "PostgreSQL headers are for src/pg only"
compile_case "core: postgres.h by absolute path is refused" fail src/core/base/zz_layering.cpp \
    "#include \"$server_inc/postgres.h\""
# What postgres.h leaves behind (its include guard), reached by any path:
compile_case "core: a core header after postgres.h is refused" fail src/core/certs/zz_layering.cpp \
    '#define POSTGRES_H
#include "certs/x509.hpp"' "src/core must not see PostgreSQL headers"
# Areas depend one way (doc/layout.md): an earlier area may not include a
# later one, directly or through a header of its own area.
compile_case "core areas: certs may include base" ok src/core/certs/zz_layering.cpp \
    '#include "base/error.hpp"
int zz_layering() { return 1; }'
compile_case "core areas: checks may include census, sessions, access, certs" ok src/core/checks/zz_layering.cpp \
    '#include "census/census_file.hpp"
#include "sessions/session.hpp"
#include "access/hba_match.hpp"
#include "certs/x509.hpp"
int zz_layering() { return 1; }'
compile_case "core areas: certs including checks (a later area) is refused" fail src/core/certs/zz_layering.cpp \
    '#include "checks/finding.hpp"' "src/core/checks is a later area"
compile_case "core areas: base including probe is refused" fail src/core/base/zz_layering.cpp \
    '#include "probe/probe_io.hpp"' "src/core/probe is a later area"
compile_case "core areas: sessions reaching census through a header is refused" fail src/core/sessions/zz_layering.cpp \
    '#include "census/census_key.hpp"' "src/core/census is a later area"
compile_case "cli: #include \"postgres.h\" is not found" fail src/cli/zz_layering.cpp \
    '#include "postgres.h"' "postgres.h"
compile_case "cli: a glue header (hook_sessions.hpp) is not found" fail src/cli/zz_layering.cpp \
    '#include "hook_sessions.hpp"' "hook_sessions.hpp"
compile_case "cli: the glue header by relative path is refused" fail src/cli/zz_layering.cpp \
    '#include "../pg/postgres.hpp"' "PostgreSQL headers are for src/pg only"
# src/libpq is linked into the library and the CLI, so it is compiled as the
# CLI is: the core and libpq-fe.h, never a server or glue header.
compile_case "libpq: a file with the core and libpq-fe.h compiles" ok src/libpq/zz_layering.cpp \
    '#include <libpq-fe.h>
#include "pooler/pooler_connections.hpp"'
compile_case "libpq: #include \"postgres.h\" is not found" fail src/libpq/zz_layering.cpp \
    '#include "postgres.h"' "postgres.h"
compile_case "libpq: the glue header by relative path is refused" fail src/libpq/zz_layering.cpp \
    '#include "../pg/postgres.hpp"' "PostgreSQL headers are for src/pg only"

# The same rule read from the sources, for headers no core source of an
# earlier area happens to include: every "area/file.hpp" include in src/core
# names an area at or before the including file's own (the order is the
# TLS_AUDIT_AREA_* levels in src/core/base/pure_cpp.hpp).
declare -A level
while read -r name value; do level[$name]=$value; done < <(
    sed -nE 's/^#define TLS_AUDIT_AREA_([a-z]+) ([0-9]+)$/\1 \2/p' "$repo/src/core/base/pure_cpp.hpp")
backwards=$(cd "$repo" && for f in src/core/*/*.[ch]pp; do
    own=$(basename "$(dirname "$f")")
    [ -n "${level[$own]:-}" ] || { echo "$f: folder $own is not an area in pure_cpp.hpp"; continue; }
    sed -nE 's/^#include "([a-z_]+)\/[a-z_0-9]+\.hpp".*/\1/p' "$f" | while read -r to; do
        [ -n "${level[$to]:-}" ] || { echo "$f includes from $to/, which is not an area"; continue; }
        [ "${level[$to]}" -le "${level[$own]}" ] || echo "$f ($own) includes $to/ (a later area)"
    done
done)
n=$((n + 1))
if [ ${#level[@]} -ge 8 ] && [ -z "$backwards" ]; then
    echo "ok $n - every include in src/core goes to the same or an earlier area (${#level[@]} areas)"
else
    failed=$((failed + 1))
    echo "not ok $n - includes against the area order"
    printf '%s\n' "${backwards:-no areas read from pure_cpp.hpp}" | sed 's/^/#   /'
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
