#!/usr/bin/env bash
# Hardening checks of the pure C++ core (and the static analysis of all of
# src/): see the Hardening section of doc/testing.md.
#
#   bash test/hardening.sh                 everything, as CI runs it
#   TLS_AUDIT_FUZZ_SECONDS=600 ...         fuzz longer (default 60 s per fuzzer)
#   TLS_AUDIT_HARDENING_STEPS="fuzz" ...   only some steps: asan fuzz valgrind clang-tidy cppcheck
#   TLS_AUDIT_HARDENING_DIR=DIR ...        build trees, corpora and logs (default
#                                          /tmp/pg_tls_audit-hardening.<checksum of the
#                                          checkout's path>; kept, so reruns build
#                                          incrementally and fuzzing resumes from the
#                                          grown corpus)
#
# Steps:
#   asan        ASan+UBSan build (g++) of the core and unit tests, run by ctest
#   fuzz        libFuzzer targets (clang++-14, ASan+UBSan), each for a bounded
#               time on a corpus seeded from freshly generated certificates;
#               prints the executions of each and the total
#   valgrind    memcheck of the (uninstrumented) unit_tests binary: no invalid
#               access, no definite leak
#   clang-tidy  src/core, src/libpq and src/cli with the build's compile_commands.json,
#               src/pg with PostgreSQL's server include path (.clang-tidy files)
#   cppcheck    src/ with .cppcheck-suppressions
# Exits non-zero when any step fails; the last line is the summary.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# One default directory per checkout, so that clones run side by side.
dir=${TLS_AUDIT_HARDENING_DIR:-/tmp/pg_tls_audit-hardening.$(printf '%s' "$repo" | cksum | cut -d' ' -f1)}
fuzz_seconds=${TLS_AUDIT_FUZZ_SECONDS:-60}
steps=${TLS_AUDIT_HARDENING_STEPS:-"asan fuzz valgrind clang-tidy cppcheck"}
jobs=$(nproc 2>/dev/null || echo 2)
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
fuzz_cxx=${TLS_AUDIT_FUZZ_CXX:-clang++-14}
clang_tidy=${CLANG_TIDY:-clang-tidy}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

passed=()
failed=()
# cmake_configure BUILD ARGS...: configure, starting afresh when BUILD was
# configured for another source tree.
cmake_configure() {
    local build=$1
    shift
    if [ -f "$build/CMakeCache.txt" ] &&
        ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$repo" "$build/CMakeCache.txt"; then
        rm -rf "$build"
    fi
    cmake -S "$repo" -B "$build" "$@"
}
section() { printf '\n----- hardening: %s -----\n' "$*"; }
want() { [[ " $steps " == *" $1 "* ]]; }
# run_step NAME FUNCTION: runs it, times it, records the outcome.
run_step() {
    local name=$1 fn=$2 start=$SECONDS
    want "$name" || return 0
    section "$name"
    if "$fn"; then
        passed+=("$name")
        echo "hardening: $name passed ($((SECONDS - start)) s)"
    else
        failed+=("$name")
        echo "hardening: $name FAILED ($((SECONDS - start)) s)"
    fi
}

# Certificates for the unit tests, the seeds and the probe fuzzer's CA.
# Made once per run (some expire within days).
certs=$dir/certs
certs_made=0
make_certs() {
    [ $certs_made = 1 ] && return 0
    rm -rf "$certs"
    bash "$repo/test/certs/make-certs.sh" "$certs" >/dev/null && certs_made=1
}

# --- ASan + UBSan unit tests --------------------------------------------------
step_asan() {
    local build=$dir/asan
    cmake_configure "$build" -DTLS_AUDIT_SANITIZE=ON -DTLS_AUDIT_WERROR=ON >"$dir/asan-configure.log" 2>&1 ||
        { cat "$dir/asan-configure.log"; return 1; }
    # Every test binary ctest knows (unit_tests, and libpq_tests where libpq-dev
    # is installed): the default target builds them all.
    cmake --build "$build" -j"$jobs" >"$dir/asan-build.log" 2>&1 ||
        { tail -50 "$dir/asan-build.log"; return 1; }
    (cd "$build" &&
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j"$jobs") >"$dir/asan-ctest.log" 2>&1
    local rc=$?
    # Passing tests are one line each in the log; show failures and the summary.
    if [ $rc -ne 0 ]; then
        grep -vE '^ *(Start +[0-9]+:|[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed)' "$dir/asan-ctest.log" | tail -150
    else
        grep -E 'tests passed' "$dir/asan-ctest.log"
    fi
    return $rc
}

# --- libFuzzer -----------------------------------------------------------------
fuzz_total=0
step_fuzz() {
    local build=$dir/fuzz targets=() src name
    for src in "$repo"/test/fuzz/*_fuzz.cpp; do
        [ -f "$src" ] && targets+=("$(basename "$src" .cpp)")
    done
    [ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets in test/fuzz"; return 1; }
    command -v "$fuzz_cxx" >/dev/null || { echo "$fuzz_cxx not found (apt-get install clang-14 libclang-rt-14-dev)"; return 1; }
    CXX=$fuzz_cxx cmake_configure "$build" -DTLS_AUDIT_FUZZ=ON -DTLS_AUDIT_WERROR=ON \
        >"$dir/fuzz-configure.log" 2>&1 || { cat "$dir/fuzz-configure.log"; return 1; }
    cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$dir/fuzz-build.log" 2>&1 ||
        { tail -50 "$dir/fuzz-build.log"; return 1; }
    make_certs || { echo "certificate generation failed"; return 1; }
    # The probe's handshakes are recorded with the probe fuzzer itself (capture mode).
    local capture=
    [ -x "$build/probe_fuzz" ] && capture=$build/probe_fuzz
    bash "$repo/test/fuzz/make-seeds.sh" "$certs" "$dir/seeds" $capture || { echo "seed generation failed"; return 1; }

    local ok=0 short corpus log execs args rc
    mkdir -p "$dir/artifacts"
    for name in "${targets[@]}"; do
        short=${name%_fuzz}
        corpus=$dir/corpus/$short
        log=$dir/fuzz-$short.log
        mkdir -p "$corpus"
        args=(-max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$dir/artifacts/$short-")
        [ -f "$repo/test/fuzz/$short.dict" ] && args+=(-dict="$repo/test/fuzz/$short.dict")
        # The first directory receives new inputs; the seeds stay as generated.
        TLS_AUDIT_FUZZ_CA=$certs/ca-bundle.crt \
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "$build/$name" "${args[@]}" "$corpus" "$dir/seeds/$short" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        execs=${execs:-0}
        fuzz_total=$((fuzz_total + execs))
        if [ $rc -eq 0 ]; then
            echo "$name: $execs executions in ${fuzz_seconds} s, corpus $(ls "$corpus" | wc -l) inputs"
        else
            ok=1
            echo "$name: FAILED (exit $rc) after $execs executions; log $log; reproducer:"
            ls -1 "$dir/artifacts/$short-"* 2>/dev/null | tail -1
            grep -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x' "$log" | head -40
        fi
    done
    echo "fuzz: $fuzz_total total executions (${#targets[@]} fuzzers x ${fuzz_seconds} s)"
    return $ok
}

# --- valgrind memcheck of the unit tests -----------------------------------------
step_valgrind() {
    local build=$dir/plain
    command -v valgrind >/dev/null || { echo "valgrind not found"; return 1; }
    cmake_configure "$build" -DCMAKE_BUILD_TYPE=Debug -DTLS_AUDIT_WERROR=ON >"$dir/plain-configure.log" 2>&1 ||
        { cat "$dir/plain-configure.log"; return 1; }
    cmake --build "$build" -j"$jobs" --target unit_tests >"$dir/plain-build.log" 2>&1 ||
        { tail -50 "$dir/plain-build.log"; return 1; }
    make_certs || { echo "certificate generation failed"; return 1; }
    # Under memcheck everything runs 20-50 times slower, so a unit test that
    # asserts on timing (deadlines, cancel polling) may fail here and nowhere
    # else: the verdict of this step is memcheck's (its ERROR SUMMARY counts
    # invalid accesses, uninitialised values and definite leaks) and that the
    # test binary ran to its end. Test failures are shown as warnings; the
    # same tests must pass in the unit suite and in the asan step.
    # TLS_AUDIT_UNDER_VALGRIND=1 lets tests widen their timing margins.
    TLS_AUDIT_TEST_CERTS=$certs TLS_AUDIT_UNDER_VALGRIND=1 \
        valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        --suppressions="$repo/test/valgrind.supp" \
        --show-leak-kinds=definite --num-callers=30 --log-file="$dir/valgrind.log" \
        "$build/unit_tests" --gtest_brief=1 >"$dir/valgrind-tests.log" 2>&1
    local rc=$? errors
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$dir/valgrind.log" | tail -1)
    grep -E 'ERROR SUMMARY|definitely lost' "$dir/valgrind.log"
    grep -E '^\[=+\] [0-9]+ tests? from' "$dir/valgrind-tests.log"
    if [ "${errors:-x}" != 0 ]; then
        grep -B2 -A30 -E 'Invalid|uninitialised|definitely lost in|Process terminating' "$dir/valgrind.log" | head -100
        echo "valgrind: memcheck reported ${errors:-unknown} errors (exit $rc); full log $dir/valgrind.log"
        return 1
    fi
    if ! grep -qE '^\[=+\] [0-9]+ tests? from .* ran' "$dir/valgrind-tests.log"; then
        tail -20 "$dir/valgrind-tests.log"
        echo "valgrind: unit_tests did not run to its end (exit $rc)"
        return 1
    fi
    if [ $rc -ne 0 ]; then
        echo "valgrind: warning: tests failing only under valgrind (timing?):"
        grep -E '^\[  FAILED  \] [A-Za-z]' "$dir/valgrind-tests.log" | sort -u
    fi
    return 0
}

# --- clang-tidy ---------------------------------------------------------------------
step_clang_tidy() {
    local build=$dir/plain rc=0
    command -v "$clang_tidy" >/dev/null || { echo "$clang_tidy not found"; return 1; }
    # The same tree valgrind uses; configuring it writes compile_commands.json
    # (the CLI's sources are in it when they exist).
    cmake_configure "$build" -DCMAKE_BUILD_TYPE=Debug -DTLS_AUDIT_WERROR=ON >"$dir/plain-configure.log" 2>&1 ||
        { cat "$dir/plain-configure.log"; return 1; }
    echo "src/core, src/libpq, src/cli (compile_commands.json of $build)"
    (cd "$repo" && ls src/core/*/*.cpp src/libpq/*.cpp src/cli/*.cpp 2>/dev/null) |
        (cd "$repo" && xargs -r -P"$jobs" -n1 "$clang_tidy" -p "$build" --quiet) >"$dir/clang-tidy-core.log" 2>&1 || rc=1
    grep -E '(warning|error):' "$dir/clang-tidy-core.log"
    # The glue has no CMake target (PGXS builds it): same flags as the
    # Makefile, PostgreSQL's server headers included.
    local pg_inc pq_inc
    pg_inc=$("$pg_config" --includedir-server 2>/dev/null) || { echo "pg_config not found: $pg_config"; return 1; }
    # libpq-fe.h (the glue links the server's libpq): searched last, as the Makefile does.
    pq_inc=$("$pg_config" --includedir 2>/dev/null)
    echo "src/pg (-I$pg_inc -idirafter $pq_inc)"
    (cd "$repo" && ls src/pg/*.cpp 2>/dev/null) |
        (cd "$repo" && xargs -r -P"$jobs" -I{} "$clang_tidy" --quiet {} -- \
            -std=c++17 -Isrc/core -Isrc/libpq -Isrc/pg -I"$pg_inc" -idirafter "$pq_inc" -D_GNU_SOURCE) >"$dir/clang-tidy-pg.log" 2>&1 || rc=1
    grep -E '(warning|error):' "$dir/clang-tidy-pg.log"
    [ $rc -eq 0 ] || echo "clang-tidy: findings above; logs $dir/clang-tidy-core.log, $dir/clang-tidy-pg.log"
    return $rc
}

# --- cppcheck --------------------------------------------------------------------------
step_cppcheck() {
    command -v cppcheck >/dev/null || { echo "cppcheck not found"; return 1; }
    # PostgreSQL's headers are not given: cppcheck would analyse PostgreSQL
    # itself; its macros in src/pg are treated as unknown calls.
    (cd "$repo" && cppcheck --quiet --std=c++17 --language=c++ --enable=warning,performance,portability \
        --inline-suppr --suppressions-list=.cppcheck-suppressions --error-exitcode=1 -j"$jobs" \
        -Isrc/core -Isrc/libpq -Isrc/pg -Isrc/cli src/)
}

start=$SECONDS
echo "hardening: steps \"$steps\" in $dir (fuzz ${fuzz_seconds} s per fuzzer)"
run_step asan step_asan
run_step fuzz step_fuzz
run_step valgrind step_valgrind
run_step clang-tidy step_clang_tidy
run_step cppcheck step_cppcheck

section "summary"
[ ${#passed[@]} -gt 0 ] && echo "passed: ${passed[*]}"
[ ${#failed[@]} -gt 0 ] && echo "FAILED: ${failed[*]}"
want fuzz && echo "fuzz executions: $fuzz_total"
echo "hardening: ${#passed[@]} passed, ${#failed[@]} failed ($((SECONDS - start)) s)"
[ ${#failed[@]} -eq 0 ]
