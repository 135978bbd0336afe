#!/usr/bin/env bash
# Checks every relative link in README.md and doc/*.md: the file (or
# directory) it names exists, and a `#anchor` names a heading of the target
# (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens, -1,
# -2, ... for repeated headings) or an explicit <a id="..."> / <a name="...">.
# Links in code blocks and code spans are not links. Absolute URLs
# (https:, mailto:, ...) are not checked: the suite makes no network access.
#
#   test/docs/check-links.sh            check; prints each broken link, exits 1 if any
#   test/docs/check-links.sh FILE...    check these Markdown files instead
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
shopt -s nullglob
if [ $# -eq 0 ]; then
    set -- README.md doc/*.md
fi

python3 - "$@" <<'PY'
import os, re, sys

FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
HEADING = re.compile(r'^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$')
LINK = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)')
HTML_ANCHOR = re.compile(r'<a\s+(?:id|name)="([^"]+)"', re.I)
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:|^//')


def prose_lines(path):
    """(line number, text) of the lines outside fenced code, code spans removed."""
    fence = None
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip('\n')
            m = FENCE.match(line)
            if fence is None and m:
                fence = m.group(1)[0] * len(m.group(1))
                continue
            if fence is not None:
                if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                    fence = None
                continue
            yield number, re.sub(r'(`+)(?:(?!\1).)+?\1', '', line)


def slug(heading):
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # [text](url) -> text
    text = re.sub(r'<[^>]+>', '', text)                       # inline HTML
    text = text.lower()
    text = re.sub(r'[^\w\- ]', '', text)                       # punctuation, backticks, arrows
    return text.replace(' ', '-')


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        found, seen = set(), {}
        fence = None
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.rstrip('\n')
                m = FENCE.match(line)
                if fence is None and m:
                    fence = m.group(1)[0] * len(m.group(1))
                    continue
                if fence is not None:
                    if line.strip().startswith(fence) and set(line.strip()) <= {fence[0]}:
                        fence = None
                    continue
                found.update(HTML_ANCHOR.findall(line))
                h = HEADING.match(line)
                if h:
                    base = slug(h.group(2))
                    n = seen.get(base, 0)
                    seen[base] = n + 1
                    found.add(base if n == 0 else f'{base}-{n}')
        anchor_cache[path] = found
    return anchor_cache[path]


broken = checked = 0
for doc in sys.argv[1:]:
    if not os.path.isfile(doc):
        print(f'{doc}: no such file')
        broken += 1
        continue
    for number, line in prose_lines(doc):
        for target in LINK.findall(line):
            if not target or SCHEME.match(target):
                continue
            checked += 1
            path, _, anchor = target.partition('#')
            dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
            where = f'{doc}:{number}: link to {target}'
            if not os.path.exists(dest):
                print(f'{where}: {dest} does not exist')
                broken += 1
            elif anchor:
                if not dest.endswith('.md') or os.path.isdir(dest):
                    print(f'{where}: an anchor into {dest}, which is not a Markdown file')
                    broken += 1
                elif anchor not in anchors(dest):
                    print(f'{where}: {dest} has no heading with the anchor #{anchor}')
                    broken += 1

files = len(sys.argv) - 1
if broken:
    print(f'links: {broken} broken of {checked} relative links in {files} files')
    sys.exit(1)
print(f'links: all {checked} relative links in {files} files resolve')
PY
