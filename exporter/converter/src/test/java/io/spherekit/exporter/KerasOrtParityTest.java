package io.spherekit.exporter;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.spherekit.runtime.LargeStack;
import io.spherekit.trainer.keras.KerasReferences;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras 3 → ONNX Runtime parity through {@code export-model --from-keras}: a native {@code .keras} SphereFace-4 and -20
 * (channels_last) is imported in Java, exported, run in ONNX Runtime on the Keras input transposed NHWC → NCHW, and
 * compared with Keras' own embeddings: ≤ 1e-5 max abs on L2-normalised rows. The references are the build's
 * ({@link KerasReferences}: a fresh seed per build, generated once and shared with the trainer's Keras tests), or the
 * committed fixtures when the build's Python has no Keras (and the test says so).
 */
class KerasOrtParityTest {

    /** Reads a little-endian float32 C-order .npy file. */
    static float[] npy(Path f, long[] shapeOut) throws IOException {
        byte[] b = Files.readAllBytes(f);
        assertEquals((byte) 0x93, b[0]);
        int hlen = (b[8] & 0xFF) | ((b[9] & 0xFF) << 8);
        String header = new String(b, 10, hlen);
        assertTrue(header.contains("'<f4'"), "float32 expected: " + header);
        assertTrue(header.contains("'fortran_order': False"), header);
        String shape = header.substring(header.indexOf("'shape': (") + 10, header.indexOf(")", header.indexOf("'shape'")));
        String[] dims = shape.split(",");
        int k = 0;
        for (String d : dims) {
            if (!d.isBlank()) {
                shapeOut[k++] = Long.parseLong(d.trim());
            }
        }
        FloatBuffer fb = ByteBuffer.wrap(b, 10 + hlen, b.length - 10 - hlen).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
    }

    static double maxAbsNormalisedDiff(float[][] a, float[] b, int d) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double na = 0;
            double nb = 0;
            for (int j = 0; j < d; j++) {
                na += a[i][j] * (double) a[i][j];
                nb += b[i * d + j] * (double) b[i * d + j];
            }
            na = Math.sqrt(na);
            nb = Math.sqrt(nb);
            for (int j = 0; j < d; j++) {
                m = Math.max(m, Math.abs(a[i][j] / na - b[i * d + j] / nb));
            }
        }
        return m;
    }

    @Test
    void kerasModelsMatchThroughOnnxRuntime(@TempDir Path tmp) throws Exception {
        Path refs = KerasReferences.dir();
        long[] s = new long[4];
        float[] nhwc = npy(refs.resolve("input.npy"), s);
        int n = (int) s[0];
        int h = (int) s[1];
        int w = (int) s[2];
        float[] nchw = new float[nhwc.length];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        nchw[((i * 3 + c) * h + y) * w + x] = nhwc[((i * h + y) * w + x) * 3 + c];
                    }
                }
            }
        }
        for (int depth : new int[]{4, 20}) {
            Path onnx = tmp.resolve("sf" + depth + ".onnx");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = ExportCli.run(new PrintStream(out), new PrintStream(err), "--from-keras",
                    refs.resolve("model_sf" + depth + ".keras").toString(), "--output", onnx.toString(), "--check");
            assertEquals(0, code, out + "\n" + err);
            long[] es = new long[2];
            float[] keras = npy(refs.resolve("embeddings_sf" + depth + ".npy"), es);
            OrtEnvironment env = LargeStack.environment();
            float[][] ort;
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession sess = LargeStack.call("t", () -> env.createSession(onnx.toString(), o));
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw), new long[]{n, 3, h, w});
                 OrtSession.Result r = sess.run(Map.of("input", t))) {
                ort = (float[][]) r.get(0).getValue();
            }
            double diff = maxAbsNormalisedDiff(ort, keras, (int) es[1]);
            System.out.printf("[keras->ort parity] SphereFace-%d: max |Δ| of L2-normalised embeddings %.3e%n", depth, diff);
            assertTrue(diff <= 1e-5, "Keras vs ONNX Runtime, SphereFace-" + depth + ": " + diff);
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession sess = LargeStack.call("t", () -> env.createSession(onnx.toString(), o))) {
                assertEquals("keras:model_sf" + depth + ".keras", sess.getMetadata().getCustomMetadata().get("spherekit.source"));
            }
        }
        assertEquals(2, ExportCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
                "--from-keras", "x.keras", "--model", "y.zip", "--output", tmp.resolve("z.onnx").toString()),
                "--model and --from-keras are exclusive");
        assertEquals(1, ExportCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
                "--from-keras", tmp.resolve("missing.keras").toString(), "--output", tmp.resolve("z.onnx").toString()));
        assertFalse(Files.exists(tmp.resolve("z.onnx")));
    }
}
