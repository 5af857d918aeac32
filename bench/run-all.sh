#!/usr/bin/env bash
# SphereKit benchmark run: build, models, FLOPs, JMH suites, DL4J training, Python cross-engine, summary.
#
#   bench/run-all.sh [--quick] [--repeats N] [--skip-build] [--out DIR] [--only LIST] [--lfw DIR]
#
#   --quick       smoke test: 1 repeat, 1 short JMH iteration, 2 timed steps, SF-4 training only, 1184 classes only
#   --repeats N   repeat every comparison N times, interleaved (default 3; medians are reported)
#   --skip-build  do not rebuild (uses bench/target/classpath.txt and the modules' target/ jars of an earlier build)
#   --out DIR     results directory (default bench/results/<date>)
#   --only LIST   comma list of stages: flops,head,preprocess,ort,ort-best,dl4j-infer,dl4j-train,keras,ort-python
#                 (ort-best: ORT-Java JMH at 2 intra-op threads + opt ALL only; ort-python: Python ORT and ORT-Java
#                 through the same timing loop). E.g. the ORT-Java vs DL4J side by side:
#                 bench/run-all.sh --only ort-best,dl4j-infer --out bench/results/<date>-ort-vs-dl4j
#   --lfw DIR     LFW folder for the preprocess stage (default: $SPHEREKIT_LFW, else ../shared/data/lfw next to
#                 the repository root)
#
# Build: the bench module and what it depends on, from the root reactor (mvn package -pl bench -am; nothing is
# installed into ~/.m2). Python: bench/target/venv from bench/python/requirements.txt (bench/python/setup_venv.sh,
# local pip mirror). Run it on a quiet machine: every stage uses all cores. Each run writes its own machine.json
# (load average at start, git commit, mode, stages), command.txt, raw results <out>/*.json (JMH JSON for the JMH
# suites), logs in <out>/logs, summary in <out>/summary.md and summary.csv.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$bench/.." && pwd)"
quick=0 repeats="" build=1 out="" only="" lfw=""
cmdline="bench/run-all.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --repeats) repeats="$2"; shift 2 ;;
    --skip-build) build=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --lfw) lfw="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
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
echo "$cmdline" > "$out/command.txt"
$py3 - "$out/machine.json" "$quick" "$repeats" "$repo" "${only:-all}" <<'PY'
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
     "java": sh("java -version 2>&1 | head -1"), "git": sh("git -C '%s' rev-parse --short HEAD" % sys.argv[4]),
     "mode": "quick" if sys.argv[2] == "1" else "full", "repeats": int(sys.argv[3]), "stages": sys.argv[5],
     "lscpu": ls}
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
sh -c "cd '$repo' && git rev-parse HEAD && git status --short" > "$out/git.txt" 2>&1 || true

# ---- build (root reactor: bench and the modules it depends on; nothing goes into ~/.m2)
if [[ $build == 1 || ! -f "$bench/target/classpath.txt" ]]; then
  log "mvn package -pl bench -am (root reactor)"
  (cd "$repo" && mvn -B -q -Dstyle.color=never -DskipTests -Dspherekit.skipPython=true package -pl bench -am) \
      > "$out/logs/build-bench.log" 2>&1 || { log "build FAILED (see $out/logs/build-bench.log)"; exit 1; }
fi
cp="$bench/target/classes:$(cat "$bench/target/classpath.txt")"
ext=-onednn; grep -q avx512f /proc/cpuinfo 2>/dev/null && ext=-onednn-avx512
# spherekit.home: the repository root, from which LfwLocation finds ../shared/data/lfw (JMH forks inherit it).
java_opts=(-Xmx12g "-Dorg.bytedeco.javacpp.platform.extension=$ext" "-Dspherekit.home=$repo")
java_run() { java "${java_opts[@]}" ${SPHEREKIT_JAVA_OPTS:-} -cp "$cp" "$@"; }

# ---- Python venv (bench/python/requirements.txt), only for the stages that need it
py=""
if want keras || want ort-python; then
  log "python venv (bench/python/requirements.txt)"
  "$bench/python/setup_venv.sh" "$bench/target/venv" > "$out/logs/venv.log" 2>&1 \
      || { log "venv FAILED (see $out/logs/venv.log)"; exit 1; }
  py="$bench/target/venv/bin/python"
fi

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
  ortj_args=(--warmup 1 --iters 2 --iters1 5)
  train_depths=(4); train_args=(--steps 2 --warmup 1)
  pred_args=(--warmup 1 --iters32 2 --iters1 5)
else
  jmh_opts=(-f 1)            # iterations/time from the annotations; repeats give the forks
  head_params=()
  pre_params=()
  train_depths=(4 20); train_args=(--steps 10 --warmup 4)
  pred_args=(--warmup 3 --iters32 20 --iters1 200)
  ortj_args=(--warmup 3 --iters 20 --iters1 200)
fi
[[ -n "$lfw" ]] && pre_params+=(-p "lfwDir=$(cd "$lfw" && pwd)/lfw-deepfunneled")
ort_threads=2   # both sides of the ORT-Java vs Python ORT comparison
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
  want ort-best && ! want ort && jmh ort OrtInferenceBench -p "model=$models/sf20.onnx" -p intraOpThreads=2 -p optLevel=ALL
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
        --depth "$d" --threads "$ort_threads" "${pred_args[@]}" --json "$out/ort-python-sf$d-r$r.json"
    want ort-python && step "ort-java-sf$d" java_run io.spherekit.bench.OrtThroughput --model "$models/sf$d.onnx" \
        --provider cpu --threads "$ort_threads" --batches 32,1 "${ortj_args[@]}" --label "sf$d" \
        --json "$out/ort-java-sf$d-r$r.json"
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
