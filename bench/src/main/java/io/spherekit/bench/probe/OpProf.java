package io.spherekit.bench.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import java.util.function.Supplier;
/**
 * One-off probe (BENCHMARKS.md): single ND4J ops on the head's shapes (B=256, D=512, C = arg): GEMMs into
 * preallocated outputs vs allocating ones, reductions, broadcasts.
 */
public final class OpProf {
  static void t(String name, Runnable r) { for (int i=0;i<5;i++) r.run(); int n=40; long[] ts=new long[n]; for(int i=0;i<n;i++){long s=System.nanoTime(); r.run(); ts[i]=System.nanoTime()-s;} java.util.Arrays.sort(ts); System.out.printf("%-28s median %7.3f ms  min %7.3f%n", name, ts[n/2]/1e6, ts[0]/1e6); }
  public static void main(String[] a) {
    int B=256, D=512, C=Integer.parseInt(a[0]);
    INDArray x = Nd4j.rand(B, D), w = Nd4j.rand(D, C), z = Nd4j.rand(B, C), gW = Nd4j.rand(D,C), col = Nd4j.rand(C), row = Nd4j.rand(B);
    t("gemm x*w", () -> x.mmul(w));
    t("gemm xT*z into gW", () -> Nd4j.gemm(x, z, gW, true, false, 1.0, 0.0));
    t("gemm z*wT", () -> z.mmul(w.transpose()));
    t("w.norm2(0)", () -> w.norm2(0));
    t("z.mulRowVector", () -> z.mulRowVector(col));
    t("z.muliRowVector", () -> z.muliRowVector(col));
    t("z.max(1)", () -> z.max(1));
    t("z.subiColumnVector", () -> z.subiColumnVector(row));
    t("exp inplace", () -> Transforms.exp(z, false));
    t("z.sum(1)", () -> z.sum(1));
    t("z.sum(0)", () -> z.sum(0));
    t("z.diviColumnVector", () -> z.diviColumnVector(row));
    t("z.dup()", () -> z.dup());
    t("bcast mul D*C", () -> Nd4j.getExecutioner().exec(new BroadcastMulOp(w, col, gW, 1)));
    t("256 getDouble+putScalar", () -> { for (int b=0;b<B;b++){ double v=z.getDouble(b, b%C); z.putScalar(b, b%C, v);} });
    t("argMax", () -> Nd4j.argMax(z, 1).toLongVector());
  }
}
