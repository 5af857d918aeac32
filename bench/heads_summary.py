#!/usr/bin/env python3
"""Writes the margin-head report of a compare-heads results folder from the per-run reports committed in it.

    python3 bench/heads_summary.py RESULTS_DIR [--also FILE ...]

Reads RESULTS_DIR/<head>/eval.json (one seed) and RESULTS_DIR/<head>/seed-<s>/eval.json (several seeds), the
`evaluate` reports with the training figures under "training". Writes, atomically:
- RESULTS_DIR/heads.md: one row per run (10-fold accuracy as mean ± population std over the folds, AUC, EER,
  TAR@FAR, train time, img/s, final loss) and, with several seeds, the per-head table;
- RESULTS_DIR/heads-summary.md: the per-head table alone (mean ± sample std over the seeds of the per-run
  figures; the best mean of each column in bold), the block README.md includes (scripts/readme-results.py).
`--also FILE` writes a copy of heads.md there too. Prints heads.md.
"""
import json
import os
import re
import statistics
import sys

ORDER = ["softmax", "asoftmax", "amsoftmax", "arcface"]


def tar(m, far):
    return next((x["tar"] for x in m["tar_at_far"] if abs(x["far_target"] - far) < 1e-12), float("nan"))


def runs(results):
    found = []
    for head in sorted(os.listdir(results)):
        d = os.path.join(results, head)
        if not os.path.isdir(d):
            continue
        if os.path.exists(os.path.join(d, "eval.json")):
            found.append((head, d, head, ""))
        for s in sorted(os.listdir(d), key=lambda x: (len(x), x)):
            m = re.fullmatch(r"seed-(\d+)", s)
            if m and os.path.exists(os.path.join(d, s, "eval.json")):
                found.append((head, os.path.join(d, s), f"{head}/{s}", m.group(1)))
    rank = {h: i for i, h in enumerate(ORDER)}
    return sorted(found, key=lambda r: (rank.get(r[0], len(ORDER)), r[0], len(r[3]), r[3]))


def ms(v, scale=100, digits=2):
    if len(v) < 2:
        return f"{scale * v[0]:.{digits}f}"
    return f"{scale * statistics.mean(v):.{digits}f} ± {scale * statistics.stdev(v):.{digits}f}"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def main(argv):
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    results, also = argv[0], []
    rest = argv[1:]
    while rest:
        if rest[0] == "--also" and len(rest) > 1:
            also.append(rest[1])
            rest = rest[2:]
        else:
            sys.exit(f"unknown argument {rest[0]!r}\n{__doc__}")
    found = runs(results)
    if not found:
        sys.exit(f"{results}: no <head>/eval.json or <head>/seed-<s>/eval.json")
    rows = ["| run | seed | pairsDevTest 10-fold acc. | AUC | EER | TAR@FAR=1e-3 | TAR@FAR=1e-2 | train time | img/s | final loss |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    per_head = {}
    for h, d, label, s in found:
        p = os.path.join(d, "eval.json")
        try:
            e = json.load(open(p))
            m, t = e["metrics"], e.get("training", {})
        except (ValueError, KeyError) as ex:
            sys.exit(f"{p}: not an evaluate report ({ex})")
        seed = s or str(t.get("config", {}).get("seed", ""))
        rows.append(f"| {label} | {seed} | {100*m['accuracy_mean']:.2f} % ± {100*m['accuracy_std']:.2f} | {m['auc']:.4f} | "
                    f"{100*m['eer']:.1f} % | {100*tar(m, 1e-3):.1f} % | {100*tar(m, 1e-2):.1f} % | "
                    f"{t.get('train_seconds', float('nan'))/60:.1f} min | "
                    f"{t.get('images_per_second', float('nan')):.1f} | {t.get('final_loss_ema', float('nan')):.3f} |")
        per_head.setdefault(h, []).append((m["accuracy_mean"], m["auc"], m["eer"], tar(m, 1e-3), tar(m, 1e-2)))

    lines = ["Per run (accuracy: mean ± population std over the 10 folds):", ""] + rows
    summary = None
    if any(len(v) > 1 for v in per_head.values()):
        # column: (scale, digits, higher is better)
        cols = [(100, 2, True), (1, 4, True), (100, 1, False), (100, 1, True), (100, 1, True)]
        means = {h: [statistics.mean(c) for c in zip(*v)] for h, v in per_head.items()}
        best = [(max if hi else min)(means[h][i] for h in means) for i, (_, _, hi) in enumerate(cols)]
        table = ["| head | runs | 10-fold acc. (%) | AUC | EER (%) | TAR@FAR=1e-3 (%) | TAR@FAR=1e-2 (%) |",
                 "|---|---|---|---|---|---|---|"]
        plain = list(table)
        for h, v in per_head.items():
            cells, bold = [], []
            for i, (c, (scale, digits, _)) in enumerate(zip(zip(*v), cols)):
                cell = ms(list(c), scale, digits)
                cells.append(cell)
                bold.append(f"**{cell}**" if len(per_head) > 1 and means[h][i] == best[i] else cell)
            plain.append(f"| {h} | {len(v)} | " + " | ".join(cells) + " |")
            table.append(f"| {h} | {len(v)} | " + " | ".join(bold) + " |")
        lines += ["", "Per head, over seeds (mean ± sample std of the per-run figures):", ""] + plain
        summary = "\n".join(table) + "\n"
    report = "\n".join(lines) + "\n"
    write(os.path.join(results, "heads.md"), report)
    for f in also:
        os.makedirs(os.path.dirname(os.path.abspath(f)), exist_ok=True)
        write(f, report)
    if summary:
        write(os.path.join(results, "heads-summary.md"), summary)
    print(report, end="")


if __name__ == "__main__":
    main(sys.argv[1:])
