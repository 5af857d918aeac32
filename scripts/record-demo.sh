#!/usr/bin/env bash
# Runs `bin/spherekit demo` and copies the reports behind README.md's demo table into a committed folder.
#
#   scripts/record-demo.sh [--results DIR] [--lfw DIR] [demo/train flags...]
#
# The demo's model and checkpoints stay in runs/demo (not committed). Copied to --results (default
# bench/results/demo-<date>): demo-report.json (config, training time, final loss, threshold, accuracy, AUC, EER,
# TAR@FAR), train-report.json, train-log.jsonl, roc.csv; plus wall-clock.json (the whole demo's wall time,
# build included), demo-output.txt (what the demo printed), machine.json and command.txt. Run on a quiet machine: training speed is part of the report.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmdline="scripts/record-demo.sh $*"
results="$repo/bench/results/demo-$(date +%Y%m%d-%H%M%S)"
runs="$repo/runs/demo"
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --results) results="$2"; shift 2 ;;
    --out) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done
mkdir -p "$results"
results="$(cd "$results" && pwd)"
echo "$cmdline" > "$results/command.txt"
python3 "$repo/bench/machine_json.py" "$results/machine.json" "$repo"
start=$(date +%s.%N)
"$repo/bin/spherekit" demo --out "$runs" "${pass[@]}" 2>&1 | tee "$results/demo-output.txt"
end=$(date +%s.%N)
python3 - "$runs" "$results" "$start" "$end" <<'PY'
import json, os, shutil, sys
runs, results, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
def atomic_copy(src, dst):
    shutil.copyfile(src, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
for f in ("demo-report.json", "train-report.json", "train-log.jsonl", "roc.csv"):
    if os.path.exists(os.path.join(runs, f)):
        atomic_copy(os.path.join(runs, f), os.path.join(results, f))
    else:
        sys.exit(f"error: the demo did not write {os.path.join(runs, f)}")
tmp = os.path.join(results, "wall-clock.json.tmp")
with open(tmp, "w") as fh:
    json.dump({"demo_wall_seconds": end - start, "includes": "build, image decoding, train, export, evaluate"},
              fh, indent=2)
os.replace(tmp, os.path.join(results, "wall-clock.json"))
print(f"reports in {results}", file=sys.stderr)
PY
