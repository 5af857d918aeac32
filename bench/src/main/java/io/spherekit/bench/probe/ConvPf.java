package io.spherekit.bench.probe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
/**
 * One-off probe (BENCHMARKS.md): libnd4j conv2d / conv2d_bp speed on a 32x64x56x48 map with preallocated outputs. Arg: iterations. Run under
 * {@code perf stat -e page-faults} to see that preallocated outputs do not fault per call.
 */
public final class ConvPf {
  public static void main(String[] a) throws Exception {
    int n = Integer.parseInt(a[0]);
    INDArray x = Nd4j.rand(32, 64, 56, 48), w = Nd4j.rand(3, 3, 64, 64), b = Nd4j.rand(64), y = Nd4j.create(32, 64, 56, 48), dx = Nd4j.create(32,64,56,48), dw = Nd4j.create(3,3,64,64), db = Nd4j.create(64);
    int[] args = {3,3,1,1,1,1,1,1,0,0,0};
    for (int i = 0; i < 3; i++) { Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x, w, b).addOutputs(y).addIntegerArguments(args).build()); Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, b, y).addOutputs(dx, dw, db).addIntegerArguments(args).build()); }
    System.out.println("START"); System.out.flush();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) { Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x, w, b).addOutputs(y).addIntegerArguments(args).build()); }
    long t1 = System.nanoTime();
    for (int i = 0; i < n; i++) { Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, b, y).addOutputs(dx, dw, db).addIntegerArguments(args).build()); }
    long t2 = System.nanoTime();
    System.out.printf("fwd %.1f ms  bwd %.1f ms  (GFLOP fwd %.2f)%n", (t1-t0)/1e6/n, (t2-t1)/1e6/n, 2.0*32*64*56*48*64*9/1e9);
  }
}
