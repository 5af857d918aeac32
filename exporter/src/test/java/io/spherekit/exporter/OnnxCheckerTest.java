package io.spherekit.exporter;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The reference ONNX checker ({@code onnx.checker.check_model(full_check=True)} plus strict shape inference) accepts
 * the exported SphereFace-4. Needs the Python at system property {@code spherekit.python} with the {@code onnx}
 * package; {@code -Dspherekit.skipPython=true} skips instead of failing.
 */
class OnnxCheckerTest {
    private static final String SCRIPT = "import onnx,sys; m=onnx.load(sys.argv[1]); "
            + "onnx.checker.check_model(m, full_check=True); onnx.shape_inference.infer_shapes(m, strict_mode=True)";

    private static Path python() {
        String p = System.getProperty("spherekit.python");
        Path python = p == null || p.isBlank() ? null : Path.of(p);
        if (python == null || !Files.isExecutable(python)) {
            Assumptions.assumeFalse(Boolean.getBoolean("spherekit.skipPython"),
                    "spherekit.skipPython=true and no Python at " + python);
            String venv = python == null ? "/work/main/testdata/target/venv" : python.getParent().getParent().toString();
            fail("No Python with the onnx package at spherekit.python=" + python + ". CI creates it; locally run:\n"
                    + "  python3 -m venv " + venv + " && " + venv + "/bin/pip install --index-url file:///opt/pypi/simple"
                    + " --retries 0 --timeout 1 onnx numpy\n"
                    + "or pass -Dspherekit.python=/path/to/python, or -Dspherekit.skipPython=true to skip.");
        }
        return python;
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
                        .withPrecision(io.spherekit.onnx.OnnxGraphBuilder.WeightPrecision.FLOAT16));
        int i = 0;
        for (Dl4jToOnnx.Options o : variants) {
            Path f = dir.resolve("sf4_" + i++ + ".onnx");
            Dl4jToOnnx.write(Dl4jToOnnx.convert(g, Map.of("spherekit.head", "asoftmax"), o).model(), f);
            check(python, f);
        }
    }
}
