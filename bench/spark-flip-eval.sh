#!/usr/bin/env bash
# Test-time flip on Apache Spark next to the single-JVM `evaluate`: for each --flip mode, the LFW 10-fold report of
# EvaluateJob on local[N] and of `evaluate` on the same model, pair list and image root, and whether the two reports'
# metrics (per-fold accuracies and thresholds, AUC, EER, TAR@FAR, ROC) are equal.
#
#   bash bench/spark-flip-eval.sh [--model M.onnx] [--pairs FILE] [--root DIR] [--modes "none sum concat"]
#                                 [--master local[2]] [--batch B] [--out DIR]
#
# Defaults: the demo model /work/models/demo/model.onnx (else runs/demo/model.onnx), LFW pairsDevTest.txt over
# lfw-deepfunneled, modes "none sum concat", local[2], batch 64, out bench/results/<yyyymmdd>-spark-flip-eval.
# single JVM: the java command bin/spherekit runs for `evaluate` (runtime/server's RuntimeMain).
# Spark:      EvaluateJob from the shaded job jar with the provided Spark 3.5 jars on the class path.
# Needs `mvn -B -o -DskipTests -pl runtime/server,spark -am package` first (SKIP_BUILD=1 skips running it here).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model=""; pairs=""; root=""; modes="none sum concat"; master="local[2]"; batch=64; out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --root) root="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --master) master="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
lfw="${SPHEREKIT_LFW:-$repo/../shared/data/lfw}"
[[ -n "$model" ]] || { if [[ -f /work/models/demo/model.onnx ]]; then model=/work/models/demo/model.onnx; else model="$repo/runs/demo/model.onnx"; fi; }
pairs="${pairs:-$lfw/pairsDevTest.txt}"
root="${root:-$lfw/lfw-deepfunneled}"
out="${out:-$repo/bench/results/$(date -u +%Y%m%d)-spark-flip-eval}"
[[ -f "$model" ]] || { echo "model $model does not exist (pass --model)" >&2; exit 2; }
mkdir -p "$out/raw"
[[ -n "${SKIP_BUILD:-}" ]] || (cd "$repo" && mvn -B -q -o -DskipTests -Dspherekit.skipPython=true -pl runtime/server,spark -am package) >&2

opens=$(sed -n 's:.*<spark.java17.opens>\(.*\)</spark.java17.opens>.*:\1:p' "$repo/spark/pom.xml")
local_cp="$repo/runtime/server/target/classes:$(cat "$repo/runtime/server/target/classpath.txt")"
spark_cp="$repo/spark/target/spherekit-spark-0.1.0-job.jar:$(cat "$repo/spark/target/spark-classpath.txt")"
python3 "$repo/bench/machine_json.py" "$out/machine.json" "$repo"
{
  echo "# $(date -u +%FT%TZ) bash bench/spark-flip-eval.sh --model $model --pairs $pairs --root $root --modes '$modes' --master $master --batch $batch"
  echo "# model sha256: $(sha256sum "$model" | cut -d' ' -f1)"
  echo "single JVM: java -Xmx12g -Dspherekit.home=$repo -cp <runtime/server class path> io.spherekit.server.RuntimeMain evaluate --model $model --flip MODE --pairs $pairs --root $root --batch $batch --report raw/local-MODE.json"
  echo "spark:      java -Xmx6g <spark.java17.opens> -Dspherekit.home=$repo -cp <job jar + spark class path> io.spherekit.spark.EvaluateJob --master $master --model $model --flip MODE --pairs $pairs --root $root --batch $batch --report raw/spark-MODE.json"
} > "$out/command.txt"
printf 'mode\ttool\twall_s\tloadavg_before\tloadavg_after\n' > "$out/raw/runs.tsv"
now() { date +%s.%N; }
for mode in $modes; do
  la0=$(cut -d' ' -f1-3 /proc/loadavg); t0=$(now)
  java -Xmx12g "-Dspherekit.home=$repo" -cp "$local_cp" io.spherekit.server.RuntimeMain evaluate --model "$model" \
      --flip "$mode" --pairs "$pairs" --root "$root" --batch "$batch" --report "$out/raw/local-$mode.json" \
      > "$out/raw/local-$mode.out" 2> "$out/raw/local-$mode.err"
  t1=$(now); la1=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%s\tsingle-jvm\t%.1f\t%s\t%s\n' "$mode" "$(echo "$t1 - $t0" | bc)" "$la0" "$la1" >> "$out/raw/runs.tsv"
  la0=$(cut -d' ' -f1-3 /proc/loadavg); t0=$(now)
  java -Xmx6g $opens "-Dspherekit.home=$repo" -cp "$spark_cp" io.spherekit.spark.EvaluateJob --master "$master" \
      --model "$model" --flip "$mode" --pairs "$pairs" --root "$root" --batch "$batch" --report "$out/raw/spark-$mode.json" \
      > "$out/raw/spark-$mode.out" 2> "$out/raw/spark-$mode.err"
  t1=$(now); la1=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%s\tspark-%s\t%.1f\t%s\t%s\n' "$mode" "$master" "$(echo "$t1 - $t0" | bc)" "$la0" "$la1" >> "$out/raw/runs.tsv"
done
python3 - "$out" $modes <<'PY'
import json, sys
out, modes = sys.argv[1], sys.argv[2:]
rows = ["| --flip | tool | embedding dim | 10-fold accuracy (± population std) | AUC | EER | TAR@FAR=1e-2 | mean threshold | metrics + ROC equal to single JVM |",
        "|---|---|---|---|---|---|---|---|---|"]
summary = {}
for m in modes:
    a = json.load(open(f"{out}/raw/local-{m}.json"))
    b = json.load(open(f"{out}/raw/spark-{m}.json"))
    same = a["metrics"] == b["metrics"] and a["roc"] == b["roc"] and a["flip"] == b["flip"] \
        and a["embedding_dim"] == b["embedding_dim"] and a["preprocessing"] == b["preprocessing"]
    summary[m] = {"equal": same, "flip": b["flip"], "embedding_dim": b["embedding_dim"]}
    for tool, r in (("single JVM", a), ("Spark " + b["engine"]["master"], b)):
        x = r["metrics"]
        tar2 = [t["tar"] for t in x["tar_at_far"] if abs(t["far_target"] - 1e-2) < 1e-12]
        rows.append(f"| {r['flip']} | {tool} | {r['embedding_dim']} | {100*x['accuracy_mean']:.2f} % ± {100*x['accuracy_std']:.2f}"
                    f" | {x['auc']:.4f} | {100*x['eer']:.2f} % | {100*tar2[0]:.1f} % | {x['threshold_mean']:.4f} | "
                    + ("yes" if same else "**no**") + " |")
open(f"{out}/results.md", "w").write("\n".join(rows) + "\n")
json.dump(summary, open(f"{out}/results.json", "w"), indent=2)
print("\n".join(rows))
PY
