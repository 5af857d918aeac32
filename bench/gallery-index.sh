#!/usr/bin/env bash
# 1:N identification benchmark: Lucene HNSW gallery (float32 / int7) vs the exact scan, on synthetic 512-d face-like
# embeddings, optionally with real LFW embeddings mixed in (io.spherekit.bench.GalleryIndexBench; see its javadoc).
#
#   bench/gallery-index.sh [--out DIR] [--skip-build] [--lucene10] [--embed-lfw MODEL.onnx] [--lfw DIR] -- [GalleryIndexBench args]
#
# e.g. bench/gallery-index.sh --out bench/results/20261202-gallery-index/synthetic -- --sizes 30000,100000 \
#        --encodings float32,int7 --fanouts 25,50,100,200,400
#      bench/gallery-index.sh --embed-lfw runs/demo/model.onnx --out DIR -- --sizes 100000
# --embed-lfw embeds every LFW deep-funneled image with the model first (DIR/lfw-embeddings.bin, kept under the
# out folder's parent target/ copy, not committed) and passes --lfw-embeddings to the benchmark.
# The module jars are copied to bench/target/gallery-index-lib/<pid> first, so rebuilding the tree while it runs is
# safe. --lucene10 builds with -Plucene10 (Lucene 10.3, release 21) under Temurin 25 (or $SPHEREKIT_JDK21) and runs
# with the incubating Vector API, so Lucene's distances are SIMD; build it in a checkout of its own, since the
# class files are then release 21. Writes DIR/run-<size>-<encoding>.json, synthetic-cosines.json, machine.json, command.txt, output.txt.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
cmdline="bench/gallery-index.sh $*"
out="" build=1 model="" lfw="" lucene10=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --lucene10) lucene10=1; shift ;;
    --embed-lfw) model="$2"; shift 2 ;;
    --lfw) lfw="$2"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
out="${out:-$bench/results/$(date +%Y%m%d)-gallery-index}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
java=java profile=() jvm=()
if [[ $lucene10 == 1 ]]; then
  export JAVA_HOME="${SPHEREKIT_JDK21:-/usr/lib/jvm/temurin-25-jdk-amd64}"
  [[ -x "$JAVA_HOME/bin/java" ]] || { echo "--lucene10 needs a JDK 21+ at $JAVA_HOME (set SPHEREKIT_JDK21)" >&2; exit 2; }
  java="$JAVA_HOME/bin/java" profile=(-Plucene10) jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
fi
if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
  (cd "$repo" && mvn -B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true "${profile[@]}" package -pl bench -am)
fi
lib="$bench/target/gallery-index-lib/$$"; mkdir -p "$lib"
cp -r "$bench/target/classes" "$lib/bench-classes"
cp_snap="$lib/bench-classes"
IFS=: read -ra entries < "$bench/target/classpath.txt" || true  # no trailing newline
for e in "${entries[@]}"; do
  if [[ "$e" == "$repo"/* ]]; then cp "$e" "$lib/"; cp_snap="$cp_snap:$lib/$(basename "$e")"; else cp_snap="$cp_snap:$e"; fi
done
echo "$cmdline" > "$out/command.txt"
python3 "$repo/bench/machine_json.py" "$out/machine.json" "$repo"
work="$bench/target/gallery-index-work/$$"; mkdir -p "$work"
extra=()
if [[ -n "$model" ]]; then
  lfw="${lfw:-${SPHEREKIT_LFW:-$repo/../shared/data/lfw}}"
  emb="$bench/target/lfw-embeddings-$(basename "$model" .onnx).bin"
  if [[ ! -f "$emb" || "$emb" -ot "$model" ]]; then
    "$java" "${jvm[@]}" -Xmx3g -cp "$cp_snap" io.spherekit.bench.GalleryIndexBench --embed-lfw --model "$model" --lfw "$lfw" \
      --output "$emb" 2>&1 | tee "$out/embed-lfw.txt"
  fi
  extra=(--lfw-embeddings "$emb")
fi
"$java" "${jvm[@]}" -Xmx4g -cp "$cp_snap" io.spherekit.bench.GalleryIndexBench --out "$out" --work "$work" "${extra[@]}" "$@" 2>&1 \
  | tee "$out/output.txt"
rm -rf "$work" "$lib"
