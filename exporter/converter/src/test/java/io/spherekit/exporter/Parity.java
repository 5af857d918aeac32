package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.spherekit.runtime.LargeStack;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * ORT-vs-DL4J parity for any converted network: the same random batch through DL4J ({@code feedForward} to the
 * output vertex, inference mode) and through ONNX Runtime; the output shapes must be equal, and the values are
 * compared as max |ORT − DL4J| / max |DL4J|.
 */
final class Parity {
    private Parity() {
    }

    /** A DL4J network under test: a ComputationGraph or a MultiLayerNetwork, with its input type. */
    record Net(String label, Object network, InputType input) {
        Dl4jToOnnx.Conversion convert(Dl4jToOnnx.Options o) {
            return network instanceof ComputationGraph g ? Dl4jToOnnx.convert(g, input, Map.of(), o)
                    : Dl4jToOnnx.convert((MultiLayerNetwork) network, input, Map.of(), o);
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** A named case whose network is built on demand (so a parameterised test's listing stays cheap). */
    record Case(String label, InputType input, Supplier<Net> build) {
        @Override
        public String toString() {
            return label;
        }
    }

    /** The result of one comparison. */
    record Result(double maxAbsDiff, double maxAbs) {
        double relative() {
            return maxAbsDiff / maxAbs;
        }
    }

    static long[] withBatch(int n, long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    static float[] randomInput(int n, long[] shape, long seed) {
        long len = n;
        for (long d : shape) {
            len *= d;
        }
        Random r = new Random(seed);
        float[] x = new float[(int) len];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() * 2f - 1f;
        }
        return x;
    }

    /** Values in c order and their shape. */
    record Output(float[] values, long[] shape) {
    }

    static Output dl4j(Object network, String vertex, float[] x, long[] shape) {
        INDArray in = Nd4j.create(x, shape, 'c');
        INDArray out = network instanceof ComputationGraph g ? g.feedForward(in, false).get(vertex)
                : ((MultiLayerNetwork) network).output(in, false);
        return new Output(Nd4j.toFlattened('c', out).castTo(DataType.FLOAT).toFloatVector(), out.shape());
    }

    static Output ort(OrtSession s, float[] x, long[] shape) throws OrtException {
        OrtEnvironment env = LargeStack.environment();
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of(Dl4jToOnnx.INPUT, t))) {
            OnnxTensor o = (OnnxTensor) r.get(Dl4jToOnnx.OUTPUT).orElseThrow();
            FloatBuffer b = o.getFloatBuffer();
            float[] v = new float[b.remaining()];
            b.get(v);
            return new Output(v, o.getInfo().getShape());
        }
    }

    static OrtSession session(OnnxMl.ModelProto model) throws OrtException {
        return OrtCheck.createSession(LargeStack.environment(), model.toByteArray(), new OrtSession.SessionOptions());
    }

    /** Compares {@code model} with the DL4J network at batch {@code n}. */
    static Result compare(Object network, Dl4jToOnnx.Conversion c, OrtSession s, int n, long seed) throws OrtException {
        long[] shape = withBatch(n, c.inputShape());
        float[] x = randomInput(n, c.inputShape(), seed);
        Output dl = dl4j(network, c.embeddingVertex(), x, shape);
        Output onnx = ort(s, x, shape);
        if (!Arrays.equals(dl.shape(), onnx.shape())) {
            // A different output shape is the largest possible difference.
            System.out.printf("[parity] output shapes differ: DL4J %s, ORT %s%n", Arrays.toString(dl.shape()),
                    Arrays.toString(onnx.shape()));
            return new Result(Double.POSITIVE_INFINITY, 1);
        }
        float[] expected = dl.values();
        float[] actual = onnx.values();
        double diff = 0;
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            diff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(diff, d);
            max = Math.max(max, Math.abs(expected[i]));
        }
        return new Result(diff, max);
    }

    static Result compare(Object network, Dl4jToOnnx.Conversion c, OnnxMl.ModelProto model, int n, long seed)
            throws OrtException {
        try (OrtSession s = session(model)) {
            return compare(network, c, s, n, seed);
        }
    }

    /**
     * Random parameters of a sane scale (the default init would hide layout bugs): weights N(0, 1/fanIn) (fanIn: the
     * product of dims 1-3 of a 4-D weight, dim 0 of a 2-D one); biases, means and slopes N(0, 0.1²); batch-norm
     * variances U(0.5, 1.5), gammas 1 + N(0, 0.2²), log10(std) U(-0.25, 0.25).
     */
    static void randomize(Iterable<Layer> layers, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Layer layer : layers) {
            for (Map.Entry<String, INDArray> e : layer.paramTable().entrySet()) {
                INDArray p = e.getValue();
                long[] s = p.shape();
                INDArray v = switch (e.getKey()) {
                    case "var" -> Nd4j.rand(p.dataType(), s).addi(0.5);
                    case "log10stdev" -> Nd4j.rand(p.dataType(), s).subi(0.5).muli(0.5);
                    case "gamma" -> Nd4j.randn(p.dataType(), s).muli(0.2).addi(1.0);
                    case "W", "pW" -> {
                        long fanIn = s.length == 4 ? s[1] * s[2] * s[3] : s.length == 2 ? s[0] : Math.max(1, p.length() / s[0]);
                        yield Nd4j.randn(p.dataType(), s).muli(Math.sqrt(1.0 / fanIn));
                    }
                    default -> Nd4j.randn(p.dataType(), s).muli(0.1);
                };
                p.assign(v);
            }
        }
    }

    static void randomize(Object network, long seed) {
        Layer[] layers = network instanceof ComputationGraph g ? g.getLayers() : ((MultiLayerNetwork) network).getLayers();
        randomize(Arrays.asList(layers), seed);
    }
}
