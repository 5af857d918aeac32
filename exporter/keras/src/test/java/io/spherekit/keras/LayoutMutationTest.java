package io.spherekit.keras;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parity tests would notice a wrong layout or padding rule: each test takes a converted layer model, applies
 * the plausible mistake to its graph (symmetric-first "same" pads, Flatten in NCHW order, a depthwise kernel in
 * the wrong channel order), and shows the Keras output is then missed by far more than the tolerance, while the
 * correct graph's pads are the ones TensorFlow's rule gives by hand.
 */
class LayoutMutationTest {

    private static OnnxMl.NodeProto only(OnnxMl.ModelProto m, String op) {
        List<OnnxMl.NodeProto> n = m.getGraph().getNodeList().stream().filter(x -> x.getOpType().equals(op)).toList();
        assertEquals(1, n.size(), op + " nodes");
        return n.get(0);
    }

    private static OnnxMl.ModelProto replaceAttr(OnnxMl.ModelProto m, String op, String attr, long... ints) {
        OnnxMl.ModelProto.Builder b = m.toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals(op)) {
                OnnxMl.NodeProto.Builder n = g.getNodeBuilder(i);
                for (int a = 0; a < n.getAttributeCount(); a++) {
                    if (n.getAttribute(a).getName().equals(attr)) {
                        OnnxMl.AttributeProto.Builder ab = n.getAttributeBuilder(a).clearInts();
                        for (long v : ints) {
                            ab.addInts(v);
                        }
                    }
                }
            }
        }
        return b.build();
    }

    private static long[] ints(OnnxMl.NodeProto n, String attr) {
        return n.getAttributeList().stream().filter(a -> a.getName().equals(attr)).findFirst().orElseThrow()
                .getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    @Test
    void sameStride2OnEvenInputPadsOnlyAtTheEnd() throws Exception {
        // 12x10 input, k=3, s=2: out 6x5, total pad (6-1)*2+3-12 = 1 (rows), (5-1)*2+3-10 = 1 (cols): 0 before, 1 after.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("conv2d_same_s2.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{0, 0, 1, 1}, ints(only(conv.model(), "Conv"), "pads"));
        assertTrue(LayerParityTest.diff(conv, "conv2d_same_s2", 7, conv.model().toByteArray()) <= 1e-4);
        byte[] before = replaceAttr(conv.model(), "Conv", "pads", 1, 1, 0, 0).toByteArray();
        double d = LayerParityTest.diff(conv, "conv2d_same_s2", 7, before);
        assertTrue(d > 1e-2, "padding at the start instead of the end should miss Keras, diff " + d);
    }

    @Test
    void sameStride2OnOddInputWithEvenKernel() throws Exception {
        // 13x11 input, k=4, s=2: out 7x6; rows total (7-1)*2+4-13 = 3 -> 1 before, 2 after; cols (6-1)*2+4-11 = 3 -> 1, 2.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("conv2d_same_s2_odd.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{1, 1, 2, 2}, ints(only(conv.model(), "Conv"), "pads"));
        double d = LayerParityTest.diff(conv, "conv2d_same_s2_odd", 7,
                replaceAttr(conv.model(), "Conv", "pads", 2, 2, 1, 1).toByteArray());
        assertTrue(d > 1e-2, "more padding at the start should miss Keras, diff " + d);
    }

    @Test
    void flattenInChannelsFirstOrderMissesKeras() throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("flatten_dense.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        OnnxMl.NodeProto t = only(conv.model(), "Transpose");
        assertArrayEquals(new long[]{0, 2, 3, 1}, ints(t, "perm"));
        assertTrue(LayerParityTest.diff(conv, "flatten_dense", 7, conv.model().toByteArray()) <= 1e-4);
        double d = LayerParityTest.diff(conv, "flatten_dense", 7,
                replaceAttr(conv.model(), "Transpose", "perm", 0, 1, 2, 3).toByteArray());
        assertTrue(d > 1e-2, "flattening NCHW (no transpose to NHWC) should miss Keras, diff " + d);
    }

    @Test
    void maxPoolSamePadsAtTheEnd() throws Exception {
        // 13x11, k=3, s=2: out 7x6; rows (7-1)*2+3-13 = 2 -> 1, 1; cols (6-1)*2+3-11 = 2 -> 1, 1. Even split here,
        // so the mutation shifts by one: 0 before, 2 after.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("avgpool_same.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{1, 1, 1, 1}, ints(only(conv.model(), "AveragePool"), "pads"));
        double d = LayerParityTest.diff(conv, "avgpool_same", 7,
                replaceAttr(conv.model(), "AveragePool", "pads", 0, 0, 2, 2).toByteArray());
        assertTrue(d > 1e-3, "shifted pooling pads should miss Keras, diff " + d);
    }

    @Test
    void convTransposeSamePadsMatchTheKerasRule() throws Exception {
        // k=3, s=2 'same': Keras/JAX pads the dilated input (2, 1) -> ONNX pads begin 3-1-2 = 0, end 3-1-1 = 1; out = 2·in.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("conv2d_transpose_same.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{0, 0, 1, 1}, ints(only(conv.model(), "ConvTranspose"), "pads"));
        assertArrayEquals(new long[]{14, 10, 4}, conv.outputShape());
        double d = LayerParityTest.diff(conv, "conv2d_transpose_same", 7,
                replaceAttr(conv.model(), "ConvTranspose", "pads", 1, 1, 0, 0).toByteArray());
        assertTrue(d > 1e-2, "begin-side transposed-conv pads should miss Keras, diff " + d);
    }

    @Test
    void inputIsNchw() throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("sphereface20.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        var dims = conv.model().getGraph().getInput(0).getType().getTensorType().getShape().getDimList();
        assertEquals("batch", dims.get(0).getDimParam());
        assertEquals(List.of(3L, 56L, 48L), dims.subList(1, 4).stream().map(OnnxMl.TensorShapeProto.Dimension::getDimValue).toList());
    }

    private static OnnxMl.ModelProto renameOp(OnnxMl.ModelProto m, String from, String to) {
        OnnxMl.ModelProto.Builder b = m.toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        int n = 0;
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals(from)) {
                g.getNodeBuilder(i).setOpType(to);
                n++;
            }
        }
        assertTrue(n > 0, "no " + from + " node");
        return b.build();
    }

    @Test
    void avgPool1dSameExcludesThePaddingFromTheMean() throws Exception {
        // 16 steps, k=4, s=3 'same': out 6; total (6-1)*3+4-16 = 3 -> 1 before, 2 after; Keras averages real steps only.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("avgpool1d_same.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{1, 2}, ints(only(conv.model(), "AveragePool"), "pads"));
        assertArrayEquals(new long[]{6, 4}, conv.outputShape());
        assertTrue(LayerParityTest.diff(conv, "avgpool1d_same", 7, conv.model().toByteArray()) <= 1e-4);
        OnnxMl.ModelProto.Builder b = conv.model().toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getOpType().equals("AveragePool")) {
                OnnxMl.NodeProto.Builder nb = g.getNodeBuilder(i);
                for (int a = 0; a < nb.getAttributeCount(); a++) {
                    if (nb.getAttribute(a).getName().equals("count_include_pad")) {
                        nb.getAttributeBuilder(a).setI(1);
                    }
                }
            }
        }
        double d = LayerParityTest.diff(conv, "avgpool1d_same", 7, b.build().toByteArray());
        assertTrue(d > 1e-3, "counting the padded steps should miss Keras, diff " + d);
    }

    @Test
    void globalAveragePool1dKeepsOneStep() throws Exception {
        // (15, 3) -> GlobalAveragePooling1D(keepdims) -> (1, 3) -> Conv1D(4, 1) -> (1, 4); a max in place of the mean
        // (a plausible table mix-up) misses Keras.
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("global_pool_1d_keepdims.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertArrayEquals(new long[]{1, 4}, conv.outputShape());
        assertTrue(LayerParityTest.diff(conv, "global_pool_1d_keepdims", 7, conv.model().toByteArray()) <= 1e-4);
        double d = LayerParityTest.diff(conv, "global_pool_1d_keepdims", 7,
                renameOp(conv.model(), "GlobalAveragePool", "GlobalMaxPool").toByteArray());
        assertTrue(d > 1e-2, "max instead of mean should miss Keras, diff " + d);
    }

    @Test
    void geluIsTheErfFormNotTheTanhApproximation() throws Exception {
        // Keras 3 'gelu' is gelu(approximate=False) = x·(1 + erf(x/√2))/2; Erf replaced by Tanh of the same argument
        // (a wrong rule of the same shape) must miss Keras. Dense(gelu) -> Dense(log_softmax): nothing after the gelu
        // can hide the difference (in activations_more, the shrink activations at the end of the chain can zero the
        // output for some seeds, and then no mutation shows).
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("dense_gelu_log_softmax.keras"),
                Map.of(), KerasToOnnx.Options.defaults());
        assertEquals(1, conv.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Erf")).count());
        assertTrue(LayerParityTest.diff(conv, "dense_gelu_log_softmax", 7, conv.model().toByteArray()) <= 1e-4);
        double d = LayerParityTest.diff(conv, "dense_gelu_log_softmax", 7,
                renameOp(conv.model(), "Erf", "Tanh").toByteArray());
        assertTrue(d > 1e-3, "tanh in place of erf should miss Keras, diff " + d);
    }

    @Test
    void minimumIsNotMaximum() throws Exception {
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(KerasZoo.dir().resolve("minimum.keras"), Map.of(),
                KerasToOnnx.Options.defaults());
        assertEquals(3, only(conv.model(), "Min").getInputCount());
        double d = LayerParityTest.diff(conv, "minimum", 7, renameOp(conv.model(), "Min", "Max").toByteArray());
        assertTrue(d > 1e-2, "Max in place of Min should miss Keras, diff " + d);
    }
}
