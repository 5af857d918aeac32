#!/usr/bin/env bash
# HTTP verify throughput of the `serve` server (FaceServer) on loopback: io.spherekit.bench.ServerThroughput.
#
#   bench/server-bench.sh [--model runs/demo/model.onnx] [--out DIR] [--skip-build] [--lfw DIR] [-- extra args]
#
# Default model: the demo's SphereFace-4 (width 0.5) at runs/demo/model.onnx (run `bin/spherekit demo` or
# scripts/record-demo.sh first). 8 loopback clients x 100 requests, each uploading two 250x250 LFW JPEGs to
# POST /v1/verify; server concurrency = cores, 1 ORT intra-op thread per embedding. Writes
# <out>/http-verify.json (req/s, p50/p99/max ms, direct SDK ms/pair), machine.json, command.txt
# (default out: bench/results/server-<date>). Extra args after -- go to ServerThroughput (--clients, --requests,
# --threads, --concurrency).
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
cmdline="bench/server-bench.sh $*"
model="$repo/runs/demo/model.onnx" out="" build=1 lfw="" extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --lfw) lfw="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -f "$model" ]] || { echo "error: model not found: $model (run bin/spherekit demo first, or pass --model)" >&2; exit 1; }
out="${out:-$bench/results/server-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "$cmdline" > "$out/command.txt"
python3 "$repo/bench/machine_json.py" "$out/machine.json" "$repo"
if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
  (cd "$repo" && mvn -B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true package -pl bench -am)
fi
cp="$bench/target/classes:$(cat "$bench/target/classpath.txt")"
args=(--model "$model" --json "$out/http-verify.json")
[[ -n "$lfw" ]] && args+=(--lfw "$lfw")
java -Xmx4g "-Dspherekit.home=$repo" ${SPHEREKIT_JAVA_OPTS:-} -cp "$cp" io.spherekit.bench.ServerThroughput \
    "${args[@]}" "${extra[@]}" > "$out/server-bench.log"
echo "[server-bench] results in $out" >&2
