package io.spherekit.bench.probe;

import ai.onnxruntime.*;
import java.nio.FloatBuffer;
import java.util.*;
/**
 * One-off probe (BENCHMARKS.md): ONNX Runtime Java session options on a model: batch, iterations, mode (base|noarena|nopattern|nospin|daz|prof).
 * {@code prof} writes ORT's profile JSON to ./ortprof_*.json ({@code bench/python/ort_profile_ops.py} sums it per op).
 * Run with {@code -Xss64m} (ORT's native init needs a large stack; see LargeStack).
 */
public final class OrtProf {
  public static void main(String[] a) throws Exception {
    String model = a[0]; int batch = Integer.parseInt(a[1]); int iters = Integer.parseInt(a[2]); String mode = a.length > 3 ? a[3] : "";
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(2);
    o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    if (mode.contains("prof")) o.enableProfiling("ortprof");
    if (mode.contains("noarena")) o.setCPUArenaAllocator(false);
    if (mode.contains("nopattern")) o.setMemoryPatternOptimization(false);
    if (mode.contains("nospin")) o.addConfigEntry("session.intra_op.allow_spinning", "0");
    if (mode.contains("daz")) o.addConfigEntry("session.set_denormal_as_zero", "1");
    if (mode.contains("opt")) o.setOptimizedModelFilePath("optimized.onnx");
    try (OrtSession s = env.createSession(model, o)) {
      float[] data = new float[batch * 3 * 112 * 96]; Random r = new Random(1); for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
      String in = s.getInputNames().iterator().next();
      try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[]{batch, 3, 112, 96})) {
        for (int i = 0; i < 3; i++) try (OrtSession.Result res = s.run(Map.of(in, t))) {}
        long[] ts = new long[iters];
        for (int i = 0; i < iters; i++) { long t0 = System.nanoTime(); try (OrtSession.Result res = s.run(Map.of(in, t))) {} ts[i] = System.nanoTime() - t0; }
        Arrays.sort(ts); double med = ts[iters/2]/1e6;
        System.out.printf("%s batch %d median %.1f ms = %.1f img/s%n", mode, batch, med, batch * 1000.0 / med);
      }
      if (mode.contains("prof")) System.out.println(s.endProfiling());
    }
  }
}
