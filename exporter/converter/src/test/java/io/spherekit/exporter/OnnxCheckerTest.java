package io.spherekit.exporter;

import io.spherekit.onnx.OnnxChecker;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference ONNX checker ({@code onnx.checker.check_model(full_check=True)} plus strict shape inference) accepts
 * the exported SphereFace-4. Needs the Python at system property {@code spherekit.python} with the {@code onnx}
 * package; {@code -Dspherekit.skipPython=true} skips instead of failing.
 */
class OnnxCheckerTest {
    private static final String SCRIPT = "import onnx,sys; m=onnx.load(sys.argv[1]); "
            + "onnx.checker.check_model(m, full_check=True); onnx.shape_inference.infer_shapes(m, strict_mode=True)";

    private static Path python() {
        return OnnxChecker.python();
    }

    private static void check(Path python, Path model) throws Exception {
        Process p = new ProcessBuilder(python.toString(), "-c", SCRIPT, model.toString())
                .redirectErrorStream(true).start();
        String output;
        try (var in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "onnx checker timed out");
        assertEquals(0, p.exitValue(), "onnx.checker rejected " + model.getFileName() + ":\n" + output);
    }

    @Test
    void onnxCheckerAcceptsExportedSphereFace4(@TempDir Path dir) throws Exception {
        Path python = python();
        var g = TestNets.sphereFace(4, 31);
        List<Dl4jToOnnx.Options> variants = List.of(
                Dl4jToOnnx.Options.defaults(),
                Dl4jToOnnx.Options.defaults().withL2norm(true).withOpset(13),
                Dl4jToOnnx.Options.defaults().withOpset(21).withBatch(2)
                        .withPrecision(OnnxGraphBuilder.WeightPrecision.FLOAT16));
        int i = 0;
        for (Dl4jToOnnx.Options o : variants) {
            Path f = dir.resolve("sf4_" + i++ + ".onnx");
            Dl4jToOnnx.write(Dl4jToOnnx.convert(g, Map.of("spherekit.head", "asoftmax"), o).model(), f);
            check(python, f);
        }
    }

    private static final String SHAPE_SCRIPT = "import onnx,sys; m=onnx.load(sys.argv[1]); "
            + "onnx.checker.check_model(m, full_check=True); "
            + "i=onnx.shape_inference.infer_shapes(m, strict_mode=True); "
            + "print(';'.join(o.name+'='+','.join(d.dim_param or str(d.dim_value) for d in o.type.tensor_type.shape.dim) "
            + "for o in i.graph.output))";

    /** SphereFace-20 and -36 with the paper's 512-d embedding: checker, strict shape inference, ORT vs DL4J. */
    @Test
    void deeperNetsPassTheCheckerWithBatchBy512Outputs(@TempDir Path dir) throws Exception {
        Path python = python();
        for (int depth : new int[]{20, 36}) {
            var g = new ComputationGraph(SphereFaceNet.configuration(
                    depth, 0.125, 512, 112, 96, new ASoftmaxHead(0, 10, 4),
                    new Nesterovs(0.01, 0.9),
                    new Nesterovs(0.02, 0.9), 5e-4, depth));
            g.init();
            TestNets.randomize(g, depth);
            var conv = Dl4jToOnnx.convert(g, Map.of("spherekit.head", "asoftmax"), Dl4jToOnnx.Options.defaults().withL2norm(true));
            Path f = dir.resolve("sf" + depth + ".onnx");
            Dl4jToOnnx.write(conv.model(), f);
            Process p = new ProcessBuilder(python.toString(), "-c", SHAPE_SCRIPT, f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertEquals("embedding=batch,512;embedding_norm=batch,512", out.lines().reduce((a, b) -> b).orElse(""));
            OrtCheck.Result r = OrtCheck.compare(g, conv, conv.model().toByteArray(), 3, 5);
            double rel = r.maxAbsDiff() / r.maxAbs();
            System.out.printf("[onnx] SphereFace-%d (512-d): ORT vs DL4J max abs %.3e, relative %.3e%n", depth, r.maxAbsDiff(), rel);
            assertTrue(rel <= 1e-5, "relative difference " + rel);
        }
    }

    /**
     * Every standard-layer case of {@link StandardLayerCases}, every case of {@link RecurrentLayerParityTest} (opset 13,
     * and 21 with fp16 weights) and both whole networks of {@link WholeNetworkParityTest},
     * at opsets 13 and 21 (the NHWC variants at 17; fp16 weights for the whole networks), pass the checker and strict shape inference
     * (one Python process for all files).
     */
    @Test
    void everyStandardLayerExportPassesTheChecker(@TempDir Path dir) throws Exception {
        Path python = python();
        List<String> files = new ArrayList<>();
        int i = 0;
        for (Parity.Case c : StandardLayerCases.all()) {
            Parity.Net net = c.build().get();
            for (int opset : new int[]{13, 21}) {
                Path f = dir.resolve("case" + i++ + "_opset" + opset + ".onnx");
                Dl4jToOnnx.write(net.convert(Dl4jToOnnx.Options.defaults().withOpset(opset)).model(), f);
                files.add(f.toString());
            }
        }
        for (RecurrentLayerParityTest.Case c : RecurrentLayerParityTest.cases()) {
            Parity.Net net = c.build();
            for (Dl4jToOnnx.Options o : List.of(Dl4jToOnnx.Options.defaults().withOpset(13), Dl4jToOnnx.Options.defaults().withOpset(21)
                    .withPrecision(OnnxGraphBuilder.WeightPrecision.FLOAT16))) {
                Path f = dir.resolve("recurrent" + i++ + ".onnx");
                Dl4jToOnnx.write(net.convert(o).model(), f);
                files.add(f.toString());
            }
        }
        for (Parity.Case c : StandardLayerCases.all(CNN2DFormat.NHWC)) {
            Path f = dir.resolve("case" + i++ + "_nhwc.onnx");
            Dl4jToOnnx.write(c.build().get().convert(Dl4jToOnnx.Options.defaults()).model(), f);
            files.add(f.toString());
        }
        List<Parity.Net> whole = List.of(
                new Parity.Net("resnet", WholeNetworkParityTest.resnet(), InputType.convolutional(23, 19, 3)),
                new Parity.Net("cnn", WholeNetworkParityTest.cnn(), InputType.convolutional(27, 23, 1)));
        for (Parity.Net net : whole) {
            for (Dl4jToOnnx.Options o : List.of(Dl4jToOnnx.Options.defaults().withOpset(13),
                    Dl4jToOnnx.Options.defaults().withOpset(21).withFoldBatchNorm(false),
                    Dl4jToOnnx.Options.defaults().withPrecision(OnnxGraphBuilder.WeightPrecision.FLOAT16).withBatch(3))) {
                Path f = dir.resolve(net.label() + "_" + i++ + ".onnx");
                Dl4jToOnnx.write(net.convert(o).model(), f);
                files.add(f.toString());
            }
        }
        OnnxChecker.assertAllPass(python, files);
    }
}
