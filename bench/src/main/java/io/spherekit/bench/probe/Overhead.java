package io.spherekit.bench.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
/**
 * One-off probe (BENCHMARKS.md): Per-op cost of ND4J on tiny and mid-size arrays (us/op). Args: [profiling mode, e.g. DISABLED].
 */
public final class Overhead {
  static void t(String name, Runnable r) { for (int i=0;i<2000;i++) r.run(); int n=2000; long s=System.nanoTime(); for(int i=0;i<n;i++) r.run(); System.out.printf("%-28s %7.1f us/op%n", name, (System.nanoTime()-s)/1e3/n); }
  public static void main(String[] a) {
    System.out.println("profiling mode " + Nd4j.getExecutioner().getProfilingMode());
    if (a.length > 0) Nd4j.getExecutioner().setProfilingMode(OpExecutioner.ProfilingMode.valueOf(a[0]));
    INDArray z = Nd4j.rand(16, 16), col = Nd4j.rand(16), big = Nd4j.rand(256, 1184), bcol = Nd4j.rand(1184);
    t("tiny muliRowVector", () -> z.muliRowVector(col));
    t("tiny addi scalar", () -> z.addi(1.0));
    t("tiny sum(1)", () -> z.sum(1));
    t("tiny norm2(1)", () -> z.norm2(1));
    t("big muliRowVector", () -> big.muliRowVector(bcol));
    t("big muli scalar", () -> big.muli(1.0));
    t("big sum(1)", () -> big.sum(1));
    t("big max(1)", () -> big.max(1));
  }
}
