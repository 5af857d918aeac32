#!/usr/bin/env python3
"""Cross-engine SphereFace benchmarks on the Python side (SphereKit bench).

Sub-commands (one measurement per process, so peak RSS belongs to that measurement alone):

  train    Keras 3 training throughput: SphereFace-{depth} (full width, 512-d) + A-Softmax (m=4) head, batch 32,
           SGD momentum 0.9 (Nesterov, as the DL4J trainer), fixed random batch, median step time after warm-up.
  predict  Keras 3 inference: batch-32 images/s (median) and batch-1 latency p50/p99 (predict_on_batch).
  ort      Python onnxruntime on an exported .onnx: batch-32 images/s and batch-1 latency p50/p99. Its Java
           counterpart is io.spherekit.bench.OrtThroughput (same loop: --warmup calls of each batch, then timed
           calls, median / nearest-rank percentiles); run-all.sh runs both with the same model and --threads 2.
           Session: graph optimisation ALL, sequential execution, 1 inter-op thread (ORT's defaults, set
           explicitly and recorded so both sides are known to match).

Backend: --backend jax|tensorflow (sets KERAS_BACKEND before Keras is imported). The network is built by
testdata/python/keras_reference.py (imported, not copied); that module switches JAX's x64 mode on for its
float64 head references, which is switched off again here (the benchmark runs float32, Keras' floatx).
Peak RSS: resource.getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux).

Writes one JSON object to --json (and stdout).
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))  # nearest-rank
    return s[k]


def import_keras(backend):
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, os.path.join(REPO, "testdata", "python"))
    import keras_reference as kr  # noqa: E402  (the shared SphereFace builder)
    import jax
    jax.config.update("jax_enable_x64", False)
    import keras
    assert keras.backend.backend() == backend, keras.backend.backend()
    return kr, keras


def base_record(args, engine):
    return {"engine": engine, "task": args.cmd, "python": platform.python_version()}


def cmd_train(args):
    import numpy as np
    kr, keras = import_keras(args.backend)
    keras.utils.set_random_seed(7)
    backbone = kr.build_sphereface(args.depth, args.width, 512)
    labels_in = keras.Input(shape=(), dtype="int32", name="labels")
    logits = kr.ASoftmax(args.classes, m=4, lambda_=5.0, name="fc6")([backbone.output, labels_in])
    model = keras.Model([backbone.input, labels_in], logits)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, size=(args.batch, 112, 96, 3)).astype("float32")
    y = rng.integers(0, args.classes, size=(args.batch,)).astype("int32")
    t0 = time.perf_counter()
    for _ in range(args.warmup):
        loss = model.train_on_batch([x, y], y)
    warm = time.perf_counter() - t0
    steps = []
    for _ in range(args.steps):
        t = time.perf_counter()
        loss = model.train_on_batch([x, y], y)
        steps.append(time.perf_counter() - t)
    med = statistics.median(steps)
    r = base_record(args, "keras-" + args.backend)
    r.update(depth=args.depth, width=args.width, batch=args.batch, classes=args.classes, head="asoftmax-m4",
             optimizer="nesterov-sgd-0.9", warmup_steps=args.warmup, warmup_seconds=warm, steps=args.steps,
             step_seconds=steps, median_step_seconds=med, images_per_second=args.batch / med,
             loss_last=float(np.asarray(loss).reshape(-1)[0]), parameters=int(model.count_params()),
             peak_rss_bytes=peak_rss_bytes(), keras=keras.__version__)
    return r


def cmd_predict(args):
    import numpy as np
    kr, keras = import_keras(args.backend)
    keras.utils.set_random_seed(7)
    model = kr.build_sphereface(args.depth, args.width, 512)
    rng = np.random.default_rng(8)
    x32 = rng.uniform(-1, 1, size=(32, 112, 96, 3)).astype("float32")
    x1 = x32[:1].copy()
    for _ in range(args.warmup):
        model.predict_on_batch(x32)
        model.predict_on_batch(x1)
    b32 = []
    for _ in range(args.iters32):
        t = time.perf_counter()
        np.asarray(model.predict_on_batch(x32))
        b32.append(time.perf_counter() - t)
    b1 = []
    for _ in range(args.iters1):
        t = time.perf_counter()
        np.asarray(model.predict_on_batch(x1))
        b1.append(time.perf_counter() - t)
    r = base_record(args, "keras-" + args.backend)
    r.update(depth=args.depth, width=args.width, batch32_images_per_second=32 / statistics.median(b32),
             batch1_p50_ms=pct(b1, 50) * 1e3, batch1_p99_ms=pct(b1, 99) * 1e3, iters32=args.iters32,
             iters1=args.iters1, peak_rss_bytes=peak_rss_bytes(), keras=keras.__version__)
    return r


def cmd_ort(args):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.inter_op_num_threads = 1
    if args.threads:
        so.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(args.onnx, sess_options=so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    rng = np.random.default_rng(8)
    x32 = rng.uniform(-1, 1, size=(32, 3, 112, 96)).astype("float32")  # NCHW, as exported
    x1 = x32[:1].copy()
    for _ in range(args.warmup):
        sess.run(None, {name: x32})
        sess.run(None, {name: x1})
    b32 = []
    for _ in range(args.iters32):
        t = time.perf_counter()
        sess.run(None, {name: x32})
        b32.append(time.perf_counter() - t)
    b1 = []
    for _ in range(args.iters1):
        t = time.perf_counter()
        sess.run(None, {name: x1})
        b1.append(time.perf_counter() - t)
    r = base_record(args, "ort-python")
    r.update(onnx=args.onnx, depth=args.depth, onnxruntime=ort.__version__, intra_op_threads=args.threads or "default",
             inter_op_threads=1, execution_mode="sequential", graph_optimization="ALL",
             batch32_images_per_second=32 / statistics.median(b32), batch1_p50_ms=pct(b1, 50) * 1e3,
             batch1_p99_ms=pct(b1, 99) * 1e3, iters32=args.iters32, iters1=args.iters1,
             peak_rss_bytes=peak_rss_bytes())
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("train", "predict", "ort"):
        p = sub.add_parser(name)
        p.add_argument("--json")
        p.add_argument("--depth", type=int, default=20, choices=(4, 10, 20, 36, 64))
        p.add_argument("--warmup", type=int, default=3)
        if name in ("train", "predict"):
            p.add_argument("--backend", choices=("jax", "tensorflow"), default="jax")
            p.add_argument("--width", type=float, default=1.0)
        if name == "train":
            p.add_argument("--batch", type=int, default=32)
            p.add_argument("--steps", type=int, default=7)
            p.add_argument("--classes", type=int, default=1184)
        else:
            p.add_argument("--iters32", type=int, default=20)
            p.add_argument("--iters1", type=int, default=200)
        if name == "ort":
            p.add_argument("--onnx", required=True)
            p.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = ORT default)")
    a = ap.parse_args(argv)
    r = {"train": cmd_train, "predict": cmd_predict, "ort": cmd_ort}[a.cmd](a)
    s = json.dumps(r, indent=2)
    print(s)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            f.write(s + "\n")


if __name__ == "__main__":
    main()
