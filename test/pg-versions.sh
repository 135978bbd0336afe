#!/usr/bin/env bash
# PostgreSQL servers to build and test against, without hand installs.
#
#   bash test/pg-versions.sh pg_config 15    prints the pg_config of that major
#                                            version, building it first if needed
#   bash test/pg-versions.sh cron 18         prints the directory where pg_cron for
#                                            that version is installed (built if needed)
#
# 15 comes from Debian 12's own packages (test/deps.sh installs them).
# Newer majors come from Debian's *source* packages (postgresql-18 in unstable,
# postgresql-17 in trixie), fetched with `apt-get source` through a private apt
# configuration that adds deb-src entries for those suites beside the machine's
# Debian source; the machine's own sources.list is never changed and no binary
# of another suite is installed. Each is built into its own prefix under the
# cache directory, keyed by the exact version, so a second run does not rebuild:
#   ${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}/postgresql-<version>/
#
# TLS_AUDIT_PG_FROM_SOURCE=1 builds 15 from Debian 12's source package the
# same way (a private server prefix, e.g. for a developer who must not touch the
# system's installation; copy the prefix anywhere, it is relocatable).
#
# Exit status: 0 with the path on stdout; 3 with a one-line reason on stderr
# when that version cannot be had here (e.g. its source files answer 404);
# 1 on any other failure (a build error).
set -euo pipefail

what=${1:?usage: pg-versions.sh pg_config|cron MAJOR}
major=${2:?usage: pg-versions.sh pg_config|cron MAJOR}
cache=${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$cache"

unavailable() { echo "PostgreSQL $major: $*" >&2; exit 3; }

# Which Debian suite carries the source of each major (16 is in none).
suite_of() {
    case $1 in
    15) echo bookworm ;;
    17) echo trixie ;;
    18) echo unstable ;;
    *) return 1 ;;
    esac
}

# apt with a private source list and state, so the machine's configuration
# and package lists stay as they are.
apt_dir=$cache/apt
private_apt() {
    apt-get -q -o Dir::Etc::SourceList="$apt_dir/sources.list" \
        -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::Cache="$apt_dir/cache" \
        -o APT::Sandbox::User=root "$@"
}
private_apt_cache() {
    apt-cache -o Dir::Etc::SourceList="$apt_dir/sources.list" \
        -o Dir::Etc::SourceParts=/nonexistent \
        -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::Cache="$apt_dir/cache" "$@"
}
apt_ready() {
    [ -f "$apt_dir/updated" ] && grep -q bookworm "$apt_dir/sources.list" && [ $(($(date +%s) - $(stat -c %Y "$apt_dir/updated"))) -lt 86400 ] && return 0
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    # The same mirror as the machine's Debian entry.
    local uri
    uri=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]*debian[^ ]*' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
        grep -v security | head -1 | awk '{print $2}')
    uri=${uri:-http://deb.debian.org/debian}
    {
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri unstable main"
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main"
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main"
    } >"$apt_dir/sources.list"
    private_apt update >"$apt_dir/update.log" 2>&1 || { tail -3 "$apt_dir/update.log" >&2; return 1; }
    touch "$apt_dir/updated"
}

# source_version PACKAGE: the version the source index lists (each package
# named here is in one suite only; apt-cache showsrc takes no /suite).
source_version() {
    private_apt_cache showsrc "$1" 2>/dev/null | awk '/^Version:/ {print $2; exit}'
}

# fetch_source PACKAGE SUITE DIR: unpacked source tree path on stdout.
fetch_source() {
    local pkg=$1 suite=$2 dir=$3
    mkdir -p "$dir"
    (cd "$dir" && private_apt source -qq "$pkg/$suite" >"$cache/fetch-$pkg.log" 2>&1) || return 1
    find "$dir" -mindepth 1 -maxdepth 1 -type d | head -1
}

# The reason apt gave for a failed fetch, short (e.g. "404  Not Found").
fetch_error() {
    local why
    why=$(grep -m1 -oE ' [0-9]{3} +[A-Za-z ]+' "$cache/fetch-$1.log" 2>/dev/null | sed 's/^ *//; s/ *$//; s/  */ /g')
    echo "${why:-see $cache/fetch-$1.log}"
}

# The prefix of a major built from source (builds it when not cached).
built_prefix() {
    local suite version prefix src tree
    suite=$(suite_of "$major") || unavailable "no Debian suite carries its source package"
    apt_ready || unavailable "the source index of $suite could not be read"
    version=$(source_version "postgresql-$major")
    [ -n "$version" ] || unavailable "postgresql-$major is not listed in $suite"
    prefix=$cache/postgresql-$version
    if [ -x "$prefix/bin/pg_config" ] && [ -f "$prefix/.complete" ]; then
        echo "$prefix"
        return 0
    fi
    rm -rf "$prefix" "$cache/src-$version"
    tree=$(fetch_source "postgresql-$major" "$suite" "$cache/src-$version") || {
        rm -rf "$cache/src-$version"
        unavailable "the source files of postgresql-$major $version could not be fetched ($(fetch_error "postgresql-$major")); skipped"
    }
    echo "PostgreSQL $major: building $version from Debian's source package (once; cached in $prefix)" >&2
    local log=$cache/build-$version.log
    # (&& throughout: set -e does not apply inside a subshell that is part of ||)
    (
        cd "$tree" &&
            ./configure --prefix="$prefix" --with-openssl --without-icu --without-readline \
                --enable-tap-tests >"$log" 2>&1 &&
            make -s -j"$jobs" world-bin >>"$log" 2>&1 &&
            make -s install-world-bin >>"$log" 2>&1 &&
            # PostgreSQL::Test::* Perl modules, for the TAP suites.
            make -s -C src/test/perl install >>"$log" 2>&1
    ) || {
        echo "PostgreSQL $major: build failed; the last lines of $log:" >&2
        tail -20 "$log" >&2
        exit 1
    }
    # PGXS runs pg_regress from here; make install puts it there, check it.
    [ -x "$(dirname "$("$prefix/bin/pg_config" --pgxs)")/../test/regress/pg_regress" ] || {
        echo "PostgreSQL $major: pg_regress was not installed with PGXS" >&2
        exit 1
    }
    rm -rf "$cache/src-$version"
    touch "$prefix/.complete"
    echo "$prefix"
}

pg_config_of() {
    if [ "$major" = 15 ] && [ "${TLS_AUDIT_PG_FROM_SOURCE:-0}" != 1 ]; then
        [ -x /usr/lib/postgresql/15/bin/pg_config ] ||
            unavailable "Debian 12's postgresql-server-dev-15 is not installed (test/deps.sh)"
        echo /usr/lib/postgresql/15/bin/pg_config
        return
    fi
    local prefix
    prefix=$(built_prefix)
    echo "$prefix/bin/pg_config"
}

# pg_cron for a major: Debian's package for 15; for a major built here, the
# source package pg-cron from the same suite, built with that server's PGXS
# and installed into its prefix.
cron_of() {
    local pg_config
    pg_config=$(pg_config_of)
    if [ "$major" = 15 ] && [ "${TLS_AUDIT_PG_FROM_SOURCE:-0}" != 1 ]; then
        [ -f /usr/share/postgresql/15/extension/pg_cron.control ] ||
            unavailable "postgresql-15-cron is not installed"
        echo /usr/lib/postgresql/15/lib
        return
    fi
    local prefix suite version dir tree
    prefix=$("$pg_config" --bindir)/..
    if [ -f "$("$pg_config" --sharedir)/extension/pg_cron.control" ]; then
        "$pg_config" --pkglibdir
        return
    fi
    suite=$(suite_of "$major")
    version=$(source_version pg-cron)
    [ -n "$version" ] || unavailable "pg-cron is not listed in $suite"
    dir=$cache/pg-cron-$version-pg$major
    rm -rf "$dir"
    tree=$(fetch_source pg-cron "$suite" "$dir") ||
        unavailable "the source files of pg-cron $version could not be fetched ($(fetch_error pg-cron))"
    (cd "$tree" && make -s PG_CONFIG="$pg_config" >"$dir/build.log" 2>&1 &&
        make -s PG_CONFIG="$pg_config" install >>"$dir/build.log" 2>&1) ||
        unavailable "pg-cron $version does not build against PostgreSQL $major (see $dir/build.log)"
    rm -rf "$dir"
    "$pg_config" --pkglibdir
}

case $what in
pg_config) pg_config_of ;;
cron) cron_of ;;
*) echo "usage: pg-versions.sh pg_config|cron MAJOR" >&2; exit 1 ;;
esac
