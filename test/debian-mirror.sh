#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt is configured with (the first
# non-security Debian entry of /etc/apt/sources.list or sources.list.d, in
# either format), for the private apt configurations of test/pg-versions.sh
# and test/debian-root.sh. No mirror address is written in the project: a
# machine without a Debian entry gets a one-line reason (exit status 3).
set -euo pipefail
uri=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]*debian[^ ]*' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null |
    grep -v security | head -1 | awk '{print $2}' || true)
if [ -z "$uri" ]; then
    echo "this machine's apt has no Debian source (no Debian entry in /etc/apt/sources.list or sources.list.d)" >&2
    exit 3
fi
echo "$uri"
