package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.spherekit.runtime.LargeStack;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects activation ranges by running an augmented copy of a float32 model in ONNX Runtime (CPU) whose graph
 * outputs also expose every tensor to calibrate (ONNX Runtime's {@code calibrate.py} does the same).
 *
 * <p>Pass 1 records each tensor's {@code [min, max]}; for {@link CalibrationMethod#PERCENTILE} and
 * {@link CalibrationMethod#ENTROPY} pass 2 fills a {@link Histogram} of {@code |x|} over {@code [0, max|x|]} per tensor
 * and clips the range at the method's threshold ({@link Thresholds}).
 */
public final class Calibrator {

    /** Images per ONNX Runtime call during calibration. */
    public static final int BATCH = 16;

    private Calibrator() {
    }

    /** The calibrated ranges, and the raw observed min/max for the report. */
    public record Result(Map<String, QdqQuantizer.Range> ranges, Map<String, float[]> observed) {
        /** @return the number of tensors whose observed range is not a single value */
        public long nonConstantTensors() {
            return observed.values().stream().filter(v -> v[1] > v[0]).count();
        }
    }

    /**
     * @param model      float32 model with one 4-D float input
     * @param tensors    the tensors to calibrate ({@link QdqQuantizer#tensorsToCalibrate})
     * @param inputs     preprocessed images, each {@code 3·H·W} floats (NCHW for one image)
     * @param chw        {@code {3, H, W}}
     * @param method     range method
     * @param percentile percentile for {@link CalibrationMethod#PERCENTILE}, in (0, 100]
     * @return ranges of every tensor
     * @throws OrtException when ONNX Runtime fails
     */
    public static Result calibrate(ModelProto model, List<String> tensors, List<float[]> inputs, long[] chw,
                                   CalibrationMethod method, double percentile) throws OrtException {
        ModelProto augmented = augment(model, tensors);
        OrtEnvironment env = LargeStack.environment();
        String input = model.getGraph().getInput(0).getName();
        Map<String, float[]> minMax = new LinkedHashMap<>();
        for (String t : tensors) {
            minMax.put(t, new float[]{Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        }
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
             OrtSession session = createSession(env, augmented.toByteArray(), opts)) {
            forEachBatch(env, session, input, inputs, chw, tensors, (name, buf) -> {
                float[] mm = minMax.get(name);
                for (int i = buf.position(), end = buf.limit(); i < end; i++) {
                    float v = buf.get(i);
                    if (v < mm[0]) {
                        mm[0] = v;
                    }
                    if (v > mm[1]) {
                        mm[1] = v;
                    }
                }
            });
            Map<String, QdqQuantizer.Range> ranges = new LinkedHashMap<>();
            if (!method.needsHistogram()) {
                minMax.forEach((k, v) -> ranges.put(k, new QdqQuantizer.Range(v[0], v[1])));
                return new Result(ranges, minMax);
            }
            Map<String, Histogram> hist = new HashMap<>();
            minMax.forEach((k, v) -> {
                double limit = Math.max(Math.abs(v[0]), Math.abs(v[1]));
                if (limit > 0 && Double.isFinite(limit)) {
                    hist.put(k, new Histogram(Histogram.BINS, limit));
                }
            });
            forEachBatch(env, session, input, inputs, chw, tensors, (name, buf) -> {
                Histogram h = hist.get(name);
                if (h != null) {
                    h.add(buf);
                }
            });
            minMax.forEach((k, v) -> {
                Histogram h = hist.get(k);
                if (h == null) {
                    ranges.put(k, new QdqQuantizer.Range(v[0], v[1]));
                    return;
                }
                double t = method == CalibrationMethod.PERCENTILE ? Thresholds.percentile(h, percentile)
                        : Thresholds.entropy(h.withoutZeroSpike(), Thresholds.ENTROPY_LEVELS);
                float[] c = Thresholds.clip(v[0], v[1], t);
                ranges.put(k, new QdqQuantizer.Range(c[0], c[1]));
            });
            return new Result(ranges, minMax);
        }
    }

    /** Receives one calibrated tensor's values of one batch. */
    private interface Sink {
        void accept(String tensor, FloatBuffer values);
    }

    private static void forEachBatch(OrtEnvironment env, OrtSession session, String input, List<float[]> inputs,
                                     long[] chw, List<String> tensors, Sink sink) throws OrtException {
        int size = (int) (chw[0] * chw[1] * chw[2]);
        Set<String> wanted = new HashSet<>(tensors);
        boolean inputWanted = wanted.remove(input);
        for (int start = 0; start < inputs.size(); start += BATCH) {
            int n = Math.min(BATCH, inputs.size() - start);
            float[] x = new float[n * size];
            for (int i = 0; i < n; i++) {
                System.arraycopy(inputs.get(start + i), 0, x, i * size, size);
            }
            if (inputWanted) {
                sink.accept(input, FloatBuffer.wrap(x));
            }
            if (wanted.isEmpty()) {
                continue;
            }
            try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[]{n, chw[0], chw[1], chw[2]});
                 OrtSession.Result r = session.run(Map.of(input, t), wanted)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    if (e.getValue() instanceof OnnxTensor ot) {
                        sink.accept(e.getKey(), ot.getFloatBuffer());
                    }
                }
            }
        }
    }

    /** {@code model} with every tensor of {@code tensors} that is not already one added as a graph output. */
    static ModelProto augment(ModelProto model, List<String> tensors) {
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        Set<String> existing = new HashSet<>();
        g.getOutputList().forEach(o -> existing.add(o.getName()));
        g.getInputList().forEach(o -> existing.add(o.getName()));
        for (String t : tensors) {
            if (!existing.contains(t)) {
                g.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(t).setType(OnnxMl.TypeProto.newBuilder()
                        .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(OnnxMl.TensorProto.DataType.FLOAT_VALUE))));
            }
        }
        return model.toBuilder().setGraph(g).build();
    }

    private static OrtSession createSession(OrtEnvironment env, byte[] model, OrtSession.SessionOptions opts)
            throws OrtException {
        try {
            return LargeStack.call("ort-calibration-session", () -> env.createSession(model, opts));
        } catch (OrtException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
