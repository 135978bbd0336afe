#!/usr/bin/env bash
# The manual may not drift from the code. Fails, naming each gap, when
#  - a source file of src/core, src/libpq, src/pg or src/cli is not named in doc/layout.md
#    (its name without extension, as a word: "census_file", "hook_census");
#  - a check name the core knows (check_names() in src/core/checks/checks.cpp)
#    has no row `name` in doc/checks.md;
#  - an output format of pg_tls_check (format_name() in src/cli/options.cpp)
#    is not described in doc/pg_tls_check.md (as **name** or `--format name`).
#
#   test/docs/check-drift.sh              check this tree
#   test/docs/check-drift.sh --self-test  prove each rule fails on a tree that
#                                         breaks it (scratch copies), prints TAP
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

# check TREE: prints one line per gap; exit 1 if any.
check() {
    python3 - "$1" <<'PY'
import os, re, subprocess, sys

tree = sys.argv[1]
gaps = []

def read(rel):
    with open(os.path.join(tree, rel), encoding="utf-8") as f:
        return f.read()

# 1. Every source file is named in the layout.
layout = read("doc/layout.md")
words = set(re.findall(r"[A-Za-z0-9_]+", layout))
sources = []
for top in ("src/core", "src/libpq", "src/pg", "src/cli"):
    for root, _, files in os.walk(os.path.join(tree, top)):
        for name in files:
            if name.endswith((".cpp", ".hpp")):
                sources.append(os.path.relpath(os.path.join(root, name), tree))
if not sources:
    gaps.append("no source files found under src/")
for path in sorted(sources):
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem not in words:
        gaps.append(f"doc/layout.md does not name {path} (add '{stem}' where its folder is described)")

# 2. Every check name has a row in doc/checks.md.
checks_cpp = read("src/core/checks/checks.cpp")
m = re.search(r"check_names\(\)\s*\{(.*?)\};", checks_cpp, re.S)
names = re.findall(r'"([a-z0-9_]+)"', m.group(1)) if m else []
if len(names) < 10:
    gaps.append("could not read the check names from src/core/checks/checks.cpp (check_names())")
checks_md = read("doc/checks.md")
for name in names:
    if not re.search(r"^\|\s*`" + re.escape(name) + r"`", checks_md, re.M):
        gaps.append(f"doc/checks.md has no row for the check `{name}`")

# 3. Every output format of pg_tls_check is described.
options_cpp = read("src/cli/options.cpp")
m = re.search(r"format_name\(Format f\)\s*\{(.*?)\n\}", options_cpp, re.S)
formats = re.findall(r'return "([a-z]+)";', m.group(1)) if m else []
if len(formats) < 3:
    gaps.append("could not read the output formats from src/cli/options.cpp (format_name())")
cli_md = read("doc/pg_tls_check.md")
for fmt in sorted(set(formats)):
    if f"**{fmt}**" not in cli_md and f"--format {fmt}" not in cli_md:
        gaps.append(f"doc/pg_tls_check.md does not describe --format {fmt}")

for g in gaps:
    print(g)
if not gaps:
    print(f"drift: {len(sources)} source files in doc/layout.md, {len(names)} checks in doc/checks.md, "
          f"{len(set(formats))} formats in doc/pg_tls_check.md")
sys.exit(1 if gaps else 0)
PY
}

if [ "${1:-}" != --self-test ]; then
    check "$repo"
    exit $?
fi

# --self-test: the real tree passes; each broken copy fails, naming the gap.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pg_tls_audit-drift.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
n=0 failed=0
copy() {  # a fresh copy of the files the check reads
    rm -rf "$scratch/tree"
    mkdir -p "$scratch/tree"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard -- src doc) |
        (cd "$repo" && xargs -0 cp --parents -t "$scratch/tree")
}
expect() {  # expect ok|fail DESCRIPTION PATTERN
    local want=$1 what=$2 pattern=$3 out rc
    out=$(check "$scratch/tree" 2>&1)
    rc=$?
    n=$((n + 1))
    if { [ "$want" = ok ] && [ $rc = 0 ]; } || { [ "$want" = fail ] && [ $rc != 0 ] && [[ $out == *"$pattern"* ]]; }; then
        echo "ok $n - $what"
    else
        failed=$((failed + 1))
        echo "not ok $n - $what (exit $rc)"
        printf '%s\n' "$out" | head -5 | sed 's/^/#   /'
    fi
}
copy
expect ok "the tree as it is passes" ""
copy
printf '// a new module nobody documented\n' >"$scratch/tree/src/core/census/zz_undocumented.hpp"
expect fail "a source file missing from doc/layout.md is named" "src/core/census/zz_undocumented.hpp"
copy
sed -i 's/^\(| *\)`ssl_enabled`/\1`ssl_on`/' "$scratch/tree/doc/checks.md"
expect fail "a check without a row in doc/checks.md is named" '`ssl_enabled`'
copy
sed -i 's/\*\*nagios\*\*/nagios output/g; s/--format nagios/--format  nagios/g' "$scratch/tree/doc/pg_tls_check.md"
expect fail "an output format missing from doc/pg_tls_check.md is named" "--format nagios"
echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
