package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationGELU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity check can fail: for each family of layout and padding rules, the correct export matches DL4J, and the
 * same export with the rule deliberately broken (pads at the wrong end, a weight read in the wrong order, the NHWC
 * flatten order, the pooling divisor, variance vs standard deviation, tile vs repeat ...) is detected, on the same
 * odd-sized input. A parity test that would pass either way proves nothing.
 */
class LayoutMutationTest {
    /** A broken rule: the case to export, what is broken, and how. */
    record Mutation(String caseLabel, String broken, UnaryOperator<OnnxMl.ModelProto> apply) {
        @Override
        public String toString() {
            return caseLabel + ": " + broken;
        }
    }

    static List<Mutation> mutations() {
        return List.of(
                new Mutation("conv 4x4 same stride 2 (asymmetric pads)", "Same pads with the extra row/column at the start",
                        m -> swapPadEnds(m, "Conv")),
                new Mutation("conv 4x4 same stride 2 (asymmetric pads)", "kernel read as [kW, kH]",
                        m -> mapFloats(m, "l0_W", (w, d) -> permute(w, d, 0, 1, 3, 2))),
                new Mutation("conv 5x3 stride 2x1 pad 2x1 no bias", "padding (h, w) read as (w, h)",
                        m -> mapPads(m, "Conv", p -> new long[]{p[1], p[0], p[3], p[2]})),
                new Mutation("conv1d k3 causal dilation 2 no bias", "causal padding split over both ends like Same",
                        m -> mapPads(m, "Conv", p -> new long[]{p[0] / 2, p[0] - p[0] / 2})),
                new Mutation("conv1d k3 truncate pad 1 relu", "Conv1D weight buffer read in its declared [nOut, nIn, k] order",
                        m -> mapFloats(m, "l0_W", LayoutMutationTest::conv1dDeclaredOrder)),
                new Mutation("depthwise 3x3 same multiplier 2", "depthwise output channels ordered j*nIn + c",
                        m -> mapFloats(m, "l0_W", (w, d) -> channelMajor(w, d, 3, 2))),
                new Mutation("separable 3x3 same multiplier 2", "depthwise output channels ordered j*nIn + c",
                        m -> mapFloats(m, "l0_W", (w, d) -> channelMajor(w, d, 3, 2))),
                new Mutation("deconv 3x3 stride 2 truncate pad 1", "ConvTranspose weight read as [nOut, nIn]",
                        m -> mapFloats(m, "l0_W", (w, d) -> swapLeadingAs(w, d))),
                new Mutation("deconv 3x3 stride 2 same", "Same pads at the other end",
                        m -> swapPadEnds(m, "ConvTranspose")),
                new Mutation("max pool 2x2 stride 2 same", "Same pads at the start",
                        m -> swapPadEnds(m, "MaxPool")),
                new Mutation("avg pool 3x3 stride 1 pad 1 truncate", "padded cells counted the other way in the divisor",
                        m -> editNodes(m, "AveragePool", n -> attr(n, "count_include_pad").setI(1 - attr(n, "count_include_pad").getI()))),
                new Mutation("conv + flatten + dense (CNN->FF preprocessor)", "flatten in [H, W, C] (NHWC) order",
                        m -> transposeBefore(m, "Flatten")),
                new Mutation("reshape vertex CNN -> [N, 252]", "reshaped in [H, W, C] order",
                        m -> transposeBefore(m, "Reshape")),
                new Mutation("conv + flatten + dense (CNN->FF preprocessor) [NHWC]", "NHWC map flattened in NCHW order",
                        LayoutMutationTest::dropTransposeBeforeFlatten),
                new Mutation("conv + flatten + dense (CNN->FF preprocessor)", "Dense W read in f order",
                        m -> mapFloats(m, "l1_W", (w, d) -> transposedData(w, d))),
                new Mutation("batchnorm on input (node)", "standard deviation where the variance belongs",
                        m -> mapFloats(m, "l0_var", (w, d) -> sqrt(w))),
                new Mutation("zero padding 1,2,0,3", "padding [top, bottom] read as [bottom, top]",
                        m -> mapLongs(m, "l0_pads", p -> new long[]{p[0], p[1], p[6], p[3], p[4], p[5], p[2], p[7]})),
                new Mutation("cropping 1,0,2,1", "cropping [top, bottom] read as [bottom, top]",
                        m -> mapLongs(mapLongs(m, "l0_starts", p -> new long[]{0, p[1]}), "l0_ends", p -> new long[]{p[0] - 1, p[1]})),
                new Mutation("upsampling 2x3", "tiled instead of repeated",
                        m -> mapLongs(mapLongs(m, "l0_shape6", p -> new long[]{p[0], p[1], 1, p[2], 1, p[4]}),
                                "l0_factors", f -> new long[]{1, 1, f[3], 1, f[5], 1})),
                new Mutation("merge (concat)", "branches concatenated in the other order",
                        m -> swapInputs(m, "Concat")),
                new Mutation("subset vertex 1..3", "subset shifted by one",
                        m -> mapLongs(mapLongs(m, "v_starts", p -> new long[]{p[0] + 1}), "v_ends", p -> new long[]{p[0] + 1})),
                new Mutation("activation hardsigmoid", "slope 1/6 (the PyTorch/Keras 3 hard sigmoid)",
                        m -> setFloat(m, "HardSigmoid", "alpha", 1f / 6f)),
                new Mutation("activation " + new ActivationGELU(true), "the textbook tanh form 0.044715·x³ (libnd4j cubes 0.044715x)",
                        m -> mapFloats(m, "l1_c", (w, d) -> new float[]{(float) Math.cbrt(0.044715)})),
                new Mutation("activation " + new ActivationGELU(false), "slope 2·sqrt(2/pi) = 1.5958 in the sigmoid (tanh form's linear term)",
                        m -> mapFloats(m, "l1_1702", (w, d) -> new float[]{(float) (2 * Math.sqrt(2 / Math.PI))})),
                new Mutation("activation " + Activation.RRELU.getActivationFunction(), "zero below the cutoff (l + u)/2 "
                        + "(ThresholdedRelu) instead of raising values to it", m -> maxToThresholdedRelu(m, "l1_cutoff")),
                new Mutation("activation " + StandardLayerCases.label(new ActivationReLU(null, 0.25, null)),
                        "threshold ignored (plain Relu)", m -> replaceOp(m, "ThresholdedRelu", "Relu")),
                new Mutation("local response normalization", "alpha not multiplied by the window size",
                        m -> setFloat(m, "LRN", "alpha", 0.1f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mutations")
    void brokenRuleIsDetected(Mutation mut) throws Exception {
        Parity.Case c = Stream.concat(StandardLayerCases.all().stream(), StandardLayerCases.all(CNN2DFormat.NHWC).stream())
                .filter(x -> x.label().equals(mut.caseLabel())).findFirst()
                .orElseThrow(() -> new AssertionError("no case " + mut.caseLabel()));
        Parity.Net net = c.build().get();
        Dl4jToOnnx.Conversion conv = net.convert(Dl4jToOnnx.Options.defaults());
        OnnxMl.ModelProto broken = mut.apply().apply(conv.model());
        assertNotEquals(conv.model(), broken, "the mutation changed nothing");
        Parity.Result good = Parity.compare(net.network(), conv, conv.model(), 7, 3);
        Parity.Result bad = Parity.compare(net.network(), conv, broken, 7, 3);
        System.out.printf("[mutation] %-45s %-55s correct %.1e, broken %.1e%n", mut.caseLabel(), mut.broken(),
                good.relative(), bad.relative());
        assertTrue(good.relative() <= StandardLayerParityTest.TOL, "correct export: relative " + good.relative());
        assertTrue(bad.relative() > 1e-3, "the broken rule (" + mut.broken() + ") went unnoticed: relative " + bad.relative());
    }

    // ---------------------------------------------------------------- model edits

    interface FloatEdit {
        float[] apply(float[] data, long[] dims);
    }

    static OnnxMl.ModelProto mapFloats(OnnxMl.ModelProto m, String name, FloatEdit f) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        boolean found = false;
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (t.getName().equals(name)) {
                ByteBuffer in = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                float[] v = new float[in.remaining() / 4];
                in.asFloatBuffer().get(v);
                long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
                float[] out = f.apply(v, dims);
                ByteBuffer b = ByteBuffer.allocate(out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(out);
                g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(b.array())));
                found = true;
            }
        }
        assertTrue(found, "no initializer " + name);
        return m.toBuilder().setGraph(g).build();
    }

    static OnnxMl.ModelProto mapLongs(OnnxMl.ModelProto m, String name, UnaryOperator<long[]> f) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        boolean found = false;
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (t.getName().equals(name)) {
                ByteBuffer in = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                long[] v = new long[in.remaining() / 8];
                in.asLongBuffer().get(v);
                long[] out = f.apply(v);
                ByteBuffer b = ByteBuffer.allocate(out.length * 8).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(out);
                g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(b.array())));
                found = true;
            }
        }
        assertTrue(found, "no initializer " + name);
        return m.toBuilder().setGraph(g).build();
    }

    private interface NodeEdit {
        void apply(OnnxMl.NodeProto.Builder n);
    }

    private static OnnxMl.ModelProto editNodes(OnnxMl.ModelProto m, String opType, NodeEdit e) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        boolean found = false;
        for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
            if (n.getOpType().equals(opType)) {
                e.apply(n);
                found = true;
            }
        }
        assertTrue(found, "no " + opType + " node");
        return m.toBuilder().setGraph(g).build();
    }

    private static OnnxMl.AttributeProto.Builder attr(OnnxMl.NodeProto.Builder n, String name) {
        for (OnnxMl.AttributeProto.Builder a : n.getAttributeBuilderList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        throw new AssertionError(n.getOpType() + " has no attribute " + name);
    }

    static OnnxMl.ModelProto mapPads(OnnxMl.ModelProto m, String opType, UnaryOperator<long[]> f) {
        return editNodes(m, opType, n -> {
            OnnxMl.AttributeProto.Builder a = attr(n, "pads");
            long[] p = f.apply(a.getIntsList().stream().mapToLong(Long::longValue).toArray());
            a.clearInts();
            for (long v : p) {
                a.addInts(v);
            }
        });
    }

    static OnnxMl.ModelProto swapPadEnds(OnnxMl.ModelProto m, String opType) {
        return mapPads(m, opType, p -> {
            assertTrue(p[0] != p[2] || p[1] != p[3], "pads " + Arrays.toString(p) + " are symmetric: nothing to break");
            return new long[]{p[2], p[3], p[0], p[1]};
        });
    }

    /** The {@code Max(x, cutoff)} node reading initializer {@code cutoff} becomes {@code ThresholdedRelu(x, alpha=cutoff)}. */
    static OnnxMl.ModelProto maxToThresholdedRelu(OnnxMl.ModelProto m, String cutoff) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        float c = g.getInitializerList().stream().filter(t -> t.getName().equals(cutoff)).findFirst()
                .orElseThrow(() -> new AssertionError("no initializer " + cutoff))
                .getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxMl.NodeProto n = g.getNode(i);
            if (n.getOpType().equals("Max") && n.getInputList().contains(cutoff)) {
                g.setNode(i, n.toBuilder().setOpType("ThresholdedRelu").clearInput().addInput(n.getInput(0))
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("alpha").setF(c)
                                .setType(OnnxMl.AttributeProto.AttributeType.FLOAT)));
                return m.toBuilder().setGraph(g).build();
            }
        }
        throw new AssertionError("no Max node reading " + cutoff);
    }

    /** Renames every node of {@code from} to op {@code to}, keeping inputs and attributes. */
    static OnnxMl.ModelProto replaceOp(OnnxMl.ModelProto m, String from, String to) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        boolean found = false;
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals(from)) {
                OnnxMl.NodeProto.Builder n = g.getNode(i).toBuilder().setOpType(to);
                if (to.equals("Relu")) {
                    n.clearAttribute();
                }
                g.setNode(i, n);
                found = true;
            }
        }
        if (!found) {
            throw new AssertionError("no " + from + " node");
        }
        return m.toBuilder().setGraph(g).build();
    }

    static OnnxMl.ModelProto setFloat(OnnxMl.ModelProto m, String opType, String name, float v) {
        return editNodes(m, opType, n -> attr(n, name).setF(v));
    }

    static OnnxMl.ModelProto swapInputs(OnnxMl.ModelProto m, String opType) {
        return editNodes(m, opType, n -> {
            String a = n.getInput(0);
            n.setInput(0, n.getInput(1));
            n.setInput(1, a);
        });
    }

    /** Inserts Transpose(0,2,3,1) before the first {@code opType} node: an NHWC reading of an NCHW tensor. */
    static OnnxMl.ModelProto transposeBefore(OnnxMl.ModelProto m, String opType) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxMl.NodeProto n = g.getNode(i);
            if (n.getOpType().equals(opType)) {
                String t = n.getInput(0) + "_nhwc";
                g.setNode(i, n.toBuilder().setInput(0, t));
                g.addNode(i, OnnxMl.NodeProto.newBuilder().setOpType("Transpose").setName(t).addInput(n.getInput(0)).addOutput(t)
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("perm")
                                .setType(OnnxMl.AttributeProto.AttributeType.INTS).addAllInts(List.of(0L, 2L, 3L, 1L))));
                return m.toBuilder().setGraph(g).build();
            }
        }
        throw new AssertionError("no " + opType);
    }

    /** Removes the Transpose(0,2,3,1) the exporter puts before the Flatten of an NHWC map. */
    static OnnxMl.ModelProto dropTransposeBeforeFlatten(OnnxMl.ModelProto m) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            OnnxMl.NodeProto t = g.getNode(i);
            if (t.getOpType().equals("Transpose") && t.getName().endsWith("_nhwc")) {
                for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
                    for (int k = 0; k < n.getInputCount(); k++) {
                        if (n.getInput(k).equals(t.getOutput(0))) {
                            n.setInput(k, t.getInput(0));
                        }
                    }
                }
                g.removeNode(i);
                return m.toBuilder().setGraph(g).build();
            }
        }
        throw new AssertionError("no Transpose before the Flatten");
    }

    // ---------------------------------------------------------------- array edits

    /** The ONNX {@code [nOut, nIn, k]} weight refilled from DL4J's raw {@code [k, nIn, nOut]} buffer as if it were c order. */
    static float[] conv1dDeclaredOrder(float[] w, long[] d) {
        int nOut = (int) d[0];
        int nIn = (int) d[1];
        int k = (int) d[2];
        float[] raw = new float[w.length];
        for (int o = 0; o < nOut; o++) {
            for (int c = 0; c < nIn; c++) {
                for (int j = 0; j < k; j++) {
                    raw[(j * nIn + c) * nOut + o] = w[(o * nIn + c) * k + j];
                }
            }
        }
        return raw;
    }

    /** Permutes a 4-D c-order array. */
    static float[] permute(float[] w, long[] d, int... perm) {
        float[] out = new float[w.length];
        long[] nd = new long[4];
        for (int i = 0; i < 4; i++) {
            nd[i] = d[perm[i]];
        }
        int[] idx = new int[4];
        for (int f = 0; f < w.length; f++) {
            int r = f;
            for (int k = 3; k >= 0; k--) {
                idx[k] = (int) (r % d[k]);
                r /= d[k];
            }
            int o = 0;
            for (int k = 0; k < 4; k++) {
                o = (int) (o * nd[k] + idx[perm[k]]);
            }
            out[o] = w[f];
        }
        return out;
    }

    /** Weight {@code [nIn·m, 1, kH, kW]} with channel c·m + j moved to j·nIn + c. */
    static float[] channelMajor(float[] w, long[] d, int nIn, int m) {
        int per = (int) (d[2] * d[3]);
        float[] out = new float[w.length];
        for (int c = 0; c < nIn; c++) {
            for (int j = 0; j < m; j++) {
                System.arraycopy(w, (c * m + j) * per, out, (j * nIn + c) * per, per);
            }
        }
        return out;
    }

    /** {@code [A, B, ...]} data read as if it were stored {@code [B, A, ...]}: transposes the two leading dims. */
    static float[] swapLeadingAs(float[] w, long[] d) {
        int a = (int) d[0];
        int b = (int) d[1];
        int per = w.length / (a * b);
        float[] out = new float[w.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                // the element the wrong reading finds at [i][j] is stored at [j'][i'] of a [b][a] layout
                int flat = i * b + j;
                int src = (flat % a) * b + flat / a;
                System.arraycopy(w, src * per, out, flat * per, per);
            }
        }
        return out;
    }

    /** A 2-D {@code [r, c]} c-order array refilled from its f-order reading (the f-order view bug). */
    static float[] transposedData(float[] w, long[] d) {
        int r = (int) d[0];
        int c = (int) d[1];
        float[] out = new float[w.length];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[i * c + j] = w[(i * c + j) % r * c + (i * c + j) / r];
            }
        }
        return out;
    }

    static float[] sqrt(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) Math.sqrt(v[i]);
        }
        return out;
    }
}
