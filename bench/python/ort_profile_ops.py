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
