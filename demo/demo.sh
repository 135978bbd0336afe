#!/usr/bin/env bash
# pg_tls_audit demo: installs what it needs, builds and installs the
# extension, then runs the five-minute tour (demo/tour.sh): a throwaway
# TLS-enabled PostgreSQL cluster with freshly generated certificates, clients
# at several TLS versions and with a client certificate, and what tls_audit
# shows about them. Run as root on Debian 12 or 13 (the release is read from
# /etc/os-release):
#   bash demo/demo.sh                  the release's own PostgreSQL packages:
#                                      15 on Debian 12, 17 on Debian 13
#   PG_VERSION=18 bash demo/demo.sh    PostgreSQL 18, built once from Debian's
#                                      source package (test/pg-versions.sh)
#   KEEP=1 bash demo/demo.sh           leaves the cluster running
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
release=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)
# The major this release packages itself (test/pg-versions.txt: "package").
packaged=$(awk -v r="$release" '!/^#/ && $2 == r && $3 == "package" {print $1; exit}' "$repo/test/pg-versions.txt")
if [ -z "${PG_VERSION:-}" ] && [ -z "$packaged" ]; then
    echo "demo.sh: runs on Debian 12 or 13; this machine is '${release:-not Debian}' (/etc/os-release)" >&2
    exit 1
fi
version=${PG_VERSION:-$packaged}

echo "== installing dependencies (apt)"
bash "$repo/test/deps.sh"

if [ -z "${PG_CONFIG:-}" ]; then
    echo "== PostgreSQL $version"
    PG_CONFIG=$(bash "$repo/test/pg-versions.sh" pg_config "$version") || {
        echo "PostgreSQL $version is not available here (see above)" >&2
        exit 1
    }
fi
export PG_CONFIG
echo "   $("$PG_CONFIG" --version)"

echo "== building and installing pg_tls_audit"
make -C "$repo" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null
make -C "$repo" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
make -C "$repo" -s install PG_CONFIG="$PG_CONFIG" >/dev/null

echo "== starting a throwaway TLS cluster and connecting clients"
bash "$repo/demo/tour.sh"
echo
echo "demo finished"
