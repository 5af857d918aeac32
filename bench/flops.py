#!/usr/bin/env python3
"""FLOPs per image of SphereFace-4/10/20/36/64 at 112x96, and this CPU's nominal peak GFLOP/s.

FLOPs = 2 x multiply-adds of every convolution and fully connected layer (fc5 only: the margin head is not part
of inference). PReLU, residual adds and biases are left out (< 0.5% of the total). Layout as in
io.spherekit.trainer.model.SphereFaceNet: per stage one 3x3 stride-2 pad-1 conv, then `units` residual units of
two 3x3 stride-1 convs; fc5 = dense from 512x7x6 to the embedding.

Peak FP32 = cores x clock x FLOPs/cycle/core. Each factor is printed with where it came from; override with
--ghz / --flops-per-cycle.
  FLOPs/cycle/core = FMA pipes x fp32 lanes x 2 (an FMA is a multiply and an add):
    AVX-512 with two full-width 512-bit FMA pipes (Intel server cores with two FMA units, AMD Zen 5) = 2 x 16 x 2
    = 64; AMD Zen 4 (512-bit ops double-pumped on 256-bit units) = 32; AVX2 + FMA = 2 x 8 x 2 = 32; else 8.
    The family is read as the VM reports it. This project's machines are not all the same CPU: the 2026-11-30
    runs recorded family 26 (Zen 5; machine.json's lscpu) and the 2026-12-01 runs family 25 model 17 (Zen 4),
    where ORT-Java SphereFace-20 ran at about half the img/s, as half-width FMA predicts. Compare runs only
    when their machine.json show the same CPU family.
  Clock: lscpu "CPU max MHz" when reported (the boost ceiling, the right clock for a peak); otherwise
    /proc/cpuinfo "cpu MHz", which on a KVM guest is the TSC rate the hypervisor reports (the nominal base
    clock), so the peak is then at base clock and a lower bound: a boosting CPU can exceed it. Pass --ghz with
    the sustained all-core clock when you know it.
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
    hypervisor = d.get("Hypervisor vendor", "")
    mhz_src = None
    if ghz is None:
        if d.get("CPU max MHz"):
            ghz, mhz_src = float(d["CPU max MHz"]) / 1000, "lscpu CPU max MHz: the boost ceiling"
        else:
            try:
                mhz = [float(m) for m in re.findall(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read())]
                ghz, mhz_src = max(mhz) / 1000, ("/proc/cpuinfo cpu MHz (no lscpu max MHz): "
                                                 + ("the TSC rate the hypervisor reports, i.e. base clock; a lower "
                                                    "bound when the CPU boosts" if hypervisor else
                                                    "the current clock; a lower bound when the CPU boosts"))
            except (OSError, ValueError):
                ghz, mhz_src = float("nan"), "unknown"
    else:
        mhz_src = "--ghz"
    why = "--flops-per-cycle"
    if fpc is None:
        if "avx512f" in flags and vendor == "AuthenticAMD" and family >= 26:
            fpc, why = 64, "AMD Zen 5 AVX-512: 2 full-width 512-bit FMA pipes x 16 fp32 lanes x 2 FLOPs"
        elif "avx512f" in flags and vendor == "AuthenticAMD" and family == 25:
            fpc, why = 32, "AMD Zen 4 AVX-512: 2 x 256-bit FMA units (512-bit ops double-pumped) x 8 lanes x 2"
        elif "avx512f" in flags:
            fpc, why = 64, "AVX-512: 2 x 512-bit FMA pipes x 16 fp32 lanes x 2 FLOPs"
        elif "avx2" in flags and "fma" in flags:
            fpc, why = 32, "AVX2: 2 x 256-bit FMA pipes x 8 lanes x 2"
        else:
            fpc, why = 8, "no FMA/AVX2: SSE estimate"
    return {"model": d.get("Model name", "?"), "vendor": vendor, "family": family, "hypervisor": hypervisor or None,
            "cores": cores,
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
    print(f"peak FP32 = {c['cores']} cores x {c['ghz']:.2f} GHz x {c['flops_per_cycle_per_core']:g} FLOPs/cycle/core "
          f"= {c['peak_gflops']:.0f} GFLOP/s")
    print(f"  clock: {c['ghz_source']}")
    print(f"  FLOPs/cycle: {c['flops_per_cycle_assumption']}")
    print(f"  a measured rate of X GFLOP/s implies a clock of at least X / ({c['cores']} x "
          f"{c['flops_per_cycle_per_core']:g}) GHz (e.g. 455 -> {455 / (c['cores'] * c['flops_per_cycle_per_core']):.2f} GHz)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
