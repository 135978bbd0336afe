#!/usr/bin/env bash
# Install what building and testing pg_tls_audit needs (as root), on Debian 12
# (bookworm) or Debian 13 (trixie), read from /etc/os-release. Shared by the
# demo, the test suite and the Debian 13 root filesystem the test suite builds
# on a Debian 12 host (test/debian-root.sh). Set TLS_AUDIT_SKIP_APT=1 to skip.
set -euo pipefail
[ "${TLS_AUDIT_SKIP_APT:-0}" = 1 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: not root, skipping package installation" >&2
    exit 0
fi
codename=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)

# What every release needs: building the extension and the CLI, the TAP and
# CLI suites (IPC::Run, openssl s_client, the exporters, pgjdbc, testssl.sh,
# chromium for the report, python3-jsonschema for the JSON schema check,
# pgbouncer),
# building a PostgreSQL major from Debian's source package (bison, flex,
# dpkg-dev, zlib), and the unit tests (libpq for the conninfo redaction tests).
common=(
    build-essential g++ make pkg-config cmake libgtest-dev libssl-dev libkrb5-dev zlib1g-dev libpq-dev
    libipc-run-perl perl openssl ca-certificates procps util-linux
    prometheus-postgres-exporter prometheus-node-exporter python3 python3-jsonschema
    bison flex dpkg-dev
    default-jdk-headless libpostgresql-jdbc-java
    jq testssl.sh chromium pgbouncer
)
case $codename in
bookworm)
    # PostgreSQL 15 from Debian 12; the hardening tools (test/hardening.sh
    # runs on Debian 12 only: it names clang-14).
    release=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron
        clang-14 libclang-rt-14-dev valgrind clang-tidy cppcheck debootstrap)
    ;;
trixie)
    # PostgreSQL 17 from Debian 13 (GCC 14, OpenSSL 3.5); the server-dev
    # package carries the PostgreSQL::Test Perl modules of the TAP suites.
    release=(postgresql-17 postgresql-server-dev-17 postgresql-17-cron)
    ;;
*)
    echo "deps.sh: this is not Debian 12 or 13 (/etc/os-release: '${codename:-no VERSION_CODENAME}'); install the packages by hand" >&2
    exit 1
    ;;
esac
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${common[@]}" "${release[@]}" >/dev/null
