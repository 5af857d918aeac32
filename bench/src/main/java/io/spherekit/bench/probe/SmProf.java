package io.spherekit.bench.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
/**
 * One-off probe (BENCHMARKS.md): libnd4j's native softmax op vs the 5-op max/sub/exp/sum/div version on [256, C]. Arg: C.
 */
public final class SmProf {
  static void t(String name, Runnable r) { for (int i=0;i<10;i++) r.run(); int n=60; long[] ts=new long[n]; for(int i=0;i<n;i++){long s=System.nanoTime(); r.run(); ts[i]=System.nanoTime()-s;} java.util.Arrays.sort(ts); System.out.printf("%-28s median %7.3f ms  min %7.3f%n", name, ts[n/2]/1e6, ts[0]/1e6); }
  public static void main(String[] a) {
    int B=256, C=Integer.parseInt(a[0]);
    INDArray z = Nd4j.rand(B, C).muli(20), out = Nd4j.create(B, C);
    t("native softmax out", () -> Nd4j.exec(new SoftMax(z, out, 1)));
    t("manual 5 ops", () -> { INDArray q = out.assign(z); INDArray m = q.max(1); q.subiColumnVector(m); Transforms.exp(q, false); INDArray s = q.sum(1); q.diviColumnVector(s); });
    t("assign only", () -> out.assign(z));
    INDArray zz = z.dup(); Nd4j.exec(new SoftMax(zz, out, 1)); INDArray q = zz.dup(); INDArray m = q.max(1); q.subiColumnVector(m); Transforms.exp(q, false); INDArray s = q.sum(1); q.diviColumnVector(s);
    System.out.println("max diff " + Transforms.abs(q.sub(out)).maxNumber());
  }
}
