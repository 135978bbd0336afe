#!/usr/bin/env bash
# Time pg_tls_check (all four versions + the chain) against
# `testssl --starttls postgres -p` (protocols only) on the same local server,
# in interleaved runs, and show both tools' protocol verdicts side by side.
# Then (ENUMERATE=1, the default) the same server with a mixed cipher list, one
# curve and DHE: `pg_tls_check --enumerate` against
# `testssl --starttls postgres -e -P -f` (each cipher, preference, forward
# secrecy with curves and DH group): both tools' accepted suites, order and
# groups side by side, their difference (empty where both can test), and the
# time ratio. ENUM_RUNS (default 1) interleaved runs; ENUM_CIPHERS and
# ENUM_CURVE set the server's ssl_ciphers and ssl_ecdh_curve.
#
#   su postgres -c "bash bench/probe_vs_testssl.sh"      (from a directory postgres owns)
#
# Environment: TLS_AUDIT_TEST_CERTS (from test/certs/make-certs.sh), PATH with
# initdb/pg_ctl and pg_tls_check (PG_TLS_CHECK=path overrides), RUNS (default 3),
# MIN_PROTOCOL (the server's ssl_min_protocol_version, default TLSv1), TESTSSL
# (default testssl, Debian's name for testssl.sh). Not part of CI: testssl
# takes tens of seconds per run.
set -euo pipefail

PG_TLS_CHECK=${PG_TLS_CHECK:-pg_tls_check}
TESTSSL=${TESTSSL:-testssl}
RUNS=${RUNS:-3}
MIN_PROTOCOL=${MIN_PROTOCOL:-TLSv1}
ENUMERATE=${ENUMERATE:-1}
ENUM_RUNS=${ENUM_RUNS:-1}
ENUM_CIPHERS=${ENUM_CIPHERS:-ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-CHACHA20-POLY1305:CAMELLIA256-SHA:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA:AES256-GCM-SHA384:@SECLEVEL=0}
ENUM_CURVE=${ENUM_CURVE:-secp384r1}
CERTS=${TLS_AUDIT_TEST_CERTS:?set TLS_AUDIT_TEST_CERTS to the generated certificates}
for tool in initdb pg_ctl jq "$PG_TLS_CHECK" "$TESTSSL"; do
    command -v "$tool" >/dev/null || { echo "$tool not found in PATH" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/probe_vs_testssl.XXXXXX")
DATA=$WORK/data
cleanup() {
    [[ -f $DATA/postmaster.pid ]] && pg_ctl -D "$DATA" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

cp "$CERTS"/{server-chain.crt,server.key} "$WORK/"
chmod 600 "$WORK/server.key"
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    port_in_use "$p" || { PORT=$p; break; }
done
[[ -n $PORT ]] || { echo "no free port" >&2; exit 2; }
initdb -D "$DATA" -A trust --no-sync >/dev/null
cat >"$DATA/postgresql.auto.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$WORK'
ssl = on
ssl_cert_file = '$WORK/server-chain.crt'
ssl_key_file = '$WORK/server.key'
ssl_min_protocol_version = '$MIN_PROTOCOL'
ssl_ciphers = 'ALL:@SECLEVEL=0'
CONF
pg_ctl -D "$DATA" -l "$WORK/server.log" -w start >/dev/null
echo "server 127.0.0.1:$PORT, ssl_min_protocol_version = $MIN_PROTOCOL; $RUNS interleaved runs"

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

mine_ms=() theirs_ms=()
printf '%-5s %16s %12s\n' run pg_tls_check testssl
for i in $(seq "$RUNS"); do
    t0=$(now_ms)
    "$PG_TLS_CHECK" --format json --min-protocol TLSv1 "127.0.0.1:$PORT" >"$WORK/mine.json" || true
    t1=$(now_ms)
    rm -f "$WORK/theirs.json"
    "$TESTSSL" --quiet --color 0 --warnings off --jsonfile "$WORK/theirs.json" \
        --starttls postgres -p "127.0.0.1:$PORT" >"$WORK/theirs.out" 2>&1 || true
    t2=$(now_ms)
    mine_ms+=($((t1 - t0)))
    theirs_ms+=($((t2 - t1)))
    printf '%-5s %13s ms %9s ms\n' "$i" "$((t1 - t0))" "$((t2 - t1))"
done
m=$(printf '%s\n' "${mine_ms[@]}" | median)
t=$(printf '%s\n' "${theirs_ms[@]}" | median)
echo "median: pg_tls_check ${m} ms, testssl ${t} ms; testssl / pg_tls_check = $(awk -v a="$t" -v b="$m" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')x"

# Verdicts of the last run, side by side.
echo
printf '%-9s %-44s %s\n' protocol pg_tls_check testssl
agree=0
declare -A TESTSSL_ID=([TLSv1]=TLS1 [TLSv1.1]=TLS1_1 [TLSv1.2]=TLS1_2 [TLSv1.3]=TLS1_3)
for v in TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; do
    mine=$(jq -r --arg v "$v" '.targets[0].protocols[$v] // {} |
        if .accepted == true then "accepted (\(.cipher))" elif .accepted == false then "refused" else "error" end' "$WORK/mine.json")
    theirs=$(jq -r --arg id "${TESTSSL_ID[$v]}" '[.[] | select(.id == $id) | .finding][0] // "?"' "$WORK/theirs.json" 2>/dev/null || echo "?")
    [[ ($mine == accepted* && $theirs == offered*) || ($mine == refused && $theirs == "not offered"*) ]] && agree=$((agree + 1))
    printf '%-9s %-44s %s\n' "$v" "$mine" "$theirs"
done
echo "verdicts agree on $agree of 4 versions"

[[ $ENUMERATE == 1 ]] || exit 0

# --- Enumeration: suites, order, groups -----------------------------------------
cat >>"$DATA/postgresql.auto.conf" <<CONF
ssl_ciphers = '$ENUM_CIPHERS'
ssl_ecdh_curve = '$ENUM_CURVE'
ssl_prefer_server_ciphers = on
CONF
pg_ctl -D "$DATA" -l "$WORK/server.log" -w restart >/dev/null
echo
echo "enumeration: ssl_ciphers = '$ENUM_CIPHERS', ssl_ecdh_curve = '$ENUM_CURVE'; $ENUM_RUNS interleaved runs"
mine_ms=() theirs_ms=()
printf '%-5s %16s %12s\n' run "--enumerate" "testssl -e -P -f"
for i in $(seq "$ENUM_RUNS"); do
    t0=$(now_ms)
    "$PG_TLS_CHECK" --enumerate --format json "127.0.0.1:$PORT" >"$WORK/enum.json" || true
    t1=$(now_ms)
    rm -f "$WORK/theirs_enum.json"
    "$TESTSSL" --quiet --color 0 --warnings off --jsonfile "$WORK/theirs_enum.json" \
        --starttls postgres -e -P -f "127.0.0.1:$PORT" >"$WORK/theirs_enum.out" 2>&1 || true
    t2=$(now_ms)
    mine_ms+=($((t1 - t0)))
    theirs_ms+=($((t2 - t1)))
    printf '%-5s %13s ms %9s ms\n' "$i" "$((t1 - t0))" "$((t2 - t1))"
done
m=$(printf '%s\n' "${mine_ms[@]}" | median)
t=$(printf '%s\n' "${theirs_ms[@]}" | median)
echo "median: pg_tls_check --enumerate ${m} ms, testssl -e -P -f ${t} ms; testssl / pg_tls_check = $(awk -v a="$t" -v b="$m" 'BEGIN {printf "%.1f", a / (b > 0 ? b : 1)}')x"

# Accepted suites (all versions), side by side.
jq -r '[.targets[0].enumeration.protocols[].suites[].name] | unique | .[]' "$WORK/enum.json" | sort >"$WORK/suites.mine"
jq -r '.[] | select(.id | test("^cipher_x")) | .finding | split(" ") | map(select(. != "")) | .[1]' \
    "$WORK/theirs_enum.json" | sort -u >"$WORK/suites.theirs"
echo
echo "accepted suites (any version): pg_tls_check $(wc -l <"$WORK/suites.mine"), testssl $(wc -l <"$WORK/suites.theirs")"
join -a1 -a2 -e '-' -o 0,1.1,2.1 "$WORK/suites.mine" "$WORK/suites.theirs" |
    awk '{printf "  %-36s %-14s %s\n", $1, ($2 == "-" ? "-" : "pg_tls_check"), ($3 == "-" ? "-" : "testssl")}'
# testssl cannot offer what its own OpenSSL lacks either; both use the system
# OpenSSL here, so the difference must be empty.
diff_suites=$(comm -3 "$WORK/suites.mine" "$WORK/suites.theirs" | tr -d '\t' | paste -sd' ' -)
echo "difference: ${diff_suites:-none}"

# Server order per version.
for v in TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; do
    mine=$(jq -r --arg v "$v" '.targets[0].enumeration.protocols[$v] |
        (if .server_preference == true then "server order: " elif .server_preference == false then "client order: " else "" end)
        + ([.suites[].name] | join(" "))' "$WORK/enum.json")
    id="cipherorder_${v/./_}"
    theirs=$(jq -r --arg id "$id" '[.[] | select(.id == $id) | .finding][0] // ""' "$WORK/theirs_enum.json")
    printf '%-8s pg_tls_check %s\n%-8s testssl      %s\n' "$v" "${mine:--}" "" "${theirs:--}"
    if [[ $mine == "server order: "* && -n $theirs ]]; then
        [[ ${mine#server order: } == "$theirs" ]] && echo "         same order" || echo "         ORDER DIFFERS"
    fi
done
echo "testssl cipher_order: $(jq -r '[.[] | select(.id == "cipher_order") | .finding][0] // "?"' "$WORK/theirs_enum.json")"

# Groups: ECDHE curves and the DH group.
declare -A OPENSSL_CURVE=([x25519]=X25519 [x448]=X448 [P-256]=prime256v1 [P-384]=secp384r1 [P-521]=secp521r1)
mine_curves=$(jq -r '[.targets[0].enumeration.groups[] | select(.supported and (.group | startswith("ffdhe") | not)) | .group] | unique | .[]' \
    "$WORK/enum.json" | while read -r g; do echo "${OPENSSL_CURVE[$g]:-$g}"; done | sort | paste -sd' ' -)
theirs_curves=$(jq -r '[.[] | select(.id == "PFS_ECDHE_curves") | .finding][0] // ""' "$WORK/theirs_enum.json" | tr ' ' '\n' | sed '/^$/d' | sort | paste -sd' ' -)
mine_dh=$(jq -r '.targets[0].enumeration.dhe | if .accepted then "\(.bits) bits" else "none" end' "$WORK/enum.json")
theirs_dh=$(sed -n 's/^ *DH group offered: *//p' "$WORK/theirs_enum.out" | head -1)
mine_ffdhe=$(jq -r '[.targets[0].enumeration.groups[] | select(.supported and (.group | startswith("ffdhe"))) | .group] | join(" ")' "$WORK/enum.json")
echo
printf '%-18s %-34s %s\n' "" pg_tls_check testssl
printf '%-18s %-34s %s\n' "ECDHE curves" "${mine_curves:-none}" "${theirs_curves:-none}"
printf '%-18s %-34s %s\n' "DH group" "$mine_dh" "${theirs_dh:-none}"
printf '%-18s %-34s %s\n' "TLS 1.3 ffdhe" "${mine_ffdhe:-none}" "(not tested by testssl -f)"
[[ $mine_curves == "$theirs_curves" ]] && echo "curves: same" || echo "curves: DIFFER"
