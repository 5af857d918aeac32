#!/usr/bin/env bash
# Regenerates every number published in README.md and BENCHMARKS.md, in sequence, each into its own committed
# folder under bench/results/ (see BENCHMARKS.md, "Where each number comes from"). Run it on a quiet machine:
# nothing else may run while it measures.
#
#   bench/reproduce-all.sh [--stages LIST] [--date STAMP] [--dry-run]
#
#   --stages LIST  comma list, in this order by default: demo,heads,bench,ort-vs-dl4j,server,gpu-smoke
#                    demo         scripts/record-demo.sh                          -> bench/results/demo-<date>/
#                    heads        scripts/compare-heads.sh --epochs 4             -> bench/results/heads-<date>/
#                    bench        bench/run-all.sh (every stage, 3 repeats)       -> bench/results/<date>-full/
#                    ort-vs-dl4j  bench/run-all.sh --only ort-best,dl4j-infer     -> bench/results/<date>-ort-vs-dl4j/
#                    server       bench/server-bench.sh (the demo model)          -> bench/results/server-<date>/
#                    gpu-smoke    bench/gpu/run_gpu_bench.sh --cpu --quick        -> bench/results/<date>-gpu-cpu-smoke/
#                  (server needs runs/demo/model.onnx, which the demo stage writes)
#   --date STAMP   the <date> in the folder names (default: now, YYYYMMDD-HHMMSS)
#   --dry-run      print the commands and the estimate, run nothing
#
# The estimate printed at the start is from the 2026-11-30 runs on this project's 2-core machine.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
stages="demo,heads,bench,ort-vs-dl4j,server,gpu-smoke" stamp="$(date +%Y%m%d-%H%M%S)" dry=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --stages) stages="$2"; shift 2 ;;
    --date) stamp="$2"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
declare -A minutes=([demo]=8 [heads]=20 [bench]=45 [ort-vs-dl4j]=8 [server]=2 [gpu-smoke]=3)
declare -A cmd=(
  [demo]="scripts/record-demo.sh --results bench/results/demo-$stamp"
  [heads]="scripts/compare-heads.sh --epochs 4 --out runs/heads-$stamp --results bench/results/heads-$stamp"
  [bench]="bench/run-all.sh --skip-build --out bench/results/$stamp-full"
  [ort-vs-dl4j]="bench/run-all.sh --skip-build --only ort-best,dl4j-infer --out bench/results/$stamp-ort-vs-dl4j"
  [server]="bench/server-bench.sh --skip-build --out bench/results/server-$stamp"
  [gpu-smoke]="bench/gpu/run_gpu_bench.sh --cpu --quick --skip-build --out bench/results/$stamp-gpu-cpu-smoke"
)
IFS=, read -r -a list <<< "$stages"
total=0
for s in "${list[@]}"; do
  [[ -n "${cmd[$s]:-}" ]] || { echo "error: unknown stage '$s' (stages: demo,heads,bench,ort-vs-dl4j,server,gpu-smoke)" >&2; exit 2; }
  total=$((total + ${minutes[$s]}))
done
echo "[reproduce] stages: ${list[*]}; estimated duration about $total min on a quiet 2-core machine:" >&2
for s in "${list[@]}"; do printf '  %-12s ~%3d min  %s\n' "$s" "${minutes[$s]}" "${cmd[$s]}" >&2; done
read -r l1 _ < /proc/loadavg
echo "[reproduce] load average now: $l1 (should be near 0: stop other work first)" >&2
[[ $dry == 1 ]] && exit 0
cd "$repo"
log() { echo "[reproduce $(date +%H:%M:%S)] $*" >&2; }
log "build: mvn package -pl bench -am (root reactor; nothing installed into ~/.m2)"
mvn -B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true package -pl bench -am
failed=()
for s in "${list[@]}"; do
  log "stage $s: ${cmd[$s]}"
  t0=$(date +%s)
  if bash -c "${cmd[$s]}"; then log "stage $s done in $(( ($(date +%s) - t0) / 60 )) min"
  else log "stage $s FAILED"; failed+=("$s"); fi
done
if [[ ${#failed[@]} -gt 0 ]]; then log "FAILED stages: ${failed[*]}"; exit 1; fi
log "all stages done; update README.md / BENCHMARKS.md from the folders above and commit them"
