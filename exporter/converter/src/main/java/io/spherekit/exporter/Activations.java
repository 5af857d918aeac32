package io.spherekit.exporter;

import io.spherekit.onnx.OnnxOp;
import io.spherekit.onnx.OnnxValue;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationCube;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationMish;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationRReLU;
import org.nd4j.linalg.activations.impl.ActivationRationalTanh;
import org.nd4j.linalg.activations.impl.ActivationRectifiedTanh;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.activations.impl.ActivationThresholdedReLU;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DL4J activation functions ({@link IActivation}) as ONNX nodes, element-wise at any opset 13–21. Each entry of
 * {@link #SUPPORTED} gives the DL4J class and its ONNX form; composed forms use only basic ops (no opset-18 Mish,
 * no opset-20 Gelu) so the same graph is valid at every supported opset.
 */
final class Activations {
    private Activations() {
    }

    /** DL4J activation class → its ONNX form, for the README table and error messages. */
    static final Map<Class<? extends IActivation>, String> SUPPORTED = supported();

    private static Map<Class<? extends IActivation>, String> supported() {
        Map<Class<? extends IActivation>, String> m = new LinkedHashMap<>();
        m.put(ActivationIdentity.class, "(nothing)");
        m.put(ActivationReLU.class, "Relu; with max: Clip(0, max); with negativeSlope: LeakyRelu; with threshold t: "
                + "ThresholdedRelu(t) − slope·Relu(t − x); max on top of those: Min(y, max)");
        m.put(ActivationReLU6.class, "Clip(0, 6)");
        m.put(ActivationLReLU.class, "LeakyRelu(alpha)");
        m.put(ActivationELU.class, "Elu(alpha)");
        m.put(ActivationSELU.class, "Selu(alpha, gamma)");
        m.put(ActivationGELU.class, "x·Sigmoid(1.702x) (libnd4j's default sigmoid form); precise=true: "
                + "0.5x·(1 + Tanh(√(2/π)·(x + (0.044715x)³))), libnd4j's PreciseGELU exactly (it cubes 0.044715x, not x)");
        m.put(ActivationSwish.class, "x·Sigmoid(x)");
        m.put(ActivationMish.class, "x·Tanh(Softplus(x))");
        m.put(ActivationSigmoid.class, "Sigmoid");
        m.put(ActivationHardSigmoid.class, "HardSigmoid(0.2, 0.5)");
        m.put(ActivationTanH.class, "Tanh");
        m.put(ActivationHardTanH.class, "Clip(-1, 1)");
        m.put(ActivationSoftmax.class, "Softmax(axis=1), 2-D input only");
        m.put(ActivationSoftPlus.class, "Softplus");
        m.put(ActivationSoftSign.class, "Softsign");
        m.put(ActivationCube.class, "x·x·x");
        m.put(ActivationThresholdedReLU.class, "ThresholdedRelu(theta)");
        m.put(ActivationRReLU.class, "Max(x, (l + u)/2): at inference DL4J M2.1 applies libnd4j's scalar RectifiedLinear "
                + "with cutoff (l + u)/2, which raises everything below the cutoff to it (no slope)");
        m.put(ActivationRationalTanh.class, "1.7159·Sign(y)·(1 − 1/(1 + Abs(y) + y² + 1.41645·y⁴)), y = 2x/3");
        m.put(ActivationRectifiedTanh.class, "Relu(Tanh(x))");
        return m;
    }

    static boolean isIdentity(IActivation a) {
        return a == null || a instanceof ActivationIdentity;
    }

    /**
     * Checks that {@code a} can be written, before any node of the vertex is emitted.
     *
     * @param out the vertex's output type (softmax needs a 2-D one)
     * @throws ExportException naming the layer, the activation and the supported list
     */
    static void check(String vertex, IActivation a, InputType out) {
        if (isIdentity(a)) {
            return;
        }
        if (!SUPPORTED.containsKey(a.getClass())) {
            throw new ExportException("layer '" + vertex + "': activation " + a.getClass().getName() + " (" + a
                    + ") is not supported; supported activations: " + names());
        }
        if (a instanceof ActivationSoftmax && !(out instanceof InputType.InputTypeFeedForward)) {
            throw new ExportException("layer '" + vertex + "': softmax is supported on 2-D [batch, n] outputs only, got " + out);
        }
    }

    static String names() {
        return String.join(", ", SUPPORTED.keySet().stream().map(c -> c.getSimpleName().replace("Activation", "")).toList());
    }


    private static double value(Double d) {
        return d == null ? 0.0 : d;
    }

    /**
     * Emits {@code a(x)} as the vertex's final nodes; an identity returns {@code x} unchanged (the caller then must
     * have made {@code x} the vertex's final node, see {@link MappingContext#node}).
     */
    static OnnxValue emit(MappingContext ctx, String v, IActivation a, OnnxValue x) {
        if (isIdentity(a)) {
            return x;
        }
        if (a instanceof ActivationReLU r) {
            return relu(ctx, v, x, value(r.getThreshold()), value(r.getNegativeSlope()), r.getMax());
        }
        if (a instanceof ActivationReLU6) {
            return clip(ctx, v, x, 0f, 6f);
        }
        if (a instanceof ActivationLReLU l) {
            return ctx.finalNode(OnnxOp.LEAKY_RELU, v, List.of(x), Map.of("alpha", (float) l.getAlpha()));
        }
        if (a instanceof ActivationELU e) {
            return ctx.finalNode(OnnxOp.ELU, v, List.of(x), Map.of("alpha", (float) e.getAlpha()));
        }
        if (a instanceof ActivationSELU) {
            // DL4J's (and the SELU paper's) constants; equal to ONNX's defaults in float32.
            return ctx.finalNode(OnnxOp.SELU, v, List.of(x),
                    Map.of("alpha", 1.6732632423543772f, "gamma", 1.0507009873554805f));
        }
        if (a instanceof ActivationGELU g && g.isPrecise()) {
            // libnd4j PreciseGELU: (x/2)·(1 + tanh(sqrt(2/pi)·(x + pow(0.044715·x, 3)))): the cube is of 0.044715x.
            OnnxValue cx = ctx.onnx().node(OnnxOp.MUL, v + "_cx", List.of(x, ctx.scalar(v + "_c", 0.044715f)), Map.of());
            OnnxValue cx3 = ctx.onnx().node(OnnxOp.MUL, v + "_cx3", List.of(
                    ctx.onnx().node(OnnxOp.MUL, v + "_cx2", List.of(cx, cx), Map.of()), cx), Map.of());
            OnnxValue inner = ctx.onnx().node(OnnxOp.MUL, v + "_inner", List.of(
                    ctx.onnx().node(OnnxOp.ADD, v + "_xp", List.of(x, cx3), Map.of()),
                    ctx.scalar(v + "_sqrt2pi", (float) Math.sqrt(2 / Math.PI))), Map.of());
            OnnxValue t = ctx.onnx().node(OnnxOp.ADD, v + "_1pt", List.of(ctx.scalar(v + "_one", 1f),
                    ctx.onnx().node(OnnxOp.TANH, v + "_tanh", List.of(inner), Map.of())), Map.of());
            OnnxValue half = ctx.onnx().node(OnnxOp.MUL, v + "_half", List.of(x, ctx.scalar(v + "_05", 0.5f)), Map.of());
            return ctx.finalNode(OnnxOp.MUL, v, List.of(half, t), Map.of());
        }
        if (a instanceof ActivationGELU) {
            OnnxValue s = ctx.onnx().node(OnnxOp.SIGMOID, v + "_sig",
                    List.of(ctx.onnx().node(OnnxOp.MUL, v + "_1702x", List.of(x, ctx.scalar(v + "_1702", 1.702f)), Map.of())),
                    Map.of());
            return ctx.finalNode(OnnxOp.MUL, v, List.of(x, s), Map.of());
        }
        if (a instanceof ActivationRReLU rr) {
            return ctx.finalNode(OnnxOp.MAX, v, List.of(x, ctx.scalar(v + "_cutoff", (float) (0.5 * (rr.getL() + rr.getU())))),
                    Map.of());
        }
        if (a instanceof ActivationSwish) {
            return ctx.finalNode(OnnxOp.MUL, v, List.of(x, ctx.onnx().node(OnnxOp.SIGMOID, v + "_sig", List.of(x), Map.of())), Map.of());
        }
        if (a instanceof ActivationMish) {
            OnnxValue sp = ctx.onnx().node(OnnxOp.SOFTPLUS, v + "_softplus", List.of(x), Map.of());
            return ctx.finalNode(OnnxOp.MUL, v, List.of(x, ctx.onnx().node(OnnxOp.TANH, v + "_tanh", List.of(sp), Map.of())), Map.of());
        }
        if (a instanceof ActivationSigmoid) {
            return ctx.finalNode(OnnxOp.SIGMOID, v, List.of(x), Map.of());
        }
        if (a instanceof ActivationHardSigmoid) {
            return ctx.finalNode(OnnxOp.HARD_SIGMOID, v, List.of(x), Map.of("alpha", 0.2f, "beta", 0.5f));
        }
        if (a instanceof ActivationTanH) {
            return ctx.finalNode(OnnxOp.TANH, v, List.of(x), Map.of());
        }
        if (a instanceof ActivationHardTanH) {
            return clip(ctx, v, x, -1f, 1f);
        }
        if (a instanceof ActivationSoftmax) {
            return ctx.finalNode(OnnxOp.SOFTMAX, v, List.of(x), Map.of("axis", 1L));
        }
        if (a instanceof ActivationSoftPlus) {
            return ctx.finalNode(OnnxOp.SOFTPLUS, v, List.of(x), Map.of());
        }
        if (a instanceof ActivationSoftSign) {
            return ctx.finalNode(OnnxOp.SOFTSIGN, v, List.of(x), Map.of());
        }
        if (a instanceof ActivationCube) {
            OnnxValue x2 = ctx.onnx().node(OnnxOp.MUL, v + "_x2", List.of(x, x), Map.of());
            return ctx.finalNode(OnnxOp.MUL, v, List.of(x2, x), Map.of());
        }
        if (a instanceof ActivationThresholdedReLU t) {
            return ctx.finalNode(OnnxOp.THRESHOLDED_RELU, v, List.of(x), Map.of("alpha", (float) t.getTheta()));
        }
        if (a instanceof ActivationRationalTanh) {
            OnnxValue y = ctx.onnx().node(OnnxOp.MUL, v + "_y", List.of(x, ctx.scalar(v + "_two_thirds", 2f / 3f)), Map.of());
            OnnxValue ay = ctx.onnx().node(OnnxOp.ABS, v + "_abs", List.of(y), Map.of());
            OnnxValue y2 = ctx.onnx().node(OnnxOp.MUL, v + "_y2", List.of(y, y), Map.of());
            OnnxValue y4 = ctx.onnx().node(OnnxOp.MUL, v + "_y4", List.of(y2, y2), Map.of());
            OnnxValue den = ctx.onnx().node(OnnxOp.ADD, v + "_d1", List.of(ctx.scalar(v + "_one", 1f), ay), Map.of());
            den = ctx.onnx().node(OnnxOp.ADD, v + "_d2", List.of(den, y2), Map.of());
            den = ctx.onnx().node(OnnxOp.ADD, v + "_d3", List.of(den,
                    ctx.onnx().node(OnnxOp.MUL, v + "_cy4", List.of(y4, ctx.scalar(v + "_c", 1.41645f)), Map.of())), Map.of());
            OnnxValue t = ctx.onnx().node(OnnxOp.SUB, v + "_t", List.of(ctx.scalar(v + "_one_b", 1f),
                    ctx.onnx().node(OnnxOp.RECIPROCAL, v + "_recip", List.of(den), Map.of())), Map.of());
            OnnxValue st = ctx.onnx().node(OnnxOp.MUL, v + "_signed", List.of(
                    ctx.onnx().node(OnnxOp.SIGN, v + "_sign", List.of(y), Map.of()), t), Map.of());
            return ctx.finalNode(OnnxOp.MUL, v, List.of(st, ctx.scalar(v + "_a", 1.7159f)), Map.of());
        }
        if (a instanceof ActivationRectifiedTanh) {
            return ctx.finalNode(OnnxOp.RELU, v, List.of(ctx.onnx().node(OnnxOp.TANH, v + "_tanh", List.of(x), Map.of())), Map.of());
        }
        throw new ExportException("layer '" + v + "': activation " + a.getClass().getName()
                + " is not supported; supported activations: " + names());
    }

    /**
     * DL4J's ReLU(max, threshold t, negativeSlope s): {@code x} where {@code x >= t}, {@code s·(x − t)} below, then
     * {@code min(y, max)} when a max is set (libnd4j ScalarMin: no lower bound).
     */
    private static OnnxValue relu(MappingContext ctx, String v, OnnxValue x, double t, double slope, Double max) {
        boolean hasMax = max != null;
        if (t == 0 && slope == 0) {
            return hasMax ? clip(ctx, v, x, 0f, max.floatValue()) : ctx.finalNode(OnnxOp.RELU, v, List.of(x), Map.of());
        }
        OnnxValue y;
        if (t == 0) {
            Map<String, Object> alpha = Map.of("alpha", (float) slope);
            y = hasMax ? ctx.onnx().node(OnnxOp.LEAKY_RELU, v + "_leaky", List.of(x), alpha)
                    : ctx.finalNode(OnnxOp.LEAKY_RELU, v, List.of(x), alpha);
        } else {
            OnnxValue above = ctx.onnx().node(OnnxOp.THRESHOLDED_RELU, v + "_thr", List.of(x), Map.of("alpha", (float) t));
            if (slope == 0) {
                y = hasMax ? above : ctx.finalNode(OnnxOp.IDENTITY, v, List.of(above), Map.of());
            } else {
                OnnxValue below = ctx.onnx().node(OnnxOp.RELU, v + "_below", List.of(
                        ctx.onnx().node(OnnxOp.SUB, v + "_tmx", List.of(ctx.scalar(v + "_t", (float) t), x), Map.of())), Map.of());
                OnnxValue neg = ctx.onnx().node(OnnxOp.MUL, v + "_neg", List.of(below, ctx.scalar(v + "_slope", (float) slope)), Map.of());
                y = hasMax ? ctx.onnx().node(OnnxOp.SUB, v + "_y", List.of(above, neg), Map.of())
                        : ctx.finalNode(OnnxOp.SUB, v, List.of(above, neg), Map.of());
            }
        }
        return hasMax ? ctx.finalNode(OnnxOp.MIN, v, List.of(y, ctx.scalar(v + "_max", max.floatValue())), Map.of()) : y;
    }

    private static OnnxValue clip(MappingContext ctx, String v, OnnxValue x, float lo, float hi) {
        return ctx.finalNode(OnnxOp.CLIP, v, List.of(x, ctx.scalar(v + "_min", lo), ctx.scalar(v + "_max", hi)), Map.of());
    }
}
