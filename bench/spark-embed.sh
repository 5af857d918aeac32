#!/usr/bin/env bash
# Throughput of the Spark embed job (spherekit-spark EmbedJob) on local[N] next to the single-JVM `embed` command,
# same images, same model, same batch, interleaved in one run (median of --runs).
#
#   bash bench/spark-embed.sh [--model M.onnx] [--model-args "FLAGS"] [--images N] [--runs R] [--master local[2]] [--batch B] [--out DIR]
#
# --model fixture writes the sdk tests' tiny ONNX model (TestModelsAccess.standard) into a temporary folder and uses it.
# Defaults: the demo model /work/models/demo/model.onnx (else runs/demo/model.onnx), the first 2000 files of
# lfw-deepfunneled in path order, 3 runs, local[2], batch 64, out bench/results/<yyyymmdd>-spark-embed.
#
# single JVM: exactly the java command bin/spherekit runs for `embed` (runtime/server's RuntimeMain, same JVM
#             options), all files on its command line; ONNX Runtime's default threads, decoding in parallel.
# Spark:      EmbedJob from the shaded job jar with the provided Spark 3.5 jars on the class path (what
#             spark-submit --master local[2] runs in client mode, without a Spark distribution installed here),
#             --list of the same files, one ORT session per JVM with 1 intra-op thread per task.
# Both rates are taken over the embedding phase as each tool reports it (single JVM: its final progress line;
# Spark: list -> Parquet committed), and the wall clock of the whole process (JVM start, Spark start-up) is
# recorded next to them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model=""; model_args=""; n=2000; runs=3; master="local[2]"; batch=64; out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --model-args) model_args="$2"; shift 2 ;;  # extra model flags for both tools, e.g. --lfw-preprocessing
    --images) n="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --master) master="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out="${out:-$repo/bench/results/$(date -u +%Y%m%d)-spark-embed}"
mkdir -p "$out/raw"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
if [[ -z "$model" ]]; then
  if [[ -f /work/models/demo/model.onnx ]]; then model=/work/models/demo/model.onnx; else model="$repo/runs/demo/model.onnx"; fi
fi
if [[ "$model" == fixture ]]; then
  # the sdk tests' tiny ONNX model (TestModels.standard: 1x1 Conv + Gemm, 112x96 -> 8-d), written by our ONNX writer
  model="$work/fixture-tiny.onnx"
  [[ -n "${SKIP_BUILD:-}" ]] || (cd "$repo" && mvn -B -q -o -DskipTests -pl runtime/sdk -am test-compile) >&2
  printf 'io.spherekit.runtime.TestModelsAccess.standard(java.nio.file.Path.of("%s"),112,96,8,java.util.Map.of());\n/exit\n' \
      "$model" | jshell -q --class-path "$repo/runtime/sdk/target/test-classes:$repo/runtime/sdk/target/classes:$(cat "$repo/runtime/sdk/target/classpath.txt")" >/dev/null
  model_args="${model_args:---lfw-preprocessing}"
fi
[[ -f "$model" ]] || { echo "model $model does not exist (pass --model)" >&2; exit 2; }
lfw="${SPHEREKIT_LFW:-$repo/../shared/data/lfw}"
[[ -d "$lfw/lfw-deepfunneled" ]] || { echo "LFW not found at $lfw" >&2; exit 2; }
echo "[spark-embed] building runtime/server and spark (mvn package -DskipTests, offline)" >&2
[[ -n "${SKIP_BUILD:-}" ]] || (cd "$repo" && mvn -B -q -o -DskipTests -pl runtime/server,spark -am package) >&2

find "$lfw/lfw-deepfunneled" -name '*.jpg' | LC_ALL=C sort > "$work/all.txt"
head -n "$n" "$work/all.txt" > "$work/list.txt"
count=$(wc -l < "$work/list.txt")
mapfile -t files < "$work/list.txt"

java_opts=(-Xmx12g "-Dspherekit.home=$repo")  # as bin/spherekit
opens=$(sed -n 's:.*<spark.java17.opens>\(.*\)</spark.java17.opens>.*:\1:p' "$repo/spark/pom.xml")
local_cp="$repo/runtime/server/target/classes:$(cat "$repo/runtime/server/target/classpath.txt")"
spark_cp="$repo/spark/target/spherekit-spark-0.1.0-job.jar:$(cat "$repo/spark/target/spark-classpath.txt")"
spark_cmd=(java -Xmx6g $opens "-Dspherekit.home=$repo" -cp "$spark_cp" io.spherekit.spark.EmbedJob
           --master "$master" --model "$model" $model_args --list "$work/list.txt" --output "$work/out.parquet" --overwrite
           --batch "$batch")
local_cmd=(java "${java_opts[@]}" -cp "$local_cp" io.spherekit.server.RuntimeMain embed --model "$model" $model_args
           --output "$work/out.json" --batch "$batch")

{
  echo "# $(date -u +%FT%TZ) bash bench/spark-embed.sh --model $model --model-args '$model_args' --images $n --runs $runs --master $master --batch $batch"
  echo "single JVM: ${local_cmd[*]} <the $count files of list.txt>"
  echo "spark:      ${spark_cmd[*]}"
} > "$out/command.txt"
cp "$work/list.txt" "$out/raw/list.txt"
python3 "$repo/bench/machine_json.py" "$out/machine.json" "$repo"

now() { date +%s.%N; }
: > "$out/raw/runs.tsv"
printf 'run\ttool\timages\tembed_img_per_s\twall_s\tloadavg_before\tloadavg_after\n' >> "$out/raw/runs.tsv"
for r in $(seq 1 "$runs"); do
  la0=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(now)
  "${local_cmd[@]}" "${files[@]}" > "$out/raw/local-$r.out" 2> "$out/raw/local-$r.err"
  t1=$(now)
  la1=$(cut -d' ' -f1-3 /proc/loadavg)
  rate=$(tr '\r' '\n' < "$out/raw/local-$r.err" | grep -o 'embedding: [0-9]*/[0-9]* images ([0-9.]* img/s)' | tail -1 \
         | sed 's/.*(\([0-9.]*\) img\/s)/\1/')
  printf '%s\tsingle-jvm\t%s\t%s\t%.1f\t%s\t%s\n' "$r" "$count" "$rate" "$(echo "$t1 - $t0" | bc)" "$la0" "$la1" >> "$out/raw/runs.tsv"

  la0=$(cut -d' ' -f1-3 /proc/loadavg)
  t0=$(now)
  "${spark_cmd[@]}" > "$out/raw/spark-$r.out" 2> "$out/raw/spark-$r.err"
  t1=$(now)
  la1=$(cut -d' ' -f1-3 /proc/loadavg)
  rate=$(grep -o 'embedded [0-9]* files in [0-9.]* s ([0-9.]* files/s' "$out/raw/spark-$r.out" | sed 's/.*(\([0-9.]*\) files\/s/\1/')
  printf '%s\tspark-%s\t%s\t%s\t%.1f\t%s\t%s\n' "$r" "$master" "$count" "$rate" "$(echo "$t1 - $t0" | bc)" "$la0" "$la1" >> "$out/raw/runs.tsv"
  cat "$out/raw/spark-$r.out" >&2
done
python3 "$repo/bench/spark_embed_summary.py" "$out"
