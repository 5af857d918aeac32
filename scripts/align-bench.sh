#!/usr/bin/env bash
# LFW pairsDevTest with the fixed crop vs detect + align, from lfw-deepfunneled/ and from lfw-original/
# (the unfunneled 150x150 photos; Betsy_Coffin_0001.jpg is absent there, so that pair is skipped: 999 pairs).
#
#   scripts/align-bench.sh MODEL.onnx OUT_DIR [LFW_DIR]
# writes OUT_DIR/{deepfunneled,original}-{crop,detect}.json and .txt (the command's stdout)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; out="$2"; lfw="${3:-${SPHEREKIT_LFW:-$repo/../shared/data/lfw}}"
mkdir -p "$out"
for set in deepfunneled original; do
  for align in crop detect; do
    echo "== lfw-$set --align $align" >&2
    "$repo/bin/spherekit" evaluate --model "$model" --pairs "$lfw/pairsDevTest.txt" --root "$lfw/lfw-$set" \
      --skip-missing --align "$align" --report "$out/$set-$align.json" | tee "$out/$set-$align.txt"
  done
done
