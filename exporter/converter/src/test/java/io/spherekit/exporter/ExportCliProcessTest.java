package io.spherekit.exporter;

import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import io.spherekit.core.Preprocessing;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code export-model --check} in its own JVM on a demo-sized model (SphereFace-4 at width 0.5, 24 MB), with the
 * exporter's full class path. Regression test: ONNX Runtime's environment and session creation used to overflow
 * the main thread's native stack there and kill the JVM with SIGSEGV (see {@link io.spherekit.runtime.LargeStack}).
 */
class ExportCliProcessTest {

    @Test
    void checkSucceedsInAFreshJvm(@TempDir Path tmp) throws Exception {
        ComputationGraph net = new ComputationGraph(SphereFaceNet.configuration(4, 0.5, 512, 112, 96,
                new ASoftmaxHead(0, 100, 4), new Nesterovs(0.01, 0.9), new Nesterovs(0.02, 0.9), 5e-4, 7));
        net.init();
        Path model = tmp.resolve("model.zip");
        ModelIO.save(net, Preprocessing.LFW_SPHEREFACE.toMetadata(), model, false);
        Path onnx = tmp.resolve("model.onnx");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx4g", "-cp", System.getProperty("java.class.path"), ExportCli.class.getName(),
                "--model", model.toString(), "--output", onnx.toString(), "--check"));
        String ext = System.getProperty("org.bytedeco.javacpp.platform.extension");
        if (ext != null) { // the ND4J backend build this JVM loads (a CPU without AVX-512 needs -onednn)
            cmd.add(1, "-Dorg.bytedeco.javacpp.platform.extension=" + ext);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(180, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("): OK"), out);
        assertTrue(Files.size(onnx) > 20_000_000, "a 24 MB model was written");
    }
}
