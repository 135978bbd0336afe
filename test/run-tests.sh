#!/usr/bin/env bash
# The full test suite: unit tests (ctest), pg_regress and TAP, plus the
# pg_tls_check CLI tests. Run as root on Debian 12; installs its own
# dependencies first. Every cluster is started by the tests themselves, as the
# `postgres` OS user, in a temporary directory it owns.
#
#   bash test/run-tests.sh            everything
#   TLS_AUDIT_SKIP_APT=1 ...          skip apt-get (already installed)
#   TLS_AUDIT_SUITES="unit tap" ...   run only some suites: unit regress tap docs cli
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suites=${TLS_AUDIT_SUITES:-"unit regress tap docs cli hardening"}
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
failures=()
ran=()

section() { printf '\n===== %s =====\n' "$*"; }
want() { [[ " $suites " == *" $1 "* ]] && ran+=("$1"); }

section "dependencies"
bash "$repo/test/deps.sh" || { echo "dependency installation failed"; exit 1; }

pg_bindir=$("$PG_CONFIG" --bindir)
pgxs_dir=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# A scratch copy of the tree that the postgres user can read and write, with
# logs and clusters inside it (CI's clone may sit where postgres cannot read).
work=$(mktemp -d /tmp/pg_tls_audit-test.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
as_tester() {  # run a command as the user that owns clusters
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- env PATH="$pg_bindir:$PATH" "$@"
    else
        env PATH="$pg_bindir:$PATH" "$@"
    fi
}

section "build and install (PGXS)"
make -C "$repo" -s -j"$jobs" PG_CONFIG="$PG_CONFIG" >/dev/null && make -C "$repo" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
if [ $? -ne 0 ]; then
    echo "build failed"
    exit 1
fi

(cd "$repo" && git ls-files -z --cached --others --exclude-standard 2>/dev/null || find . -type f -print0) |
    (cd "$repo" && xargs -0 cp --parents -t "$work" 2>/dev/null)
mkdir -p "$work/certs"
[ "$(id -u)" = 0 ] && chown -R postgres: "$work"
as_tester bash "$work/test/certs/make-certs.sh" "$work/certs" >/dev/null || { echo "certificate generation failed"; exit 1; }
export TLS_AUDIT_TEST_CERTS="$work/certs"

if want unit; then
    section "unit tests (CMake + GoogleTest)"
    build="$repo/build"
    if cmake -S "$repo" -B "$build" -DTLS_AUDIT_WERROR=ON >/dev/null &&
        cmake --build "$build" -j"$jobs" >/dev/null; then
        (cd "$build" && ctest --output-on-failure -j"$jobs") || failures+=("unit")
    else
        echo "unit test build failed"
        failures+=("unit-build")
    fi
fi

if want regress; then
    section "pg_regress (temporary instance with the library preloaded)"
    if ! as_tester env TLS_AUDIT_TEST_CERTS="$TLS_AUDIT_TEST_CERTS" \
        make -C "$work" -s installcheck PG_CONFIG="$PG_CONFIG" REGRESS_TEMP_INSTANCE="$work/tmp_regress"; then
        cat "$work/regression.diffs" 2>/dev/null | head -200
        failures+=("regress")
    fi

    # The same tests as PGXS users run them: `make installcheck` against a
    # server started outside the harness, with the library preloaded.
    section "pg_regress against a running server (make installcheck)"
    ic_data="$work/installcheck-data"
    ic_port=$(( 30000 + RANDOM % 20000 ))
    if as_tester initdb -D "$ic_data" -A trust >/dev/null &&
        printf "%s\n" "shared_preload_libraries = 'pg_tls_audit'" "port = $ic_port" \
            "listen_addresses = ''" "unix_socket_directories = '$work'" |
        as_tester tee -a "$ic_data/postgresql.conf" >/dev/null &&
        as_tester pg_ctl -D "$ic_data" -l "$work/installcheck-server.log" -w start >/dev/null; then
        if ! as_tester env PGHOST="$work" PGPORT="$ic_port" TLS_AUDIT_TEST_CERTS="$TLS_AUDIT_TEST_CERTS" \
            make -C "$work" -s installcheck PG_CONFIG="$PG_CONFIG"; then
            cat "$work/regression.diffs" 2>/dev/null | head -200
            failures+=("installcheck")
        fi
        as_tester pg_ctl -D "$ic_data" -m fast stop >/dev/null
    else
        echo "could not start a server for installcheck"
        failures+=("installcheck")
    fi
fi

if want tap; then
    section "TAP tests (prove)"
    if ! as_tester env TLS_AUDIT_TEST_CERTS="$TLS_AUDIT_TEST_CERTS" TESTDIR="$work" \
        PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" \
        bash -c "cd '$work' && prove -I '$pgxs_dir/src/test/perl' -I test/perl test/t/*.pl"; then
        for log in "$work"/tmp_check/log/regress_log_*; do
            [ -f "$log" ] && grep -q "not ok" "$log" && { echo "--- $log"; tail -50 "$log"; }
        done
        failures+=("tap")
    fi
fi

if want docs; then
    section "README tour is current (doc/tour.sh --check-readme)"
    bash "$work/doc/tour.sh" --check-readme || failures+=("docs")
fi

if want cli && [ -f "$repo/test/cli/run.sh" ]; then
    section "pg_tls_check CLI tests"
    as_tester env TLS_AUDIT_TEST_CERTS="$TLS_AUDIT_TEST_CERTS" bash -c "cd '$work' && bash test/cli/run.sh" ||
        failures+=("cli")
fi

if want hardening; then
    section "hardening: sanitizers, fuzzing, valgrind, clang-tidy, cppcheck (README: Hardening)"
    # Runs as root in the repository; its build trees, corpora and logs live in
    # TLS_AUDIT_HARDENING_DIR (default /tmp/pg_tls_audit-hardening.<checksum of the path>).
    (cd "$repo" && PG_CONFIG="$PG_CONFIG" bash "$repo/test/hardening.sh") || failures+=("hardening")
fi

section "summary"
if [ ${#failures[@]} -eq 0 ]; then
    echo "all suites passed: ${ran[*]}"
    exit 0
fi
echo "FAILED suites: ${failures[*]}"
exit 1
