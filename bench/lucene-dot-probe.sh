#!/usr/bin/env bash
# Time of one 512-d float dot product in Lucene 9.12's (and 10.3's) VectorUtil (what every HNSW distance costs), on the default
# Java 17 and, if present, Temurin 25 with the incubator vector module: shows whether Lucene's Panama (SIMD) path is
# in use. Writes its probe under bench/target/; prints one line per JVM (mean ns per dot over 2M calls).
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar=$(find ~/.m2/repository/org/apache/lucene/lucene-core/9.12.3 -name 'lucene-core-9.12.3.jar' | head -1)
[[ -f "$jar" ]] || { echo "lucene-core 9.12.3 not in ~/.m2: build the project first" >&2; exit 1; }
dir="$bench/target/lucene-dot-probe"; mkdir -p "$dir"
cat > "$dir/LuceneDot.java" <<'JAVA'
public class LuceneDot {
    public static void main(String[] a) {
        float[] x = new float[512], y = new float[512];
        for (int i = 0; i < 512; i++) { x[i] = i * 0.001f; y[i] = 1 - i * 0.001f; }
        double s = 0;
        for (int r = 0; r < 200_000; r++) { s += org.apache.lucene.util.VectorUtil.dotProduct(x, y); } // warm-up
        long t = System.nanoTime();
        for (int r = 0; r < 2_000_000; r++) { s += org.apache.lucene.util.VectorUtil.dotProduct(x, y); }
        System.out.printf("java %s: %.1f ns per 512-d dot (checksum %.1f)%n", Runtime.version(), (System.nanoTime() - t) / 2e6, s);
    }
}
JAVA
javac -cp "$jar" -d "$dir" "$dir/LuceneDot.java"
java -cp "$dir:$jar" LuceneDot | sed 's/^/lucene 9.12.3, /'
j25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
if [[ -x $j25 ]]; then
  "$j25" --add-modules jdk.incubator.vector -cp "$dir:$jar" LuceneDot 2>&1 | grep -v '^[A-Z][a-z][a-z] [0-9]' | sed 's/^/lucene 9.12.3, /'
  # Lucene 10.3 (what -Plucene10 builds against), fetched into ~/.m2 by Maven if missing
  jar10=~/.m2/repository/org/apache/lucene/lucene-core/10.3.2/lucene-core-10.3.2.jar
  [[ -f $jar10 ]] || mvn -B -q dependency:get -Dartifact=org.apache.lucene:lucene-core:10.3.2 >/dev/null
  d10="$dir/lucene10"; mkdir -p "$d10"
  "$(dirname "$j25")/javac" -cp "$jar10" -d "$d10" "$dir/LuceneDot.java"
  "$j25" --add-modules jdk.incubator.vector -cp "$d10:$jar10" LuceneDot 2>&1 | grep -v '^[A-Z][a-z][a-z] [0-9]' | sed 's/^/lucene 10.3.2, /'
fi
