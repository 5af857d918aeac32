#!/usr/bin/env bash
# int8 vs float32, one command: quantises the demo model and SphereFace-20 with `export-model --from-onnx --int8`,
# then measures them side by side (io.spherekit.bench.Int8Bench): ORT-Java images/s at batch 32 and batch 1, fp32 and
# int8 interleaved, median of 3 rounds; cosine int8 vs fp32 on every pairsDevTest image (min, mean); an ONNX Runtime
# profile of each model at batch 32 (per-op sums in profile-*.txt); and `evaluate` (pairsDevTest 10-fold) of all four
# models.
#
#   bench/int8.sh [--demo runs/demo/model.onnx] [--out DIR] [--method minmax|percentile|entropy] [--count 300]
#                 [--reduce-range] [--keep-prelu-too] [--skip-build] [--lfw DIR]
# --reduce-range quantises with export-model --int8-reduce-range (7-bit weights, for CPUs without AVX-512 VNNI).
# --keep-prelu-too also quantises each model with --int8-keep-prelu (PReLU left in its float form, as before the
# rewrite) and times it in the same run as pair <model>-keep-prelu, so the rewrite is measured side by side.
#
# Calibration: --count images of pairsDevTrain.txt (people disjoint from pairsDevTest). SphereFace-20 is MakeModels'
# random-weight full-width model (bench/target/models/sf20.onnx): its speed is representative, its accuracy is chance.
# Writes <out>/int8.json, eval-*.json, export-*.txt, profile-*.txt, machine.json, command.txt
# (default out: bench/results/int8-<date>).
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
cmdline="bench/int8.sh $*"
demo="$repo/runs/demo/model.onnx" out="" build=1 lfw="" method=minmax count=300 rr=() keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --method) method="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --reduce-range) rr=(--int8-reduce-range); shift ;;
    --keep-prelu-too) keep=1; shift ;;
    --lfw) lfw="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -f "$demo" ]] || { echo "error: demo model not found: $demo (run bin/spherekit demo first, or pass --demo)" >&2; exit 1; }
lfw="${lfw:-${SPHEREKIT_LFW:-$repo/../shared/data/lfw}}"
lfw="$(cd "$lfw" && pwd)"
out="${out:-$bench/results/int8-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "$cmdline" > "$out/command.txt"
python3 "$repo/bench/machine_json.py" "$out/machine.json" "$repo"
if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
  (cd "$repo" && mvn -B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true package -pl bench -am)
fi
cp="$bench/target/classes:$(cat "$bench/target/classpath.txt")"
ext=-onednn; grep -q avx512f /proc/cpuinfo 2>/dev/null && ext=-onednn-avx512   # ND4J build for this CPU, as bin/spherekit
jvm=(java -Xmx8g "-Dspherekit.home=$repo" -Dorg.bytedeco.javacpp.platform.extension=$ext ${SPHEREKIT_JAVA_OPTS:-})
models="$bench/target/models"
mkdir -p "$models"
cp "$demo" "$models/demo.onnx"
"${jvm[@]}" -cp "$cp" io.spherekit.bench.MakeModels --out "$models" --depth 20
pairs=()
variants=(""); [[ $keep == 1 ]] && variants+=(-keep-prelu)
for m in demo sf20; do
  for v in "${variants[@]}"; do
    flags=(); [[ -n "$v" ]] && flags=(--int8-keep-prelu)
    "${jvm[@]}" -cp "$cp" io.spherekit.exporter.ExportCli --from-onnx "$models/$m.onnx" --output "$models/$m$v-int8.onnx" \
        --int8 --calibration "$lfw/pairsDevTrain.txt" --calibration-count "$count" --calibration-method "$method" \
        "${rr[@]}" "${flags[@]}" | tee "$out/export-$m$v.txt"
    pairs+=(--pair "$m$v=$models/$m.onnx,$models/$m$v-int8.onnx")
  done
done
mkdir -p "$out/profiles"
"${jvm[@]}" -cp "$cp" io.spherekit.bench.Int8Bench --lfw "$lfw" --repeats 3 --profile "$out/profiles" "${pairs[@]}" \
    --json "$out/int8.json" 2>&1 | tee "$out/int8-output.txt"
for f in "$out"/profiles/*.json; do
  python3 "$bench/python/ort_profile_ops.py" "$f" 13 > "$out/profile-$(basename "$f" .json).txt"
done
rm -rf "$out/profiles"   # the raw profiles are large; the per-op sums stay
evals=(demo demo-int8 sf20 sf20-int8); [[ $keep == 1 ]] && evals+=(demo-keep-prelu-int8 sf20-keep-prelu-int8)
for m in "${evals[@]}"; do
  "$repo/bin/spherekit" evaluate --model "$models/$m.onnx" --pairs "$lfw/pairsDevTest.txt" \
      --root "$lfw/lfw-deepfunneled" --report "$out/eval-$m.json" | tee "$out/eval-$m.txt"
done
echo "results in $out"
