#!/usr/bin/env python3
"""summary.md of a bench/serve-levers.sh folder: one row per ORT-Java lever (median of the repeats), before/after
against the `base` row, ratio to Keras/TF predict, achieved GFLOP/s and fraction of the FP32 peak (flops.json),
the graph node counts (graph.json), the machine's load. Atomic write (temporary file + rename).

    python3 bench/serve_levers_summary.py RESULTS_DIR
"""
import glob
import json
import os
import statistics
import sys
import tempfile

# What each row changes against `base` (the lever measured), for the table.
LEVER = {
    "sdk-default": "FaceEmbedder.embedTensor, SDK defaults (what a user gets today)",
    "base": "raw session, ORT defaults (opt ALL, threads = ORT's choice, sequential, spinning on), heap input, output copied",
    "opt-none": "graph optimisation NONE",
    "opt-basic": "graph optimisation BASIC (constant folding, eliminations)",
    "opt-extended": "graph optimisation EXTENDED (+ ORT fusions)",
    "opt-layout": "graph optimisation LAYOUT (+ NCHWc)",
    "saved-all": "model saved by ORT at ALL (setOptimizedModelFilePath), reloaded with NONE",
    "threads-1": "1 intra-op thread",
    "threads-2": "2 intra-op threads (explicit)",
    "spin-off": "session.intra_op.allow_spinning = 0",
    "parallel": "execution mode PARALLEL, 2 inter-op threads",
    "in-array4d": "input from float[n][3][H][W] (createTensor(env, Object))",
    "in-direct": "input: new tensor per call over a reused direct FloatBuffer",
    "in-direct-reuse": "input: one tensor over a reused direct FloatBuffer, refilled",
    "out-pinned": "in-direct-reuse + pinned output (run(inputs, pinnedOutputs))",
    "tuned": "out-pinned + 2 threads + spinning off",
}


def load(p):
    with open(p) as f:
        return json.load(f)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".2f", none="–"):
    return none if x is None else format(x, spec)


def main(d):
    levers = [load(p) for p in sorted(glob.glob(os.path.join(d, "levers-r*.json")))]
    keras = {}
    for be in ("tensorflow", "jax"):
        runs = [load(p) for p in sorted(glob.glob(os.path.join(d, f"keras-{be}-predict-r*.json")))]
        if runs:
            keras[be] = {"b32": med([r["batch32_images_per_second"] for r in runs]),
                         "p50": med([r["batch1_p50_ms"] for r in runs]), "n": len(runs),
                         "keras": runs[0].get("keras")}
    flops = load(os.path.join(d, "flops.json")) if os.path.exists(os.path.join(d, "flops.json")) else None
    graph = load(os.path.join(d, "graph.json")) if os.path.exists(os.path.join(d, "graph.json")) else None
    m0 = load(os.path.join(d, "machine.json"))
    m1 = load(os.path.join(d, "machine-end.json")) if os.path.exists(os.path.join(d, "machine-end.json")) else None
    loads = open(os.path.join(d, "load.txt")).read().splitlines() if os.path.exists(os.path.join(d, "load.txt")) else []
    one_min = [float(l.split(": ")[1].split()[0]) for l in loads if ": " in l]
    op = os.path.join(d, "others.txt")
    others = [l for l in open(op).read().splitlines() if l.strip()] if os.path.exists(op) else None
    # busy: the 1-min load was >= 1.0 before this run started, or another process used > 10 % of a CPU between steps
    # (the load average during the run includes this benchmark's own threads)
    busy = (bool(one_min) and one_min[0] >= 1.0) or bool(others) or (others is None and any(x >= 1.0 for x in one_min))

    rows = {}
    order = []
    for run in levers:
        for row in run["rows"]:
            name = row["row"]
            if name not in order:
                order.append(name)
            rr = rows.setdefault(name, {"b32": [], "p50": [], "p99": [], "create": [], "diff": [], "settings": row["settings"]})
            rr["create"].append(row.get("session_create_ms"))
            for res in row["results"]:
                if res["batch"] == 32:
                    rr["b32"].append(res["images_per_second"])
                    rr["diff"].append(res["max_abs_diff_vs_first_row"])
                elif res["batch"] == 1:
                    rr["p50"].append(res["p50_ms"])
                    rr["p99"].append(res["p99_ms"])
    order = [r for r in LEVER if r in rows] + [r for r in order if r not in LEVER]
    gfi = flops["gflops_per_image"]["sf20"] if flops else None
    peak = flops["cpu"]["peak_gflops"] if flops else None
    base = rows.get("base")
    b32_base = med(base["b32"]) if base else None
    p50_base = med(base["p50"]) if base else None
    tf = keras.get("tensorflow")

    L = ["# ORT-Java serving levers vs Keras/TF predict, SphereFace-20 (issue #16)", ""]
    L += [f"- date: {m0.get('date')}; git {m0.get('git')}{' (dirty tree)' if m0.get('git_dirty') else ''}; "
          f"command: `{open(os.path.join(d, 'command.txt')).read().strip()}`"]
    if flops:
        c = flops["cpu"]
        L += [f"- CPU: {c['model']}, {c['vendor']} family {c['family']} model {c['model_number']} "
              f"({c['microarchitecture']}), {c['cores']} cores, {c['isa']}; ORT {levers[0]['onnxruntime'] if levers else '?'}"
              + (f", Keras {tf['keras']} (TF backend)" if tf else "")]
    L += [f"- load average (1/5/15 min) at start {m0.get('loadavg')}, at end {m1.get('loadavg') if m1 else '?'}; "
          f"1-min load before each step: {', '.join(loads) if loads else '?'}"]
    if others is not None:
        L += [f"- other processes above 10 % CPU between steps (`others.txt`, top over 1 s): "
              + ("; ".join(others[:12]) + (f"; ... ({len(others)} samples)" if len(others) > 12 else "")
                 if others else "none")]
    L += ["- **machine state: " + ("BUSY** (load ≥ 1.0 at the start or other processes on the CPU between steps: "
                                   "other work shared the 2 cores; the timings show that the harness works, they "
                                   "are not results)"
                                   if busy else "quiet** (1-min load < 1.0 at the start, no other process above "
                                                "10 % CPU between steps; the load average during the run is this "
                                                "benchmark's own threads)")]
    n = len(levers)
    L += [f"- values: median of {n} repeat{'s' if n != 1 else ''} (each repeat: one JVM running every row in turn, "
          f"its own session per row, {levers[0]['warmup'] if levers else '?'} warm-up calls, "
          f"{levers[0]['iters'] if levers else '?'} timed batch-32 calls (median img/s), "
          f"{levers[0]['iters1'] if levers else '?'} timed batch-1 calls (p50); row order rotated per repeat; "
          f"Keras/TF predict (`cross_engine.py predict`, `predict_on_batch`, same loop) interleaved with it)", ""]

    if flops:
        c = flops["cpu"]
        L += ["## FP32 peak of this CPU", "",
              f"Peak = {c['cores']} cores × {c['ghz']:.2f} GHz × {c['flops_per_cycle_per_core']:g} FLOPs/cycle/core "
              f"= **{c['peak_gflops']:.0f} GFLOP/s**.", "",
              f"- FLOPs/cycle: {c['flops_per_cycle_assumption']}",
              f"- clock: {c['ghz_source']} (the TSC rate /proc/cpuinfo reports is {c['tsc_ghz']:.2f} GHz: at it the "
              f"peak would be {c['peak_gflops_at_tsc_clock']:.0f} GFLOP/s)"]
        if c.get("probe_check"):
            L += [f"- check: {c['probe_check']}"]
        L += [f"- SphereFace-20: {gfi:.3f} GFLOP/image (conv + fc5 multiply-adds × 2, `bench/flops.py`)", ""]

    L += ["## Lever rows, batch 32 and batch 1", "",
          "Before/after: each row against `base` (same run, same medians). ×Keras/TF: img/s over Keras/TF predict's. "
          "GFLOP/s = img/s × GFLOP/image; % peak against the peak above.", "",
          "| row | lever (change against base) | b32 img/s | vs base | ×Keras/TF | GFLOP/s | % peak | b1 p50 ms | "
          "vs base (base/row) | session create ms | max abs diff |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    best = (None, 0.0)
    for name in order:
        r = rows[name]
        b32, p50 = med(r["b32"]), med(r["p50"])
        if b32 and b32 > best[1]:
            best = (name, b32)
        gf = b32 * gfi if (b32 and gfi) else None
        L.append("| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            name, LEVER.get(name, json.dumps(r["settings"])), fmt(b32),
            fmt(b32 / b32_base if (b32 and b32_base) else None, ".2f") + ("×" if b32 and b32_base else ""),
            fmt(b32 / tf["b32"] if (b32 and tf) else None, ".2f") + ("×" if b32 and tf else ""),
            fmt(gf, ".1f"), fmt(100 * gf / peak if (gf and peak) else None, ".1f") + ("%" if gf and peak else ""),
            fmt(p50), fmt(p50_base / p50 if (p50 and p50_base) else None, ".2f") + ("×" if p50 and p50_base else ""),
            fmt(med(r["create"]), ".0f"), fmt(max([x for x in r["diff"] if x is not None], default=None), ".1e")))
    for be, k in keras.items():
        gf = k["b32"] * gfi if gfi else None
        L.append("| Keras/{} predict | `predict_on_batch`, Keras {} | {} | {} | {} | {} | {} | {} | {} | – | – |".format(
            "TF" if be == "tensorflow" else "JAX", k["keras"], fmt(k["b32"]),
            fmt(k["b32"] / b32_base if b32_base else None) + "×", fmt(k["b32"] / tf["b32"] if tf else None) + "×",
            fmt(gf, ".1f"), fmt(100 * gf / peak if (gf and peak) else None, ".1f") + "%", fmt(k["p50"]),
            fmt(p50_base / k["p50"] if p50_base else None) + "×"))
    L.append("")

    if tf and rows:
        sdk = med(rows["sdk-default"]["b32"]) if "sdk-default" in rows else None
        rates = [(n_, med(rows[n_]["b32"]) * gfi) for n_ in order] + [("Keras/TF", tf["b32"] * gfi)]
        top = max(rates, key=lambda t: t[1])
        L += ["## Targets (issue #16)", "", "| target | measured | status |", "|---|---|---|"]
        if sdk:
            L.append(f"| ORT-Java ≥ 1.2× Keras/TF predict, SF-20 batch 32 | SDK default {sdk:.2f} vs {tf['b32']:.2f} img/s "
                     f"= **{sdk / tf['b32']:.2f}×**; best row `{best[0]}` {best[1]:.2f} img/s = "
                     f"**{best[1] / tf['b32']:.2f}×** | {'met' if best[1] / tf['b32'] >= 1.2 else 'missed'}"
                     f"{' (busy machine: not a result)' if busy else ''} |")
        if peak:
            L.append(f"| ≥ 80 % of the FP32 peak | best row `{best[0]}` {best[1] * gfi:.1f} GFLOP/s = "
                     f"**{100 * best[1] * gfi / peak:.1f} %** of {peak:.0f} | "
                     f"{'met' if best[1] * gfi / peak >= 0.8 else 'missed'}{' (busy machine)' if busy else ''} |")
            L.append(f"| peak check: no engine above the peak | highest rate: {top[0]} {top[1]:.1f} GFLOP/s "
                     f"({100 * top[1] / peak:.1f} % of {peak:.0f}) | "
                     f"{'consistent' if top[1] <= peak else 'INCONSISTENT: the peak is too low'} |")
        L.append("")

    if graph:
        L += ["## The exported graph and what ORT makes of it", "",
              "| graph | nodes | op types | graph inputs (of them initializers) | Conv nodes with bias | fused into Conv |",
              "|---|---|---|---|---|---|"]
        for key in ("exported", "ort_BASIC", "ort_EXTENDED", "ort_LAYOUT", "ort_ALL"):
            g = graph.get(key)
            if not g:
                continue
            L.append("| {} | {} | {} | {} ({}) | {} of {} | {} |".format(
                key.replace("ort_", "ORT saved at "), g["nodes"],
                ", ".join(f"{k} {v}" for k, v in g["op_types"].items()), g["graph_inputs"],
                g["graph_inputs_that_are_initializers"], g["conv_nodes_with_bias"], g["conv_nodes"],
                ", ".join(f"{k} {v}" for k, v in g["conv_fused"].items()) or "–"))
        L.append("")

    prof = os.path.join(d, "profile-ops.txt")
    if os.path.exists(prof):
        L += ["## Where the time goes: ORT's profile of the `base` session (batch 32, one profiled run set)", "",
              "```", open(prof).read().rstrip(), "```", ""]
    L += ["Raw: `levers-r*.json` (per row and batch: img/s, p50/p99, session creation, max |diff| of the batch-32 "
          "output against the repeat's first row), `keras-*-predict-r*.json`, `flops.json`, `graph.json`, "
          "`machine.json`, `machine-end.json`, `load.txt`, `logs/`.", ""]
    target = os.path.join(d, "summary.md")
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".summary.md.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(L))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    print("\n".join(L))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: serve_levers_summary.py RESULTS_DIR")
    main(sys.argv[1])
