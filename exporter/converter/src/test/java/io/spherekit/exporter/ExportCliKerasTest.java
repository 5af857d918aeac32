package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.spherekit.core.cli.Cli;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code export-model --from-keras} on a model that is not SphereKit's SphereFace topology (an IResNet-style net and
 * a legacy .h5 merge model, made by testdata/python/keras_face_zoo.py) goes through the general Keras converter:
 * exit 0, the preprocessing options and the model's input size in the metadata, Keras' output reproduced in ONNX
 * Runtime; {@code --check} on such a model is a usage error and writes nothing.
 */
class ExportCliKerasTest {

    @TempDir
    static Path shared;
    private static Path zoo;

    private static synchronized Path generate(Path ignored) throws Exception {
        if (zoo == null) {
            zoo = doGenerate(shared.resolve("zoo"));
        }
        return zoo;
    }

    private static Path doGenerate(Path dir) throws Exception {
        String py = System.getProperty("spherekit.python");
        if (py == null || py.isBlank() || !Files.isExecutable(Path.of(py))) {
            Assumptions.assumeFalse(Boolean.getBoolean("spherekit.skipPython"), "spherekit.skipPython=true");
            throw new AssertionError("no Python at spherekit.python=" + py + " (the build makes it in testdata)");
        }
        Path root = Path.of(System.getProperty("spherekit.root", "../..")).toAbsolutePath().normalize();
        ProcessBuilder pb = new ProcessBuilder(py, root.resolve("testdata/python/keras_face_zoo.py").toString(),
                "--out", dir.toString(), "--seed", "11", "--only", "iresnet", "merges").redirectErrorStream(true);
        pb.environment().put("KERAS_BACKEND", "jax");
        pb.environment().put("JAX_PLATFORMS", "cpu");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return dir;
    }

    private static float[] floats(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        float[] x = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        return x;
    }

    @Test
    void generalKerasModelExportsWithPreprocessingMetadata(@TempDir Path dir) throws Exception {
        Path zoo = generate(dir.resolve("zoo"));
        Path out = dir.resolve("iresnet.onnx");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = ExportCli.run(new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8),
                "--from-keras", zoo.resolve("iresnet.keras").toString(), "--output", out.toString(),
                "--mean", "127.5", "--scale", "0.0078125", "--channel-order", "BGR", "--align-template", "arcface-112x112", "--l2norm");
        assertEquals(Cli.OK, code, o + "\n" + e);
        OnnxMl.ModelProto m = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
        Map<String, String> meta = new HashMap<>();
        m.getMetadataPropsList().forEach(p -> meta.put(p.getKey(), p.getValue()));
        assertEquals("56", meta.get("spherekit.input.height"), meta.toString());
        assertEquals("48", meta.get("spherekit.input.width"));
        assertEquals("BGR", meta.get("spherekit.input.channel_order"));
        assertEquals("127.5", meta.get("spherekit.input.mean"));
        assertEquals("arcface-112x112", meta.get("spherekit.input.align.template"));
        assertEquals("keras:iresnet.keras", meta.get("spherekit.source"));
        // Keras' batch-7 output, L2-normalised, against the embedding_norm output.
        float[] x = floats(zoo.resolve("iresnet_in7.bin"));
        float[] ref = floats(zoo.resolve("iresnet_out7.bin"));
        float[] nchw = new float[x.length];
        int h = 56, w = 48, c = 3;
        for (int b = 0; b < 7; b++) {
            for (int i = 0; i < h * w; i++) {
                for (int k = 0; k < c; k++) {
                    nchw[((b * c + k) * h * w) + i] = x[(b * h * w + i) * c + k];
                }
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(Files.readAllBytes(out));
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[]{7, 3, h, w});
             OrtSession.Result r = s.run(Map.of("input", t))) {
            float[][] y = (float[][]) r.get("embedding_norm").orElseThrow().getValue();
            int d = y[0].length;
            double max = 0;
            for (int b = 0; b < 7; b++) {
                double n = 0;
                for (int i = 0; i < d; i++) {
                    n += (double) ref[b * d + i] * ref[b * d + i];
                }
                for (int i = 0; i < d; i++) {
                    max = Math.max(max, Math.abs(ref[b * d + i] / Math.sqrt(n) - y[b][i]));
                }
            }
            assertTrue(max <= 1e-4, "ORT vs Keras " + max);
        }
    }

    @Test
    void legacyH5AndCheckIsAUsageError(@TempDir Path dir) throws Exception {
        Path zoo = generate(dir.resolve("zoo"));
        Path out = dir.resolve("m.onnx");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8);
        PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8);
        assertEquals(2, ExportCli.run(po, pe, "--from-keras", zoo.resolve("merges.h5").toString(), "--output", out.toString(), "--check"));
        assertTrue(e.toString().contains("--check"), e.toString());
        assertFalse(Files.exists(out));
        assertEquals(Cli.OK, ExportCli.run(po, pe, "--from-keras", zoo.resolve("merges.h5").toString(), "--output", out.toString()), e.toString());
        assertTrue(o.toString().contains("Concat"), o.toString());
        assertTrue(Files.size(out) > 0);
    }
}
