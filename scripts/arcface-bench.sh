#!/usr/bin/env bash
# An ArcFace-style model (input fixed [1,3,112,112], NCHW, no SphereKit metadata, mean 127.5, scale 1/128, RGB)
# evaluated through the CLI on LFW pairsDevTest, from lfw-deepfunneled/ and lfw-original/, with --align crop and
# --align detect, its preprocessing given only by a model card (MODEL.onnx.json next to the model).
#
#   scripts/arcface-bench.sh SPHEREKIT_MODEL.onnx OUT_DIR [LFW_DIR]
#
# The model is made from a trained SphereKit 112x96 model (e.g. runs/demo/model.onnx) by
# io.spherekit.bench.ArcFaceStyleModel: a Slice keeps input columns 8..103 (the ArcFace template is the SphereFace
# one shifted by 8 px), the batch is fixed to 1 and every metadata entry is removed. Writes OUT_DIR/arcface-style.onnx
# (not committed: runs/ is ignored; point OUT_DIR there) and, into RESULTS (default bench/results/20261201-arcface-style),
# {deepfunneled,original}-{crop,detect}.json + .txt, the card used, and command.txt.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$1"; out="$2"; lfw="${3:-${SPHEREKIT_LFW:-$repo/../shared/data/lfw}}"
results="${RESULTS:-$repo/bench/results/20261201-arcface-style}"
mkdir -p "$out" "$results"
"$repo/bin/spherekit" --version >/dev/null   # builds the modules on first use
cp="$repo/runtime/sdk/target/classes:$(cat "$repo/runtime/sdk/target/classpath.txt")"
tool="$repo/target/arcface-tool"
mkdir -p "$tool"
javac -q -d "$tool" -cp "$cp" "$repo/bench/src/main/java/io/spherekit/bench/ArcFaceStyleModel.java" 2>/dev/null \
  || javac -d "$tool" -cp "$cp" "$repo/bench/src/main/java/io/spherekit/bench/ArcFaceStyleModel.java"
model="$out/arcface-style.onnx"
java -cp "$tool:$cp" io.spherekit.bench.ArcFaceStyleModel "$src" "$model"
card="$results/arcface-style.onnx.json"
[[ -f "$card" ]] || { echo "missing $card" >&2; exit 1; }
cp "$card" "$model.json"
{ echo "scripts/arcface-bench.sh $*"; echo "source model sha256: $(sha256sum "$src" | cut -d' ' -f1)";
  echo "arcface-style model sha256: $(sha256sum "$model" | cut -d' ' -f1)"; echo "started: $(date -u +%FT%TZ)";
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$results/command.txt"
for set in deepfunneled original; do
  for align in crop detect; do
    echo "== lfw-$set --align $align" >&2
    "$repo/bin/spherekit" evaluate --model "$model" --provider cpu --pairs "$lfw/pairsDevTest.txt" \
      --root "$lfw/lfw-$set" --skip-missing --align "$align" --report "$results/$set-$align.json" \
      | tee "$results/$set-$align.txt"
    echo "bin/spherekit evaluate --model $model --provider cpu --pairs $lfw/pairsDevTest.txt --root $lfw/lfw-$set" \
      "--skip-missing --align $align --report $results/$set-$align.json   # load $(cut -d' ' -f1-3 /proc/loadavg)" \
      >> "$results/command.txt"
  done
done
echo "finished: $(date -u +%FT%TZ)" >> "$results/command.txt"
