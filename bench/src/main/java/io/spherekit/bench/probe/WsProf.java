package io.spherekit.bench.probe;

import io.spherekit.bench.BenchSupport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
/**
 * One-off probe (BENCHMARKS.md): DL4J SphereFace-4 training steps (batch 32): step time, page faults per step and the DL4J workspace sizes. Arg: steps.
 */
public final class WsProf {
  static long faults() throws Exception { String[] f = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/self/stat"))).split(" "); return Long.parseLong(f[9]); }
  public static void main(String[] a) throws Exception {
    int batch = 32; ComputationGraph net = BenchSupport.sphereFace(4, 1.0, 1184, 99);
    INDArray x = Nd4j.create(BenchSupport.images(batch, 5), new long[]{batch, 3, 112, 96}, 'c');
    INDArray y = BenchSupport.oneHot(BenchSupport.labels(batch, 1184, 6), 1184);
    DataSet ds = new DataSet(x, y);
    for (int i = 0; i < Integer.parseInt(a[0]); i++) {
      long f0 = faults(); long t0 = System.nanoTime(); net.fit(ds); long t1 = System.nanoTime(); long f1 = faults();
      StringBuilder sb = new StringBuilder();
      for (MemoryWorkspace w : Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread()) {
        String extra = "";
        if (w instanceof org.nd4j.linalg.api.memory.abstracts.Nd4jWorkspace nw) extra = String.format("/sp%.0f/pin%.0f/gen%d", nw.getSpilledSize()/1e6, nw.getPinnedSize()/1e6, nw.getGenerationId());
        sb.append(String.format("%s=%.0fMB%s ", w.getId(), w.getCurrentSize()/1e6, extra));
      }
      System.out.printf("step %d %.0f ms faults %d | %s%n", i, (t1-t0)/1e6, f1-f0, sb);
    }
  }
}
