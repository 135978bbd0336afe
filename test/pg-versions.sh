#!/usr/bin/env bash
# PostgreSQL servers to build and test against, without hand installs.
#
#   bash test/pg-versions.sh pg_config 15    prints the pg_config of that major
#                                            version, building it first if needed
#   bash test/pg-versions.sh cron 18         prints the directory where pg_cron for
#                                            that version is installed (built if needed)
#   bash test/pg-versions.sh list            the majors of test/pg-versions.txt
#   bash test/pg-versions.sh release 17      the Debian release a major is tested on
#
# test/pg-versions.txt says, per major, on which Debian release it is tested
# and where its server comes from there: that release's own packages
# (test/deps.sh installs them; on a machine of another release the major is
# not available here: test/run-tests.sh tests it inside a root filesystem of
# that release, test/debian-root.sh), or Debian's *source* package of a suite
# (postgresql-18 in unstable), fetched with `apt-get source` through a private
# apt configuration that adds deb-src entries for that suite beside the
# machine's Debian mirror (test/debian-mirror.sh); the machine's own
# sources.list is never changed and no binary of another suite is installed.
# A source build goes into its own prefix under the cache directory, keyed by
# the exact version, so a second run does not rebuild:
#   ${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}/postgresql-<version>/
#
# TLS_AUDIT_PG_FROM_SOURCE=1 builds a "package" major from its release's source
# package the same way (a private server prefix, e.g. for a developer who must
# not touch the system's installation; copy the prefix anywhere, it is
# relocatable).
#
# Exit status: 0 with the path on stdout; 3 with a one-line reason on stderr
# when that version cannot be had here (not in the table, another release's
# package, no Debian mirror configured, its source files answer 404);
# 1 on any other failure (a build error).
set -euo pipefail

what=${1:?usage: pg-versions.sh pg_config|cron|release MAJOR, or list}
here=$(cd "$(dirname "$0")" && pwd)
table=$here/pg-versions.txt
[ "$what" = list ] && { awk '!/^#/ && NF >= 3 {print $1}' "$table" | paste -sd' ' -; exit 0; }
major=${2:?usage: pg-versions.sh pg_config|cron|release MAJOR}
cache=${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}
jobs=$(nproc 2>/dev/null || echo 2)

unavailable() { echo "PostgreSQL $major: $*" >&2; exit 3; }

# The table's line of this major: "RELEASE FROM" (empty when not listed).
row=$(awk -v m="$major" '!/^#/ && $1 == m {print $2, $3; exit}' "$table")
release=${row%% *}
from=${row#* }
[ "$what" = release ] && { [ -n "$row" ] && echo "$release" && exit 0; exit 3; }
[ -n "$row" ] || unavailable "not in test/pg-versions.txt (no Debian suite this project builds from carries it)"
this_release=$( (. /etc/os-release && echo "${VERSION_CODENAME:-}") 2>/dev/null || true)
mkdir -p "$cache"

# The Debian suite whose source package a source build of this major uses.
suite_of() {
    case $from in
    source:*) echo "${from#source:}" ;;
    *) echo "$release" ;;
    esac
}
# Does this major come from the packages of the release this machine runs?
from_packages() {
    [ "$from" = package ] && [ "${TLS_AUDIT_PG_FROM_SOURCE:-0}" != 1 ]
}

# apt with a private source list and state, so the machine's configuration
# and package lists stay as they are.
apt_dir=$cache/apt-$(suite_of)
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
    local uri list
    # The same mirror as the machine's Debian entry; none: no source build.
    uri=$(bash "$here/debian-mirror.sh" 2>&1) || unavailable "$uri"
    # deb-src of the suite this major is built from. Unstable's and
    # experimental's Release files are re-signed often and a mirror or
    # snapshot may serve one past its Valid-Until: for those suites only,
    # apt is told not to check the date (their signature is still checked).
    local suite opts="signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
    suite=$(suite_of)
    case $suite in unstable | sid | experimental) opts="$opts check-valid-until=no" ;; esac
    list="deb-src [$opts] $uri $suite main"
    [ -f "$apt_dir/updated" ] && [ "$(cat "$apt_dir/sources.list" 2>/dev/null)" = "$list" ] &&
        [ $(($(date +%s) - $(stat -c %Y "$apt_dir/updated"))) -lt 86400 ] && return 0
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "$list" >"$apt_dir/sources.list"
    rm -f "$apt_dir/updated"
    private_apt update >"$apt_dir/update.log" 2>&1 || { tail -3 "$apt_dir/update.log" >&2; return 1; }
    touch "$apt_dir/updated"
}

# source_version PACKAGE: the version the source index lists (the private
# source list names one suite).
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
    suite=$(suite_of)
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
    if from_packages; then
        [ "$this_release" = "$release" ] ||
            unavailable "tested with Debian $release's packages; this machine is ${this_release:-not Debian} (test/run-tests.sh tests it inside a $release root filesystem)"
        [ -x "/usr/lib/postgresql/$major/bin/pg_config" ] ||
            unavailable "postgresql-server-dev-$major is not installed (test/deps.sh)"
        echo "/usr/lib/postgresql/$major/bin/pg_config"
        return
    fi
    local prefix
    prefix=$(built_prefix)
    echo "$prefix/bin/pg_config"
}

# pg_cron for a major: the release's package (postgresql-MAJOR-cron) for a
# major from packages; for a major built here, the
# source package pg-cron from the same suite, built with that server's PGXS
# and installed into its prefix.
cron_of() {
    local pg_config
    pg_config=$(pg_config_of)
    if from_packages; then
        [ -f "/usr/share/postgresql/$major/extension/pg_cron.control" ] ||
            unavailable "postgresql-$major-cron is not installed"
        echo "/usr/lib/postgresql/$major/lib"
        return
    fi
    local prefix suite version dir tree
    prefix=$("$pg_config" --bindir)/..
    if [ -f "$("$pg_config" --sharedir)/extension/pg_cron.control" ]; then
        "$pg_config" --pkglibdir
        return
    fi
    suite=$(suite_of)
    apt_ready || unavailable "the source index of $suite could not be read"
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
*) echo "usage: pg-versions.sh pg_config|cron|release MAJOR, or list" >&2; exit 1 ;;
esac
