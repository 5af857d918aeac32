#!/usr/bin/env bash
# Trains the same network with each margin head on the same budget, exports each to ONNX and evaluates
# pairsDevTest through ONNX Runtime; prints a markdown table (also written to <out>/heads.md).
#
#   scripts/compare-heads.sh [--out runs/heads] [--results DIR] [--heads "softmax asoftmax amsoftmax arcface"]
#                            [--lfw DIR] [train flags...]
#
# The README's margin-head table: scripts/compare-heads.sh --epochs 4
# Models and checkpoints go to --out (runs/ is not committed). The reports behind the table go to --results
# (default bench/results/heads-<date>, committed): per head <head>/eval.json (the evaluate report, training
# figures included) and <head>/train-report.json, plus heads.md (the table), machine.json and command.txt.
# A head whose <out>/<head>/eval.json exists is not retrained (delete it, or use a fresh --out, to redo it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmdline="scripts/compare-heads.sh $*"
out="$repo/runs/heads"
results="$repo/bench/results/heads-$(date +%Y%m%d-%H%M%S)"
heads="softmax asoftmax amsoftmax arcface"
lfw="${SPHEREKIT_LFW:-$repo/../shared/data/lfw}"
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --heads) heads="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --lfw) lfw="$2"; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
mkdir -p "$results"
results="$(cd "$results" && pwd)"
echo "$cmdline" > "$results/command.txt"
python3 "$repo/bench/machine_json.py" "$results/machine.json" "$repo"
for h in $heads; do
  d="$out/$h"
  if [[ -f "$d/eval.json" ]]; then echo "== $h: already done ($d/eval.json)"; continue; fi
  echo "== $h" >&2
  "$repo/bin/spherekit" train --lfw "$lfw" --out "$d" --head "$h" --val-fraction 0 "${pass[@]}"
  "$repo/bin/spherekit" export-model --model "$d/model.zip" --output "$d/model.onnx" --check
  "$repo/bin/spherekit" evaluate --provider cpu --model "$d/model.onnx" --pairs "$lfw/pairsDevTest.txt" \
      --root "$lfw/lfw-deepfunneled" --report "$d/eval.json" --extra-json "$d/train-report.json"
done
python3 - "$out" "$results" $heads <<'PY'
import json, sys, os, shutil
out, results, heads = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = ["| head | pairsDevTest 10-fold acc. | AUC | EER | TAR@FAR=1e-2 | train time | img/s | final loss |",
        "|---|---|---|---|---|---|---|---|"]
for h in heads:
    p = os.path.join(out, h, "eval.json")
    if not os.path.exists(p):
        continue
    os.makedirs(os.path.join(results, h), exist_ok=True)
    for f in ("eval.json", "train-report.json"):
        if os.path.exists(os.path.join(out, h, f)):
            dst = os.path.join(results, h, f)
            shutil.copyfile(os.path.join(out, h, f), dst + ".tmp")
            os.replace(dst + ".tmp", dst)
    d = json.load(open(p)); m = d["metrics"]; t = d.get("training", {})
    tar = next((x["tar"] for x in m["tar_at_far"] if abs(x["far_target"] - 1e-2) < 1e-12), float("nan"))
    rows.append(f"| {h} | {100*m['accuracy_mean']:.2f} % ± {100*m['accuracy_std']:.2f} | {m['auc']:.4f} | "
                f"{100*m['eer']:.1f} % | {100*tar:.1f} % | {t.get('train_seconds', float('nan'))/60:.1f} min | "
                f"{t.get('images_per_second', float('nan')):.1f} | {t.get('final_loss_ema', float('nan')):.3f} |")
table = "\n".join(rows)
print(table)
for f in (os.path.join(out, "heads.md"), os.path.join(results, "heads.md")):
    tmp = f + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(table + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, f)
print(f"reports in {results}", file=sys.stderr)
PY
