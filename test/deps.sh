#!/usr/bin/env bash
# Install what building and testing pg_tls_audit needs on Debian 12 (as root).
# Shared by the demo and the test suite. Set TLS_AUDIT_SKIP_APT=1 to skip.
set -euo pipefail
[ "${TLS_AUDIT_SKIP_APT:-0}" = 1 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: not root, skipping package installation" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    postgresql-15 postgresql-server-dev-15 postgresql-15-cron \
    build-essential g++ cmake make libssl-dev libkrb5-dev libgtest-dev \
    libipc-run-perl perl openssl ca-certificates prometheus-postgres-exporter \
    prometheus-node-exporter python3-jsonschema pgbouncer \
    bison flex dpkg-dev \
    default-jdk-headless libpostgresql-jdbc-java \
    jq testssl.sh chromium clang-14 libclang-rt-14-dev valgrind clang-tidy cppcheck util-linux \
    >/dev/null
