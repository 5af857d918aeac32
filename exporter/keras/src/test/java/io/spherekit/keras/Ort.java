package io.spherekit.keras;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.util.Map;

/** Runs a converted model in ONNX Runtime (CPU) and layout helpers for comparing with Keras. */
final class Ort {
    private Ort() {
    }

    /** Output {@code embedding} for {@code input} of ONNX dims {@code dims}, flattened row-major. */
    static float[] run(byte[] model, float[] input, long[] dims) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(model, o);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), dims);
                 OrtSession.Result r = s.run(Map.of(KerasToOnnx.INPUT, t))) {
                OnnxTensor out = (OnnxTensor) r.get(KerasToOnnx.OUTPUT).orElseThrow();
                FloatBuffer fb = out.getFloatBuffer();
                float[] f = new float[fb.remaining()];
                fb.get(f);
                return f;
            }
        }
    }

    /** Output {@code embedding} for several named inputs (ONNX name → values and dims), flattened row-major. */
    static float[] run(byte[] model, Map<String, float[]> inputs, Map<String, long[]> dims) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        java.util.Map<String, OnnxTensor> feed = new java.util.LinkedHashMap<>();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            for (Map.Entry<String, float[]> e : inputs.entrySet()) {
                feed.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue()), dims.get(e.getKey())));
            }
            try (OrtSession s = env.createSession(model, o);
                 OrtSession.Result r = s.run(feed)) {
                OnnxTensor out = (OnnxTensor) r.get(KerasToOnnx.OUTPUT).orElseThrow();
                FloatBuffer fb = out.getFloatBuffer();
                float[] f = new float[fb.remaining()];
                fb.get(f);
                return f;
            }
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    /** Channels-last {@code [B, d.., C]} to channels-first {@code [B, C, d..]}; {@code shape} excludes the batch. */
    static float[] toChannelsFirst(float[] x, int batch, long[] shape) {
        if (shape.length < 2) {
            return x;
        }
        int r = shape.length;
        int[] full = new int[r + 1];
        full[0] = batch;
        for (int i = 0; i < r; i++) {
            full[i + 1] = (int) shape[i];
        }
        int[] perm = new int[r + 1];
        perm[1] = r;
        for (int i = 2; i <= r; i++) {
            perm[i] = i - 1;
        }
        return KerasLayers.permute(x, full, perm);
    }

    /** Rows of length {@code dim} scaled to unit L2 norm (in double). */
    static double[] l2normalise(float[] x, int dim) {
        double[] out = new double[x.length];
        for (int r = 0; r < x.length / dim; r++) {
            double s = 0;
            for (int i = 0; i < dim; i++) {
                s += (double) x[r * dim + i] * x[r * dim + i];
            }
            double n = Math.sqrt(s);
            for (int i = 0; i < dim; i++) {
                out[r * dim + i] = x[r * dim + i] / n;
            }
        }
        return out;
    }

    static double maxAbsDiff(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " vs " + b.length);
        }
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    static double maxAbs(float[] f) {
        double m = 0;
        for (float v : f) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
