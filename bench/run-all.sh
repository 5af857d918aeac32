#!/usr/bin/env bash
# SphereKit benchmark run: build, models, FLOPs, JMH suites, DL4J training, Python cross-engine, summary.
#
#   bench/run-all.sh [--quick] [--repeats N] [--skip-build] [--out DIR] [--only LIST]
#
#   --quick       smoke test: 1 repeat, 1 short JMH iteration, 2 timed steps, SF-4 training only, 1184 classes only
#   --repeats N   repeat every comparison N times, interleaved (default 3; medians are reported)
#   --skip-build  do not run mvn install at the root (uses the SphereKit jars already in ~/.m2)
#   --out DIR     results directory (default bench/results/<date>)
#   --only LIST   comma list of stages: flops,head,preprocess,ort,dl4j-infer,dl4j-train,keras,ort-python
#
# Run it on a quiet machine: every stage uses all cores. Raw results: <out>/*.json (JMH JSON for the JMH suites),
# logs in <out>/logs, summary in <out>/summary.md and summary.csv.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
quick=0 repeats="" build=1 out="" only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --repeats) repeats="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n "$repeats" ]] || { [[ $quick == 1 ]] && repeats=1 || repeats=3; }
out="${out:-$bench/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd)"
want() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---- machine
py3=python3
$py3 - "$out/machine.json" "$quick" "$repeats" <<'PY'
import json, os, subprocess, sys, datetime
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
ls = dict(l.split(":", 1) for l in sh("lscpu").splitlines() if ":" in l)
ls = {k.strip(): v.strip() for k, v in ls.items()}
m = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
     "cpu_model": ls.get("Model name"), "cpus": ls.get("CPU(s)"),
     "cores": int(ls.get("Core(s) per socket", "1")) * int(ls.get("Socket(s)", "1")),
     "mem": sh("free -g | awk '/Mem:/{print $2\" GiB\"}'"), "loadavg": open("/proc/loadavg").read().split()[:3],
     "java": sh("java -version 2>&1 | head -1"), "git": sh("git -C %s rev-parse --short HEAD" % os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[1])))),
     "mode": "quick" if sys.argv[2] == "1" else "full", "repeats": int(sys.argv[3]), "lscpu": ls}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
sh -c "cd '$repo' && git rev-parse HEAD && git status --short" > "$out/git.txt" 2>&1 || true

# ---- build
if [[ $build == 1 ]]; then
  log "mvn install (root)"
  (cd "$repo" && mvn -B -q -DskipTests -Dspherekit.skipPython=true install) > "$out/logs/build-root.log" 2>&1
fi
log "mvn package (bench)"
(cd "$bench" && mvn -B -q -DskipTests package) > "$out/logs/build-bench.log" 2>&1
cp="$bench/target/classes:$(cat "$bench/target/classpath.txt")"
ext=-onednn; grep -q avx512f /proc/cpuinfo 2>/dev/null && ext=-onednn-avx512
java_opts=(-Xmx12g "-Dorg.bytedeco.javacpp.platform.extension=$ext")
java_run() { java "${java_opts[@]}" ${SPHEREKIT_JAVA_OPTS:-} -cp "$cp" "$@"; }

venv="$bench/target/venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import keras, jax, tensorflow, onnxruntime" 2>/dev/null; then
  log "creating $venv from the local mirror"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --index-url file:///opt/pypi/simple \
      --extra-index-url file:///opt/pypi-more/simple --find-links /opt/wheels --retries 0 --timeout 5 \
      keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 tensorflow-cpu==2.21.0 onnxruntime==1.30.0 numpy > "$out/logs/venv.log" 2>&1
fi
py="$venv/bin/python"

# ---- models (random weights; kept across runs in bench/target/models)
models="$bench/target/models"
log "models: SphereFace-4 and -20 (full width) -> DL4J zip + ONNX"
java_run io.spherekit.bench.MakeModels --out "$models" --depth 4,20 --force > "$out/logs/models.log" 2>&1

want flops && "$py3" "$bench/flops.py" --json "$out/flops.json" | tee "$out/logs/flops.log" >&2

# ---- settings
if [[ $quick == 1 ]]; then
  jmh_opts=(-f 1 -wi 1 -i 1 -w 1s -r 1s)
  head_params=(-p classes=1184)
  pre_params=(-p files=200)
  train_depths=(4); train_args=(--steps 2 --warmup 1)
  pred_args=(--warmup 1 --iters32 2 --iters1 5)
else
  jmh_opts=(-f 1)            # iterations/time from the annotations; repeats give the forks
  head_params=()
  pre_params=()
  train_depths=(4 20); train_args=(--steps 10 --warmup 4)
  pred_args=(--warmup 3 --iters32 20 --iters1 200)
fi
jmh() { # suite class extra...
  local suite="$1" cls="$2"; shift 2
  log "JMH $suite (run $r/$repeats)"
  java_run org.openjdk.jmh.Main "io.spherekit.bench.$cls" "${jmh_opts[@]}" "$@" \
      -rf json -rff "$out/jmh-$suite-r$r.json" > "$out/logs/jmh-$suite-r$r.log" 2>&1 \
      || { log "JMH $suite FAILED (see logs/jmh-$suite-r$r.log)"; failed+=("jmh-$suite-r$r"); }
}
step() { # name cmd...
  local name="$1"; shift
  log "$name (run $r/$repeats)"
  "$@" > "$out/logs/$name-r$r.log" 2>&1 || { log "$name FAILED (see logs/$name-r$r.log)"; failed+=("$name-r$r"); }
}
failed=()

for r in $(seq 1 "$repeats"); do
  want head && jmh head HeadBench "${head_params[@]}"
  want preprocess && jmh preprocess PreprocessBench "${pre_params[@]}"
  want ort && jmh ort OrtInferenceBench -p "model=$models/sf20.onnx"
  want ort && jmh ort-prelu OrtInferenceBench -p "model=$models/sf20-prelu.onnx" -p intraOpThreads=2 -p optLevel=ALL
  want dl4j-infer && jmh dl4j-infer Dl4jInferenceBench -p "model=$models/sf20.zip"
  for d in "${train_depths[@]}"; do
    want dl4j-train && step "dl4j-train-sf$d" java_run io.spherekit.bench.Dl4jTrainThroughput --depth "$d" \
        "${train_args[@]}" --json "$out/dl4j-train-sf$d-r$r.json"
    for be in jax tensorflow; do
      want keras && step "keras-$be-train-sf$d" "$py" "$bench/python/cross_engine.py" train --backend "$be" \
          --depth "$d" "${train_args[@]}" --json "$out/keras-$be-train-sf$d-r$r.json"
    done
  done
  for d in 4 20; do
    for be in jax tensorflow; do
      want keras && step "keras-$be-predict-sf$d" "$py" "$bench/python/cross_engine.py" predict --backend "$be" \
          --depth "$d" "${pred_args[@]}" --json "$out/keras-$be-predict-sf$d-r$r.json"
    done
    want ort-python && step "ort-python-sf$d" "$py" "$bench/python/cross_engine.py" ort --onnx "$models/sf$d.onnx" \
        --depth "$d" "${pred_args[@]}" --json "$out/ort-python-sf$d-r$r.json"
  done
done

log "summary"
"$py3" "$bench/summarize.py" "$out" > "$out/logs/summary.log"
cat "$out/summary.md"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "done: $out"
