package io.spherekit.onnx;

import ai.onnx.proto.OnnxMl;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxOpTest {

    private static void assertMessage(IllegalArgumentException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should contain '" + p + "'");
        }
    }

    @Test
    void tableKnowsOpTypesAndArity() {
        assertEquals("Conv", OnnxOp.CONV.opType());
        assertEquals(2, OnnxOp.CONV.minInputs());
        assertEquals(3, OnnxOp.CONV.maxInputs());
        assertEquals(2, OnnxOp.PRELU.minInputs());
        assertEquals(2, OnnxOp.PRELU.maxInputs());
        assertEquals(1, OnnxOp.RELU.maxInputs());
        assertEquals(5, OnnxOp.BATCH_NORMALIZATION.minInputs());
        assertTrue(OnnxOp.CAST.attributes().get("to").mandatory());
        assertEquals(OnnxAttributeType.INTS, OnnxOp.CONV.attributes().get("pads").type());
        assertEquals(List.of(
                "Conv", "PRelu", "Relu", "Add", "Flatten", "Gemm", "LpNormalization", "Cast", "Identity",
                "BatchNormalization", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool",
                "GlobalMaxPool", "GlobalLpPool", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "Tanh",
                "Softmax", "LogSoftmax", "Shrink", "Softplus", "Softsign", "ThresholdedRelu", "Clip", "Abs", "Sign", "Sqrt", "Erf", "Exp", "Reciprocal", "Mul",
                "Sub", "Div", "Max", "Min", "Mean", "Concat", "Pad", "Slice", "Reshape", "Expand", "Transpose",
                "ReduceSum", "SpaceToDepth", "Gather", "LSTM", "RNN", "LRN"),
                Arrays.stream(OnnxOp.values()).map(OnnxOp::opType).toList());
        assertEquals(Integer.MAX_VALUE, OnnxOp.CONCAT.maxInputs());
        assertEquals(OnnxAttributeType.STRINGS, OnnxOp.LSTM.attributes().get("activations").type());
        assertEquals(List.of("Sigmoid", "Tanh", "Tanh"), OnnxOp.LSTM.build("l", List.of("x", "w", "r"), List.of("y"),
                Map.of("activations", List.of("Sigmoid", "Tanh", "Tanh"))).getAttribute(0).getStringsList().stream()
                .map(b -> b.toStringUtf8()).toList());
        assertTrue(OnnxOp.MAX_POOL.attributes().get("kernel_shape").mandatory());
    }

    @Test
    void rejectsWrongInputArityNamingOpAndCounts() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.CONV.build("c", List.of("x"), List.of("y"), Map.of()));
        assertMessage(e, "Conv", "2 to 3", "got 1");
        e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.PRELU.build("p", List.of("x", "s", "t"), List.of("y"), Map.of()));
        assertMessage(e, "PRelu", "takes 2 input", "got 3");
        e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.ADD.build("a", List.of("x", "z"), List.of("y", "w"), Map.of()));
        assertMessage(e, "Add", "produces 1 output", "got 2");
    }

    @Test
    void rejectsUnknownAttribute() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.FLATTEN.build("f", List.of("x"), List.of("y"), Map.of("axis", 1L, "axes", 1L)));
        assertMessage(e, "Flatten", "no attribute 'axes'", "accepts 1", "axis");
        e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.IDENTITY.build("i", List.of("x"), List.of("y"), Map.of("to", 1L)));
        assertMessage(e, "Identity", "'to'", "accepts 0");
    }

    @Test
    void rejectsMissingMandatoryAttribute() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.CAST.build("c", List.of("x"), List.of("y"), Map.of()));
        assertMessage(e, "Cast", "mandatory attribute 'to'", "0 attribute(s)");
    }

    @Test
    void rejectsAttributeOfWrongType() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.FLATTEN.build("f", List.of("x"), List.of("y"), Map.of("axis", "1")));
        assertMessage(e, "Flatten", "'axis'", "INT", "String");
        e = assertThrows(IllegalArgumentException.class,
                () -> OnnxOp.CONV.build("c", List.of("x", "w"), List.of("y"), Map.of("pads", 1L)));
        assertMessage(e, "Conv", "'pads'", "INTS");
    }

    @Test
    void buildsNodeWithTypedSortedAttributes() {
        OnnxMl.NodeProto n = OnnxOp.GEMM.build("fc", List.of("a", "b", "c"), List.of("y"),
                Map.of("transB", 0L, "alpha", 1.0f, "beta", 2.0));
        assertEquals("Gemm", n.getOpType());
        assertEquals("fc", n.getName());
        assertEquals(List.of("a", "b", "c"), n.getInputList());
        assertEquals(List.of("alpha", "beta", "transB"), n.getAttributeList().stream().map(OnnxMl.AttributeProto::getName).toList());
        assertEquals(OnnxMl.AttributeProto.AttributeType.FLOAT, n.getAttribute(0).getType());
        assertEquals(2.0f, n.getAttribute(1).getF());
        assertEquals(OnnxMl.AttributeProto.AttributeType.INT, n.getAttribute(2).getType());
        OnnxMl.NodeProto conv = OnnxOp.CONV.build("c", List.of("x", "w"), List.of("y"),
                Map.of("pads", new int[]{1, 1, 1, 1}, "auto_pad", "NOTSET"));
        assertEquals(List.of(1L, 1L, 1L, 1L), conv.getAttribute(1).getIntsList());
        assertEquals("NOTSET", conv.getAttribute(0).getS().toStringUtf8());
    }
}
