"""Sums an ONNX Runtime profile JSON (SessionOptions.enableProfiling) per op type: ms per run and share.

    python3 bench/python/ort_profile_ops.py ortprof_*.json RUNS
"""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
runs = int(sys.argv[2])
total = collections.Counter()
count = collections.Counter()
for e in events:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
        op = e["args"].get("op_name")
        total[op] += e["dur"]
        count[op] += 1
all_us = sum(total.values())
for op, us in total.most_common():
    print(f"{op:20s} {us / 1e3 / runs:8.1f} ms/run  {100 * us / all_us:5.1f}%  n={count[op] // runs}")
# Conv split by node name: the depthwise 1x1 Convs of the exporter's PReLU form (names *_ax, *_relu_scaled) and the rest
conv = collections.Counter()
for e in events:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["args"].get("op_name") == "Conv":
        n = e["name"][:-len("_kernel_time")]
        conv["Conv, depthwise 1x1 of PReLU" if ("_ax" in n or "_relu_scaled" in n) else "Conv, other (3x3)"] += e["dur"]
for k, us in conv.most_common():
    print(f"{k:30s} {us / 1e3 / runs:8.1f} ms/run  {100 * us / all_us:5.1f}% of all node time")
