package io.spherekit.bench.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
/**
 * One-off probe (BENCHMARKS.md): Cost of a fresh 256x1184 float ND4J allocation (page faults on a new buffer) vs a small one.
 */
public final class AllocProf {
  static void t(String name, Runnable r) { for (int i=0;i<5;i++) r.run(); int n=40; long[] ts=new long[n]; for(int i=0;i<n;i++){long s=System.nanoTime(); r.run(); ts[i]=System.nanoTime()-s;} java.util.Arrays.sort(ts); System.out.printf("%-28s median %7.3f ms  min %7.3f%n", name, ts[n/2]/1e6, ts[0]/1e6); }
  public static void main(String[] a) {
    t("createUninit 256x1184", () -> Nd4j.createUninitialized(DataType.FLOAT, 256, 1184));
    t("create 256x1184", () -> Nd4j.create(DataType.FLOAT, 256, 1184));
    t("create 16x16", () -> Nd4j.create(DataType.FLOAT, 16, 16));
    t("javacpp physicalBytes", () -> org.bytedeco.javacpp.Pointer.physicalBytes());
  }
}
