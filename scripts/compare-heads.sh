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
# seeds; bench/heads_summary.py, which also writes heads-summary.md, the per-head table README.md includes via
# scripts/readme-results.py), learning-curves.png (training loss per iteration; held-out 10-fold accuracy per epoch when
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
# copy each finished run's reports into the results folder, then write heads.md / heads-summary.md from them
for r in "${runs[@]}"; do
  IFS='|' read -r h d label s <<< "$r"
  [[ -f "$d/eval.json" ]] || continue
  mkdir -p "$results/$label"
  for f in eval.json train-report.json train-log.jsonl; do
    if [[ -f "$d/$f" ]]; then cp "$d/$f" "$results/$label/$f.tmp" && mv "$results/$label/$f.tmp" "$results/$label/$f"; fi
  done
done
python3 "$repo/bench/heads_summary.py" "$results" --also "$out/heads.md"
echo "reports in $results" >&2
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
