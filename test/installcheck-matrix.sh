#!/usr/bin/env bash
# `make installcheck` against servers whose pg_hba.conf is GENERATED: every
# line type (local, host, hostssl, hostnossl, hostgssenc, hostnogssenc) times
# every authentication method (trust, reject, md5, password, scram-sha-256,
# cert where PostgreSQL accepts it: hostssl only), for ssl on and ssl off.
# The expected outputs of sql/*.sql may not depend on the server's pg_hba.conf
# or ssl (test/run-tests.sh runs two hand-made servers too); this proves it
# for every cell without one server per cell: two files of many lines each
# (narrow and wide addresses, the replication pseudo-database), each under
# ssl = on and ssl = off, so four servers.
#
#   test/installcheck-matrix.sh TREE BINDIR PG_CONFIG CERTDIR
#
# TREE: a tree where the extension is built and installed into PG_CONFIG's
# server (make installcheck runs there); BINDIR: that server's bin directory;
# CERTDIR: test/certs/make-certs.sh output (server.crt, server.key). Run as
# the user that owns clusters (not root). Exit status: 0 when every server
# passed; the diffs of a failing one are kept as TREE/regression-hba-NAME.diffs.
set -uo pipefail

[ $# -eq 4 ] || { echo "usage: $0 TREE BINDIR PG_CONFIG CERTDIR" >&2; exit 2; }
tree=$1 bindir=$2 pg_config=$3 certs=$4
export PATH="$bindir:$PATH"
failed=0

# hba_lines VARIANT: the generated lines after `local all all trust` (which
# the tests themselves need: they connect over the unix socket).
hba_lines() {
    local variant=$1 type method addr db
    for type in local host hostssl hostnossl hostgssenc hostnogssenc; do
        for method in trust reject md5 password scram-sha-256 cert; do
            # cert needs a TLS connection: PostgreSQL refuses the whole file otherwise.
            [ "$method" = cert ] && [ "$type" != hostssl ] && continue
            if [ "$variant" = narrow ]; then
                db=all addr=127.0.0.1/32
                [ "$method" = trust ] && db=replication
            else
                db=all addr=0.0.0.0/0
                case $method in
                    md5) addr=::1/128 ;;
                    password) addr=10.0.0.0/8 ;;
                    scram-sha-256) addr=samehost ;;
                    reject) db=replication ;;
                esac
            fi
            if [ "$type" = local ]; then
                echo "local $db all $method"
            else
                echo "$type $db all $addr $method"
            fi
        done
    done
}

# run_one NAME SSL VARIANT
run_one() {
    local name=$1 ssl=$2 variant=$3 data port status
    data=$tree/installcheck-hba-$name
    port=$((30000 + RANDOM % 20000))
    rm -rf "$data"
    echo "--- installcheck with a generated pg_hba.conf: $name (ssl = $ssl, $variant addresses)"
    if ! initdb -D "$data" -A trust >/dev/null; then
        echo "initdb failed ($name)"
        return 1
    fi
    cp "$certs/server.key" "$data/matrix-server.key" && chmod 600 "$data/matrix-server.key"
    {
        echo "shared_preload_libraries = 'pg_tls_audit'"
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$tree'"
        echo "ssl = $ssl"
        [ "$ssl" = on ] && echo "ssl_cert_file = '$certs/server.crt'" && echo "ssl_key_file = '$data/matrix-server.key'"
    } >>"$data/postgresql.conf"
    { echo "local all all trust"; hba_lines "$variant"; } >"$data/pg_hba.conf"
    if ! pg_ctl -D "$data" -l "$data.log" -w -t 60 start >/dev/null; then
        echo "could not start the server ($name):"
        tail -5 "$data.log"
        return 1
    fi
    PGHOST=$tree PGPORT=$port make -C "$tree" -s installcheck PG_CONFIG="$pg_config"
    status=$?
    if [ $status != 0 ]; then
        cp "$tree/regression.diffs" "$tree/regression-hba-$name.diffs" 2>/dev/null
        head -100 "$tree/regression.diffs" 2>/dev/null
        echo "pg_hba.conf of $name:"
        cat "$data/pg_hba.conf"
    fi
    pg_ctl -D "$data" -m fast -t 30 stop >/dev/null
    rm -rf "$data"
    return $status
}

for variant in narrow wide; do
    for ssl in on off; do
        run_one "$variant-ssl-$ssl" "$ssl" "$variant" || failed=1
    done
done
[ $failed = 0 ] && echo "installcheck passed with every generated pg_hba.conf"
exit $failed
