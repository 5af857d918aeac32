#!/usr/bin/env bash
# Runs the HNSW gallery's tests (runtime/index, HnswGalleryTest) built with -Plucene10: Lucene 10.3 on a JDK 21+
# (Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64, or $SPHEREKIT_JDK21), with the incubating Vector API, so the
# Lucene 10 source folder (runtime/index/src/lucene10) is compiled and tested as well as the default Lucene 9.12 one.
# The profile compiles for release 21, so it builds in a copy of the sources under target/lucene10-build, never in
# the checkout's own target/ folders (which stay Java 17 class files for bin/spherekit and the demo).
# Fails if no JDK 21+ is found; set SPHEREKIT_SKIP_LUCENE10=1 to skip on a machine without one (it says so).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jdk="${SPHEREKIT_JDK21:-/usr/lib/jvm/temurin-25-jdk-amd64}"
if [[ ! -x "$jdk/bin/java" ]]; then
  if [[ "${SPHEREKIT_SKIP_LUCENE10:-}" == 1 ]]; then echo "[lucene10-test] SKIPPED: no JDK 21+ at $jdk"; exit 0; fi
  echo "[lucene10-test] no JDK 21+ at $jdk: set SPHEREKIT_JDK21 (or SPHEREKIT_SKIP_LUCENE10=1 to skip)" >&2; exit 2
fi
build="$repo/target/lucene10-build"
rm -rf "$build"; mkdir -p "$build"
# every POM (the reactor needs them all) and the two modules' sources
(cd "$repo" && { find . -name pom.xml -not -path '*/target/*' -not -path './runs/*'; find runtime/core runtime/index \
   -type f -not -path '*/target/*'; } | tar -cf - -T -) | tar -xf - -C "$build"
cd "$build"
JAVA_HOME="$jdk" mvn -B -Dstyle.color=never -Plucene10 -Dspherekit.skipPython=true -pl runtime/index -am verify \
  -Dtest='HnswGallery*' -Dsurefire.failIfNoSpecifiedTests=false
grep -h 'Tests run' runtime/index/target/surefire-reports/*.txt
