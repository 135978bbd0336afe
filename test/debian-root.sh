#!/usr/bin/env bash
# A cached root filesystem of another Debian release, to build and test with
# that release's compiler, OpenSSL and PostgreSQL packages on this machine
# (Debian 13 "trixie" on a Debian 12 host: GCC 14, OpenSSL 3.5, PostgreSQL 17).
# Run as root.
#
#   bash test/debian-root.sh prepare trixie        build it, or refresh it when a
#                                                  PostgreSQL package version changed;
#                                                  prints its directory
#   bash test/debian-root.sh run trixie CMD ARG... run CMD inside it (as root)
#   bash test/debian-root.sh path trixie           prints its directory (built or not)
#
# Built with `debootstrap --variant=minbase SUITE DIR MIRROR` (the mirror is the
# one this machine's apt uses, test/debian-mirror.sh), then test/deps.sh inside
# installs that release's packages (postgresql-common is told first not to
# create a cluster). Cached in ${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}/rootfs-SUITE/,
# keyed by the suite, the versions of its postgresql-MAJOR packages
# (test/pg-versions.txt) and the checksum of test/deps.sh: when the suite's
# index (read at most once a day) lists another version, or deps.sh changed,
# the root filesystem is built again from scratch.
#
# `run` mounts /proc, a tmpfs on /dev/shm (PostgreSQL's POSIX shared memory)
# and binds the directory of source builds (rootfs-SUITE.cache/ on this
# machine, /var/cache/pg_tls_audit inside: PostgreSQL built from source there
# survives a refresh of the root) and TLS_AUDIT_ROOT_BIND (a directory of this
# machine, at the same path inside). On every way out (the command's end, an
# error, INT or TERM) the processes still running inside are stopped and
# everything is unmounted. One run at a time per root filesystem (a lock).
#
# Exit status: the command's; 3 with a one-line reason when the root
# filesystem cannot be had (no Debian mirror configured, the network fails).
set -euo pipefail

action=${1:?usage: debian-root.sh prepare|run SUITE [CMD...]}
suite=${2:?usage: debian-root.sh prepare|run SUITE [CMD...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
cache=${TLS_AUDIT_PG_CACHE:-/var/cache/pg_tls_audit}
root=$cache/rootfs-$suite
builds=$cache/rootfs-$suite.cache
# Where it is (for a caller that checks whether it was built).
[ "$action" = path ] && { echo "$root"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "debian-root.sh: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
mkdir -p "$cache" "$builds"

unavailable() { echo "Debian $suite root filesystem: $*" >&2; exit 3; }

# One user of a root filesystem at a time: a second run waits here.
exec 9>"$cache/rootfs-$suite.lock"
flock -n 9 || { echo "debian-root.sh: waiting for another run that uses $root" >&2; flock 9; }

# --- mounts and their cleanup ------------------------------------------------
mounted=()  # mount points, in mount order
mount_in() {  # mount_in TARGET MOUNT-ARGS...: mount and remember it
    local target=$1
    shift
    mkdir -p "$target"
    mount "$@" "$target"
    mounted+=("$target")
}
# Processes whose root directory is DIR (the chroot's), one pid a line.
processes_in() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$1" ] && echo "${p#/proc/}"
    done
    return 0
}
# bg_wait CMD...: run CMD in the background and wait for it, so that TERM
# reaches the trap at once (bash runs a trap only after a foreground command
# ends); cleanup stops it. CMD keeps the default action of INT (bash would
# make a background command ignore it): on Ctrl-C it stops with the rest of
# the process group, and only then does bash run the INT trap of a script
# that waits for it.
child=""
bg_wait() {
    local status
    env --default-signal=INT "$@" <&0 &
    child=$!
    wait "$child"
    status=$?
    child=""
    return $status
}
cleanup() {
    local status=$? pids i
    trap - EXIT INT TERM
    [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
    # Anything left inside (a server a killed test did not stop, dpkg of an
    # interrupted build): TERM, then KILL, bounded; /proc cannot be unmounted
    # under them.
    for i in $(seq 1 20); do
        pids=$(processes_in "$(readlink -f "$root")"; processes_in "$(readlink -f "$root").building")
        [ -z "$pids" ] && break
        if [ "$i" = 1 ]; then kill -TERM $pids 2>/dev/null || true
        elif [ "$i" = 10 ]; then kill -KILL $pids 2>/dev/null || true
        fi
        sleep 0.5
    done
    [ -n "$pids" ] && echo "debian-root.sh: processes still inside $root: $pids" >&2
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" ||
            echo "debian-root.sh: could not unmount ${mounted[i]}" >&2
    done
    mounted=()
    # Interrupted: die of INT, so that a calling script stops too (bash goes
    # on after a child that exits on INT with a status of its own).
    [ -n "$interrupted" ] && kill -INT $$
    exit "$status"
}
interrupted=""
trap cleanup EXIT
trap 'interrupted=1; exit 130' INT
trap 'exit 143' TERM

# Refuse to delete a directory that has anything mounted below it (a bind
# mount of this machine's files would be deleted with it).
remove_tree() {
    if grep -q " $1/" /proc/mounts; then
        echo "debian-root.sh: $1 has mounts below it; not removing it" >&2
        exit 1
    fi
    rm -rf "$1"
}

# The device nodes PostgreSQL and the tests use (debootstrap makes them).
check_devices() {
    local d
    for d in null zero random urandom; do
        [ -c "$1/dev/$d" ] || { echo "debian-root.sh: $1/dev/$d is missing" >&2; exit 1; }
    done
}

mount_basics() {  # mount_basics DIR
    check_devices "$1"
    mount_in "$1/proc" -t proc proc
    mount_in "$1/dev/shm" -t tmpfs -o mode=1777,size=512m shm
    cp -L /etc/resolv.conf "$1/etc/resolv.conf" 2>/dev/null || true
}

# The key of a root filesystem: suite, its PostgreSQL packages' versions as
# VERSIONS_CMD prints them for each package, the checksum of deps.sh.
key_packages() {
    awk -v s="$suite" '!/^#/ && NF >= 3 && $2 == s && $3 == "package" {print "postgresql-" $1}' "$here/pg-versions.txt"
}
key_of() {  # key_of DIR installed|candidate
    local p v
    echo "suite $suite"
    echo "deps.sh $(sha256sum "$here/deps.sh" | cut -c1-16)"
    for p in $(key_packages); do
        if [ "$2" = installed ]; then
            v=$(chroot "$1" dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
        else
            v=$(chroot "$1" apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
        fi
        echo "$p ${v:-none}"
    done
}

# --- build -------------------------------------------------------------------
build_root() {
    local mirror new=$root.building start=$SECONDS
    mirror=$(bash "$here/debian-mirror.sh" 2>&1) || unavailable "$mirror"
    remove_tree "$new"
    mkdir -p "$new"
    echo "Debian $suite root filesystem: debootstrap (once; cached in $root)" >&2
    bg_wait debootstrap --variant=minbase "$suite" "$new" "$mirror" >"$cache/rootfs-$suite.log" 2>&1 || {
        remove_tree "$new"
        unavailable "debootstrap failed ($(grep -m1 -E '^E:|Failed' "$cache/rootfs-$suite.log" || echo "see $cache/rootfs-$suite.log"))"
    }
    echo "Debian $suite root filesystem: debootstrap took $((SECONDS - start)) s; installing packages" >&2
    # No cluster from installing postgresql-NN: the tests make their own.
    mkdir -p "$new/etc/postgresql-common"
    echo "create_main_cluster = false" >"$new/etc/postgresql-common/createcluster.conf"
    cp "$here/deps.sh" "$new/root/deps.sh"
    mount_basics "$new"
    bg_wait chroot "$new" bash /root/deps.sh >>"$cache/rootfs-$suite.log" 2>&1 || {
        cleanup_mounts_now
        remove_tree "$new"
        unavailable "installing its packages failed ($(grep -m1 -E '^E:' "$cache/rootfs-$suite.log" || echo "see $cache/rootfs-$suite.log"))"
    }
    chroot "$new" apt-get clean
    key_of "$new" installed >"$new/.key"
    cleanup_mounts_now
    [ -d "$root" ] && remove_tree "$root"
    mv "$new" "$root"
    touch "$root/.checked"
    echo "Debian $suite root filesystem: built in $((SECONDS - start)) s ($(tr '\n' ' ' <"$root/.key"))" >&2
}
cleanup_mounts_now() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || umount -l "${mounted[i]}"; done
    mounted=()
}

# Is the cached root current? At most once a day, read the suite's index
# inside it and compare the candidate versions with the installed ones. An
# index that cannot be read (network) keeps the cached root.
current() {
    [ -f "$root/.key" ] || return 1
    [ "$(head -2 "$root/.key")" = "$(printf 'suite %s\ndeps.sh %s' "$suite" "$(sha256sum "$here/deps.sh" | cut -c1-16)")" ] || return 1
    [ -f "$root/.checked" ] && [ $(($(date +%s) - $(stat -c %Y "$root/.checked"))) -lt 86400 ] && return 0
    local now
    mount_basics "$root"
    if chroot "$root" apt-get update -qq >/dev/null 2>&1; then
        now=$(key_of "$root" candidate)
        cleanup_mounts_now
        if [ "$now" != "$(cat "$root/.key")" ]; then
            echo "Debian $suite root filesystem: a package version changed ($(diff <(cat "$root/.key") <(echo "$now") | sed -n 's/^> //p' | tr '\n' ' ')); building it again" >&2
            return 1
        fi
    else
        cleanup_mounts_now
        echo "Debian $suite root filesystem: its index could not be read; using the cached one" >&2
    fi
    touch "$root/.checked"
}

prepare() {
    current || build_root
}

case $action in
prepare)
    prepare
    echo "$root"
    ;;
run)
    [ $# -gt 0 ] || { echo "usage: debian-root.sh run SUITE CMD..." >&2; exit 1; }
    prepare
    mount_basics "$root"
    mount_in "$root/var/cache/pg_tls_audit" --bind "$builds"
    if [ -n "${TLS_AUDIT_ROOT_BIND:-}" ]; then
        mount_in "$root$TLS_AUDIT_ROOT_BIND" --bind "$TLS_AUDIT_ROOT_BIND"
    fi
    set +e
    bg_wait chroot "$root" "$@"
    exit $?
    ;;
*)
    echo "usage: debian-root.sh prepare|run SUITE [CMD...]" >&2
    exit 1
    ;;
esac
