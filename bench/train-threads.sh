#!/usr/bin/env bash
# Training-speed lever (issue 16): OpenMP thread count and wait policy of the DL4J/ND4J trainer on this CPU, side by
# side in one run, median of N interleaved repeats.
#
#   bench/train-threads.sh [--repeats 3] [--identities 400] [--out DIR] [--lfw DIR]
#
# Each row trains SphereFace-4 width 0.5 + A-Softmax for 1 epoch on the first --identities View-1 DevTrain identities
# with >= 2 images (fixed crop, decoded crops from the cache, so decoding is not timed) and reads images/s from
# train-report.json (the training loop only: the first iteration's warm-up included, JVM start and data loading
# excluded), and peak RSS from GNU time. Rows (environment of the training JVM):
#   omp2           OMP_NUM_THREADS=2 (the default on 2 cores), the OpenMP runtime's default wait policy
#   omp2-passive   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE (threads sleep at barriers instead of spinning)
#   omp1           OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 (one core)
# The row order rotates with the repeat. Writes <out>/runs.jsonl (one line per run), summary.md (median per row and
# the ratio to omp2), machine.json, command.txt. Default out: bench/results/train-threads-<date>.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
cmdline="bench/train-threads.sh $*"
repeats=3 ids=400 out="" lfw=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --identities) ids="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --lfw) lfw="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
lfw="${lfw:-${SPHEREKIT_LFW:-$repo/../shared/data/lfw}}"
out="${out:-$bench/results/train-threads-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "$cmdline" > "$out/command.txt"
python3 "$bench/machine_json.py" "$out/machine.json" "$repo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rows=(omp2 omp2-passive omp1)
envs=("OMP_NUM_THREADS=2" "OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE" "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1")
train=("$repo/bin/spherekit" train --lfw "$lfw" --max-identities "$ids" --epochs 1 --val-fraction 0 --checkpoint-every 100000)
# warm the crop cache and the build once, untimed
"${train[@]}" --out "$work/warm" > "$work/warm.log" 2>&1 || { cat "$work/warm.log" >&2; exit 1; }
: > "$out/runs.jsonl.tmp"
for ((r = 0; r < repeats; r++)); do
  for ((k = 0; k < ${#rows[@]}; k++)); do
    i=$(( (k + r) % ${#rows[@]} ))
    name="${rows[$i]}" run="$work/$name-$r"
    load=$(cut -d' ' -f1 /proc/loadavg)
    env ${envs[$i]} /usr/bin/time -f '%M' -o "$work/rss" "${train[@]}" --out "$run" > "$run.log" 2>&1 \
        || { cat "$run.log" >&2; exit 1; }
    python3 - "$run/train-report.json" "$name" "$r" "$(cat "$work/rss")" "$load" "${envs[$i]}" >> "$out/runs.jsonl.tmp" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
print(json.dumps({"row": sys.argv[2], "repeat": int(sys.argv[3]), "env": sys.argv[6],
                  "images_per_second": rep["images_per_second"], "train_seconds": rep["train_seconds"],
                  "iterations": rep["iterations"], "images": rep["images"], "peak_rss_kib": int(sys.argv[4]),
                  "load_before": float(sys.argv[5])}))
PY
    echo "[train-threads] repeat $r $name: $(tail -1 "$out/runs.jsonl.tmp")" >&2
  done
done
mv "$out/runs.jsonl.tmp" "$out/runs.jsonl"
python3 - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
runs = [json.loads(l) for l in open(os.path.join(out, "runs.jsonl"))]
rows = []
for name in ("omp2", "omp2-passive", "omp1"):
    rs = [r for r in runs if r["row"] == name]
    rows.append((name, rs[0]["env"], statistics.median(r["images_per_second"] for r in rs),
                 [round(r["images_per_second"], 1) for r in rs], max(r["peak_rss_kib"] for r in rs)))
base = rows[0][2]
lines = ["| row | environment | img/s (median) | per repeat | vs omp2 | peak RSS (max, MiB) |", "|---|---|---|---|---|---|"]
for name, env, med, each, rss in rows:
    lines.append(f"| {name} | `{env}` | {med:.1f} | {', '.join(map(str, each))} | {med / base:.2f}x | {rss / 1024:.0f} |")
tmp = os.path.join(out, "summary.md.tmp")
with open(tmp, "w") as fh:
    fh.write("\n".join(lines) + "\n")
os.replace(tmp, os.path.join(out, "summary.md"))
print("\n".join(lines))
PY
