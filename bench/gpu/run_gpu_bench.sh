#!/usr/bin/env bash
# ONNX Runtime GPU benchmark for SphereKit (CUDA 12 + cuDNN 9 host).
#
#   bench/gpu/run_gpu_bench.sh [--cpu] [--quick] [--out DIR] [--skip-build]
#
# GPU mode (default):
#   1. builds the runtime with -Pgpu (root: mvn -Pgpu -pl runtime -am install) and the bench project with -Pgpu
#      (onnxruntime_gpu on target/classpath-gpu.txt);
#   2. makes the SphereFace-20 benchmark model and its fp32 + fp16-weight ONNX exports (export-model --fp16-weights);
#   3. runs OrtThroughput with --provider cuda at batch 1/32/256 for fp32 and fp16 (fails loudly if CUDA can't load),
#      then a CPU fallback run (--provider cpu) of the same models on the same class path.
# --cpu: no -Pgpu, CPU class path, CPU provider only (the test mode on machines without a GPU).
# Results: one JSON per run in --out (default bench/results/<date>/gpu).
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$bench/.." && pwd)"
mode=gpu quick=0 build=1 out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu) mode=cpu; shift ;;
    --quick) quick=1; shift ;;
    --skip-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
out="${out:-$bench/results/$(date +%Y%m%d-%H%M%S)/gpu}"
mkdir -p "$out"
mvn_flags=(-B -q -DskipTests -Dspherekit.skipPython=true)

if [[ $mode == gpu ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" || true
  if [[ $build == 1 ]]; then
    echo "[gpu-bench] building runtime with -Pgpu" >&2
    (cd "$repo" && mvn "${mvn_flags[@]}" -Pgpu -pl runtime -am install)
    (cd "$repo" && mvn "${mvn_flags[@]}" -pl trainer,exporter -am install)
    (cd "$bench" && mvn -B -q -DskipTests -Pgpu package)
  fi
  cpfile="$bench/target/classpath-gpu.txt"
else
  if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
    (cd "$bench" && mvn -B -q -DskipTests package)
  fi
  cpfile="$bench/target/classpath.txt"
fi
[[ -f "$cpfile" ]] || { echo "error: $cpfile missing (build first)" >&2; exit 1; }
cp="$bench/target/classes:$(cat "$cpfile")"
ext=-onednn; grep -q avx512f /proc/cpuinfo 2>/dev/null && ext=-onednn-avx512
java_cmd=(java -Xmx12g "-Dorg.bytedeco.javacpp.platform.extension=$ext" ${SPHEREKIT_JAVA_OPTS:-} -cp "$cp")

models="$bench/target/models"
"${java_cmd[@]}" io.spherekit.bench.MakeModels --out "$models" --depth 20 --fp16 >&2

if [[ $quick == 1 ]]; then iters=(--iters 2 --warmup 1); batches=1,32; else iters=(--iters 50 --warmup 5); batches=1,32,256; fi
run() { # provider precision
  local prov="$1" prec="$2" file="$models/sf20.onnx"
  [[ $prec == fp16 ]] && file="$models/sf20-fp16.onnx"
  echo "[gpu-bench] provider=$prov precision=$prec" >&2
  "${java_cmd[@]}" io.spherekit.bench.OrtThroughput --model "$file" --provider "$prov" --batches "$batches" \
      "${iters[@]}" --label "$prec" --json "$out/ort-java-$prov-$prec.json" > /dev/null
}
if [[ $mode == gpu ]]; then
  run cuda fp32
  run cuda fp16
fi
run cpu fp32
run cpu fp16
echo "[gpu-bench] results in $out" >&2
