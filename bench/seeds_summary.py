#!/usr/bin/env python3
"""Per-head mean ± sample std over seeds of runs committed in different results folders, flip none and flip sum.

    python3 bench/seeds_summary.py --out FILE.md LABEL=RUN_DIR [LABEL=RUN_DIR ...]

Each RUN_DIR holds `eval.json` (the `evaluate --flip none` report of compare-heads.sh, training figures under
"training") and `eval-flip-sum.json` (the same model evaluated with `--flip sum`). LABEL groups runs (e.g. the head).
Writes FILE.md atomically: one row per run (10-fold accuracy as mean ± population std over the folds, AUC, TAR at
FAR 1e-3 / 1e-2, for both flip modes; the run's seed and source folder) and one row per label with the mean ± sample
std over its runs, and FILE-summary.md with the per-label table alone (the block README.md includes through
scripts/readme-results.py). Prints FILE.md.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from heads_summary import tar  # noqa: E402  (same folder)


def figures(path):
    with open(path) as f:
        m = json.load(f)["metrics"]
    return {"acc": 100 * m["accuracy_mean"], "std": 100 * m["accuracy_std"], "auc": m["auc"],
            "tar3": 100 * tar(m, 1e-3), "tar2": 100 * tar(m, 1e-2)}


def ms(xs, fmt):
    if len(xs) < 2:
        return fmt.format(xs[0])
    return fmt.format(statistics.mean(xs)) + " ± " + fmt.format(statistics.stdev(xs))


def main(argv):
    if len(argv) < 3 or argv[0] != "--out":
        sys.exit(__doc__)
    out = argv[1]
    rows = []
    for arg in argv[2:]:
        label, sep, d = arg.partition("=")
        if not sep or not os.path.isdir(d):
            sys.exit(f"not LABEL=RUN_DIR with an existing folder: {arg}")
        for name in ("eval.json", "eval-flip-sum.json"):
            if not os.path.exists(os.path.join(d, name)):
                sys.exit(f"{d}: missing {name}")
        with open(os.path.join(d, "eval.json")) as f:
            seed = json.load(f).get("training", {}).get("config", {}).get("seed", "?")
        rows.append((label, seed, d, figures(os.path.join(d, "eval.json")),
                     figures(os.path.join(d, "eval-flip-sum.json"))))
    lines = ["| run | seed | flip none: 10-fold acc. | AUC | flip sum: 10-fold acc. | AUC | TAR@FAR=1e-3 / 1e-2 "
             "(flip sum) | source |", "|---|---|---|---|---|---|---|---|"]
    for label, seed, d, a, b in rows:
        lines.append(f"| {label} | {seed} | {a['acc']:.2f} % ± {a['std']:.2f} | {a['auc']:.4f} | {b['acc']:.2f} % ± "
                     f"{b['std']:.2f} | {b['auc']:.4f} | {b['tar3']:.1f} % / {b['tar2']:.1f} % | `{d}` |")
    lines.append("")
    summary_start = len(lines)
    lines += ["| label | runs | flip none: 10-fold acc. (%) | AUC | flip sum: 10-fold acc. (%) | AUC | "
              "TAR@FAR=1e-3 (%) | TAR@FAR=1e-2 (%) |", "|---|---|---|---|---|---|---|---|"]
    for label in dict.fromkeys(r[0] for r in rows):
        rs = [r for r in rows if r[0] == label]
        lines.append(f"| {label} | {len(rs)} | {ms([r[3]['acc'] for r in rs], '{:.2f}')} | "
                     f"{ms([r[3]['auc'] for r in rs], '{:.4f}')} | {ms([r[4]['acc'] for r in rs], '{:.2f}')} | "
                     f"{ms([r[4]['auc'] for r in rs], '{:.4f}')} | {ms([r[4]['tar3'] for r in rs], '{:.1f}')} | "
                     f"{ms([r[4]['tar2'] for r in rs], '{:.1f}')} |")
    text = "\n".join(lines) + "\n"
    write(out, text)
    write(out[:-3] + "-summary.md" if out.endswith(".md") else out + "-summary.md",
          "\n".join(lines[summary_start:]) + "\n")
    print(text, end="")


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main(sys.argv[1:])
