#!/usr/bin/env bash
# ORT-Java serving levers vs Keras/TF predict on SphereFace-20 (issue #16), side by side in one run.
#
#   bench/serve-levers.sh [--quick] [--repeats N] [--skip-build] [--out DIR] [--rows a,b,...] [--jax]
#
#   --quick       smoke test: 1 repeat, 1 warm-up call, 2 timed batch-32 calls, 3 timed batch-1 calls
#   --repeats N   interleaved repeats (default 3; summary.md reports medians)
#   --skip-build  use the classes of an earlier build (bench/target/classpath.txt)
#   --out DIR     results folder (default bench/results/<date>-serve-levers)
#   --rows LIST   OrtServeLevers rows (default: all; see its javadoc)
#   --jax         also Keras/JAX predict
#
# Per repeat r: one JVM runs every lever row of io.spherekit.bench.OrtServeLevers one after the other (its own
# session per row; row order rotated by r), then Keras/TF predict (bench/python/cross_engine.py predict, the
# same timing loop: warm-up calls, timed calls, median); odd repeats run Keras first. Before the repeats:
# bench/flops.py (FLOPs/image, the FP32 peak from the CPU's flags, FMA pipes and the measured clock, with its
# sources) and OrtServeLevers --graph (node counts of the exported graph and of ORT's optimised ones).
# Writes command.txt, machine.json (load average at start) and machine-end.json, load.txt (load average before every
# step), others.txt (other processes using > 10 % CPU between steps), flops.json, graph.json, levers-r*.json, keras-*-predict-r*.json, profile-ops.txt (ORT's per-op profile of
# the base session), logs/, summary.md.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
quick=0 repeats="" build=1 out="" rows="" jax=0
cmdline="bench/serve-levers.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --repeats) repeats="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    --jax) jax=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n "$repeats" ]] || { [[ $quick == 1 ]] && repeats=1 || repeats=3; }
out="${out:-$bench/results/$(date +%Y%m%d)-serve-levers}"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"
log() { echo "[serve-levers $(date +%H:%M:%S)] $*" >&2; }
# load STEP: the load average, and the processes that used > 10 % of a CPU over one second (top's second frame),
# taken between steps, when none of this script's own work runs: those are other people's jobs. (The load average
# itself rises to ~2 from this benchmark's own threads, so it only tells about the machine at the start.)
load() {
  echo "$(date -u +%H:%M:%S) $1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/load.txt"
  top -b -n 2 -d 1 -w 200 2>/dev/null | awk -v step="$1" '/^top -/{f++} f==2 && $1 ~ /^[0-9]+$/ && $9+0 > 10 \
      {printf "%s other: pid %s %s%% %s\n", step, $1, $9, $12}' >> "$out/others.txt" || true
}

echo "$cmdline" > "$out/command.txt"
: > "$out/load.txt"; : > "$out/others.txt"
python3 "$bench/machine_json.py" "$out/machine.json" "$repo"
load start

if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
  log "mvn package -pl bench -am (root reactor)"
  (cd "$repo" && mvn -B -q -o -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true package -pl bench -am) \
      > "$out/logs/build.log" 2>&1 || { log "build FAILED (see $out/logs/build.log)"; exit 1; }
fi
cp="$bench/target/classes:$(cat "$bench/target/classpath.txt")"
ext=-onednn; grep -q avx512f /proc/cpuinfo 2>/dev/null && ext=-onednn-avx512
java_run() { java -Xss64m -Xmx8g "-Dorg.bytedeco.javacpp.platform.extension=$ext" "-Dspherekit.home=$repo" -cp "$cp" "$@"; }

log "python venv (bench/python/requirements.txt)"
"$bench/python/setup_venv.sh" "$bench/target/venv" > "$out/logs/venv.log" 2>&1 \
    || { log "venv FAILED (see $out/logs/venv.log)"; exit 1; }
py="$bench/target/venv/bin/python"

models="$bench/target/models"
if [[ ! -f "$models/sf20.onnx" ]]; then
  log "model: SphereFace-20 (random weights) -> $models/sf20.onnx"
  java_run io.spherekit.bench.MakeModels --out "$models" --depth 20 > "$out/logs/models.log" 2>&1
fi
model="$models/sf20.onnx"
sha256sum "$model" > "$out/model.sha256"

log "flops / peak"
load flops
python3 "$bench/flops.py" --json "$out/flops.json" | tee "$out/logs/flops.log" >&2
log "graph: exported vs ORT-optimised node counts"
load graph
java_run io.spherekit.bench.OrtServeLevers --graph "$model" --work "$bench/target/serve-levers" \
    --json "$out/graph.json" > "$out/logs/graph.log" 2>&1

if [[ $quick == 1 ]]; then
  lev_args=(--warmup 1 --iters 2 --iters1 3); pred_args=(--warmup 1 --iters32 2 --iters1 3)
else
  lev_args=(--warmup 3 --iters 10 --iters1 100); pred_args=(--warmup 3 --iters32 10 --iters1 100)
fi
[[ -n "$rows" ]] && lev_args+=(--rows "$rows")
failed=()
keras() { # repeat
  local be
  for be in tensorflow $([[ $jax == 1 ]] && echo jax); do
    log "keras-$be predict (run $1/$repeats)"
    load "keras-$be-r$1"
    "$py" "$bench/python/cross_engine.py" predict --backend "$be" --depth 20 "${pred_args[@]}" \
        --json "$out/keras-$be-predict-r$1.json" > "$out/logs/keras-$be-predict-r$1.log" 2>&1 \
        || { log "keras-$be FAILED (logs/keras-$be-predict-r$1.log)"; failed+=("keras-$be-r$1"); }
  done
}
levers() { # repeat
  log "ORT-Java lever rows (run $1/$repeats)"
  load "levers-r$1"
  java_run io.spherekit.bench.OrtServeLevers --model "$model" --rotate "$(( $1 - 1 ))" \
      --work "$bench/target/serve-levers" "${lev_args[@]}" --json "$out/levers-r$1.json" \
      > "$out/logs/levers-r$1.log" 2>&1 || { log "levers FAILED (logs/levers-r$1.log)"; failed+=("levers-r$1"); }
}
for r in $(seq 1 "$repeats"); do
  if (( r % 2 == 1 )); then keras "$r"; levers "$r"; else levers "$r"; keras "$r"; fi
done
log "ORT profile of the base session (batch 32, 3 warm-up + 4 profiled runs: ms per op type)"
load profile
mkdir -p "$bench/target/serve-levers/prof"
(cd "$bench/target/serve-levers/prof" && rm -f ortprof_*.json \
  && java_run io.spherekit.bench.probe.OrtProf "$model" 32 "$([[ $quick == 1 ]] && echo 1 || echo 4)" prof \
      > "$out/logs/profile.log" 2>&1 \
  && python3 "$bench/python/ort_profile_ops.py" "$(ls ortprof_*.json | head -1)" "$([[ $quick == 1 ]] && echo 4 || echo 7)") \
  > "$out/profile-ops.txt" || { log "profile FAILED (logs/profile.log)"; failed+=("profile"); }
load end
python3 "$bench/machine_json.py" "$out/machine-end.json" "$repo"

log "summary"
python3 "$bench/serve_levers_summary.py" "$out" > "$out/logs/summary.log"
cat "$out/summary.md"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "done: $out"
