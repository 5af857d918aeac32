#!/usr/bin/env bash
# Prints each module's non-test dependency tree (mvn dependency:tree) and whether any banned group appears in it.
# The build enforces the same rules with maven-enforcer-plugin bannedDependencies (each module's pom.xml); this
# script is the human-readable view of them.
set -euo pipefail
cd "$(dirname "$0")/.."
tree="$(mktemp)"; trap 'rm -f "$tree"' EXIT
mvn -B -q -Dstyle.color=never -Dspherekit.skipPython=true dependency:tree -Dscope=runtime \
    -DoutputFile="$tree" -DappendOutput=true -pl runtime/core,runtime/sdk,runtime/server,trainer,exporter/onnx >/dev/null
declare -A banned=(
  [spherekit-core]='org\.deeplearning4j|org\.nd4j|org\.bytedeco|com\.microsoft\.onnxruntime|io\.javalin|org\.eclipse\.jetty|org\.jetbrains\.kotlin'
  [spherekit-runtime]='org\.deeplearning4j|org\.nd4j|org\.bytedeco|io\.javalin|org\.eclipse\.jetty'
  [spherekit-server]='org\.deeplearning4j|org\.nd4j|org\.bytedeco'
  [spherekit-trainer]='com\.microsoft\.onnxruntime|io\.javalin|org\.eclipse\.jetty|org\.jetbrains\.kotlin'
  [spherekit-onnx]='^(?!.*(tribuo-util-onnx|protobuf-java|spherekit-onnx)).*'
)
status=0
for m in spherekit-core spherekit-runtime spherekit-server spherekit-trainer spherekit-onnx; do
  block="$(awk -v m="io.spherekit:$m:jar" 'index($0,m)==1{p=1;print;next} /^io\.spherekit:/{p=0} p' "$tree")"
  echo "$block"
  hits="$(echo "$block" | tail -n +2 | sed -E 's/^[| +\\-]+//' | grep -P "${banned[$m]}" || true)"
  if [[ -n "$hits" ]]; then echo "  BANNED in $m:"; echo "$hits" | sed 's/^/    /'; status=1; else echo "  ok: nothing banned in $m"; fi
  echo
done
exit $status
