package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The registry of Keras layer mappers: Keras {@code class_name} to the function that writes its ONNX nodes, with the
 * one-line description that the README's supported-layer table is generated from ({@link #markdownTable()}).
 *
 * <p>Conventions (see {@link KTensor}): feature maps are channels-first in ONNX; kernels are transposed from Keras'
 * {@code [k.., in, out]} to ONNX's {@code [out, in, k..]}; {@code padding="same"} is written as explicit pads computed
 * from the static input size the way TensorFlow/Keras do (total {@code max((ceil(in/s)−1)·s + (k−1)·d + 1 − in, 0)},
 * {@code floor(total/2)} before, the rest after: more at the end).
 */
public final class KerasLayers {

    /** Writes one layer: its inputs (in Keras order) to its output. */
    @FunctionalInterface
    interface Mapper {
        KTensor map(Ctx ctx, KerasLayer layer, List<KTensor> in);
    }

    record Entry(String className, String onnx, Mapper mapper) {
    }

    private static final Map<String, Entry> REGISTRY = new LinkedHashMap<>();

    private static void reg(String onnx, Mapper m, String... classNames) {
        for (String c : classNames) {
            REGISTRY.put(c, new Entry(c, onnx, m));
        }
    }

    /** Keras activation names (the {@code activation} argument and the {@code Activation} layer) that map. */
    static final List<String> ACTIVATIONS = List.of("linear", "relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid",
            "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "swish", "silu", "gelu", "mish", "exponential",
            "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "log_softmax", "tanh_shrink", "squareplus", "celu",
            "soft_shrink", "hard_shrink");

    static {
        reg("Conv (+ activation)", KerasLayers::conv, "Conv1D", "Conv2D");
        reg("Conv, group = channels", KerasLayers::depthwise, "DepthwiseConv2D");
        reg("Conv (depthwise) + Conv 1x1", KerasLayers::separable, "SeparableConv2D");
        reg("ConvTranspose", KerasLayers::convTranspose, "Conv2DTranspose");
        reg("Gemm (+ activation); rank-1 input", KerasLayers::dense, "Dense");
        reg("BatchNormalization (moving stats)", KerasLayers::batchNorm, "BatchNormalization");
        reg("ReduceSum, Sub, Mul, Sqrt, Div, Add (last axis)", KerasLayers::layerNorm, "LayerNormalization");
        reg("the activation's ops: " + String.join(", ", ACTIVATIONS), (c, l, in) ->
                activation(c, l.name(), in.get(0), activationName(l, l.config().get("activation"))), "Activation");
        reg("Relu / LeakyRelu / ThresholdedRelu, Clip (max_value, threshold, negative_slope)", (c, l, in) ->
                new KTensor(c.relu(l.name(), in.get(0).value(), l.number("max_value", Double.NaN),
                        l.number("threshold", 0), l.number("negative_slope", 0)), in.get(0).shape()), "ReLU");
        reg("LeakyRelu", (c, l, in) -> new KTensor(c.node(OnnxOp.LEAKY_RELU, l.name(), List.of(in.get(0).value()),
                Map.of("alpha", (float) l.number("negative_slope", l.number("alpha", 0.3)))), in.get(0).shape()), "LeakyReLU");
        reg("PRelu (slope shaped by shared_axes)", KerasLayers::prelu, "PReLU");
        reg("Elu", (c, l, in) -> new KTensor(c.node(OnnxOp.ELU, l.name(), List.of(in.get(0).value()),
                Map.of("alpha", (float) l.number("alpha", 1.0))), in.get(0).shape()), "ELU");
        reg("Softmax (axis mapped)", (c, l, in) -> new KTensor(c.node(OnnxOp.SOFTMAX, l.name(), List.of(in.get(0).value()),
                Map.of("axis", (long) KTensor.onnxAxis(intAxis(l, -1), in.get(0).rank()))), in.get(0).shape()), "Softmax");
        reg("Add", (c, l, in) -> fold(c, l, in, OnnxOp.ADD), "Add");
        reg("Sub", KerasLayers::subtract, "Subtract");
        reg("Mul", (c, l, in) -> fold(c, l, in, OnnxOp.MUL), "Multiply");
        reg("Mean", (c, l, in) -> variadic(c, l, in, OnnxOp.MEAN), "Average");
        reg("Max", (c, l, in) -> variadic(c, l, in, OnnxOp.MAX), "Maximum");
        reg("Min", (c, l, in) -> variadic(c, l, in, OnnxOp.MIN), "Minimum");
        reg("Concat (axis mapped)", KerasLayers::concat, "Concatenate");
        reg("MaxPool", (c, l, in) -> pool(c, l, in.get(0), OnnxOp.MAX_POOL), "MaxPooling1D", "MaxPooling2D");
        reg("AveragePool (count_include_pad = 0)", (c, l, in) -> pool(c, l, in.get(0), OnnxOp.AVERAGE_POOL),
                "AveragePooling1D", "AveragePooling2D");
        reg("GlobalAveragePool (+ Flatten); 1-D: over the steps of [N, C, L]", (c, l, in) -> globalPool(c, l, in.get(0),
                OnnxOp.GLOBAL_AVERAGE_POOL), "GlobalAveragePooling1D", "GlobalAveragePooling2D");
        reg("GlobalMaxPool (+ Flatten); 1-D: over the steps of [N, C, L]", (c, l, in) -> globalPool(c, l, in.get(0),
                OnnxOp.GLOBAL_MAX_POOL), "GlobalMaxPooling1D", "GlobalMaxPooling2D");
        reg("Transpose to NHWC + Flatten (Keras element order)", KerasLayers::flatten, "Flatten");
        reg("Transpose to NHWC + Reshape (+ Transpose back)", KerasLayers::reshape, "Reshape");
        reg("Transpose (one, composed with the layout)", KerasLayers::permute, "Permute");
        reg("nothing (identity at inference)", (c, l, in) -> in.get(0),
                "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "Identity",
                "ActivityRegularization");
        reg("Pad (zeros)", KerasLayers::zeroPad, "ZeroPadding2D");
        reg("Slice", KerasLayers::crop, "Cropping2D");
        reg("Reshape, Expand, Reshape (nearest)", KerasLayers::upsample, "UpSampling2D");
        reg("Mul, Add", KerasLayers::rescaling, "Rescaling");
        reg("Mul, Add (mean, variance from config or weights)", KerasLayers::normalization, "Normalization");
        reg("LpNormalization p = 2 (last axis)", KerasLayers::unitNorm, "UnitNormalization");
    }

    private KerasLayers() {
    }

    /** The supported Keras class names, sorted. */
    public static List<String> supported() {
        return List.copyOf(new TreeMap<>(REGISTRY).keySet());
    }

    static Mapper mapper(String className) {
        Entry e = REGISTRY.get(className);
        return e == null ? null : e.mapper();
    }

    /** The README's supported-layer table: one row per Keras class, sorted, with its ONNX form. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| Keras layer | ONNX |\n|---|---|\n");
        for (Entry e : new TreeMap<>(REGISTRY).values()) {
            sb.append("| `").append(e.className()).append("` | ").append(e.onnx()).append(" |\n");
        }
        return sb.toString();
    }

    // ---- helpers ----

    static int intAxis(KerasLayer l, int dflt) {
        JsonNode a = l.config().get("axis");
        if (a == null || a.isNull()) {
            return dflt;
        }
        if (a.isArray()) {
            if (a.size() != 1) {
                throw new KerasException("layer " + l.describe() + ": only a single axis is supported, got " + a);
            }
            return a.get(0).asInt();
        }
        return a.asInt();
    }

    /** The activation's name: a string, or Keras 3's {@code {"class_name": "function", "config": "relu"}}. */
    static String activationName(KerasLayer l, JsonNode a) {
        if (a == null || a.isNull()) {
            return "linear";
        }
        if (a.isTextual()) {
            return a.asText();
        }
        JsonNode cfg = a.get("config");
        if (cfg != null && cfg.isTextual()) {
            return cfg.asText();
        }
        throw new KerasException("layer " + l.describe() + ": unsupported activation " + a
                + "; supported: " + ACTIVATIONS);
    }

    static KTensor activation(Ctx c, String hint, KTensor x, String name) {
        OnnxValue v = x.value();
        OnnxValue y = switch (name.toLowerCase(Locale.ROOT)) {
            case "linear", "identity" -> v;
            case "relu" -> c.node(OnnxOp.RELU, hint + "_relu", v);
            case "relu6" -> c.relu(hint + "_relu6", v, 6.0, 0, 0);
            case "leaky_relu" -> c.node(OnnxOp.LEAKY_RELU, hint + "_leaky", List.of(v), Map.of("alpha", 0.2f));
            case "elu" -> c.node(OnnxOp.ELU, hint + "_elu", List.of(v), Map.of("alpha", 1.0f));
            case "selu" -> c.node(OnnxOp.SELU, hint + "_selu", List.of(v),
                    Map.of("alpha", 1.6732632423543772f, "gamma", 1.0507009873554805f));
            case "sigmoid" -> c.node(OnnxOp.SIGMOID, hint + "_sigmoid", v);
            // Keras 3: relu6(x + 3) / 6
            case "hard_sigmoid" -> c.node(OnnxOp.HARD_SIGMOID, hint + "_hsigmoid", List.of(v),
                    Map.of("alpha", 1f / 6f, "beta", 0.5f));
            case "tanh" -> c.node(OnnxOp.TANH, hint + "_tanh", v);
            case "softmax" -> c.node(OnnxOp.SOFTMAX, hint + "_softmax", List.of(v), Map.of("axis", 1L));
            case "softplus" -> c.node(OnnxOp.SOFTPLUS, hint + "_softplus", v);
            case "softsign" -> c.node(OnnxOp.SOFTSIGN, hint + "_softsign", v);
            case "swish", "silu" -> c.node(OnnxOp.MUL, hint + "_swish", v, c.node(OnnxOp.SIGMOID, hint + "_sig", v));
            // Keras 3 gelu(x, approximate=False), the activation's only serialisable form: x·(1 + erf(x/√2))/2
            case "gelu" -> c.node(OnnxOp.MUL, hint + "_gelu", c.node(OnnxOp.MUL, hint + "_halfx", v, c.scalar(hint + "_half", 0.5f)),
                    c.node(OnnxOp.ADD, hint + "_1perf", c.scalar(hint + "_one", 1f), c.node(OnnxOp.ERF, hint + "_erf",
                            c.node(OnnxOp.MUL, hint + "_xrs2", v, c.scalar(hint + "_rsqrt2", (float) (1 / Math.sqrt(2)))))));
            case "mish" -> c.node(OnnxOp.MUL, hint + "_mish", v,
                    c.node(OnnxOp.TANH, hint + "_tanh", c.node(OnnxOp.SOFTPLUS, hint + "_softplus", v)));
            case "exponential" -> c.node(OnnxOp.EXP, hint + "_exp", v);
            // Keras 3: x·relu6(x + 3)/6
            case "hard_silu", "hard_swish" -> c.node(OnnxOp.MUL, hint + "_hswish", v, c.node(OnnxOp.HARD_SIGMOID,
                    hint + "_hsig", List.of(v), Map.of("alpha", 1f / 6f, "beta", 0.5f)));
            case "hard_tanh" -> c.node(OnnxOp.CLIP, hint + "_htanh", List.of(v, c.scalar(hint + "_m1", -1f), c.scalar(hint + "_p1", 1f)), Map.of());
            // −softplus(−x)
            case "log_sigmoid" -> c.node(OnnxOp.MUL, hint + "_logsig", c.node(OnnxOp.SOFTPLUS, hint + "_sp",
                    c.node(OnnxOp.MUL, hint + "_negx", v, c.scalar(hint + "_neg1", -1f))), c.scalar(hint + "_neg1b", -1f));
            case "log_softmax" -> c.node(OnnxOp.LOG_SOFTMAX, hint + "_logsoftmax", List.of(v), Map.of("axis", 1L));
            case "tanh_shrink" -> c.node(OnnxOp.SUB, hint + "_tshrink", v, c.node(OnnxOp.TANH, hint + "_tanh", v));
            // Keras 3 default b = 4: (x + sqrt(x² + 4))/2
            case "squareplus" -> c.node(OnnxOp.MUL, hint + "_sqplus", c.node(OnnxOp.ADD, hint + "_xps", v,
                    c.node(OnnxOp.SQRT, hint + "_sqrt", c.node(OnnxOp.ADD, hint + "_x2pb", c.node(OnnxOp.MUL, hint + "_x2", v, v),
                            c.scalar(hint + "_b", 4f)))), c.scalar(hint + "_half", 0.5f));
            // Keras 3 default alpha = 1: celu equals elu
            case "celu" -> c.node(OnnxOp.ELU, hint + "_celu", List.of(v), Map.of("alpha", 1.0f));
            // Keras 3 default threshold 0.5
            case "soft_shrink" -> c.node(OnnxOp.SHRINK, hint + "_sshrink", List.of(v), Map.of("bias", 0.5f, "lambd", 0.5f));
            case "hard_shrink" -> c.node(OnnxOp.SHRINK, hint + "_hshrink", List.of(v), Map.of("bias", 0f, "lambd", 0.5f));
            default -> throw new KerasException("layer '" + hint + "': unsupported activation '" + name
                    + "'; supported: " + ACTIVATIONS);
        };
        return new KTensor(y, x.shape());
    }

    static KTensor withActivation(Ctx c, KerasLayer l, OnnxValue v, long[] shape) {
        return activation(c, l.name(), new KTensor(v, shape), activationName(l, l.config().get("activation")));
    }

    static void requireChannelsLast(KerasLayer l) {
        String f = l.text("data_format", "channels_last");
        if (!"channels_last".equals(f)) {
            throw new KerasException("layer " + l.describe() + ": data_format " + f + " is not supported (only channels_last)");
        }
    }

    static void requireRank(KerasLayer l, KTensor x, int rank) {
        if (x.rank() != rank) {
            throw new KerasException("layer " + l.describe() + " expects a rank-" + (rank + 1) + " input (batch included), got shape "
                    + Arrays.toString(x.shape()));
        }
    }

    /** Row-major transpose of {@code data} (shape {@code shape}) by {@code perm}: out dim i is in dim perm[i]. */
    static float[] permute(float[] data, int[] shape, int[] perm) {
        int r = shape.length;
        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = shape[perm[i]];
        }
        int[] inStride = new int[r];
        int s = 1;
        for (int i = r - 1; i >= 0; i--) {
            inStride[i] = s;
            s *= shape[i];
        }
        float[] out = new float[data.length];
        int[] idx = new int[r];
        for (int o = 0; o < out.length; o++) {
            int src = 0;
            for (int i = 0; i < r; i++) {
                src += idx[i] * inStride[perm[i]];
            }
            out[o] = data[src];
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < outShape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return out;
    }

    static long[] longs(int... v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    /** TensorFlow "same" padding: {before..., after...} and the output sizes. */
    static long[][] samePads(long[] in, int[] k, int[] s, int[] d) {
        int n = in.length;
        long[] pads = new long[2 * n];
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = (in[i] + s[i] - 1) / s[i];
            long eff = (long) (k[i] - 1) * d[i] + 1;
            long total = Math.max((out[i] - 1) * s[i] + eff - in[i], 0);
            pads[i] = total / 2;
            pads[i + n] = total - total / 2;
        }
        return new long[][]{pads, out};
    }

    /** Pads and output sizes for Keras padding {@code valid}, {@code same} or {@code causal} (1-D only). */
    static long[][] pads(KerasLayer l, long[] in, int[] k, int[] s, int[] d) {
        String p = l.text("padding", "valid").toLowerCase(Locale.ROOT);
        int n = in.length;
        switch (p) {
            case "same":
                return samePads(in, k, s, d);
            case "valid":
            case "causal": {
                long[] pads = new long[2 * n];
                long[] out = new long[n];
                for (int i = 0; i < n; i++) {
                    long eff = (long) (k[i] - 1) * d[i] + 1;
                    if (p.equals("causal")) {
                        pads[i] = eff - 1;
                    }
                    out[i] = (in[i] + pads[i] - eff) / s[i] + 1;
                    if (out[i] <= 0) {
                        throw new KerasException("layer " + l.describe() + ": kernel " + eff + " larger than input " + in[i]);
                    }
                }
                return new long[][]{pads, out};
            }
            default:
                throw new KerasException("layer " + l.describe() + ": unsupported padding '" + p + "'");
        }
    }

    static long[] spatial(KTensor x) {
        long[] s = new long[x.rank() - 1];
        System.arraycopy(x.shape(), 0, s, 0, s.length);
        return s;
    }

    static long[] shapeOf(long[] spatial, long c) {
        long[] s = new long[spatial.length + 1];
        System.arraycopy(spatial, 0, s, 0, spatial.length);
        s[spatial.length] = c;
        return s;
    }

    /** Keras conv kernel {@code [k.., in, out]} to ONNX {@code [out, in, k..]}. */
    static float[] convKernel(KerasFile.Tensor k) {
        int r = k.shape().length;
        int[] perm = new int[r];
        perm[0] = r - 1;
        perm[1] = r - 2;
        for (int i = 0; i < r - 2; i++) {
            perm[i + 2] = i;
        }
        return permute(k.data(), k.shape(), perm);
    }

    static long[] onnxKernelDims(int[] keras, int[] perm) {
        long[] d = new long[keras.length];
        for (int i = 0; i < keras.length; i++) {
            d[i] = keras[perm[i]];
        }
        return d;
    }

    static long[] convKernelDims(int[] s) {
        int r = s.length;
        long[] d = new long[r];
        d[0] = s[r - 1];
        d[1] = s[r - 2];
        for (int i = 0; i < r - 2; i++) {
            d[i + 2] = s[i];
        }
        return d;
    }

    // ---- mappers ----

    private static KTensor conv(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        int n = l.className().equals("Conv1D") ? 1 : 2;
        requireRank(l, x, n + 1);
        int[] k = l.ints("kernel_size", n, 1);
        int[] s = l.ints("strides", n, 1);
        int[] d = l.ints("dilation_rate", n, 1);
        int groups = (int) l.number("groups", 1);
        KerasFile.Tensor kernel = l.weight(0, "kernel");
        long[][] p = pads(l, spatial(x), k, s, d);
        List<OnnxValue> inputs = new ArrayList<>();
        inputs.add(x.value());
        inputs.add(c.g.floatInitializer(l.name() + "_W", convKernel(kernel), convKernelDims(kernel.shape())));
        if (l.bool("use_bias", true)) {
            inputs.add(c.g.floatInitializer(l.name() + "_B", l.weight(1, "bias").data(), l.weight(1, "bias").size()));
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("kernel_shape", longs(k));
        a.put("strides", longs(s));
        a.put("dilations", longs(d));
        a.put("pads", p[0]);
        a.put("group", (long) groups);
        long cout = kernel.shape()[kernel.shape().length - 1];
        OnnxValue y = c.node(OnnxOp.CONV, l.name(), inputs, a);
        return withActivation(c, l, y, shapeOf(p[1], cout));
    }

    /** Keras depthwise kernel {@code [kh, kw, C, M]} to ONNX {@code [C·M, 1, kh, kw]} (output channel c·M + m). */
    static OnnxValue depthwiseWeight(Ctx c, String hint, KerasFile.Tensor k) {
        int[] s = k.shape();
        float[] w = permute(k.data(), s, new int[]{2, 3, 0, 1});
        return c.g.floatInitializer(hint, w, (long) s[2] * s[3], 1, s[0], s[1]);
    }

    private static KTensor depthwise(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        int[] k = l.ints("kernel_size", 2, 1);
        int[] s = l.ints("strides", 2, 1);
        int[] d = l.ints("dilation_rate", 2, 1);
        KerasFile.Tensor kernel = l.weight(0, "depthwise kernel");
        long[][] p = pads(l, spatial(x), k, s, d);
        List<OnnxValue> inputs = new ArrayList<>(List.of(x.value(), depthwiseWeight(c, l.name() + "_W", kernel)));
        long cout = (long) kernel.shape()[2] * kernel.shape()[3];
        if (l.bool("use_bias", true)) {
            inputs.add(c.g.floatInitializer(l.name() + "_B", l.weight(1, "bias").data(), cout));
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("kernel_shape", longs(k));
        a.put("strides", longs(s));
        a.put("dilations", longs(d));
        a.put("pads", p[0]);
        a.put("group", x.channels());
        return withActivation(c, l, c.node(OnnxOp.CONV, l.name(), inputs, a), shapeOf(p[1], cout));
    }

    private static KTensor separable(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        int[] k = l.ints("kernel_size", 2, 1);
        int[] s = l.ints("strides", 2, 1);
        int[] d = l.ints("dilation_rate", 2, 1);
        KerasFile.Tensor dk = l.weight(0, "depthwise kernel");
        KerasFile.Tensor pk = l.weight(1, "pointwise kernel");
        long[][] p = pads(l, spatial(x), k, s, d);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("kernel_shape", longs(k));
        a.put("strides", longs(s));
        a.put("dilations", longs(d));
        a.put("pads", p[0]);
        a.put("group", x.channels());
        OnnxValue dw = c.node(OnnxOp.CONV, l.name() + "_depthwise",
                List.of(x.value(), depthwiseWeight(c, l.name() + "_dW", dk)), a);
        List<OnnxValue> inputs = new ArrayList<>(List.of(dw,
                c.g.floatInitializer(l.name() + "_pW", convKernel(pk), convKernelDims(pk.shape()))));
        long cout = pk.shape()[3];
        if (l.bool("use_bias", true)) {
            inputs.add(c.g.floatInitializer(l.name() + "_B", l.weight(2, "bias").data(), cout));
        }
        OnnxValue y = c.node(OnnxOp.CONV, l.name(), inputs, Map.of("kernel_shape", new long[]{1, 1}));
        return withActivation(c, l, y, shapeOf(p[1], cout));
    }

    /**
     * Keras/JAX transposed-convolution padding (keras/src/backend/common/backend_utils.py,
     * {@code _convert_conv_transpose_padding_args_from_keras_to_jax}) as ONNX ConvTranspose pads and output_padding.
     */
    private static KTensor convTranspose(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        int[] k = l.ints("kernel_size", 2, 1);
        int[] s = l.ints("strides", 2, 1);
        int[] d = l.ints("dilation_rate", 2, 1);
        JsonNode op = l.config().get("output_padding");
        boolean hasOp = op != null && !op.isNull();
        int[] outPad = hasOp ? l.ints("output_padding", 2, 0) : null;
        boolean same = l.text("padding", "valid").equalsIgnoreCase("same");
        long[] pads = new long[4];
        long[] opad = new long[2];
        long[] out = new long[2];
        for (int i = 0; i < 2; i++) {
            int ke = (k[i] - 1) * d[i] + 1;
            int left;
            int right;
            if (!same) {
                int o = hasOp ? outPad[i] : Math.max(ke, s[i]) - ke;
                left = ke - 1;
                right = ke - 1 + o;
            } else {
                int padLen = hasOp ? ke + s[i] + outPad[i] - 2 : s[i] + ke - 2;
                left = Math.min(padLen / 2 + padLen % 2, ke - 1);
                right = padLen - left;
            }
            long begin = ke - 1 - left;
            long end = ke - 1 - right;
            if (end < 0) {
                opad[i] = -end;
                end = 0;
            }
            pads[i] = begin;
            pads[i + 2] = end;
            out[i] = (x.shape()[i] - 1) * s[i] + ke - begin - end + opad[i];
        }
        KerasFile.Tensor kernel = l.weight(0, "kernel"); // [kh, kw, out, in]
        int[] ks = kernel.shape();
        List<OnnxValue> inputs = new ArrayList<>(List.of(x.value(), c.g.floatInitializer(l.name() + "_W",
                permute(kernel.data(), ks, new int[]{3, 2, 0, 1}), ks[3], ks[2], ks[0], ks[1])));
        if (l.bool("use_bias", true)) {
            inputs.add(c.g.floatInitializer(l.name() + "_B", l.weight(1, "bias").data(), ks[2]));
        }
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("kernel_shape", longs(k));
        a.put("strides", longs(s));
        a.put("dilations", longs(d));
        a.put("pads", pads);
        a.put("output_padding", opad);
        return withActivation(c, l, c.node(OnnxOp.CONV_TRANSPOSE, l.name(), inputs, a), shapeOf(out, ks[2]));
    }

    private static KTensor dense(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        if (x.rank() != 1) {
            throw new KerasException("layer " + l.describe() + ": Dense on a rank-" + (x.rank() + 1)
                    + " input is not supported (only [batch, features]; put a Flatten before it)");
        }
        KerasFile.Tensor w = l.weight(0, "kernel");
        List<OnnxValue> inputs = new ArrayList<>(List.of(x.value(),
                c.g.floatInitializer(l.name() + "_W", w.data(), w.shape()[0], w.shape()[1])));
        if (l.bool("use_bias", true)) {
            inputs.add(c.g.floatInitializer(l.name() + "_B", l.weight(1, "bias").data(), w.shape()[1]));
        }
        return withActivation(c, l, c.node(OnnxOp.GEMM, l.name(), inputs, Map.of()), new long[]{w.shape()[1]});
    }

    private static KTensor batchNorm(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        int axis = intAxis(l, -1);
        if (KTensor.onnxAxis(axis, x.rank()) != 1) {
            throw new KerasException("layer " + l.describe() + ": only the channel axis (-1) is supported, got " + axis);
        }
        int ch = (int) x.channels();
        int i = 0;
        float[] gamma = l.bool("scale", true) ? l.weight(i++, "gamma").data() : filled(ch, 1f);
        float[] beta = l.bool("center", true) ? l.weight(i++, "beta").data() : new float[ch];
        float[] mean = l.weight(i++, "moving_mean").data();
        float[] var = l.weight(i, "moving_variance").data();
        OnnxValue y = c.node(OnnxOp.BATCH_NORMALIZATION, l.name(), List.of(x.value(),
                c.g.floatInitializer(l.name() + "_scale", gamma, ch), c.g.floatInitializer(l.name() + "_bias", beta, ch),
                c.g.floatInitializer(l.name() + "_mean", mean, ch), c.g.floatInitializer(l.name() + "_var", var, ch)),
                Map.of("epsilon", (float) l.number("epsilon", 1e-3)));
        return new KTensor(y, x.shape());
    }

    static float[] filled(int n, float v) {
        float[] f = new float[n];
        Arrays.fill(f, v);
        return f;
    }

    private static KTensor layerNorm(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        int axis = intAxis(l, -1);
        if (KTensor.onnxAxis(axis, x.rank()) != 1) {
            throw new KerasException("layer " + l.describe() + ": only the last axis is supported, got " + axis);
        }
        if (l.bool("rms_scaling", false)) {
            throw new KerasException("layer " + l.describe() + ": rms_scaling=True is not supported");
        }
        String h = l.name();
        int ch = (int) x.channels();
        OnnxValue axes = c.g.longs(h + "_axes", 1);
        OnnxValue invN = c.scalar(h + "_invn", 1f / ch);
        Map<String, Object> keep = Map.of("keepdims", 1L);
        OnnxValue mean = c.node(OnnxOp.MUL, h + "_mean",
                c.node(OnnxOp.REDUCE_SUM, h + "_sum", List.of(x.value(), axes), keep), invN);
        OnnxValue dev = c.node(OnnxOp.SUB, h + "_dev", x.value(), mean);
        OnnxValue var = c.node(OnnxOp.MUL, h + "_var",
                c.node(OnnxOp.REDUCE_SUM, h + "_sqsum", List.of(c.node(OnnxOp.MUL, h + "_sq", dev, dev), axes), keep), invN);
        OnnxValue sd = c.node(OnnxOp.SQRT, h + "_sd",
                c.node(OnnxOp.ADD, h + "_vareps", var, c.scalar(h + "_eps", (float) l.number("epsilon", 1e-3))));
        OnnxValue y = c.node(OnnxOp.DIV, h + "_norm", dev, sd);
        int i = 0;
        if (l.bool("scale", true)) {
            y = c.node(OnnxOp.MUL, h + "_gamma", y, c.perChannel(h + "_g", l.weight(i++, "gamma").data(), x.rank()));
        }
        if (l.bool("center", true)) {
            y = c.node(OnnxOp.ADD, h, y, c.perChannel(h + "_b", l.weight(i, "beta").data(), x.rank()));
        }
        return new KTensor(y, x.shape());
    }

    private static KTensor prelu(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        KerasFile.Tensor alpha = l.weight(0, "alpha");
        int[] s = alpha.shape(); // Keras input shape without batch, shared axes set to 1
        if (s.length != x.rank()) {
            throw new KerasException("layer " + l.describe() + ": alpha shape " + Arrays.toString(s)
                    + " does not match input rank " + x.rank());
        }
        float[] data = alpha.data();
        long[] dims;
        if (s.length >= 2) {
            int r = s.length;
            int[] perm = new int[r];
            perm[0] = r - 1;
            for (int i = 1; i < r; i++) {
                perm[i] = i - 1;
            }
            data = permute(data, s, perm);
            dims = onnxKernelDims(s, perm);
        } else {
            dims = new long[]{s[0]};
        }
        return new KTensor(c.node(OnnxOp.PRELU, l.name(), x.value(), c.g.floatInitializer(l.name() + "_slope", data, dims)),
                x.shape());
    }

    private static void sameShapes(KerasLayer l, List<KTensor> in) {
        for (KTensor t : in) {
            if (!Arrays.equals(t.shape(), in.get(0).shape())) {
                throw new KerasException("layer " + l.describe() + ": inputs of different shapes "
                        + in.stream().map(u -> Arrays.toString(u.shape())).collect(Collectors.joining(", "))
                        + " (broadcasting merges are not supported)");
            }
        }
    }

    private static KTensor fold(Ctx c, KerasLayer l, List<KTensor> in, OnnxOp op) {
        sameShapes(l, in);
        OnnxValue acc = in.get(0).value();
        for (int i = 1; i < in.size(); i++) {
            acc = c.node(op, i == in.size() - 1 ? l.name() : l.name() + "_" + i, acc, in.get(i).value());
        }
        return new KTensor(acc, in.get(0).shape());
    }

    private static KTensor variadic(Ctx c, KerasLayer l, List<KTensor> in, OnnxOp op) {
        sameShapes(l, in);
        return new KTensor(c.node(op, l.name(), in.stream().map(KTensor::value).toList(), Map.of()), in.get(0).shape());
    }

    private static KTensor subtract(Ctx c, KerasLayer l, List<KTensor> in) {
        if (in.size() != 2) {
            throw new KerasException("layer " + l.describe() + " takes 2 inputs, got " + in.size());
        }
        return fold(c, l, in, OnnxOp.SUB);
    }

    private static KTensor concat(Ctx c, KerasLayer l, List<KTensor> in) {
        int rank = in.get(0).rank();
        int axis = intAxis(l, -1);
        int ka = axis < 0 ? axis + rank : axis - 1; // index into the batch-less Keras shape
        long[] shape = in.get(0).shape().clone();
        shape[ka] = 0;
        for (KTensor t : in) {
            if (t.rank() != rank) {
                throw new KerasException("layer " + l.describe() + ": inputs of different ranks");
            }
            shape[ka] += t.shape()[ka];
        }
        return new KTensor(c.node(OnnxOp.CONCAT, l.name(), in.stream().map(KTensor::value).toList(),
                Map.of("axis", (long) KTensor.onnxAxis(axis, rank))), shape);
    }

    /** Spatial rank of a pooling layer: 1 for the {@code ...1D} classes, else 2. */
    private static int poolRank(KerasLayer l) {
        return l.className().endsWith("1D") ? 1 : 2;
    }

    private static KTensor pool(Ctx c, KerasLayer l, KTensor x, OnnxOp op) {
        requireChannelsLast(l);
        int n = poolRank(l);
        requireRank(l, x, n + 1);
        int[] k = l.ints("pool_size", n, 2);
        JsonNode st = l.config().get("strides");
        int[] s = st == null || st.isNull() ? k.clone() : l.ints("strides", n, 1);
        int[] d = new int[n];
        Arrays.fill(d, 1);
        long[][] p = pads(l, spatial(x), k, s, d);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("kernel_shape", longs(k));
        a.put("strides", longs(s));
        a.put("pads", p[0]);
        if (op == OnnxOp.AVERAGE_POOL) {
            a.put("count_include_pad", 0L);
        }
        return new KTensor(c.node(op, l.name(), List.of(x.value()), a), shapeOf(p[1], x.channels()));
    }

    private static KTensor globalPool(Ctx c, KerasLayer l, KTensor x, OnnxOp op) {
        requireChannelsLast(l);
        int n = poolRank(l);
        requireRank(l, x, n + 1);
        boolean keep = l.bool("keepdims", false);
        OnnxValue y = c.node(op, l.name() + (keep ? "" : "_pool"), x.value());
        if (keep) {
            long[] shape = new long[n + 1];
            Arrays.fill(shape, 1);
            shape[n] = x.channels();
            return new KTensor(y, shape);
        }
        return new KTensor(c.node(OnnxOp.FLATTEN, l.name(), List.of(y), Map.of("axis", 1L)), new long[]{x.channels()});
    }

    private static long product(long[] s) {
        long p = 1;
        for (long v : s) {
            p *= v;
        }
        return p;
    }

    private static KTensor flatten(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        if (x.rank() == 1) {
            return x;
        }
        OnnxValue nhwc = c.channelsLast(l.name(), x);
        return new KTensor(c.node(OnnxOp.FLATTEN, l.name(), List.of(nhwc), Map.of("axis", 1L)), new long[]{product(x.shape())});
    }

    private static KTensor reshape(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        JsonNode ts = l.config().get("target_shape");
        long[] shape = new long[ts.size()];
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = ts.get(i).asLong();
            if (shape[i] == -1) {
                unknown = i;
            } else {
                known *= shape[i];
            }
        }
        long total = product(x.shape());
        if (unknown >= 0) {
            shape[unknown] = total / known;
        }
        if (product(shape) != total) {
            throw new KerasException("layer " + l.describe() + ": cannot reshape " + Arrays.toString(x.shape())
                    + " to " + ts);
        }
        long[] target = new long[shape.length + 1];
        target[0] = -1;
        System.arraycopy(shape, 0, target, 1, shape.length);
        OnnxValue y = c.node(OnnxOp.RESHAPE, l.name(), c.channelsLast(l.name(), x), c.g.longs(l.name() + "_shape", target));
        return c.fromChannelsLast(l.name(), y, shape);
    }

    private static KTensor permute(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        JsonNode dims = l.config().get("dims");
        int r = x.rank();
        if (dims.size() != r) {
            throw new KerasException("layer " + l.describe() + ": dims " + dims + " do not match input rank " + r);
        }
        long[] q = new long[r + 1];
        long[] shape = new long[r];
        for (int i = 0; i < r; i++) {
            q[i + 1] = dims.get(i).asInt();
            shape[i] = x.shape()[(int) q[i + 1] - 1];
        }
        long[] a = r >= 2 ? Ctx.toLast(r) : identity(r);
        long[] b = r >= 2 ? Ctx.toFirst(r) : identity(r);
        long[] perm = new long[r + 1];
        for (int i = 0; i <= r; i++) {
            perm[i] = a[(int) q[(int) b[i]]];
        }
        return new KTensor(c.transpose(l.name(), x.value(), perm), shape);
    }

    private static long[] identity(int r) {
        long[] p = new long[r + 1];
        for (int i = 0; i <= r; i++) {
            p[i] = i;
        }
        return p;
    }

    /** ((top, bottom), (left, right)) from an int, a pair or a pair of pairs. */
    private static long[][] twoByTwo(KerasLayer l, String key) {
        JsonNode p = l.config().get(key);
        long[][] out = new long[2][2];
        if (p.isNumber()) {
            out[0][0] = out[0][1] = out[1][0] = out[1][1] = p.asLong();
        } else {
            for (int i = 0; i < 2; i++) {
                JsonNode e = p.get(i);
                if (e.isNumber()) {
                    out[i][0] = out[i][1] = e.asLong();
                } else {
                    out[i][0] = e.get(0).asLong();
                    out[i][1] = e.get(1).asLong();
                }
            }
        }
        return out;
    }

    private static KTensor zeroPad(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        long[][] p = twoByTwo(l, "padding");
        OnnxValue pads = c.g.longs(l.name() + "_pads", 0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]);
        return new KTensor(c.node(OnnxOp.PAD, l.name(), x.value(), pads), new long[]{
                x.shape()[0] + p[0][0] + p[0][1], x.shape()[1] + p[1][0] + p[1][1], x.channels()});
    }

    private static KTensor crop(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        long[][] p = twoByTwo(l, "cropping");
        long h = x.shape()[0] - p[0][0] - p[0][1];
        long w = x.shape()[1] - p[1][0] - p[1][1];
        if (h <= 0 || w <= 0) {
            throw new KerasException("layer " + l.describe() + ": cropping leaves nothing of " + Arrays.toString(x.shape()));
        }
        OnnxValue y = c.node(OnnxOp.SLICE, l.name(), List.of(x.value(), c.g.longs(l.name() + "_starts", p[0][0], p[1][0]),
                c.g.longs(l.name() + "_ends", p[0][0] + h, p[1][0] + w), c.g.longs(l.name() + "_axes", 2, 3)), Map.of());
        return new KTensor(y, new long[]{h, w, x.channels()});
    }

    private static KTensor upsample(Ctx c, KerasLayer l, List<KTensor> in) {
        requireChannelsLast(l);
        KTensor x = in.get(0);
        requireRank(l, x, 3);
        String interp = l.text("interpolation", "nearest");
        if (!interp.equals("nearest")) {
            throw new KerasException("layer " + l.describe() + ": interpolation '" + interp + "' is not supported (only nearest)");
        }
        int[] s = l.ints("size", 2, 2);
        long h = x.shape()[0];
        long w = x.shape()[1];
        long ch = x.channels();
        String n = l.name();
        OnnxValue r6 = c.node(OnnxOp.RESHAPE, n + "_split", x.value(), c.g.longs(n + "_s6", 0, ch, h, 1, w, 1));
        OnnxValue e = c.node(OnnxOp.EXPAND, n + "_expand", r6, c.g.longs(n + "_e6", 1, 1, 1, s[0], 1, s[1]));
        OnnxValue y = c.node(OnnxOp.RESHAPE, n, e, c.g.longs(n + "_s4", 0, ch, h * s[0], w * s[1]));
        return new KTensor(y, new long[]{h * s[0], w * s[1], ch});
    }

    private static float[] floats(JsonNode n, int channels, String what, KerasLayer l) {
        if (n.isNumber()) {
            return new float[]{(float) n.asDouble()};
        }
        List<Float> out = new ArrayList<>();
        flattenJson(n, out);
        if (out.size() != 1 && out.size() != channels) {
            throw new KerasException("layer " + l.describe() + ": " + what + " has " + out.size() + " values for "
                    + channels + " channels");
        }
        float[] f = new float[out.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = out.get(i);
        }
        return f;
    }

    private static void flattenJson(JsonNode n, List<Float> out) {
        if (n.isArray()) {
            n.forEach(e -> flattenJson(e, out));
        } else {
            out.add((float) n.asDouble());
        }
    }

    private static OnnxValue constant(Ctx c, String hint, float[] v, int rank) {
        return v.length == 1 ? c.scalar(hint, v[0]) : c.perChannel(hint, v, rank);
    }

    private static KTensor rescaling(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        float[] scale = floats(l.config().get("scale"), (int) x.channels(), "scale", l);
        JsonNode off = l.config().get("offset");
        float[] offset = off == null || off.isNull() ? new float[]{0f} : floats(off, (int) x.channels(), "offset", l);
        OnnxValue y = c.node(OnnxOp.MUL, l.name() + "_scale", x.value(), constant(c, l.name() + "_s", scale, x.rank()));
        y = c.node(OnnxOp.ADD, l.name(), y, constant(c, l.name() + "_o", offset, x.rank()));
        return new KTensor(y, x.shape());
    }

    private static KTensor normalization(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        if (intAxis(l, -1) != -1 && KTensor.onnxAxis(intAxis(l, -1), x.rank()) != 1) {
            throw new KerasException("layer " + l.describe() + ": only axis=-1 is supported");
        }
        if (l.bool("invert", false)) {
            throw new KerasException("layer " + l.describe() + ": invert=True is not supported");
        }
        int ch = (int) x.channels();
        JsonNode m = l.config().get("mean");
        float[] mean;
        float[] var;
        if (m != null && !m.isNull()) {
            mean = floats(m, ch, "mean", l);
            var = floats(l.config().get("variance"), ch, "variance", l);
        } else {
            mean = l.weight(0, "mean").data();
            var = l.weight(1, "variance").data();
        }
        // Keras 3: (x - mean) / max(sqrt(variance), epsilon), epsilon = keras.config.epsilon() = 1e-7
        float[] inv = new float[var.length];
        float[] shift = new float[Math.max(var.length, mean.length)];
        for (int i = 0; i < shift.length; i++) {
            double sd = Math.max(Math.sqrt(var[var.length == 1 ? 0 : i]), 1e-7);
            if (i < inv.length) {
                inv[i] = (float) (1 / sd);
            }
            shift[i] = (float) (-mean[mean.length == 1 ? 0 : i] / sd);
        }
        OnnxValue y = c.node(OnnxOp.MUL, l.name() + "_scale", x.value(), constant(c, l.name() + "_inv", inv, x.rank()));
        y = c.node(OnnxOp.ADD, l.name(), y, constant(c, l.name() + "_shift", shift, x.rank()));
        return new KTensor(y, x.shape());
    }

    private static KTensor unitNorm(Ctx c, KerasLayer l, List<KTensor> in) {
        KTensor x = in.get(0);
        int axis = intAxis(l, -1);
        return new KTensor(c.node(OnnxOp.LP_NORMALIZATION, l.name(), List.of(x.value()),
                Map.of("axis", (long) KTensor.onnxAxis(axis, x.rank()), "p", 2L)), x.shape());
    }

    /** Prints {@link #markdownTable()} (to paste into README.md). */
    public static void main(String[] args) {
        System.out.print(markdownTable());
    }

    static List<String> activations() {
        return Collections.unmodifiableList(ACTIVATIONS);
    }
}
