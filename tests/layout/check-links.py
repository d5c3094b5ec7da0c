#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Check every relative markdown link [..](path#anchor) in the given files:
the path exists, and the anchor is a GitHub-style anchor of a heading in it."""
import os, re, sys, unicodedata

def slug(h):
    h = h.strip().lower()
    h = re.sub(r'[^\w\- ]', '', h)   # drops punctuation and backticks, keeps letters, digits, _ and -
    return h.replace(' ', '-')

def anchors(path):
    out, seen, fence = set(), {}, False
    for line in open(path, encoding='utf-8'):
        if line.startswith('```'):
            fence = not fence
            continue
        m = None if fence else re.match(r'^(#{1,6})\s+(.*?)\s*#*\s*$', line)
        if m:
            a = slug(m.group(2))
            n = seen.get(a, 0)
            seen[a] = n + 1
            out.add(a if n == 0 else f'{a}-{n}')
    return out

link = re.compile(r'!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)', re.S)
bad = 0
for f in sys.argv[1:]:
    text = open(f, encoding='utf-8').read()
    # links inside fenced code are not links
    text = re.sub(r'^```.*?^```', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S | re.M)
    for m in link.finditer(text):
        target = m.group(1)
        if re.match(r'^[a-z]+:', target):
            continue
        lineno = text.count('\n', 0, m.start()) + 1
        path, _, anchor = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(dest):
            print(f'{f}:{lineno}: {target}: no file {dest}'); bad += 1; continue
        if anchor:
            if not dest.endswith('.md'):
                print(f'{f}:{lineno}: {target}: anchor in a non-markdown file'); bad += 1; continue
            if anchor not in anchors(dest):
                print(f'{f}:{lineno}: {target}: no heading #{anchor} in {dest}'); bad += 1
print(f'links: {bad} broken in {len(sys.argv) - 1} files', file=sys.stderr)
sys.exit(1 if bad else 0)
