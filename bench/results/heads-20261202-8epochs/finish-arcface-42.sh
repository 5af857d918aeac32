#!/bin/bash
while kill -0 22187 2>/dev/null; do sleep 5; done
cd /work/run-b
d=/work/runs8/arcface/seed-42; L=/work/shared/data/lfw
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
bin/spherekit export-model --model "$d/model.zip" --output "$d/model.onnx" --check
bin/spherekit evaluate --provider cpu --flip none --model "$d/model.onnx" --pairs "$L/pairsDevTest.txt" \
      --root "$L/lfw-deepfunneled" --report "$d/eval.json" --extra-json "$d/train-report.json"
echo finished42
