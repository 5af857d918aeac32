/*
 * CPU clock and FMA-throughput probe for bench/flops.py (SphereKit bench). Prints one JSON object.
 *
 *   gcc -O2 -march=native -o bench/target/cpu_probe bench/cpu_probe.c -lpthread && bench/target/cpu_probe
 *
 * clock: a chain of dependent 64-bit register adds (each waits for the previous one: 1 add per cycle on every
 *   x86 core of the last decade, latency 1 in Agner Fog's instruction tables and AMD's optimisation guides).
 *   Cycles = adds, so adds / seconds = the core clock while the chain runs (boost included; a KVM guest's
 *   /proc/cpuinfo "cpu MHz" is only the TSC rate). Many short bursts, fastest kept: a burst during which the
 *   shared core was taken by another process runs slower and is discarded.
 * fma: 12 independent vfmadd231ps chains on the widest vector the compiler targets (-march=native: 512-bit with
 *   AVX-512F, else 256-bit with AVX2+FMA). 12 chains >= pipes x latency (2 x 4 on AMD Zen 2-5, 2 x 4 on Intel
 *   Skylake), so the loop is throughput-bound; FLOPs = chains x lanes x 2 per iteration. One thread, then one per
 *   online CPU (each keeps its own fastest burst; the sum is the all-core rate, meaningful only on an idle box).
 * measured FLOPs/cycle/core = one-thread FMA rate / measured clock: the value bench/flops.py's table predicts.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define ADD10 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t" \
              "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"

/* Fastest of `bursts` bursts of iters x 100 dependent adds, as GHz. */
static double clock_ghz(int bursts, long iters) {
    double best = 1e30;
    uint64_t x = 0;
    for (int b = 0; b < bursts; b++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            __asm__ volatile(ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 ADD10 : "+r"(x));
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    if (x == 42) printf(" ");
    return iters * 100.0 / best / 1e9;
}

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADDV _mm512_add_ps
#define STORE _mm512_storeu_ps
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADDV _mm256_add_ps
#define STORE _mm256_storeu_ps
#else
#error "needs AVX2+FMA or AVX-512F (compile with -march=native on such a CPU)"
#endif

/* Fastest burst of iters x 12 FMAs per chain, as GFLOP/s. */
static double fma_gflops(int bursts, long iters) {
    vec a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f), a4 = SET1(1.4f), a5 = SET1(1.5f);
    vec a6 = SET1(1.6f), a7 = SET1(1.7f), a8 = SET1(1.8f), a9 = SET1(1.9f), a10 = SET1(2.0f), a11 = SET1(2.1f);
    vec m = SET1(0.999999f), c = SET1(1e-7f);
    double best = 1e30;
    for (int b = 0; b < bursts; b++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);
            a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);
            a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    vec s = ADDV(ADDV(ADDV(a0, a1), ADDV(a2, a3)), ADDV(ADDV(a4, a5), ADDV(a6, a7)));
    s = ADDV(s, ADDV(ADDV(a8, a9), ADDV(a10, a11)));
    float out[LANES];
    STORE(out, s);
    if (out[0] == 42.0f) printf(" ");
    return iters * 12.0 * LANES * 2.0 / best / 1e9;
}

static int g_bursts;
static long g_iters;
static void *fma_thread(void *arg) {
    *(double *) arg = fma_gflops(g_bursts, g_iters);
    return NULL;
}

int main(int argc, char **argv) {
    int bursts = argc > 1 ? atoi(argv[1]) : 300;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    clock_ghz(20, 10000); /* warm-up: let the core leave its idle clock */
    double ghz = clock_ghz(bursts, 10000);           /* 1e6 adds per burst: ~0.3 ms */
    double f1 = fma_gflops(bursts, 20000);           /* 240k FMAs per burst */
    double ghz_after = clock_ghz(bursts, 10000);
    g_bursts = bursts;
    g_iters = 20000;
    pthread_t th[256];
    double r[256];
    double fall = 0;
    int n = cpus > 256 ? 256 : (int) cpus;
    for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, fma_thread, &r[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        fall += r[i];
    }
    double g = ghz > ghz_after ? ghz : ghz_after;
    printf("{\"clock_ghz\": %.4f, \"clock_ghz_before_fma\": %.4f, \"clock_ghz_after_fma\": %.4f, "
           "\"vector_bits\": %d, \"fma_chains\": 12, \"fma_gflops_1thread\": %.3f, "
           "\"fma_flops_per_cycle_1thread\": %.3f, \"threads\": %d, \"fma_gflops_all_threads\": %.3f, "
           "\"bursts\": %d}\n",
           g, ghz, ghz_after, LANES * 32, f1, f1 / g, n, fall, bursts);
    return 0;
}
