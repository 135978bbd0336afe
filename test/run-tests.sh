#!/usr/bin/env bash
# The full test suite: unit tests (ctest), pg_regress and TAP on every
# PostgreSQL version available here, the pg_tls_check CLI tests, the docs
# check and the hardening steps. Run as root on Debian 12; installs its own
# dependencies first, and builds the PostgreSQL versions Debian 12 does not
# package from Debian's source packages (test/pg-versions.sh, cached). Every
# cluster is started by the tests themselves, as the `postgres` OS user, in a
# temporary directory it owns.
#
#   bash test/run-tests.sh                   everything
#   TLS_AUDIT_PG_VERSIONS="15 18" ...        PostgreSQL majors to test (default "15 17 18";
#                                            one that cannot be fetched here is skipped
#                                            with a one-line reason)
#   TLS_AUDIT_SUITES="unit tap" ...          only some suites: unit regress tap cli docs hardening
#   TLS_AUDIT_TAP="010_sessions 081" ...     only the TAP files whose names contain these words
#   TLS_AUDIT_PG_CONFIG_15=/path/pg_config   use that server for a major instead of
#                                            the one test/pg-versions.sh provides
#   TLS_AUDIT_SKIP_APT=1 ...                 skip apt-get (already installed)
#
# Once: unit, docs, hardening. Per version: regress (temporary instance, then
# `make installcheck` against a running server), tap, cli.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suites=${TLS_AUDIT_SUITES:-"unit regress tap cli docs hardening"}
versions=${TLS_AUDIT_PG_VERSIONS:-"15 17 18"}
failures=()
passed=()
skipped=()
jobs=$(nproc 2>/dev/null || echo 2)

section() { printf '\n===== %s =====\n' "$*"; }
want() { [[ " $suites " == *" $1 "* ]]; }
# record SUITE STATUS: remember the outcome for the summary.
record() { if [ "$2" = 0 ]; then passed+=("$1"); else failures+=("$1"); fi; }

section "dependencies"
bash "$repo/test/deps.sh" || { echo "dependency installation failed"; exit 1; }

# A scratch directory the postgres user can read and write, with a copy of the
# tree per PostgreSQL version, logs and clusters inside (CI's clone may sit
# where postgres cannot read).
work=$(mktemp -d /tmp/pg_tls_audit-test.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
copy_tree() {  # copy_tree DEST: the files git knows (tracked and untracked, not ignored)
    mkdir -p "$1"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard 2>/dev/null || find . -type f -print0) |
        (cd "$repo" && xargs -0 cp --parents -t "$1" 2>/dev/null)
}
as_tester() {  # as_tester BINDIR CMD...: run a command as the user that owns clusters
    local bindir=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- env PATH="$bindir:$PATH" "$@"
    else
        env PATH="$bindir:$PATH" "$@"
    fi
}

certs=$work/certs
mkdir -p "$certs"
[ "$(id -u)" = 0 ] && chown postgres: "$certs"
as_tester /usr/bin bash "$repo/test/certs/make-certs.sh" "$certs" >/dev/null || { echo "certificate generation failed"; exit 1; }
export TLS_AUDIT_TEST_CERTS="$certs"

if want unit; then
    section "unit tests (CMake + GoogleTest)"
    build="$repo/build"
    if cmake -S "$repo" -B "$build" -DTLS_AUDIT_WERROR=ON >/dev/null &&
        cmake --build "$build" -j"$jobs" >/dev/null; then
        (cd "$build" && ctest --output-on-failure -j"$jobs")
        record unit $?
    else
        echo "unit test build failed"
        record unit-build 1
    fi
    section "layering: make refuses PostgreSQL and glue headers in src/core and src/cli"
    PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config bash "$repo/test/layering.sh"
    record layering $?
fi

# --- one PostgreSQL version -------------------------------------------------
# test_version MAJOR: build, install and test the extension against it.
test_version() {
    local major=$1 pg_config bindir pgxs_dir tree status
    section "PostgreSQL $major: server"
    local override=TLS_AUDIT_PG_CONFIG_$major
    if [ -n "${!override:-}" ]; then
        pg_config=${!override}
        status=0
    else
        pg_config=$(bash "$repo/test/pg-versions.sh" pg_config "$major")
        status=$?
    fi
    if [ $status = 3 ]; then
        skipped+=("$major")
        return 0
    elif [ $status != 0 ]; then
        record "pg$major-server" 1
        return 0
    fi
    bindir=$("$pg_config" --bindir)
    pgxs_dir=$(cd "$(dirname "$("$pg_config" --pgxs)")/../.." && pwd)
    echo "$("$pg_config" --version) at $bindir"
    tree=$work/pg$major
    copy_tree "$tree"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tree"

    section "PostgreSQL $major: build and install (PGXS, -Werror)"
    if ! make -C "$tree" -s -j"$jobs" PG_CONFIG="$pg_config" TLS_AUDIT_WERROR=1 >"$tree/build.log" 2>&1 ||
        ! make -C "$tree" -s install PG_CONFIG="$pg_config" >>"$tree/build.log" 2>&1; then
        tail -40 "$tree/build.log"
        record "pg$major-build" 1
        return 0
    fi
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tree"

    if want regress; then
        section "PostgreSQL $major: pg_regress (temporary instance with the library preloaded)"
        as_tester "$bindir" make -C "$tree" -s installcheck PG_CONFIG="$pg_config" REGRESS_TEMP_INSTANCE="$tree/tmp_regress"
        status=$?
        [ $status = 0 ] || head -200 "$tree/regression.diffs" 2>/dev/null
        record "pg$major-regress" $status

        # The same tests as PGXS users run them: `make installcheck` against a
        # server started outside the harness, with the library preloaded.
        section "PostgreSQL $major: make installcheck against a running server"
        local ic_data=$tree/installcheck-data ic_port=$((30000 + RANDOM % 20000))
        if as_tester "$bindir" initdb -D "$ic_data" -A trust >/dev/null &&
            printf "%s\n" "shared_preload_libraries = 'pg_tls_audit'" "port = $ic_port" \
                "listen_addresses = ''" "unix_socket_directories = '$tree'" |
            as_tester "$bindir" tee -a "$ic_data/postgresql.conf" >/dev/null &&
            as_tester "$bindir" pg_ctl -D "$ic_data" -l "$tree/installcheck-server.log" -w start >/dev/null; then
            as_tester "$bindir" env PGHOST="$tree" PGPORT="$ic_port" make -C "$tree" -s installcheck PG_CONFIG="$pg_config"
            status=$?
            [ $status = 0 ] || head -200 "$tree/regression.diffs" 2>/dev/null
            record "pg$major-installcheck" $status
            as_tester "$bindir" pg_ctl -D "$ic_data" -m fast stop >/dev/null
        else
            echo "could not start a server for installcheck"
            record "pg$major-installcheck" 1
        fi
    fi

    if want tap; then
        section "PostgreSQL $major: TAP tests (prove)"
        local cron_missing="" files=() f w
        [ -n "${!override:-}" ] || cron_missing=$(bash "$repo/test/pg-versions.sh" cron "$major" 2>&1 >/dev/null)
        for f in "$tree"/test/t/*.pl; do
            if [ -n "${TLS_AUDIT_TAP:-}" ]; then
                for w in $TLS_AUDIT_TAP; do [[ $(basename "$f") == *"$w"* ]] && files+=("test/t/$(basename "$f")"); done
            else
                files+=("test/t/$(basename "$f")")
            fi
        done
        as_tester "$bindir" env TESTDIR="$tree" PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" \
            TLS_AUDIT_CRON_MISSING="$cron_missing" \
            bash -c "cd '$tree' && prove -I '$pgxs_dir/src/test/perl' -I test/perl ${files[*]}"
        status=$?
        if [ $status != 0 ]; then
            for log in "$tree"/tmp_check/log/regress_log_*; do
                [ -f "$log" ] && grep -q "not ok" "$log" && { echo "--- $log"; tail -50 "$log"; }
            done
        fi
        record "pg$major-tap" $status
    fi

    if want cli; then
        section "PostgreSQL $major: pg_tls_check CLI tests"
        as_tester "$bindir" env PG_TLS_CHECK="$tree/pg_tls_check" bash -c "cd '$tree' && bash test/cli/run.sh"
        record "pg$major-cli" $?
    fi
}

if want regress || want tap || want cli; then
    for major in $versions; do test_version "$major"; done
fi

if want docs; then
    section "docs: links and generated examples are current"
    bash "$repo/doc/tour.sh" --check-readme
    record docs $?
fi

if want hardening; then
    section "hardening: sanitizers, fuzzing, valgrind, clang-tidy, cppcheck (doc/testing.md)"
    # Runs as root in the repository; its build trees, corpora and logs live in
    # TLS_AUDIT_HARDENING_DIR (default /tmp/pg_tls_audit-hardening.<checksum of the path>).
    (cd "$repo" && PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config bash "$repo/test/hardening.sh")
    record hardening $?
fi

section "summary"
tested=()
for major in $versions; do [[ " ${skipped[*]} " == *" $major "* ]] || tested+=("$major"); done
echo "PostgreSQL versions tested: ${tested[*]:-none}${skipped[*]:+ (not available here: ${skipped[*]})}"
echo "passed: ${passed[*]:-none}"
if [ ${#failures[@]} -eq 0 ]; then
    echo "all suites passed on PostgreSQL ${tested[*]}"
    exit 0
fi
echo "FAILED suites: ${failures[*]}"
exit 1
