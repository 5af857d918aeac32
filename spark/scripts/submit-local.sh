#!/usr/bin/env bash
# Runs Spark's own submit entry point (org.apache.spark.deploy.SparkSubmit, what `spark-submit` runs) on this machine
# without a Spark distribution: the Spark 3.5 jars come from the module's Maven class path (provided scope, plus the
# Jackson and slf4j jars a distribution ships), the job from the shaded jar, so this checks the jar as a cluster
# would load it (ONNX Runtime's native libraries from inside the jar, --files shipping).
#
#   bash spark/scripts/submit-local.sh [SPARK-SUBMIT OPTIONS] --class io.spherekit.spark.EmbedJob [JOB OPTIONS]
#   e.g. bash spark/scripts/submit-local.sh --master 'local[2]' --files m.onnx --class io.spherekit.spark.EmbedJob \
#          -- --model m.onnx --input DIR --output out.parquet
#
# Options before `--` go to SparkSubmit, options after it to the job. Needs `mvn -pl spark -am package` first.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
t="$repo/spark/target"
jar="$t/spherekit-spark-0.1.0-job.jar"
[[ -f "$jar" && -f "$t/spark-classpath.txt" && -f "$t/classpath.txt" ]] \
  || { echo "build first: mvn -B -pl spark -am package -DskipTests" >&2; exit 2; }
# Spark's jars = the module's compile+provided class path minus its runtime class path (what the shaded jar holds),
# plus what the shade leaves to the cluster (Jackson, slf4j-api: in every Spark distribution)
cp=$(python3 - "$t" <<'PY'
import sys
t = sys.argv[1]
full = open(t + "/spark-classpath.txt").read().strip().split(":")
ours = open(t + "/classpath.txt").read().strip().split(":")
keep = [j for j in full if j not in set(ours) or "/com/fasterxml/jackson/" in j or "/org/slf4j/slf4j-api/" in j]
print(":".join(keep))
PY
)
opens=$(sed -n 's:.*<spark.java17.opens>\(.*\)</spark.java17.opens>.*:\1:p' "$repo/spark/pom.xml")
submit=(); job=()
while [[ $# -gt 0 ]]; do
  if [[ "$1" == -- ]]; then shift; job=("$@"); break; fi
  submit+=("$1"); shift
done
# shellcheck disable=SC2086
exec java -Xmx4g $opens -cp "$cp" org.apache.spark.deploy.SparkSubmit --conf spark.ui.enabled=false \
     "${submit[@]}" "$jar" "${job[@]}"
