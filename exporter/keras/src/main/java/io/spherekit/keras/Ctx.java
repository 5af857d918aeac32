package io.spherekit.keras;

import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a layer mapper writes into: the graph builder and small helpers (constants, transposes, activations). */
final class Ctx {
    final OnnxGraphBuilder g;
    final int opset;

    Ctx(OnnxGraphBuilder g, int opset) {
        this.g = g;
        this.opset = opset;
    }

    OnnxValue node(OnnxOp op, String hint, List<OnnxValue> in, Map<String, ?> attrs) {
        return g.node(op, hint, in, attrs == null ? Map.of() : attrs);
    }

    OnnxValue node(OnnxOp op, String hint, OnnxValue... in) {
        return g.node(op, hint, List.of(in), Map.of());
    }

    OnnxValue scalar(String hint, float v) {
        return g.floatInitializer(hint, new float[]{v});
    }

    /** A per-channel constant shaped to broadcast over a tensor of Keras rank {@code rank} ({@code [C,1,..]}). */
    OnnxValue perChannel(String hint, float[] v, int rank) {
        long[] dims = new long[Math.max(1, rank)];
        dims[0] = v.length;
        for (int i = 1; i < dims.length; i++) {
            dims[i] = 1;
        }
        return g.floatInitializer(hint, v, dims);
    }

    OnnxValue transpose(String hint, OnnxValue v, long[] perm) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("perm", perm);
        return node(OnnxOp.TRANSPOSE, hint, List.of(v), a);
    }

    /** Perm taking a channels-first tensor of Keras rank r to channels-last ({@code [0, 2, .., r, 1]}). */
    static long[] toLast(int r) {
        long[] p = new long[r + 1];
        for (int i = 1; i < r; i++) {
            p[i] = i + 1;
        }
        p[r] = 1;
        return p;
    }

    /** Perm taking channels-last to channels-first ({@code [0, r, 1, .., r-1]}). */
    static long[] toFirst(int r) {
        long[] p = new long[r + 1];
        p[1] = r;
        for (int i = 2; i <= r; i++) {
            p[i] = i - 1;
        }
        return p;
    }

    /** The tensor's value in Keras (channels-last) order. */
    OnnxValue channelsLast(String hint, KTensor t) {
        return t.rank() >= 2 ? transpose(hint + "_to_nhwc", t.value(), toLast(t.rank())) : t.value();
    }

    /** A channels-last value of Keras shape {@code shape} brought to the stored layout. */
    KTensor fromChannelsLast(String hint, OnnxValue v, long[] shape) {
        return new KTensor(shape.length >= 2 ? transpose(hint + "_to_nchw", v, toFirst(shape.length)) : v, shape);
    }

    /** {@code y = ThresholdedRelu(x, t) − slope·Relu(t − x)}, clipped at {@code max}; the Keras ReLU layer's formula. */
    OnnxValue relu(String hint, OnnxValue x, double maxValue, double threshold, double slope) {
        OnnxValue y;
        if (threshold == 0 && slope == 0) {
            y = node(OnnxOp.RELU, hint, x);
        } else if (threshold == 0) {
            y = node(OnnxOp.LEAKY_RELU, hint, List.of(x), Map.of("alpha", (float) slope));
        } else {
            y = node(OnnxOp.THRESHOLDED_RELU, hint + "_thr", List.of(x), Map.of("alpha", (float) threshold));
            if (slope != 0) {
                OnnxValue below = node(OnnxOp.RELU, hint + "_below",
                        node(OnnxOp.SUB, hint + "_tminusx", scalar(hint + "_t", (float) threshold), x));
                y = node(OnnxOp.SUB, hint, y, node(OnnxOp.MUL, hint + "_neg", below, scalar(hint + "_slope", (float) slope)));
            }
        }
        if (!Double.isNaN(maxValue) && !Double.isInfinite(maxValue)) {
            y = node(OnnxOp.CLIP, hint + "_max", List.of(y, scalar(hint + "_lo", -Float.MAX_VALUE),
                    scalar(hint + "_hi", (float) maxValue)), Map.of());
        }
        return y;
    }
}
