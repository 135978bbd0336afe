#!/usr/bin/env bash
# pg_tls_audit demo: installs what it needs, builds and installs the
# extension, then runs the five-minute tour (doc/tour.sh): a throwaway
# TLS-enabled PostgreSQL 15 cluster with freshly generated certificates,
# clients at several TLS versions and with a client certificate, and what
# tls_audit shows about them. Run as root on Debian 12:
#   bash demo/demo.sh          (KEEP=1 leaves the cluster running)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}

echo "== installing dependencies (apt)"
bash "$repo/test/deps.sh"

echo "== building and installing pg_tls_audit"
make -C "$repo" -s -j"$(nproc)" >/dev/null
make -C "$repo" -s install >/dev/null

echo "== starting a throwaway TLS cluster and connecting clients"
bash "$repo/doc/tour.sh"
echo
echo "demo finished"
