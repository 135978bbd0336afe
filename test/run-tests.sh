#!/usr/bin/env bash
# The full test suite: unit tests (ctest), pg_regress and TAP on every
# PostgreSQL version of test/pg-versions.txt, the pg_tls_check CLI tests, the
# docs check and the hardening steps. Run as root on Debian 12 (or 13);
# installs its own dependencies first. Each PostgreSQL major is tested with
# the compiler and OpenSSL of the Debian release the table names: on this
# machine when it runs that release, otherwise inside a cached root filesystem
# of that release (test/debian-root.sh: Debian 13 on a Debian 12 host), where
# this same script runs the per-version suites and the demo runs once. The
# root filesystem is prepared (and a major built from source there) in the
# background while the unit tests and this machine's versions run. Every
# cluster is started by the tests themselves, as the `postgres` OS user, in a
# temporary directory it owns.
#
#   bash test/run-tests.sh                   everything
#   TLS_AUDIT_PG_VERSIONS="15 18" ...        PostgreSQL majors to test (default: every major of
#                                            test/pg-versions.txt; one that cannot be had here is
#                                            skipped with a one-line reason)
#   TLS_AUDIT_SUITES="unit tap" ...          only some suites: unit regress tap cli docs hardening demo
#                                            (demo: demo/demo.sh once inside the other release's root)
#   TLS_AUDIT_TAP="010_sessions 081" ...     only the TAP files whose names contain these words
#                                            (tap: test/t/*.pl but *_cli_*; cli: test/t/09*_cli_*.pl)
#   TLS_AUDIT_PG_CONFIG_15=/path/pg_config   use that server for a major, on this machine, instead
#                                            of the one test/pg-versions.sh provides
#   TLS_AUDIT_SKIP_APT=1 ...                 skip apt-get (already installed)
#
# Once: unit, docs, hardening (on this machine), demo (inside another
# release's root). Per version: build, regress (temporary instance, then
# `make installcheck` against running servers), tap, cli. The summary names
# each version with its OpenSSL and compiler, and the time of every stage.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suites=${TLS_AUDIT_SUITES:-"unit regress tap cli docs hardening demo"}
versions=${TLS_AUDIT_PG_VERSIONS:-$(bash "$repo/test/pg-versions.sh" list)}
this_release=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)
failures=()
passed=()
skipped=()       # "MAJOR: reason"
described=()     # "MAJOR: PostgreSQL x.y, OpenSSL a.b.c, GCC n (Debian ...)"
stage_times=()   # "stage Ns"
jobs=$(nproc 2>/dev/null || echo 2)

section() { printf '\n===== %s =====\n' "$*"; }
want() { [[ " $suites " == *" $1 "* ]]; }
# record SUITE STATUS: remember the outcome for the summary.
record() { if [ "$2" = 0 ]; then passed+=("$1"); else failures+=("$1"); fi; }
# explain SUITE FILE [tail]: keep 60 lines of why SUITE failed (the head of a
# diff, the tail of a log) for the summary, so the end of a long CI log shows
# the cause, not only the name. Inside another release's root they go beside
# the results file, where the run outside finds them.
explain() {
    mkdir -p "$why" && [ -f "$2" ] && "${3:-head}" -60 "$2" >"$why/$1.txt"
}
# timed STAGE CMD...: run CMD, remember how long it took; returns its status.
timed() {
    local stage=$1 start=$SECONDS status
    shift
    "$@"
    status=$?
    stage_times+=("$stage $((SECONDS - start))s")
    return $status
}

section "dependencies"
timed deps bash "$repo/test/deps.sh" || { echo "dependency installation failed"; exit 1; }

# A scratch directory the postgres user can read and write, with a copy of the
# tree per PostgreSQL version, logs and clusters inside (CI's clone may sit
# where postgres cannot read).
# Without it every path below would be relative to / (the runner keeps going
# after a failing step to report them all): stop here instead.
work=$(mktemp -d "${TMPDIR:-/tmp}/pg_tls_audit-test.XXXXXX") && [ -d "$work" ] || {
    echo "run-tests.sh: cannot create a scratch directory in ${TMPDIR:-/tmp} (does it exist?)" >&2
    exit 1
}
chmod 755 "$work"
why=${TLS_AUDIT_RESULTS:+$(dirname "${TLS_AUDIT_RESULTS:-.}")/why}
why=${why:-$work/why}
# TLS_AUDIT_KEEP=1 keeps it (results, logs) for a look after a failure.
# On the way out, a root filesystem still being prepared in the background is
# stopped first (debian-root.sh then unmounts what it mounted).
background=()
stop_background() {
    local pid
    for pid in "${background[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    background=()
}
[ "${TLS_AUDIT_KEEP:-0}" = 1 ] && echo "scratch directory kept: $work"
interrupted=""
on_exit() {
    stop_background
    [ "${TLS_AUDIT_KEEP:-0}" = 1 ] || rm -rf "$work"
    # Interrupted (Ctrl-C): die of INT, so that a calling script stops too.
    [ -n "$interrupted" ] && { trap - INT; kill -INT $$; }
}
trap on_exit EXIT
trap 'interrupted=1; exit 130' INT
trap 'exit 143' TERM
copy_tree() {  # copy_tree DEST: the files git knows (tracked and untracked, not ignored)
    mkdir -p "$1"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard 2>/dev/null || find . -type f -print0) |
        (cd "$repo" && xargs -0 cp --parents -t "$1" 2>/dev/null)
}
# The cluster user's temporary directory is /tmp: pg_regress and the TAP
# clusters make their socket directories in TMPDIR, which may be one only root
# can write, or so deep (a run inside another release's root) that a socket
# path exceeds the 107 bytes a unix socket name may have.
as_tester() {  # as_tester BINDIR CMD...: run a command as the user that owns clusters
    local bindir=$1
    shift
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- env PATH="$bindir:$PATH" TMPDIR=/tmp "$@"
    else
        env PATH="$bindir:$PATH" "$@"
    fi
}

certs=$work/certs
mkdir -p "$certs"
[ "$(id -u)" = 0 ] && chown postgres: "$certs"
as_tester /usr/bin bash "$repo/test/certs/make-certs.sh" "$certs" >/dev/null || { echo "certificate generation failed"; exit 1; }
export TLS_AUDIT_TEST_CERTS="$certs"

# Which majors run here and which inside another release's root filesystem
# (the table's release; an explicit TLS_AUDIT_PG_CONFIG_NN runs here).
here_versions=()
other_releases=()
declare -A root_versions=()
for major in $versions; do
    override=TLS_AUDIT_PG_CONFIG_$major
    release=$(bash "$repo/test/pg-versions.sh" release "$major" 2>/dev/null) || release=""
    if [ -n "${!override:-}" ] || [ -z "$release" ] || [ "$release" = "$this_release" ] ||
        [ -n "${TLS_AUDIT_IN_ROOT:-}" ] || ! { want regress || want tap || want cli; }; then
        here_versions+=("$major")
    else
        [ -n "${root_versions[$release]:-}" ] || other_releases+=("$release")
        root_versions[$release]="${root_versions[$release]:-}${root_versions[$release]:+ }$major"
    fi
done
# A root filesystem is wanted for its versions, or for the demo alone (on a
# Debian 12 host: the Debian 13 root, where users run the demo too).
if want demo && [ ${#other_releases[@]} -eq 0 ] && [ -z "${TLS_AUDIT_IN_ROOT:-}" ] && [ "$this_release" != trixie ]; then
    other_releases+=(trixie)
fi

# --- another release's root filesystem (test/debian-root.sh) ---------------
# in_root RELEASE CMD...: run CMD inside it, with the scratch directory bound
# at the same path (the tree copy, logs, results).
in_root() {
    local release=$1
    shift
    TLS_AUDIT_ROOT_BIND=$work bash "$repo/test/debian-root.sh" run "$release" \
        env TLS_AUDIT_PG_CACHE=/var/cache/pg_tls_audit TMPDIR="$work/$release-tmp" "$@"
}
# Started now, waited for before the first test inside: the root filesystem
# (debootstrap and packages on a first run; network bound) and the majors
# built from source there (CPU bound: nice, beside this machine's tests).
start_root() {
    local release=$1 src=$work/$release-src major from
    copy_tree "$src"
    mkdir -p "$work/$release-tmp"
    chmod 755 "$src" "$work/$release-tmp"
    local build_cmd="true"
    for major in ${root_versions[$release]:-}; do
        from=$(awk -v m="$major" '!/^#/ && $1 == m {print $3}' "$repo/test/pg-versions.txt")
        [[ $from == source:* ]] && build_cmd="$build_cmd; bash $src/test/pg-versions.sh pg_config $major >/dev/null"
    done
    date +%s >"$work/$release-root.start"
    # A simple command (not the function in_root), so that $! is debian-root.sh
    # itself and stop_background's TERM reaches its cleanup.
    TLS_AUDIT_ROOT_BIND=$work bash "$repo/test/debian-root.sh" run "$release" \
        env TLS_AUDIT_PG_CACHE=/var/cache/pg_tls_audit nice -n 10 bash -c "$build_cmd; true" \
        >"$work/$release-root.log" 2>&1 &
    background+=($!)
    echo "Debian $release root filesystem: being prepared in the background (${root_versions[$release]:+PostgreSQL ${root_versions[$release]}; }log: $work/$release-root.log)"
}
for release in "${other_releases[@]}"; do start_root "$release"; done

# The server description for the summary: version, OpenSSL, compiler, release.
describe() {  # describe MAJOR PG_CONFIG
    local cc
    cc=$("$2" --cc | awk '{print $1}')
    described+=("$1: $("$2" --version), OpenSSL $(openssl version | awk '{print $2}'), $(${cc:-gcc} --version | head -1 | sed -E 's/^(gcc|cc) \(.*\) /GCC /'), $(. /etc/os-release && echo "$PRETTY_NAME")${TLS_AUDIT_IN_ROOT:+ (root filesystem)}")
}

if want unit; then
    section "unit tests (CMake + GoogleTest)"
    build="$repo/build"
    start=$SECONDS
    if cmake -S "$repo" -B "$build" -DTLS_AUDIT_WERROR=ON >/dev/null &&
        cmake --build "$build" -j"$jobs" >/dev/null; then
        (cd "$build" && ctest --output-on-failure -j"$jobs")
        record unit $?
    else
        echo "unit test build failed"
        record unit-build 1
    fi
    stage_times+=("unit $((SECONDS - start))s")
    section "layering: make refuses PostgreSQL and glue headers in src/core and src/cli"
    PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config timed layering bash "$repo/test/layering.sh"
    record layering $?
    section "sql-expand: src/sql/expand.awk includes regions and refuses bad parts"
    bash "$repo/test/sql_expand.sh"
    record sql-expand $?
    section "sql-released: the released 1.0 and 1.1 scripts create what they created at release"
    bash "$repo/test/sql_released.sh"
    record sql-released $?
fi

# --- one PostgreSQL version -------------------------------------------------
# installcheck_on MAJOR TREE BINDIR PG_CONFIG NAME CONF_LINE...: start a server
# with the library preloaded and these settings (and, for ssl-on, a pg_hba.conf
# of its own: hostssl and scram lines, a reject, no trust over TCP), run
# `make installcheck` against it over its unix socket, stop it.
installcheck_on() {
    local major=$1 tree=$2 bindir=$3 pg_config=$4 name=$5 status
    shift 5
    section "PostgreSQL $major: make installcheck against a running server ($name)"
    local data=$tree/installcheck-$name port=$((30000 + RANDOM % 20000))
    cp "$certs/server.key" "$tree/installcheck-server.key"
    chmod 600 "$tree/installcheck-server.key"
    [ "$(id -u)" = 0 ] && chown postgres: "$tree/installcheck-server.key"
    if ! as_tester "$bindir" initdb -D "$data" -A trust >/dev/null; then
        record "pg$major-installcheck-$name" 1
        return
    fi
    printf "%s\n" "shared_preload_libraries = 'pg_tls_audit'" "port = $port" \
        "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$tree'" "$@" |
        as_tester "$bindir" tee -a "$data/postgresql.conf" >/dev/null
    if [ "$name" != ssl-off ]; then
        printf "%s\n" "# a DBA's own rules: TLS required over TCP, scram, one reject" \
            "local   all all                 trust" \
            "hostssl all all 127.0.0.1/32    scram-sha-256" \
            "hostssl all all ::1/128         cert" \
            "host    all all 10.0.0.0/8      reject" |
            as_tester "$bindir" tee "$data/pg_hba.conf" >/dev/null
    fi
    if as_tester "$bindir" pg_ctl -D "$data" -l "$tree/installcheck-$name.log" -w start >/dev/null; then
        as_tester "$bindir" env PGHOST="$tree" PGPORT="$port" make -C "$tree" -s installcheck PG_CONFIG="$pg_config"
        status=$?
        if [ $status != 0 ]; then
            cp "$tree/regression.diffs" "$tree/regression-$name.diffs" 2>/dev/null
            head -200 "$tree/regression.diffs" 2>/dev/null
            explain "pg$major-installcheck-$name" "$tree/regression-$name.diffs"
        fi
        record "pg$major-installcheck-$name" $status
        as_tester "$bindir" pg_ctl -D "$data" -m fast stop >/dev/null
    else
        echo "could not start a server for installcheck ($name)"
        tail -5 "$tree/installcheck-$name.log"
        record "pg$major-installcheck-$name" 1
    fi
}


# tap_files TREE SUITE: the TAP files of a suite, relative to TREE, one a line:
# suite "cli" is test/t/09*_cli_*.pl (pg_tls_check), suite "tap" every other
# test/t/*.pl, so that nothing runs twice. TLS_AUDIT_TAP narrows both to the
# files whose names contain one of its words.
tap_files() {
    local tree=$1 suite=$2 f b w
    for f in "$tree"/test/t/*.pl; do
        b=$(basename "$f")
        if [[ $b == 09*_cli_*.pl ]]; then [ "$suite" = cli ] || continue; else [ "$suite" = tap ] || continue; fi
        if [ -n "${TLS_AUDIT_TAP:-}" ]; then
            for w in $TLS_AUDIT_TAP; do [[ $b == *"$w"* ]] && { echo "test/t/$b"; break; }; done
        else
            echo "test/t/$b"
        fi
    done
}

# run_prove MAJOR TREE BINDIR PGXS_DIR SUITE: prove the suite's TAP files as the cluster
# user, with BINDIR (postgres, pg_tls_check) first in PATH; records pgMAJOR-SUITE.
run_prove() {
    local major=$1 tree=$2 bindir=$3 pgxs_dir=$4 suite=$5 cron_missing="" files status t log override
    mapfile -t files < <(tap_files "$tree" "$suite")
    if [ ${#files[@]} -eq 0 ]; then
        echo "no $suite TAP file matches TLS_AUDIT_TAP=${TLS_AUDIT_TAP:-}; skipped"
        return 0
    fi
    override=TLS_AUDIT_PG_CONFIG_$major
    [ -n "${!override:-}" ] || cron_missing=$(bash "$repo/test/pg-versions.sh" cron "$major" 2>&1 >/dev/null)
    as_tester "$bindir" env TESTDIR="$tree" PG_REGRESS="$pgxs_dir/src/test/regress/pg_regress" \
        TLS_AUDIT_CRON_MISSING="$cron_missing" \
        bash -c "cd '$tree' && prove -I '$pgxs_dir/src/test/perl' -I test/perl ${files[*]}" | tee "$tree/prove-$suite.out"
    status=${PIPESTATUS[0]}
    if [ $status != 0 ]; then
        # The end of the log of every file prove reported as failed.
        for t in $(sed -n 's|^test/t/\([^ ]*\)\.pl .*Wstat.*|\1|p' "$tree/prove-$suite.out"); do
            log=$tree/tmp_check/log/regress_log_$t
            [ -f "$log" ] || log=$tree/log/regress_log_$t  # where 17+ writes it
            [ -f "$log" ] && { echo "--- $log"; grep -v "^\[.*\] ok " "$log" | tail -60; }
        done | tee "$tree/prove-$suite.failures"
        explain "pg$major-$suite" "$tree/prove-$suite.failures" tail
    fi
    record "pg$major-$suite" $status
}

# test_version MAJOR: build, install and test the extension against it.
test_version() {
    local major=$1 pg_config bindir pgxs_dir tree status
    section "PostgreSQL $major: server"
    local override=TLS_AUDIT_PG_CONFIG_$major
    if [ -n "${!override:-}" ]; then
        pg_config=${!override}
        status=0
    else
        local start=$SECONDS
        pg_config=$(bash "$repo/test/pg-versions.sh" pg_config "$major" 2>"$work/pg$major-server.log")
        status=$?
        cat "$work/pg$major-server.log"
        [ $((SECONDS - start)) -gt 5 ] && stage_times+=("pg$major-server $((SECONDS - start))s")
    fi
    if [ $status = 3 ]; then
        skipped+=("$major: $(tail -1 "$work/pg$major-server.log" | sed "s/^PostgreSQL $major: //")")
        return 0
    elif [ $status != 0 ]; then
        record "pg$major-server" 1
        return 0
    fi
    bindir=$("$pg_config" --bindir)
    pgxs_dir=$(cd "$(dirname "$("$pg_config" --pgxs)")/../.." && pwd)
    echo "$("$pg_config" --version) at $bindir"
    describe "$major" "$pg_config"
    tree=$work/pg$major
    copy_tree "$tree"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tree"

    section "PostgreSQL $major: build and install (PGXS, -Werror)"
    local start=$SECONDS
    if ! make -C "$tree" -s -j"$jobs" PG_CONFIG="$pg_config" TLS_AUDIT_WERROR=1 >"$tree/build.log" 2>&1 ||
        ! make -C "$tree" -s install PG_CONFIG="$pg_config" >>"$tree/build.log" 2>&1; then
        tail -40 "$tree/build.log"
        tail -40 "$tree/build.log" >"$tree/build-tail.log"
        explain "pg$major-build" "$tree/build-tail.log"
        record "pg$major-build" 1
        return 0
    fi
    stage_times+=("pg$major-build $((SECONDS - start))s")
    [ "$(id -u)" = 0 ] && chown -R postgres: "$tree"

    section "PostgreSQL $major: how the library is linked (test/library_layout.sh)"
    bash "$tree/test/library_layout.sh" "$tree/pg_tls_audit.so"
    record "pg$major-layout" $?

    if want regress; then
        start=$SECONDS
        section "PostgreSQL $major: pg_regress (temporary instance with the library preloaded)"
        as_tester "$bindir" make -C "$tree" -s installcheck PG_CONFIG="$pg_config" REGRESS_TEMP_INSTANCE="$tree/tmp_regress"
        status=$?
        if [ $status != 0 ]; then
            head -200 "$tree/regression.diffs" 2>/dev/null
            explain "pg$major-regress" "$tree/regression.diffs"
        fi
        record "pg$major-regress" $status

        # The same tests as PGXS users run them: `make installcheck` against a
        # server started outside the harness, with the library preloaded, and
        # configured unlike pg_regress's instance: the expected outputs may
        # not depend on the server's ssl, pg_hba.conf or cipher settings.
        installcheck_on "$major" "$tree" "$bindir" "$pg_config" "ssl-on-custom-hba" \
            "ssl = on" "ssl_cert_file = '$certs/server.crt'" "ssl_key_file = '$tree/installcheck-server.key'" \
            "ssl_ca_file = '$certs/ca-bundle.crt'" "ssl_min_protocol_version = 'TLSv1.3'" \
            "ssl_ciphers = 'HIGH:!aNULL'" "password_encryption = 'scram-sha-256'"
        installcheck_on "$major" "$tree" "$bindir" "$pg_config" "ssl-off" "ssl = off"
        as_tester "$bindir" bash "$tree/test/installcheck-matrix.sh" "$tree" "$bindir" "$pg_config" "$certs" 2>&1 |
            tee "$tree/hba-matrix.log"
        status=${PIPESTATUS[0]}
        if [ $status != 0 ]; then
            grep -v "^ok" "$tree/hba-matrix.log" | tail -60 >"$tree/hba-matrix-failures.log"
            explain "pg$major-installcheck-hba-matrix" "$tree/hba-matrix-failures.log"
        fi
        record "pg$major-installcheck-hba-matrix" $status
        stage_times+=("pg$major-regress $((SECONDS - start))s")
    fi

    if want tap; then
        section "PostgreSQL $major: TAP tests (prove)"
        timed "pg$major-tap" run_prove "$major" "$tree" "$bindir" "$pgxs_dir" tap
    fi

    if want cli; then
        section "PostgreSQL $major: pg_tls_check CLI tests (prove)"
        timed "pg$major-cli" run_prove "$major" "$tree" "$bindir" "$pgxs_dir" cli
    fi
}

if want regress || want tap || want cli; then
    for major in "${here_versions[@]}"; do test_version "$major"; done
fi

# test_in_root RELEASE: wait for its root filesystem, then run this script
# inside it for the release's majors and the demo; its outcomes, version
# descriptions and stage times join this run's (a results file).
test_in_root() {
    local release=$1 src=$work/$release-src results=$work/$release.results status i
    section "Debian $release root filesystem"
    for i in "${!background[@]}"; do wait "${background[i]}"; done
    background=()
    cat "$work/$release-root.log"
    stage_times+=("$release-root $(($(stat -c %Y "$work/$release-root.log") - $(cat "$work/$release-root.start")))s")
    if [ ! -f "$(bash "$repo/test/debian-root.sh" path "$release")/.key" ]; then
        for major in ${root_versions[$release]:-}; do
            skipped+=("$major: $(grep "root filesystem:" "$work/$release-root.log" | tail -1 | sed 's/^Debian //')")
        done
        want demo && skipped+=("demo: no $release root filesystem")
        return 0
    fi
    if [ -n "${root_versions[$release]:-}" ]; then
        local inner=""
        for s in regress tap cli; do want "$s" && inner="$inner $s"; done
        in_root "$release" env TLS_AUDIT_SKIP_APT=1 TLS_AUDIT_IN_ROOT="$release" \
            TLS_AUDIT_PG_VERSIONS="${root_versions[$release]}" TLS_AUDIT_SUITES="${inner# }" \
            TLS_AUDIT_RESULTS="$results" bash "$src/test/run-tests.sh"
        status=$?
        if [ -f "$results" ]; then
            while read -r kind rest; do
                case $kind in
                passed) passed+=("$rest") ;;
                failed) failures+=("$rest") ;;
                skipped) skipped+=("$rest") ;;
                version) described+=("$rest") ;;
                time) stage_times+=("$rest") ;;
                esac
            done <"$results"
        else
            record "$release-root" "$((status ? status : 1))"
        fi
    fi
    if want demo; then
        section "demo/demo.sh inside the Debian $release root filesystem (as a user runs it)"
        local demo=$work/$release-demo
        copy_tree "$demo"
        timed "$release-demo" in_root "$release" bash "$demo/demo/demo.sh" >"$work/$release-demo.log" 2>&1
        status=$?
        tail -25 "$work/$release-demo.log"
        record "$release-demo" "$status"
    fi
}
for release in "${other_releases[@]}"; do test_in_root "$release"; done

if want docs; then
    section "docs: links and generated examples are current"
    # Every relative link in README.md and doc/*.md resolves (files and #anchors).
    start=$SECONDS
    bash "$repo/test/docs/check-links.sh"
    links=$?
    bash "$repo/demo/tour.sh" --check
    tour=$?
    # The manual names every source file, check and output format (and the
    # check itself fails on a tree that breaks each rule).
    bash "$repo/test/docs/check-drift.sh" && bash "$repo/test/docs/check-drift.sh" --self-test
    drift=$?
    record docs $((links || tour || drift))
    stage_times+=("docs $((SECONDS - start))s")
fi

if want hardening; then
    section "hardening: sanitizers, fuzzing, valgrind, clang-tidy, cppcheck (doc/testing.md)"
    # Runs as root in the repository; its build trees, corpora and logs live in
    # TLS_AUDIT_HARDENING_DIR (default /tmp/pg_tls_audit-hardening.<checksum of the path>).
    # Its output is kept for the summary (the fuzzers' executions of this run).
    start=$SECONDS
    (cd "$repo" && PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config bash "$repo/test/hardening.sh") 2>&1 |
        tee "$work/hardening.log"
    record hardening "${PIPESTATUS[0]}"
    stage_times+=("hardening $((SECONDS - start))s")
fi

# Inside another release's root: hand the outcomes to the run outside.
if [ -n "${TLS_AUDIT_RESULTS:-}" ]; then
    {
        for x in "${passed[@]}"; do echo "passed $x"; done
        for x in "${failures[@]}"; do echo "failed $x"; done
        for x in "${skipped[@]}"; do echo "skipped $x"; done
        for x in "${described[@]}"; do echo "version $x"; done
        for x in "${stage_times[@]}"; do echo "time $x"; done
    } >"$TLS_AUDIT_RESULTS"
fi

section "summary"
tested=()
for major in $versions; do [[ " ${skipped[*]%%:*} " == *" $major "* ]] || tested+=("$major"); done
echo "PostgreSQL versions tested: ${tested[*]:-none}"
for x in "${described[@]}"; do echo "  $x"; done
for x in "${skipped[@]}"; do echo "  not available here: $x"; done
echo "passed: ${passed[*]:-none}"
echo "stage times: $(printf '%s, ' "${stage_times[@]}" | sed 's/, $//'), total $((SECONDS / 60)) min $((SECONDS % 60)) s"
# Per-run figures are reported here, not recorded in the repository.
if [ -f "$work/hardening.log" ]; then
    fuzz_runs=$(sed -nE 's/^([a-z0-9_]+_fuzz): ([0-9]+) executions .*/\1 \2/p;
        s/^([a-z0-9_]+_fuzz): FAILED \(exit [0-9]+\) after ([0-9]+) executions.*/\1 \2 (failed)/p' "$work/hardening.log" |
        paste -sd, - | sed 's/,/, /g')
    [ -n "$fuzz_runs" ] && echo "fuzz executions in this run: $fuzz_runs"
    grep -E '^fuzz: [0-9]+ total executions' "$work/hardening.log" | tail -1
fi
if [ ${#failures[@]} -eq 0 ]; then
    echo "all suites passed${tested[*]:+ on PostgreSQL ${tested[*]}}"
    exit 0
fi
for f in "$why"/*.txt; do
    [ -f "$f" ] || continue
    echo "----- why $(basename "$f" .txt) failed (an excerpt; the whole output is above) -----"
    cat "$f"
done
echo "FAILED suites: ${failures[*]}"
exit 1
