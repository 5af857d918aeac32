#!/usr/bin/env bash
# ONNX Runtime GPU benchmark for SphereKit (CUDA 12 + cuDNN 9 host).
#
#   bench/gpu/run_gpu_bench.sh [--cpu] [--quick] [--out DIR] [--skip-build]
#
# GPU mode (default):
#   1. builds bench and the modules it depends on with -Pgpu from the root reactor (mvn -Pgpu package -pl bench
#      -am: onnxruntime_gpu instead of onnxruntime, class path in bench/target/classpath-gpu.txt; nothing is
#      installed into ~/.m2);
#   2. makes the SphereFace-20 benchmark model and its fp32 + fp16-weight ONNX exports (export-model --fp16-weights);
#   3. runs OrtThroughput with --provider cuda at batch 1/32/256 for fp32 and fp16 (fails loudly if CUDA can't load),
#      then a CPU fallback run (--provider cpu) of the same models on the same class path.
# --cpu: no -Pgpu, CPU class path, CPU provider only (the test mode on machines without a GPU).
# Results: one JSON per run in --out (default bench/results/<date>/gpu), plus machine.json and command.txt.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$bench/.." && pwd)"
mode=gpu quick=0 build=1 out=""
cmdline="bench/gpu/run_gpu_bench.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cpu) mode=cpu; shift ;;
    --quick) quick=1; shift ;;
    --skip-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
out="${out:-$bench/results/$(date +%Y%m%d-%H%M%S)/gpu}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "$cmdline" > "$out/command.txt"
python3 - "$out/machine.json" "$mode" "$quick" "$repo" <<'PY'
import datetime, json, subprocess, sys
def sh(c):
    return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
ls = {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in sh("lscpu").splitlines() if ":" in l)}
json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu_model": ls.get("Model name"),
           "cpus": ls.get("CPU(s)"), "loadavg": open("/proc/loadavg").read().split()[:3],
           "java": sh("java -version 2>&1 | head -1"), "git": sh("git -C '%s' rev-parse --short HEAD" % sys.argv[4]),
           "gpu": sh("nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null") or None,
           "mode": sys.argv[2], "quick": sys.argv[3] == "1"}, open(sys.argv[1], "w"), indent=2)
PY
mvn_flags=(-B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true)

if [[ $mode == gpu ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.csv" || true
  if [[ $build == 1 ]]; then
    echo "[gpu-bench] building bench with -Pgpu (root reactor)" >&2
    (cd "$repo" && mvn "${mvn_flags[@]}" -Pgpu package -pl bench -am)
  fi
  cpfile="$bench/target/classpath-gpu.txt"
else
  if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
    (cd "$repo" && mvn "${mvn_flags[@]}" package -pl bench -am)
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
