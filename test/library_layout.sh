#!/usr/bin/env bash
# How pg_tls_audit.so is linked, checked on the built library (Makefile,
# src/pg/hot_layout.ld; why: doc/layout.md, "How the library is linked"):
#  * no C++ runtime among its shared-library dependencies (libstdc++ and
#    libgcc are linked in, their symbols hidden: none of theirs exported or
#    left to another library);
#  * the exit code (_fini, crtbegin's __do_global_dtors_aux) and the
#    constants every connection reads inside .text.hot, and the code segment
#    starting at a 64 kB boundary;
#  * the per-connection data, the role floor's verdict and crtbegin's exit
#    flag (completed.0) in .bss.hot, within one page;
#  * libpq no dependency and no PQ symbol in the dynamic symbol table.
# A check that needs the symbol table is reported as skipped on a stripped
# library.
#   test/library_layout.sh PATH/pg_tls_audit.so
set -u
lib=${1:?usage: library_layout.sh PATH/pg_tls_audit.so}
[ -f "$lib" ] || { echo "library_layout: $lib not found"; exit 1; }
failures=0
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
pass() { echo "ok - $*"; }

needed=$(readelf -dW "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if grep -qE '^lib(stdc\+\+|gcc_s)\.' <<<"$needed"; then
    fail "no C++ runtime among the dependencies (NEEDED: $(tr '\n' ' ' <<<"$needed"))"
else
    pass "no C++ runtime among the dependencies"
fi
# The C++ runtime's entry points are neither exported nor imported.
runtime=$(nm -D "$lib" | awk '$NF ~ /^(__cxa_throw|__cxa_begin_catch|__gxx_personality_v0|_Unwind_Resume|_ZSt9terminatev|_Znwm)$/')
if [ -n "$runtime" ]; then fail "C++ runtime symbols hidden (dynamic symbols: $(tr '\n' ' ' <<<"$runtime"))"; else pass "C++ runtime symbols hidden"; fi

# libpq is loaded on first use (src/pg/libpq_on_demand.cpp), not linked: it
# is no dependency, and its functions are the library's own hidden
# forwarders, neither exported (another module would bind to them) nor left
# undefined (a call that would need libpq at load time, or fail to resolve).
if grep -qE '^libpq\.' <<<"$needed"; then
    fail "libpq not among the dependencies (NEEDED: $(tr '\n' ' ' <<<"$needed"))"
else
    pass "libpq not among the dependencies"
fi
pq_symbols=$(nm -D "$lib" | awk '$NF ~ /^PQ/')
if [ -n "$pq_symbols" ]; then
    fail "no libpq symbol exported or undefined (dynamic symbols: $(tr '\n' ' ' <<<"$pq_symbols"))"
else
    pass "no libpq symbol exported or undefined"
fi

# section NAME -> "start end" (hex without 0x), empty when absent
section() { readelf -SW "$lib" | awk -v n="$1" '{ for (i = 1; i <= NF; i++) if ($i == n) { print $(i + 2), $(i + 4); exit } }'; }
read -r hot_start hot_size <<<"$(section .text.hot)"
read -r init_start _ <<<"$(section .init)"
read -r bss_start bss_size <<<"$(section .bss.hot)"
if [ -z "${hot_start:-}" ]; then fail ".text.hot present"; else pass ".text.hot present"; fi
if [ -z "${bss_start:-}" ]; then fail ".bss.hot present"; else pass ".bss.hot present"; fi
if [ -n "${init_start:-}" ] && (((16#$init_start) % 65536 == 0)); then
    pass "code segment at a 64 kB boundary"
else
    fail "code segment at a 64 kB boundary (.init at ${init_start:-none})"
fi
[ "$failures" = 0 ] || { echo "library_layout: $failures failed"; exit 1; }

# symbol PATTERN -> address (hex) of the first symbol whose whole name matches
# the extended regular expression, empty when absent
symbol() { readelf -sW "$lib" | awk -v n="^($1)\$" '$8 ~ n { print $2; exit }'; }
if ! readelf -SW "$lib" | grep -q ' \.symtab '; then
    echo "ok - # SKIP symbol placement: the library is stripped"
    exit 0
fi
inside() {  # inside WHAT SYMBOL START SIZE
    local addr
    addr=$(symbol "$2")
    if [ -n "$addr" ] && ((16#$addr >= 16#$3 && 16#$addr < 16#$3 + 16#$4)); then
        pass "$1 ($2) in its section"
    else
        fail "$1 ($2 at ${addr:-none}) in its section"
    fi
}
inside "exit code" _fini "$hot_start" "$hot_size"
inside "exit code" __do_global_dtors_aux "$hot_start" "$hot_size"
inside "transport names" "_ZN9tls_audit12_GLOBAL__N_1L?15kTransportNamesE" "$hot_start" "$hot_size"
inside "exit flag" "completed\\.0" "$bss_start" "$bss_size"
inside "per-connection state" _ZN9tls_audit2pg11census_glue7startupE "$bss_start" "$bss_size"
if (((16#$bss_start) % 4096 == 0 && 16#$bss_size <= 4096)); then
    pass ".bss.hot within one page"
else
    fail ".bss.hot within one page (at $bss_start, $((16#$bss_size)) bytes)"
fi
[ "$failures" = 0 ] || { echo "library_layout: $failures failed"; exit 1; }
