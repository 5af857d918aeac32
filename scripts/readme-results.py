#!/usr/bin/env python3
"""Keeps README.md's result tables equal to the committed report files they come from.

    python3 scripts/readme-results.py [--check] [README.md]

A block in the README

    <!-- results:begin bench/results/<run>/heads-summary.md -->
    ...
    <!-- results:end -->

is replaced by the named file's content (a path relative to the repository root). Without --check the README is
rewritten atomically when a block changed; with --check nothing is written and the exit status is 1 when a block
differs from its file (ReadmeResultsTest in runtime/core makes the same check in `mvn verify`). A missing file or
an unclosed block is an error naming the README line.
"""
import os
import re
import sys

BEGIN = re.compile(r"^<!-- results:begin (\S+) -->$")
END = "<!-- results:end -->"


def sync(text, root, readme):
    out, lines, i, stale = [], text.split("\n"), 0, []
    while i < len(lines):
        m = BEGIN.match(lines[i])
        out.append(lines[i])
        i += 1
        if not m:
            continue
        start = i
        while i < len(lines) and lines[i] != END:
            i += 1
        if i == len(lines):
            sys.exit(f"{readme}:{start}: '{lines[start - 1]}' has no '{END}'")
        src = os.path.join(root, m.group(1))
        try:
            want = open(src, encoding="utf-8").read().strip("\n").split("\n")
        except OSError as e:
            sys.exit(f"{readme}:{start}: cannot read {m.group(1)}: {e.strerror}")
        if lines[start:i] != want:
            stale.append(m.group(1))
        out.extend(want)
    return "\n".join(out), stale


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    readme = args[0] if args else os.path.join(root, "README.md")
    text = open(readme, encoding="utf-8").read()
    new, stale = sync(text, root, readme)
    if check:
        for s in stale:
            print(f"{readme}: the block from {s} is stale (run python3 scripts/readme-results.py)", file=sys.stderr)
        return 1 if stale else 0
    if stale:
        tmp = readme + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(new)
        os.replace(tmp, readme)
        print(f"{readme}: updated {', '.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
