#!/usr/bin/env python3
"""Writes a results folder's machine.json: date, CPU (model, family, model number: compare runs only on the same
family, see BENCHMARKS.md "Peak FLOP/s"), CPU count, load average, Java version, git commit and whether the tree was
dirty. Written atomically (temporary file in the same folder, fsync, rename).

    python3 bench/machine_json.py OUT_FILE REPO_DIR
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def main(out, repo):
    ls = {k.strip(): v.strip() for k, v in (l.split(":", 1) for l in sh("lscpu").splitlines() if ":" in l)}
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu_model": ls.get("Model name"),
            "cpu_family": ls.get("CPU family"), "cpu_model_number": ls.get("Model"),
            "cpus": ls.get("CPU(s)"), "loadavg": open("/proc/loadavg").read().split()[:3],
            "java": sh("java -version 2>&1 | head -1"), "git": sh("git -C '%s' rev-parse --short HEAD" % repo),
            "git_dirty": bool(sh("git -C '%s' status --porcelain --untracked-files=no" % repo))}
    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(out) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: machine_json.py OUT_FILE REPO_DIR")
    main(sys.argv[1], sys.argv[2])
