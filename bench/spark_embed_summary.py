#!/usr/bin/env python3
"""Summarises a bench/spark-embed.sh results folder: results.md and results.json from raw/runs.tsv and the Spark logs.

    python3 bench/spark_embed_summary.py RESULTS_DIR

Per tool: the embedding rate as each tool reports it (single JVM: its final progress line; Spark: files / seconds from
the start of the job to the committed Parquet, which includes Spark SQL planning and the cold first wave of tasks),
the wall clock of the whole process, and for Spark two rates read from its own log (raw/spark-N.err, log4j INFO):
the embed stage (files / duration of stage 0, 'Job 0 finished ... took S s') and the warm rate (files of the tasks
started after the first wave of tasks finished, over the time from then to the end of the stage; one-second log
timestamps, so spans of tens of seconds are needed).
"""
import csv
import datetime
import json
import os
import re
import statistics
import sys


def ts(line):
    m = re.match(r"(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)", line)
    return datetime.datetime(2000 + int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                             int(m.group(5)), int(m.group(6))) if m else None


def spark_log_rates(path, images):
    lines = open(path, errors="replace").read().splitlines()
    starts, finishes, took = {}, {}, None
    for l in lines:
        m = re.search(r"Starting task (\d+)\.\d+ in stage 0\.0 ", l)
        if m:
            starts[int(m.group(1))] = ts(l)
        m = re.search(r"Finished task (\d+)\.\d+ in stage 0\.0 ", l)
        if m:
            finishes[int(m.group(1))] = ts(l)
        m = re.search(r"Job 0 finished: .* took ([0-9.]+) s", l)
        if m:
            took = float(m.group(1))
    if not starts or len(finishes) != len(starts):
        return None, None
    tasks = len(starts)
    per_task = images / tasks
    first = min(starts.values())
    wave = [t for t, s in starts.items() if s == first]
    wave_end = max(finishes[t] for t in wave)
    warm = [t for t, s in starts.items() if s >= wave_end]
    end = max(finishes.values())
    span = (end - wave_end).total_seconds()
    warm_rate = len(warm) * per_task / span if warm and span > 0 else None
    return (images / took if took else None), warm_rate


def main(out):
    rows = list(csv.DictReader(open(os.path.join(out, "raw/runs.tsv")), delimiter="\t"))
    tools = []
    for r in rows:
        if r["tool"] not in tools:
            tools.append(r["tool"])
    lines = ["| tool | images | embed rate as reported, median (img/s) | runs | Spark embed stage, median (img/s)"
             " | Spark warm tasks, median (img/s) | process wall clock, median (s) | load average (1 min) before each run |",
             "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for t in tools:
        rs = [r for r in rows if r["tool"] == t]
        rates = [float(r["embed_img_per_s"]) for r in rs]
        walls = [float(r["wall_s"]) for r in rs]
        stage, warm = [], []
        if t.startswith("spark"):
            for r in rs:
                s, w = spark_log_rates(os.path.join(out, "raw/spark-%s.err" % r["run"]), int(r["images"]))
                if s:
                    stage.append(s)
                if w:
                    warm.append(w)
        summary[t] = {"images": int(rs[0]["images"]), "median_img_per_s": statistics.median(rates),
                      "runs_img_per_s": rates, "median_wall_s": statistics.median(walls), "runs_wall_s": walls,
                      "spark_stage_img_per_s": stage, "spark_warm_img_per_s": warm,
                      "loadavg_before": [r["loadavg_before"] for r in rs]}
        med = lambda xs: "%.1f" % statistics.median(xs) if xs else "-"
        lines.append("| %s | %s | %.1f | %s | %s | %s | %.1f | %s |" % (
            t, rs[0]["images"], statistics.median(rates), ", ".join("%.1f" % x for x in rates), med(stage), med(warm),
            statistics.median(walls), "; ".join(r["loadavg_before"].split()[0] for r in rs)))
    open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
