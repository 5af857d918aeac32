#!/usr/bin/env bash
# Test-time flip on LFW pairsDevTest: evaluates one model with --flip none, sum and concat (same images, same
# pairs, same 10-fold protocol) and writes a table with 10-fold accuracy, AUC, EER and TAR@FAR=1e-3/1e-2.
#
#   scripts/flip-bench.sh MODEL.onnx OUT_DIR [LFW_DIR] [evaluate flags...]
# writes OUT_DIR/flip-{none,sum,concat}.json (evaluate --report) and .txt (its stdout), OUT_DIR/flip.md (the table),
# OUT_DIR/command.txt, and OUT_DIR/machine.json before and after (load average: the CPU is shared).
# The model file is only read (no --write-threshold).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$1"; out="$2"; shift 2
lfw="${SPHEREKIT_LFW:-$repo/../shared/data/lfw}"
if [[ $# -gt 0 && "$1" != --* ]]; then lfw="$1"; shift; fi
mkdir -p "$out"
echo "scripts/flip-bench.sh $model $out $lfw $*" > "$out/command.txt"
python3 "$repo/bench/machine_json.py" "$out/machine-before.json" "$repo"
for f in none sum concat; do
  echo "== --flip $f" >&2
  echo "\$ bin/spherekit evaluate --provider cpu --flip $f --model $model --pairs $lfw/pairsDevTest.txt --root $lfw/lfw-deepfunneled --report $out/flip-$f.json $*" > "$out/flip-$f.txt"
  "$repo/bin/spherekit" evaluate --provider cpu --flip "$f" --model "$model" --pairs "$lfw/pairsDevTest.txt" \
      --root "$lfw/lfw-deepfunneled" --report "$out/flip-$f.json" "$@" | tee -a "$out/flip-$f.txt"
  echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/flip-$f.txt"
done
python3 "$repo/bench/machine_json.py" "$out/machine-after.json" "$repo"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def tar(m, far):
    return next((x["tar"] for x in m["tar_at_far"] if abs(x["far_target"] - far) < 1e-12), float("nan"))
rows = ["| --flip | embedding dim | 10-fold accuracy (± population std) | AUC | EER | TAR@FAR=1e-3 | TAR@FAR=1e-2 | mean threshold | embedding time |",
        "|---|---|---|---|---|---|---|---|---|"]
for f in ("none", "sum", "concat"):
    j = json.load(open(os.path.join(out, f"flip-{f}.json"))); m = j["metrics"]
    rows.append(f"| {f} | {j['embedding_dim']} | {100*m['accuracy_mean']:.2f} % ± {100*m['accuracy_std']:.2f} | "
                f"{m['auc']:.4f} | {100*m['eer']:.2f} % | {100*tar(m, 1e-3):.1f} % | {100*tar(m, 1e-2):.1f} % | "
                f"{m['threshold_mean']:.4f} | {j['embedding_seconds']:.1f} s ({j['images']} images) |")
table = "\n".join(rows) + "\n"
tmp = os.path.join(out, "flip.md.tmp")
with open(tmp, "w") as fh:
    fh.write(table); fh.flush(); os.fsync(fh.fileno())
os.replace(tmp, os.path.join(out, "flip.md"))
print(table)
PY
