#!/usr/bin/env python3
"""FLOPs per image of SphereFace-4/10/20/36/64 at 112x96, and this CPU's nominal peak GFLOP/s.

FLOPs = 2 x multiply-adds of every convolution and fully connected layer (fc5 only: the margin head is not part
of inference). PReLU, residual adds and biases are left out (< 0.5% of the total). Layout as in
io.spherekit.trainer.model.SphereFaceNet: per stage one 3x3 stride-2 pad-1 conv, then `units` residual units of
two 3x3 stride-1 convs; fc5 = dense from 512x7x6 to the embedding.

Peak FP32 = cores x clock x FLOPs/cycle/core. Each factor is printed with where it came from; override with
--ghz / --flops-per-cycle.
  FLOPs/cycle/core = FMA pipes x fp32 lanes per pipe x 2 (an FMA is a multiply and an add):
    lanes per op from the flags (avx512f -> 16, avx2 + fma -> 8, else 4), capped by the datapath width of the
    FMA pipes; pipes and width by vendor / CPUID family / model from FMA_TABLE below, each row citing AMD's
    Software Optimization Guide for that family: Zen 2/3 = 2 x 256-bit (32), Zen 4 = 2 x 256-bit datapaths
    running 512-bit ops in two passes (32), Zen 5 = 2 x 512-bit (64). This project's machines are not all the
    same CPU (Zen 5 on 2026-11-30, Zen 4 on 2026-12-01, Zen 3 family 25 model 1 with AVX2 only on 2026-12-02):
    compare runs only when their machine.json show the same family and model.
  Clock: measured by bench/cpu_probe.c (compiled with gcc into bench/target/): a chain of dependent register adds
    retires one add per cycle, so adds/second is the clock the core actually runs at (a KVM guest's /proc/cpuinfo
    "cpu MHz" is only the TSC rate, the base clock; it is printed as well). The same probe runs 12 independent
    FMA chains and prints the FLOPs/cycle it reached, which checks the table. Without gcc: lscpu "CPU max MHz",
    else the TSC rate (then a lower bound).
"""
import argparse
import json
import os
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


# FMA pipes per core and the width of their datapath, by vendor / CPUID family / model, with the source.
# (vendor, family, model ranges, label, FMA pipes, datapath bits, source)
FMA_TABLE = [
    ("AuthenticAMD", 23, [(0x00, 0x2F)], "AMD Zen / Zen+", 2, 128,
     "AMD Software Optimization Guide for AMD Family 17h Processors (pub. 55723): two "
     "FMA pipes (FP0, FP1), 128-bit datapaths (256-bit AVX ops are split in two)"),
    ("AuthenticAMD", 23, [(0x30, 0xFF)], "AMD Zen 2", 2, 256,
     "AMD Software Optimization Guide for AMD Family 17h Models 30h and Greater (pub. 56305): two 256-bit "
     "FMA pipes (FP0, FP1)"),
    ("AuthenticAMD", 25, [(0x00, 0x0F), (0x20, 0x2F), (0x40, 0x5F)], "AMD Zen 3", 2, 256,
     "AMD Software Optimization Guide for AMD EPYC 7003 Processors (Family 19h, pub. 56665), floating-point "
     "unit: two 256-bit FMA pipes (FP0, FP1) plus two FADD pipes (measured as such by vfpbench, "
     "wlog.flatlib.jp/2024/01/13/ryzen-zen3-vfpbench/); Milan is family 19h model 01h. The FADD pipes add no "
     "FLOPs to a convolution (all FMAs), so the peak counts the FMA pipes only"),
    ("AuthenticAMD", 25, [(0x10, 0x1F), (0x60, 0x7F), (0xA0, 0xAF)], "AMD Zen 4", 2, 256,
     "AMD Software Optimization Guide for AMD Family 19h Models 10h and Later (Zen 4, pub. 57647): AVX-512 "
     "executed on 256-bit datapaths (a 512-bit op takes a pipe for two cycles), two FMA pipes"),
    ("AuthenticAMD", 26, [(0x00, 0xFF)], "AMD Zen 5", 2, 512,
     "AMD Software Optimization Guide for AMD Family 1Ah (Zen 5, pub. 58455): two 512-bit FMA pipes on server and "
     "desktop parts (mobile Zen 5 has 256-bit datapaths: pass --flops-per-cycle there)"),
]


def fma_pipes(vendor, family, model):
    """(label, FMA pipes, datapath bits, source) for the CPU, or a stated assumption when the table has no row."""
    for v, f, ranges, label, pipes, bits, src in FMA_TABLE:
        if v == vendor and f == family and any(lo <= model <= hi for lo, hi in ranges):
            return label, pipes, bits, src
    if vendor == "GenuineIntel":
        return ("Intel (family %d model %d)" % (family, model), 2, 512,
                "assumption: two FMA ports (Haswell and later, Intel 64 and IA-32 Architectures Optimization "
                "Reference Manual); Xeons with one 512-bit FMA unit reach half: measure (cpu_probe)")
    return ("unknown (%s family %d model %d)" % (vendor, family, model), 2, 256,
            "assumption: two FMA pipes; not in the table, check cpu_probe's measured FLOPs/cycle")


def probe(repo_bench):
    """Runs bench/cpu_probe.c (compiled into bench/target/) and returns its JSON, or None without gcc."""
    src = os.path.join(repo_bench, "cpu_probe.c")
    exe = os.path.join(repo_bench, "target", "cpu_probe")
    try:
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            subprocess.run(["gcc", "-O2", "-march=native", "-o", exe, src, "-lpthread"], check=True,
                           capture_output=True, text=True)
        return json.loads(subprocess.run([exe], check=True, capture_output=True, text=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        print(f"  (cpu_probe not run: {e})")
        return None


def cpu_info(ghz=None, fpc=None, measure=True):
    d = lscpu()
    flags = set(d.get("Flags", "").split())
    cores = int(d.get("Core(s) per socket", "1")) * int(d.get("Socket(s)", "1"))
    family = int(d.get("CPU family", "0") or 0)
    model = int(d.get("Model", "0") or 0)
    vendor = d.get("Vendor ID", "")
    hypervisor = d.get("Hypervisor vendor", "")
    try:
        tsc = max(float(m) for m in re.findall(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read())) / 1000
    except (OSError, ValueError):
        tsc = float("nan")
    measured = probe(os.path.dirname(os.path.abspath(__file__))) if measure else None
    if ghz is not None:
        ghz_src = "--ghz"
    elif measured:
        ghz = measured["clock_ghz"]
        ghz_src = ("measured: bench/cpu_probe.c, a chain of dependent register adds (1 per cycle), fastest of "
                   f"{measured['bursts']} bursts, one thread")
    elif d.get("CPU max MHz"):
        ghz, ghz_src = float(d["CPU max MHz"]) / 1000, "lscpu CPU max MHz (not measured: no gcc)"
    else:
        ghz = tsc
        ghz_src = ("/proc/cpuinfo cpu MHz (not measured: no gcc): " + ("the TSC rate the hypervisor reports, i.e. "
                   "base clock; a lower bound when the CPU boosts" if hypervisor else "the current clock"))
    # fp32 lanes the ISA offers per vector op, from the flags
    if "avx512f" in flags:
        isa, isa_lanes = "avx512f", 16
    elif "avx2" in flags and "fma" in flags:
        isa, isa_lanes = "avx2+fma", 8
    else:
        isa, isa_lanes = "sse (no FMA)", 4
    label, pipes, bits, pipe_src = fma_pipes(vendor, family, model)
    lanes = min(isa_lanes, bits // 32)
    flops_per_fma = 2 if "fma" in flags else 1
    why = "--flops-per-cycle"
    if fpc is None:
        fpc = pipes * lanes * flops_per_fma
        why = (f"{label}: {pipes} FMA pipes x {lanes} fp32 lanes (flags: {isa} = {isa_lanes} lanes per op, "
               f"datapath {bits} bit = {bits // 32} lanes) x {flops_per_fma} FLOPs per FMA; source: {pipe_src}")
    r = {"model": d.get("Model name", "?"), "vendor": vendor, "family": family, "model_number": model,
         "microarchitecture": label, "hypervisor": hypervisor or None, "isa": isa,
         "cores": cores, "threads": int(d.get("CPU(s)", "1")), "ghz": ghz, "ghz_source": ghz_src,
         "tsc_ghz": tsc, "flops_per_cycle_per_core": fpc, "flops_per_cycle_assumption": why,
         "peak_gflops": cores * ghz * fpc, "peak_gflops_at_tsc_clock": cores * tsc * fpc, "probe": measured}
    if measured:
        r["probe_check"] = (f"cpu_probe: one thread ran {measured['fma_gflops_1thread']:.1f} GFLOP/s of "
                            f"{measured['vector_bits']}-bit FMAs = {measured['fma_flops_per_cycle_1thread']:.1f} "
                            f"FLOPs/cycle at the measured clock (table: {fpc:g}); {measured['threads']} threads "
                            f"together {measured['fma_gflops_all_threads']:.1f} GFLOP/s")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ghz", type=float)
    ap.add_argument("--flops-per-cycle", type=float)
    ap.add_argument("--no-measure", action="store_true", help="do not compile/run bench/cpu_probe.c")
    ap.add_argument("--json")
    a = ap.parse_args()
    r = {"input": "112x96", "width": 1.0, "embedding": 512,
         "gflops_per_image": {f"sf{d}": flops_per_image(d) / 1e9 for d in UNITS},
         "cpu": cpu_info(a.ghz, a.flops_per_cycle, not a.no_measure)}
    for k, v in r["gflops_per_image"].items():
        print(f"{k}: {v:.3f} GFLOP/image")
    c = r["cpu"]
    print(f"peak FP32 = {c['cores']} cores x {c['ghz']:.2f} GHz x {c['flops_per_cycle_per_core']:g} FLOPs/cycle/core "
          f"= {c['peak_gflops']:.0f} GFLOP/s")
    print(f"  clock: {c['ghz_source']}")
    print(f"  FLOPs/cycle: {c['flops_per_cycle_assumption']}")
    print(f"  CPU: {c['vendor']} family {c['family']} model {c['model_number']} ({c['microarchitecture']}), "
          f"{c['cores']} cores; at the TSC clock ({c['tsc_ghz']:.2f} GHz) the peak would be "
          f"{c['peak_gflops_at_tsc_clock']:.0f} GFLOP/s")
    if c.get("probe_check"):
        print(f"  check: {c['probe_check']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
