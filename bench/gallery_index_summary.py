#!/usr/bin/env python3
"""Tables for a gallery-index results folder: reads every run-<size>-<encoding>.json below DIR (written by
io.spherekit.bench.GalleryIndexBench) and prints Markdown: build/disk/memory per run, recall and latency per search
beam, LFW identification exact vs index, and a projection to larger galleries from the synthetic sizes measured
(power law t = a·N^b fitted by least squares in log-log through every size of a group, which through two sizes is
the line through both; the exponent between each pair of neighbouring sizes is printed beside it, so curvature
shows; per quantity: build time, p50 latency at one beam, and p50 latency at the smallest measured beam whose
recall@10 over all probes reaches 0.99; disk and RSS per vector held at the largest size's value). Runs are grouped
by encoding, synthetic generator and segment count; synthetic-only runs are used when there are any, else the runs
with LFW embeddings mixed in.

    python3 bench/gallery_index_summary.py DIR [--project 1000000,10000000] [--fanout 200]
"""
import glob
import json
import math
import os
import sys


def load(d):
    runs = []
    for f in sorted(glob.glob(os.path.join(d, "**", "run-*.json"), recursive=True)):
        with open(f) as fh:
            r = json.load(fh)
        r["_file"] = os.path.relpath(f, d)
        runs.append(r)
    runs.sort(key=lambda r: (r["real_enrolled"] > 0, r["vectors"], r["encoding"]))
    return runs


def fit(points):
    """Least-squares power law y = a·n^b in log-log through all (n, y) points (two points: the line through both).
    Returns (b, f, local) with local the exponents between neighbouring sizes."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    a = my - b * mx
    local = [(ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    return b, lambda n: math.exp(a + b * math.log(n)), local


def load1(r):
    """1-minute load average before the run's build."""
    return float(r["loadavg_before_build"].split()[0])


def local_text(local):
    return ", ".join(f"{b:.2f}" for b in local)


def main(argv):
    d = argv[1]
    project = [1_000_000, 10_000_000]
    fan = 200
    for i, a in enumerate(argv):
        if a == "--project":
            project = [int(x) for x in argv[i + 1].split(",")]
        if a == "--fanout":
            fan = int(argv[i + 1])
    runs = load(d)
    print("### Build, disk and memory\n")
    print("| vectors (synthetic + LFW) | encoding | build (add + merge to the segments) | build rate | disk / vector | "
          "RSS file-backed / vector after searching | Java heap held by the open index | load avg at build | file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['synthetic_vectors']:,} + {r['real_enrolled']:,} | {r['encoding']} | "
              f"{r['build_add_seconds']:.0f} + {r['build_merge_seconds']:.0f} s | {r['build_vectors_per_second']:.0f} /s | "
              f"{r['disk_bytes_per_vector']:.0f} B | {r['rss_file_bytes_per_vector']:.0f} B | "
              f"{r['heap_bytes_after_open'] / 1024:.0f} KiB | {r['loadavg_before_build'].split()[0]} | `{r['_file']}` |")
    print("\n### Recall against the exact scan and single-query latency (k = 10, one query at a time)\n")
    print("All probes; where LFW embeddings are mixed in, also the synthetic probes alone (the real LFW probes are the rest).\n")
    print("Segments: the index merged to that many segments; search threads: segments searched in parallel by one "
          "query (`HnswGallery.Options.searchThreads`).\n")
    print("| vectors | encoding | segments | search threads | beam | effective beam | recall@1 | recall@10 | synthetic probes: recall@1 / @10 | p50 | p99 | load avg | Java / Lucene |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        for s in r["search"]:
            eff = max(s["fanout"], 4 * 10)
            print(f"| {r['vectors']:,} | {r['encoding']} | {r.get('segments', 1)} | {s.get('search_threads', 1)} | "
                  f"{s['fanout']} | {eff} | {s['recall_at_1']:.4f} | "
                  f"{s['recall_at_10']:.4f} | "
                  + (f"{s['synthetic_recall_at_1']:.4f} / {s['synthetic_recall_at_10']:.4f}" if r["real_enrolled"] and "synthetic_recall_at_10" in s else "")
                  + f" | {s['latency_ms_p50']:.2f} ms | {s['latency_ms_p99']:.2f} ms | "
                  f"{s['loadavg'].split()[0]} | {r.get('java_version', '17').split('+')[0]} / {r.get('lucene_version', '9.12.3')} |")
    ex = [r for r in runs if r.get("reference_gallery_check")]
    if ex:
        print("\n### The exact Gallery itself (reference check and latency)\n")
        print("| vectors | queries | same top-10 as the streamed exact scan | exact Gallery.search p50 | p99 |")
        print("|---|---|---|---|---|")
        seen = set()
        for r in ex:
            g = r["reference_gallery_check"]
            if r["vectors"] in seen:
                continue
            seen.add(r["vectors"])
            print(f"| {r['vectors']:,} | {g['queries']} | {g['same_top10_as_streamed_scan']} | "
                  f"{g['latency_ms_p50']:.1f} ms | {g['latency_ms_p99']:.1f} ms |")
    lfw = [r for r in runs if r["real_enrolled"] > 0]
    if lfw:
        print("\n### LFW identification with the real model: exact scan vs HNSW index\n")
        print("| gallery | encoding | beam | probes (genuine / impostor) | rank-1 exact | rank-1 index | "
              "DIR@FAR=1% exact | DIR@FAR=1% index | DIR@FAR=10% exact | DIR@FAR=10% index |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in lfw:
            e = r["lfw_exact"]
            for s in r["search"]:
                x = s["lfw_index"]
                print(f"| {r['real_enrolled']:,} LFW + {r['synthetic_vectors']:,} synthetic | {r['encoding']} | "
                      f"{s['fanout']}" + (f" ({r.get('segments', 1)} seg, {s.get('search_threads', 1)} thr)"
                                          if r.get('segments', 1) != 1 or s.get('search_threads', 1) != 1 else "")
                      + f" | {e['genuine_probes']} / {e['impostor_probes']} | {e['rank1']:.4f} | "
                      f"{x['rank1']:.4f} | {e['far_0.0100000']['dir']:.4f} | {x['far_0.0100000']['dir']:.4f} | "
                      f"{e['far_0.100000']['dir']:.4f} | {x['far_0.100000']['dir']:.4f} |")
    # runs of one kind: synthetic only, or (when every run mixes in the LFW embeddings) the mixed runs, per encoding,
    # synthetic generator, segment count and graph (M / beamWidth); one run per size, the one built on the quietest
    # machine (lowest 1-min load before the build) when a size was run twice
    synth = {}
    only = [r for r in runs if r["real_enrolled"] == 0]
    for r in only or runs:
        key = r["encoding"] + ("" if r.get("synthetic", "latent") == "latent" else f", {r['synthetic']}") + (
            "" if r.get("segments", 1) == 1 else f", {r['segments']} segments") + (
            f", M {r['hnsw_m']} / bw {r['hnsw_beam_width']}")
        by_size = synth.setdefault(key, {})
        old = by_size.get(r["vectors"])
        if old is None or load1(r) < load1(old):
            by_size[r["vectors"]] = r
    synth = {k: list(v.values()) for k, v in synth.items()}
    print("\n### Projection from the synthetic sizes measured (power law fitted through all of them for time, "
          "least squares in log-log; exponents between neighbouring sizes beside it; per-vector sizes of the largest "
          "run, linear)\n")
    print("| encoding | fit from | quantity | exponent b | local exponents | "
          + " | ".join(f"at {n:,}" for n in project) + " |")
    print("|---|---|---|---|---|" + "---|" * len(project))
    for enc, rs in sorted(synth.items()):
        rs.sort(key=lambda r: r["vectors"])
        if len(rs) < 2:
            continue
        ns = [r["vectors"] for r in rs]
        src = " / ".join(f"{n:,}" for n in ns)
        def lat(r, key, threads=1):
            return next((s[key] for s in r["search"] if s["fanout"] == fan and s.get("search_threads", 1) == threads),
                        None)
        def at_recall(r, threads, target=0.99):
            return min((s for s in r["search"]
                        if s.get("search_threads", 1) == threads and s["recall_at_10"] >= target),
                       key=lambda s: s["fanout"], default=None)
        def fitted_row(quantity, pts, fmt):
            b, f, loc = fit(pts)
            print(f"| {enc} | {src} | {quantity} | {b:.2f} | {local_text(loc)} | "
                  + " | ".join(fmt(f(n)) for n in project) + " |")
        fitted_row("build time, 2 threads, this shared machine",
                   [(r["vectors"], r["build_add_seconds"] + r["build_merge_seconds"]) for r in rs],
                   lambda t: f"{t / 3600:,.1f} h")
        for thr in sorted({s.get("search_threads", 1) for r in rs for s in r["search"]}):
            pts = [(r["vectors"], lat(r, "latency_ms_p50", thr)) for r in rs]
            if all(y is not None for _, y in pts):
                fitted_row(f"p50 query latency at beam {fan}, {thr} search thread(s)", pts, lambda t: f"{t:,.1f} ms")
            hits = [at_recall(r, thr) for r in rs]
            if all(h is not None for h in hits):
                beams = " / ".join(str(h["fanout"]) for h in hits)
                fitted_row(f"p50 at the smallest beam with recall@10 ≥ 0.99 (beam {beams}), {thr} search thread(s)",
                           [(r["vectors"], h["latency_ms_p50"]) for r, h in zip(rs, hits)], lambda t: f"{t:,.1f} ms")
        last = rs[-1]
        ext = last["disk_bytes_by_extension"]
        hot = ext.get("vex", 0) + (ext.get("veq", 0) if enc == "int7" else ext.get("vec", 0))
        print(f"| {enc} | {ns[-1]:,} | disk, all files (linear) | 1 | – | " + " | ".join(
            f"{last['disk_bytes_per_vector'] * n / 2**30:.1f} GiB" for n in project) + " |")
        print(f"| {enc} | {ns[-1]:,} | page-cache working set of the graph search: graph + "
              f"{'int7' if enc == 'int7' else 'float32'} vectors, {hot / last['vectors']:.0f} B/vector (linear) | 1 | – | "
              + " | ".join(f"{hot / last['vectors'] * n / 2**30:.1f} GiB" for n in project) + " |")
        print(f"| {enc} | {ns[-1]:,} | Java heap of the open index | 0 | – | "
              + " | ".join(f"{last['heap_bytes_after_open'] / 1024:.0f} KiB" for n in project) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
