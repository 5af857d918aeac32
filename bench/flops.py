#!/usr/bin/env python3
"""FLOPs per image of SphereFace-4/10/20/36/64 at 112x96, and this CPU's nominal peak GFLOP/s.

FLOPs = 2 x multiply-adds of every convolution and fully connected layer (fc5 only: the margin head is not part
of inference). PReLU, residual adds and biases are left out (< 0.5% of the total). Layout as in
io.spherekit.trainer.model.SphereFaceNet: per stage one 3x3 stride-2 pad-1 conv, then `units` residual units of
two 3x3 stride-1 convs; fc5 = dense from 512x7x6 to the embedding.

Peak (assumption, override with --ghz / --flops-per-cycle):
  peak = cores x GHz x FLOPs/cycle/core (FP32)
  FLOPs/cycle: AVX-512 with two 512-bit FMA pipes = 2 FMA x 16 lanes x 2 = 64 (Intel server cores with two FMA
  units, AMD Zen 5 = family 26); AMD Zen 4 (family 25 with avx512f) executes 512-bit FMAs on 256-bit units = 32;
  AVX2 + FMA = 32; otherwise 8. GHz: lscpu "CPU max MHz" if reported, else /proc/cpuinfo "cpu MHz" (on VMs this
  is often the base/TSC clock, so boost clocks can exceed the stated peak).
"""
import argparse
import json
import re
import subprocess

BASE = (64, 128, 256, 512)
UNITS = {4: (0, 0, 0, 0), 10: (0, 1, 2, 0), 20: (1, 2, 4, 1), 36: (2, 4, 8, 2), 64: (3, 8, 16, 3)}


def flops_per_image(depth, width=1.0, embedding=512, h=112, w=96):
    ch = [max(1, int(round(c * width))) for c in BASE]
    macs, cin = 0, 3
    for s in range(4):
        h, w = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
        macs += h * w * 9 * cin * ch[s]
        macs += UNITS[depth][s] * 2 * h * w * 9 * ch[s] * ch[s]
        cin = ch[s]
    macs += h * w * cin * embedding
    return 2 * macs


def lscpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        out = ""
    d = {}
    for line in out.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            d[k.strip()] = v.strip()
    return d


def cpu_info(ghz=None, fpc=None):
    d = lscpu()
    flags = set(d.get("Flags", "").split())
    cores = int(d.get("Core(s) per socket", "1")) * int(d.get("Socket(s)", "1"))
    family = int(d.get("CPU family", "0") or 0)
    vendor = d.get("Vendor ID", "")
    mhz_src = None
    if ghz is None:
        if d.get("CPU max MHz"):
            ghz, mhz_src = float(d["CPU max MHz"]) / 1000, "lscpu CPU max MHz"
        else:
            try:
                mhz = [float(m) for m in re.findall(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read())]
                ghz, mhz_src = max(mhz) / 1000, "/proc/cpuinfo cpu MHz"
            except (OSError, ValueError):
                ghz, mhz_src = float("nan"), "unknown"
    else:
        mhz_src = "--ghz"
    why = "--flops-per-cycle"
    if fpc is None:
        if "avx512f" in flags and vendor == "AuthenticAMD" and family == 25:
            fpc, why = 32, "AVX-512 on Zen 4 (2 x 256-bit FMA units, 512-bit ops double-pumped)"
        elif "avx512f" in flags:
            fpc, why = 64, "AVX-512: assumed 2 x 512-bit FMA pipes x 16 FP32 lanes x 2 FLOPs"
        elif "avx2" in flags and "fma" in flags:
            fpc, why = 32, "AVX2: 2 x 256-bit FMA pipes x 8 lanes x 2"
        else:
            fpc, why = 8, "no FMA/AVX2: SSE estimate"
    return {"model": d.get("Model name", "?"), "vendor": vendor, "family": family, "cores": cores,
            "threads": int(d.get("CPU(s)", "1")), "ghz": ghz, "ghz_source": mhz_src,
            "flops_per_cycle_per_core": fpc, "flops_per_cycle_assumption": why,
            "peak_gflops": cores * ghz * fpc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ghz", type=float)
    ap.add_argument("--flops-per-cycle", type=float)
    ap.add_argument("--json")
    a = ap.parse_args()
    r = {"input": "112x96", "width": 1.0, "embedding": 512,
         "gflops_per_image": {f"sf{d}": flops_per_image(d) / 1e9 for d in UNITS},
         "cpu": cpu_info(a.ghz, a.flops_per_cycle)}
    for k, v in r["gflops_per_image"].items():
        print(f"{k}: {v:.3f} GFLOP/image")
    c = r["cpu"]
    print(f"peak: {c['cores']} cores x {c['ghz']:.2f} GHz ({c['ghz_source']}) x {c['flops_per_cycle_per_core']} "
          f"FLOPs/cycle ({c['flops_per_cycle_assumption']}) = {c['peak_gflops']:.0f} GFLOP/s FP32")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
