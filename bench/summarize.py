#!/usr/bin/env python3
"""Summarises a bench/results/<date>/ directory written by bench/run-all.sh into summary.md and summary.csv.

Every measurement is repeated (files *-r<N>.json); the summary reports the median over repeats (and the
number of repeats, n). Standard library only.
"""
import glob
import json
import os
import re
import statistics
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        return json.load(f)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt(x, nd=1):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:,.{nd}f}"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def main(d):
    vals = defaultdict(list)   # metric key -> values over repeats
    versions, threads_used = {}, {}  # ONNX Runtime version and intra-op threads per side of the ORT comparison
    machine = load(os.path.join(d, "machine.json")) if os.path.exists(os.path.join(d, "machine.json")) else {}
    flops = load(os.path.join(d, "flops.json")) if os.path.exists(os.path.join(d, "flops.json")) else None

    # JMH suites
    for f in sorted(glob.glob(os.path.join(d, "jmh-*-r*.json"))):
        for e in load(f):
            name = e["benchmark"].rsplit(".", 2)
            bench, method = name[-2], name[-1]
            params = {k: v for k, v in (e.get("params") or {}).items() if k not in ("model", "lfwDir", "files")}
            pk = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
            if str((e.get("params") or {}).get("model", "")).endswith("-prelu.onnx"):
                pk = "prelu-node," + pk
            pm = e["primaryMetric"]
            key = f"{bench}.{method}[{pk}]"
            if e["mode"] == "sample":
                pc = pm.get("scorePercentiles", {})
                vals[key + ".p50_" + pm["scoreUnit"]].append(pc.get("50.0"))
                vals[key + ".p99_" + pm["scoreUnit"]].append(pc.get("99.0"))
            else:
                vals[key + "." + pm["scoreUnit"]].append(pm["score"])

    # single-shot JSON records
    for f in sorted(glob.glob(os.path.join(d, "*-r*.json"))):
        base = os.path.basename(f)
        if base.startswith("jmh-"):
            continue
        r = load(f)
        stem = re.sub(r"-r\d+\.json$", "", base)
        if isinstance(r, dict) and r.get("engine") == "ort-java" and "results" in r:  # OrtThroughput
            for row in r["results"]:
                if row.get("batch") == 32:
                    vals[f"{stem}.batch32_images_per_second"].append(row.get("images_per_second"))
                if row.get("batch") == 1:
                    vals[f"{stem}.batch1_p50_ms"].append(row.get("p50_ms"))
                    vals[f"{stem}.batch1_p99_ms"].append(row.get("p99_ms"))
            versions["ort-java"] = r.get("onnxruntime")
            threads_used["ort-java"] = r.get("intra_op_threads")
            continue
        if isinstance(r, dict) and r.get("engine") == "ort-python":
            versions["ort-python"] = r.get("onnxruntime")
            threads_used["ort-python"] = r.get("intra_op_threads")
        for k in ("images_per_second", "peak_rss_bytes", "batch32_images_per_second", "batch1_p50_ms", "batch1_p99_ms"):
            if k in r:
                vals[f"{stem}.{k}"].append(r[k])

    M = {k: med(v) for k, v in vals.items()}
    N = {k: len([x for x in v if x is not None]) for k, v in vals.items()}

    def g(k):
        return M.get(k)

    rows = []  # (section, metric, value, unit, n)

    def add(section, metric, key, unit, scale=1.0):
        v = g(key)
        rows.append((section, metric, None if v is None else v * scale, unit, N.get(key, 0)))
        return None if v is None else v * scale

    # --- head
    head_ms = {}
    for cls in ("1184", "10572"):
        for h in ("asoftmax", "softmax"):
            head_ms[(h, cls)] = add("margin head (B=256, D=512, fwd+bwd)", f"DL4J {h} C={cls}",
                                    f"HeadBench.dl4jForwardBackward[batch=256,classes={cls},dim=512,head={h}].ms/op", "ms/op")
        head_ms[("naive", cls)] = add("margin head (B=256, D=512, fwd+bwd)", f"naive Java loops A-Softmax C={cls}",
                                      f"HeadBench.naiveASoftmaxForwardBackward[batch=256,classes={cls},dim=512].ms/op", "ms/op")
    # --- preprocessing
    pre1 = add("preprocessing (JPEG read+decode+crop+resize+normalise)", "1 thread",
               "PreprocessBench.decodePreprocess1T[].ops/s", "img/s")
    pre2 = add("preprocessing (JPEG read+decode+crop+resize+normalise)", "2 threads",
               "PreprocessBench.decodePreprocess2T[].ops/s", "img/s")
    # --- ORT java
    ortj = {}
    for t in ("1", "2"):
        for o in ("ALL", "BASIC"):
            pk = f"intraOpThreads={t},optLevel={o}"
            ortj[(t, o, "b32")] = add("ORT-Java SphereFace-20", f"batch 32, threads {t}, opt {o}",
                                      f"OrtInferenceBench.batch32[{pk}].ops/s", "img/s", 32)
            ortj[(t, o, "p50")] = add("ORT-Java SphereFace-20", f"batch 1 p50, threads {t}, opt {o}",
                                      f"OrtInferenceBench.batch1[{pk}].p50_ms/op", "ms")
            ortj[(t, o, "p99")] = add("ORT-Java SphereFace-20", f"batch 1 p99, threads {t}, opt {o}",
                                      f"OrtInferenceBench.batch1[{pk}].p99_ms/op", "ms")
    pk = "prelu-node,intraOpThreads=2,optLevel=ALL"
    ortp32 = add("ORT-Java SphereFace-20, PReLU exported as one PRelu node", "batch 32, threads 2, opt ALL",
                 f"OrtInferenceBench.batch32[{pk}].ops/s", "img/s", 32)
    ortp50 = add("ORT-Java SphereFace-20, PReLU exported as one PRelu node", "batch 1 p50, threads 2, opt ALL",
                 f"OrtInferenceBench.batch1[{pk}].p50_ms/op", "ms")
    dj32 = add("DL4J inference SphereFace-20", "batch 32", "Dl4jInferenceBench.batch32[].ops/s", "img/s", 32)
    dj50 = add("DL4J inference SphereFace-20", "batch 1 p50", "Dl4jInferenceBench.batch1[].p50_ms/op", "ms")
    add("DL4J inference SphereFace-20", "batch 1 p99", "Dl4jInferenceBench.batch1[].p99_ms/op", "ms")
    # --- python side + DL4J training
    train = {}
    for dep in ("4", "20"):
        for eng in ("dl4j", "keras-jax", "keras-tensorflow"):
            stem = f"{eng}-train-sf{dep}"
            train[(eng, dep)] = add(f"training SphereFace-{dep} (batch 32, A-Softmax m=4, SGD momentum)", eng,
                                    f"{stem}.images_per_second", "img/s")
            add(f"training SphereFace-{dep} (batch 32, A-Softmax m=4, SGD momentum)", f"{eng} peak RSS",
                f"{stem}.peak_rss_bytes", "GB", 1e-9)
    pred = {}
    for dep in ("4", "20"):
        for eng in ("keras-jax", "keras-tensorflow", "ort-python"):
            stem = f"{eng}-predict-sf{dep}" if eng != "ort-python" else f"ort-python-sf{dep}"
            sec = f"inference SphereFace-{dep} (Python)"
            pred[(eng, dep, "b32")] = add(sec, f"{eng} batch 32", f"{stem}.batch32_images_per_second", "img/s")
            pred[(eng, dep, "p50")] = add(sec, f"{eng} batch 1 p50", f"{stem}.batch1_p50_ms", "ms")
            add(sec, f"{eng} batch 1 p99", f"{stem}.batch1_p99_ms", "ms")
        # ORT-Java through the same timing loop as Python ORT (OrtThroughput), for the like-for-like ratio
        sec = f"ORT-Java SphereFace-{dep}, OrtThroughput loop (same loop, model and threads as ort-python)"
        pred[("ort-java", dep, "b32")] = add(sec, "batch 32", f"ort-java-sf{dep}.batch32_images_per_second", "img/s")
        pred[("ort-java", dep, "p50")] = add(sec, "batch 1 p50", f"ort-java-sf{dep}.batch1_p50_ms", "ms")
        add(sec, "batch 1 p99", f"ort-java-sf{dep}.batch1_p99_ms", "ms")

    # --- ratios
    R = []
    for cls in ("1184", "10572"):
        R.append((f"A-Softmax / softmax head time, C={cls}", ratio(head_ms[("asoftmax", cls)], head_ms[("softmax", cls)])))
        R.append((f"naive-loop / DL4J A-Softmax time, C={cls}", ratio(head_ms[("naive", cls)], head_ms[("asoftmax", cls)])))
    for dep in ("4", "20"):
        for be in ("keras-jax", "keras-tensorflow"):
            R.append((f"DL4J / {be} training img/s, SF-{dep}", ratio(train[("dl4j", dep)], train[(be, dep)])))
    best_b32 = max([v for (t, o, k), v in ortj.items() if k == "b32" and v is not None], default=None)
    best_p50 = min([v for (t, o, k), v in ortj.items() if k == "p50" and v is not None], default=None)
    R.append(("ORT-Java (best config) / DL4J, batch-32 img/s, SF-20", ratio(best_b32, dj32)))
    R.append(("DL4J / ORT-Java (best config), batch-1 p50 latency, SF-20", ratio(dj50, best_p50)))
    # Like for like: the same timing loop (warm-up calls, timed calls, median), model, intra-op threads, opt level
    # ALL and sequential execution on both sides. (Before 2026-12 this ratio divided the JMH mean throughput of
    # OrtInferenceBench by the Python loop's median with ORT's default thread count: 1.76x, not comparable.)
    vj, vp = versions.get("ort-java", "?"), versions.get("ort-python", "?")
    tj, tp = threads_used.get("ort-java", "?"), threads_used.get("ort-python", "?")
    for dep in ("4", "20"):
        R.append((f"ORT-Java {vj} / Python ORT {vp} (OrtThroughput vs cross_engine.py ort; threads {tj} / {tp}), "
                  f"batch-32 img/s, SF-{dep}", ratio(pred[("ort-java", dep, "b32")], pred[("ort-python", dep, "b32")])))
        R.append((f"Python ORT {vp} / ORT-Java {vj}, batch-1 p50 latency, SF-{dep}",
                  ratio(pred[("ort-python", dep, "p50")], pred[("ort-java", dep, "p50")])))
    R.append(("ORT-Java depthwise-PReLU export / PRelu-node export, batch-32 img/s, SF-20", ratio(ortj[("2", "ALL", "b32")], ortp32)))
    R.append(("ORT-Java PRelu-node / depthwise-PReLU export, batch-1 p50 latency, SF-20", ratio(ortp50, ortj[("2", "ALL", "p50")])))
    R.append(("ORT-Java opt ALL / BASIC, batch-32 img/s, 2 threads", ratio(ortj[("2", "ALL", "b32")], ortj[("2", "BASIC", "b32")])))
    R.append(("ORT-Java 2 / 1 intra-op threads, batch-32 img/s, opt ALL", ratio(ortj[("2", "ALL", "b32")], ortj[("1", "ALL", "b32")])))
    R.append(("preprocessing 1T / ORT-Java best inference img/s (SF-20)", ratio(pre1, best_b32)))
    R.append(("preprocessing 2T / ORT-Java best inference img/s (SF-20)", ratio(pre2, best_b32)))
    R.append(("Keras-TF predict / ORT-Java best, batch-32 img/s, SF-20", ratio(pred[("keras-tensorflow", "20", "b32")], best_b32)))

    eff = []
    if flops:
        peak = flops["cpu"]["peak_gflops"]
        gf = flops["gflops_per_image"]

        def e(label, ips, dep, mult=1.0):
            if ips is not None:
                achieved = ips * gf[f"sf{dep}"] * mult
                eff.append((label, achieved, achieved / peak))
        e("ORT-Java best, batch 32, SF-20 inference", best_b32, 20)
        e("DL4J output(fc5) batch 32, SF-20 inference", dj32, 20)
        e("Python ORT batch 32, SF-20 inference", pred[("ort-python", "20", "b32")], 20)
        for be in ("keras-jax", "keras-tensorflow"):
            e(f"{be} predict batch 32, SF-20", pred[(be, "20", "b32")], 20)
        for dep in ("4", "20"):
            for eng in ("dl4j", "keras-jax", "keras-tensorflow"):
                e(f"{eng} training SF-{dep} (3x forward FLOPs)", train[(eng, dep)], dep, 3.0)

    # --- write
    lines = ["# SphereKit benchmark summary", ""]
    lines += [f"- date: {machine.get('date', '?')}", f"- machine: {machine.get('cpu_model', '?')}, "
              f"{machine.get('cores', '?')} cores / {machine.get('cpus', '?')} CPUs, {machine.get('mem', '?')}",
              f"- mode: {machine.get('mode', '?')}, repeats: {machine.get('repeats', '?')}; values are medians over n repeats",
              f"- load average at start: {machine.get('loadavg', '?')}",
              f"- java: {machine.get('java', '?')}; git: {machine.get('git', '?')}", ""]
    if flops:
        c = flops["cpu"]
        lines += ["## FLOPs and peak", "",
                  "GFLOP/image (112×96, conv + fc5 multiply-adds × 2): " + ", ".join(
                      f"{k} {v:.3f}" for k, v in flops["gflops_per_image"].items()), "",
                  f"Peak FP32: {c['cores']} cores × {c['ghz']:.2f} GHz ({c['ghz_source']}) × "
                  f"{c['flops_per_cycle_per_core']} FLOPs/cycle ({c['flops_per_cycle_assumption']}) = "
                  f"**{c['peak_gflops']:.0f} GFLOP/s** (at that clock; a CPU boosting above it can exceed this peak).", ""]
    lines += ["## Ratios", "", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {fmt(v, 2)} |" for k, v in R]
    if eff:
        lines += ["", "## Achieved GFLOP/s", "", "| what | GFLOP/s | fraction of peak |", "|---|---|---|"]
        lines += [f"| {k} | {a:.1f} | {f:.1%} |" for k, a, f in eff]
    lines += ["", "## Measurements", "", "| section | metric | median | unit | n |", "|---|---|---|---|---|"]
    lines += [f"| {s} | {m} | {fmt(v, 2)} | {u} | {n} |" for s, m, v, u, n in rows if n]
    missing = [f"{s}: {m}" for s, m, v, u, n in rows if not n]
    if missing:
        lines += ["", "Not measured in this run: " + "; ".join(missing)]
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "summary.csv"), "w") as f:
        f.write("section,metric,median,unit,n\n")
        for s, m, v, u, n in rows:
            f.write(f'"{s}","{m}",{"" if v is None else v},{u},{n}\n')
        for k, v in R:
            f.write(f'"ratio","{k}",{"" if v is None else v},,\n')
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
