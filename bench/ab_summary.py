#!/usr/bin/env python3
"""Side-by-side summary of repeated GalleryIndexBench runs of two code versions on the same settings.

    python3 bench/ab_summary.py RESULTS_DIR [--size 30000] [--encoding float32]

RESULTS_DIR holds <version>-<rep>/run-<size>-<encoding>.json folders (e.g. before-1, after-1, before-2, ...), as
written by bench/gallery-index.sh --out RESULTS_DIR/<version>-<rep>. Per fanout and version: the median over the
repetitions of p50 and p99 latency and of recall@10, and the ratio of the median p50s (first version / other).
Writes RESULTS_DIR/summary.md and prints it.
"""
import argparse
import json
import pathlib
import re
import statistics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--size", default="30000")
    ap.add_argument("--encoding", default="float32")
    a = ap.parse_args()
    root = pathlib.Path(a.dir)
    runs = {}  # version -> list of search lists
    for d in sorted(root.iterdir()):
        m = re.fullmatch(r"(.+)-(\d+)", d.name)
        f = d / f"run-{a.size}-{a.encoding}.json"
        if d.is_dir() and m and f.exists():
            runs.setdefault(m.group(1), []).append(json.loads(f.read_text())["search"])
    if len(runs) != 2:
        raise SystemExit(f"{root}: expected two versions, found {sorted(runs)}")
    versions = sorted(runs, key=lambda v: 0 if v == "before" else 1)
    fanouts = [s["fanout"] for s in runs[versions[0]][0]]
    lines = [f"# {a.size} vectors, {a.encoding}: {' vs '.join(versions)}, median of "
             f"{'/'.join(str(len(runs[v])) for v in versions)} runs each", "",
             "| fanout | " + " | ".join(f"{v} p50 / p99 (ms)" for v in versions) + " | "
             + " | ".join(f"{v} recall@10" for v in versions) + f" | p50 {versions[0]} / {versions[1]} |",
             "|---|" + "---|" * (2 * len(versions) + 1)]
    for fo in fanouts:
        med = {}
        for v in versions:
            rows = [next(s for s in search if s["fanout"] == fo) for search in runs[v]]
            med[v] = (statistics.median(r["latency_ms_p50"] for r in rows),
                      statistics.median(r["latency_ms_p99"] for r in rows),
                      statistics.median(r["recall_at_10"] for r in rows))
        lines.append(f"| {fo} | " + " | ".join(f"{med[v][0]:.2f} / {med[v][1]:.2f}" for v in versions) + " | "
                     + " | ".join(f"{med[v][2]:.4f}" for v in versions)
                     + f" | {med[versions[0]][0] / med[versions[1]][0]:.2f}× |")
    text = "\n".join(lines) + "\n"
    (root / "summary.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
