package io.spherekit.exporter;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.spherekit.runtime.LargeStack;
import io.spherekit.trainer.Dl4jEmbedder;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

/** Runs an exported model in ONNX Runtime (CPU) and compares it with DL4J on the same random batch. */
public final class OrtCheck {

    /**
     * Default tolerance of {@code --check}, per unit of embedding scale (see {@link #allowed}): 1e-4 absolute for
     * embeddings with |e| ≤ 1, 1e-4 × max |e| above that.
     */
    public static final double DEFAULT_TOLERANCE = 1e-4;
    /** Tolerance of {@code --check} with float16 weights: their rounding alone moves unit-scale embeddings by ~3e-4. */
    public static final double FP16_TOLERANCE = 2e-3;

    /** @param maxAbsDiff max |ORT − DL4J| over all embedding elements; {@code maxAbs} the largest |DL4J| value */
    public record Result(int batch, double maxAbsDiff, double maxAbs) {

        /** The max abs difference this result may have under {@code tolerance}: {@link #allowed}. */
        public double allowed(double tolerance) {
            return OrtCheck.allowed(tolerance, maxAbs);
        }

        /** Whether {@code maxAbsDiff ≤ allowed(tolerance)}; false when either is NaN. */
        public boolean passes(double tolerance) {
            return maxAbsDiff <= allowed(tolerance);
        }
    }

    /**
     * The max abs difference {@code --check} accepts: {@code tolerance × max(1, maxAbs)}. float32 rounding error
     * grows with the magnitude of the values, so a fixed absolute bound refuses correct exports of heads that make
     * large embeddings (ArcFace with s = 64 reaches |e| ≈ 500, where ORT and DL4J differ by ~2e-4, i.e. 4e-7 of the
     * scale), while for unit-scale embeddings the bound stays {@code tolerance} itself (as numpy's {@code allclose}
     * keeps an absolute floor).
     *
     * @param tolerance the bound per unit of scale (≥ 0 to be satisfiable)
     * @param maxAbs    the largest |DL4J embedding value| of the batch
     * @return the allowed max abs difference; NaN when {@code maxAbs} is NaN
     */
    public static double allowed(double tolerance, double maxAbs) {
        return Double.isNaN(maxAbs) ? Double.NaN : tolerance * Math.max(1.0, maxAbs);
    }

    private OrtCheck() {
    }

    /** A batch of {@code n} inputs {@code [n,C,H,W]}, uniform in [-1, 1) (the range of normalised face pixels). */
    public static float[] randomBatch(int n, long[] chw, long seed) {
        Random r = new Random(seed);
        float[] x = new float[(int) (n * chw[0] * chw[1] * chw[2])];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 2f - 1f;
        }
        return x;
    }

    /** DL4J's output of {@code vertex} on {@code x} ({@code [n,C,H,W]}), as {@code [n][D]}. */
    public static float[][] dl4j(ComputationGraph graph, String vertex, float[] x, int n, long[] chw) {
        INDArray in = Nd4j.create(x, new long[]{n, chw[0], chw[1], chw[2]}, 'c');
        INDArray out = Dl4jEmbedder.activation(graph, vertex, in).castTo(DataType.FLOAT);
        return out.toFloatMatrix();
    }

    /** Runs ONNX model bytes on {@code x}; returns the named output as {@code [n][D]}. */
    public static float[][] ort(byte[] model, String output, float[] x, int n, long[] chw) throws OrtException {
        OrtEnvironment env = LargeStack.environment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = createSession(env, model, opts);
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[]{n, chw[0], chw[1], chw[2]});
             OrtSession.Result r = session.run(Map.of(Dl4jToOnnx.INPUT, t))) {
            return (float[][]) r.get(output).orElseThrow(() -> new IllegalStateException("no output " + output)).getValue();
        }
    }

    /** Session creation on a large-stack thread: see {@link io.spherekit.runtime.LargeStack}. */
    static OrtSession createSession(OrtEnvironment env, byte[] model, OrtSession.SessionOptions opts) throws OrtException {
        try {
            return LargeStack.call("ort-session-init", () -> env.createSession(model, opts));
        } catch (OrtException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Compares ORT and DL4J on a random batch of {@code n} for any converted network: a {@link ComputationGraph}
     * (output of the embedding vertex) or a {@link MultiLayerNetwork} (its output), with the conversion's input
     * shape (images, vectors or sequences; values uniform in [-1, 1)).
     */
    public static Result compareAny(Object network, Dl4jToOnnx.Conversion conv, byte[] model, int n, long seed)
            throws OrtException {
        long[] shape = new long[conv.inputShape().length + 1];
        shape[0] = n;
        System.arraycopy(conv.inputShape(), 0, shape, 1, conv.inputShape().length);
        long len = 1;
        for (long d : shape) {
            len *= d;
        }
        Random r = new Random(seed);
        float[] x = new float[(int) len];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 2f - 1f;
        }
        INDArray in = Nd4j.create(x, shape, 'c');
        INDArray out = network instanceof ComputationGraph g ? Dl4jEmbedder.activation(g, conv.embeddingVertex(), in)
                : ((org.deeplearning4j.nn.multilayer.MultiLayerNetwork) network).output(in, false);
        float[] expected = Nd4j.toFlattened('c', out).castTo(DataType.FLOAT).toFloatVector();
        float[] actual;
        OrtEnvironment env = LargeStack.environment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = createSession(env, model, opts);
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result res = session.run(Map.of(Dl4jToOnnx.INPUT, t))) {
            FloatBuffer b = ((OnnxTensor) res.get(Dl4jToOnnx.OUTPUT).orElseThrow()).getFloatBuffer();
            actual = new float[b.remaining()];
            b.get(actual);
        }
        if (actual.length != expected.length) {
            throw new IllegalStateException("ONNX Runtime gave " + actual.length + " values, DL4J " + expected.length);
        }
        double diff = 0;
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            diff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(diff, d);
            max = Math.max(max, Math.abs(expected[i]));
        }
        return new Result(n, diff, max);
    }

    /** Compares ORT and DL4J on a random batch of {@code n}. */
    public static Result compare(ComputationGraph graph, Dl4jToOnnx.Conversion conv, byte[] model, int n, long seed)
            throws OrtException {
        float[] x = randomBatch(n, conv.inputShape(), seed);
        float[][] expected = dl4j(graph, conv.embeddingVertex(), x, n, conv.inputShape());
        float[][] actual = ort(model, Dl4jToOnnx.OUTPUT, x, n, conv.inputShape());
        return new Result(n, maxAbsDiff(expected, actual), maxAbs(expected));
    }

    public static double maxAbsDiff(float[][] a, float[][] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("row counts differ: " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) {
                throw new IllegalArgumentException("row " + i + " lengths differ: " + a[i].length + " vs " + b[i].length);
            }
            for (int j = 0; j < a[i].length; j++) {
                double d = Math.abs((double) a[i][j] - b[i][j]);
                if (!(d <= m)) {
                    m = Double.isNaN(d) ? Double.NaN : d;
                    if (Double.isNaN(m)) {
                        return m;
                    }
                }
            }
        }
        return m;
    }

    private static double maxAbs(float[][] a) {
        double m = 0;
        for (float[] row : a) {
            for (float v : row) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }
}
