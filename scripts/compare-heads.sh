#!/usr/bin/env bash
# Trains the same network with each margin head (and each seed) on the same budget, exports each to ONNX and
# evaluates pairsDevTest through ONNX Runtime; prints a markdown report (also written to <out>/heads.md) and draws
# the learning curves of every run into one PNG.
#
#   scripts/compare-heads.sh [--out runs/heads] [--results DIR] [--heads "softmax asoftmax amsoftmax arcface"]
#                            [--seeds "42 43 44"] [--val-fraction 0] [--lfw DIR] [train flags...]
#
# The README's margin-head table: scripts/compare-heads.sh --epochs 4 (one seed: the train default, 42).
# The issue-15 table, 4 heads x 3 seeds: scripts/compare-heads.sh --seeds "42 43 44" --epochs 8
# Models and checkpoints go to --out (runs/ is not committed): <out>/<head>/ with one seed (the layout so far),
# <out>/<head>/seed-<s>/ with --seeds. The reports behind the table go to --results (default
# bench/results/heads-<date>, committed): per run eval.json (the evaluate report, training figures included),
# train-report.json and train-log.jsonl, plus heads.md (per-run rows, and per head the mean ± sample std over the
# seeds), learning-curves.png (training loss per iteration; held-out 10-fold accuracy per epoch when
# --val-fraction > 0), machine.json and command.txt.
# A run whose eval.json exists is not retrained (delete it, or use a fresh --out, to redo it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmdline="scripts/compare-heads.sh $*"
out="$repo/runs/heads"
results="$repo/bench/results/heads-$(date +%Y%m%d-%H%M%S)"
heads="softmax asoftmax amsoftmax arcface"
seeds=""
val="0"
lfw="${SPHEREKIT_LFW:-$repo/../shared/data/lfw}"
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --heads) heads="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --val-fraction) val="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --lfw) lfw="$2"; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
mkdir -p "$results"
results="$(cd "$results" && pwd)"
echo "$cmdline" > "$results/command.txt"
python3 "$repo/bench/machine_json.py" "$results/machine.json" "$repo"
runs=()   # "head dir label"
for h in $heads; do
  if [[ -z "$seeds" ]]; then
    runs+=("$h|$out/$h|$h|")
  else
    for s in $seeds; do runs+=("$h|$out/$h/seed-$s|$h/seed-$s|$s"); done
  fi
done
for r in "${runs[@]}"; do
  IFS='|' read -r h d label s <<< "$r"
  if [[ -f "$d/eval.json" ]]; then echo "== $label: already done ($d/eval.json)"; continue; fi
  echo "== $label" >&2
  seedflag=(); [[ -n "$s" ]] && seedflag=(--seed "$s")
  "$repo/bin/spherekit" train --lfw "$lfw" --out "$d" --head "$h" --val-fraction "$val" "${seedflag[@]}" "${pass[@]}"
  "$repo/bin/spherekit" export-model --model "$d/model.zip" --output "$d/model.onnx" --check
  "$repo/bin/spherekit" evaluate --provider cpu --flip none --model "$d/model.onnx" --pairs "$lfw/pairsDevTest.txt" \
      --root "$lfw/lfw-deepfunneled" --report "$d/eval.json" --extra-json "$d/train-report.json"
done
python3 - "$out" "$results" "${runs[@]}" <<'PY'
import json, sys, os, shutil, statistics
out, results, runs = sys.argv[1], sys.argv[2], [r.split("|") for r in sys.argv[3:]]

def tar(m, far):
    return next((x["tar"] for x in m["tar_at_far"] if abs(x["far_target"] - far) < 1e-12), float("nan"))

rows = ["| run | seed | pairsDevTest 10-fold acc. | AUC | EER | TAR@FAR=1e-3 | TAR@FAR=1e-2 | train time | img/s | final loss |",
        "|---|---|---|---|---|---|---|---|---|---|"]
per_head = {}
for h, d, label, s in runs:
    p = os.path.join(d, "eval.json")
    if not os.path.exists(p):
        continue
    os.makedirs(os.path.join(results, label), exist_ok=True)
    for f in ("eval.json", "train-report.json", "train-log.jsonl"):
        if os.path.exists(os.path.join(d, f)):
            dst = os.path.join(results, label, f)
            shutil.copyfile(os.path.join(d, f), dst + ".tmp")
            os.replace(dst + ".tmp", dst)
    e = json.load(open(p)); m = e["metrics"]; t = e.get("training", {})
    seed = s or str(t.get("config", {}).get("seed", ""))
    rows.append(f"| {label} | {seed} | {100*m['accuracy_mean']:.2f} % ± {100*m['accuracy_std']:.2f} | {m['auc']:.4f} | "
                f"{100*m['eer']:.1f} % | {100*tar(m, 1e-3):.1f} % | {100*tar(m, 1e-2):.1f} % | "
                f"{t.get('train_seconds', float('nan'))/60:.1f} min | "
                f"{t.get('images_per_second', float('nan')):.1f} | {t.get('final_loss_ema', float('nan')):.3f} |")
    per_head.setdefault(h, []).append((m["accuracy_mean"], m["auc"], m["eer"], tar(m, 1e-3), tar(m, 1e-2)))

def ms(v, scale=100, digits=2):
    if len(v) < 2:
        return f"{scale*v[0]:.{digits}f}"
    return f"{scale*statistics.mean(v):.{digits}f} ± {scale*statistics.stdev(v):.{digits}f}"

lines = ["Per run (accuracy: mean ± population std over the 10 folds):", ""] + rows
if any(len(v) > 1 for v in per_head.values()):
    lines += ["", "Per head, over seeds (mean ± sample std of the per-run figures):", "",
              "| head | runs | 10-fold acc. (%) | AUC | EER (%) | TAR@FAR=1e-3 (%) | TAR@FAR=1e-2 (%) |",
              "|---|---|---|---|---|---|---|"]
    for h, v in per_head.items():
        cols = list(zip(*v))
        lines.append(f"| {h} | {len(v)} | {ms(cols[0])} | {ms(cols[1], 1, 4)} | {ms(cols[2], 100, 1)} | "
                     f"{ms(cols[3], 100, 1)} | {ms(cols[4], 100, 1)} |")
table = "\n".join(lines)
print(table)
for f in (os.path.join(out, "heads.md"), os.path.join(results, "heads.md")):
    os.makedirs(os.path.dirname(f), exist_ok=True)
    tmp = f + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(table + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, f)
print(f"reports in {results}", file=sys.stderr)
PY
# learning curves of every finished run in one PNG (JFreeChart, the trainer's classes)
curves=()
for r in "${runs[@]}"; do
  IFS='|' read -r h d label s <<< "$r"
  [[ -f "$results/$label/train-log.jsonl" ]] && curves+=("$label=$results/$label/train-log.jsonl")
done
if [[ ${#curves[@]} -gt 0 ]]; then
  java -cp "$repo/trainer/target/classes:$(cat "$repo/trainer/target/classpath.txt")" \
      io.spherekit.trainer.LearningCurves "$results/learning-curves.png" "margin heads: training loss and held-out accuracy" \
      "${curves[@]}"
fi
