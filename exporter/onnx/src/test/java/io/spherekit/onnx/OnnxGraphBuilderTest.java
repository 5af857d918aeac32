package io.spherekit.onnx;

import java.util.Random;
import java.util.Arrays;
import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxGraphBuilderTest {

    @Test
    void namesAreUnique() {
        OnnxGraphBuilder b = new OnnxGraphBuilder("g");
        OnnxValue x = b.input("x", OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 2);
        assertEquals("x_1", b.uniqueName("x"));
        assertEquals("x_2", b.uniqueName("x"));
        OnnxValue y = b.node(OnnxOp.IDENTITY, "id", List.of(x), Map.of());
        OnnxValue z = b.node(OnnxOp.IDENTITY, "id", List.of(y), Map.of());
        assertEquals("id", y.name());
        assertEquals("id_1", z.name());
        assertThrows(IllegalArgumentException.class, () -> b.input("x", OnnxMl.TensorProto.DataType.FLOAT, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.node(OnnxOp.IDENTITY, "n", List.of(z), Map.of(), List.of("id")));
        assertTrue(e.getMessage().contains("already used"), e.getMessage());
        b.output(z, OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 2);
        OnnxMl.GraphProto g = b.build();
        assertEquals(List.of("id", "id_1"), g.getNodeList().stream().map(OnnxMl.NodeProto::getName).toList());
        assertEquals("batch", g.getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        assertThrows(IllegalStateException.class, b::build);
    }

    @Test
    void rejectsValuesFromAnotherGraph() {
        OnnxGraphBuilder a = new OnnxGraphBuilder("a");
        OnnxGraphBuilder b = new OnnxGraphBuilder("b");
        OnnxValue xa = a.input("x", OnnxMl.TensorProto.DataType.FLOAT, 1);
        b.input("x", OnnxMl.TensorProto.DataType.FLOAT, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.node(OnnxOp.IDENTITY, "i", List.of(xa), Map.of()));
        assertTrue(e.getMessage().contains("graph 'a'") && e.getMessage().contains("graph 'b'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.output(xa, OnnxMl.TensorProto.DataType.FLOAT, 1));
    }

    @Test
    void rejectedNodeLeavesNoTrace() {
        OnnxGraphBuilder b = new OnnxGraphBuilder("g");
        OnnxValue x = b.input("x", OnnxMl.TensorProto.DataType.FLOAT, 1);
        assertThrows(IllegalArgumentException.class, () -> b.node(OnnxOp.ADD, "s", List.of(x), Map.of(), List.of("out")));
        OnnxValue ok = b.node(OnnxOp.IDENTITY, "s", List.of(x), Map.of(), List.of("out")).get(0);
        assertEquals("out", ok.name());
    }

    @Test
    void floatInitializersAreRawLittleEndian() {
        OnnxGraphBuilder b = new OnnxGraphBuilder("g");
        b.floatInitializer("w", new float[]{1f, -2f, 0.5f, 3f, 4f, 5f}, 2, 3);
        assertThrows(IllegalArgumentException.class, () -> b.floatInitializer("bad", new float[]{1f}, 2));
        OnnxMl.GraphProto g = outputFirstInput(b);
        OnnxMl.TensorProto w = g.getInitializer(0);
        assertEquals("w", w.getName());
        assertEquals(List.of(2L, 3L), w.getDimsList());
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT.getNumber(), w.getDataType());
        byte[] raw = w.getRawData().toByteArray();
        assertArrayEquals(new byte[]{0, 0, (byte) 0x80, 0x3f}, Arrays.copyOf(raw, 4)); // 1.0f, little-endian
        assertEquals(-2f, ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getFloat(4));
        assertEquals(6, b.parameterCount());
    }

    /** Adds input "dummy" → Identity → output, and builds. */
    private static OnnxMl.GraphProto outputFirstInput(OnnxGraphBuilder b) {
        OnnxValue in = b.node(OnnxOp.IDENTITY, "copy", List.of(b.input("dummy", OnnxMl.TensorProto.DataType.FLOAT, 1)), Map.of());
        b.output(in, OnnxMl.TensorProto.DataType.FLOAT, 1);
        return b.build();
    }

    @Test
    void float16Conversion() {
        assertEquals((short) 0x3c00, Float16.fromFloat(1f));
        assertEquals((short) 0xc000, Float16.fromFloat(-2f));
        assertEquals((short) 0x7bff, Float16.fromFloat(65504f));
        assertEquals((short) 0x7c00, Float16.fromFloat(65520f)); // rounds up to infinity
        assertEquals((short) 0x0001, Float16.fromFloat(0x1p-24f)); // smallest subnormal
        assertEquals((short) 0x0000, Float16.fromFloat(0x1p-26f));
        assertEquals((short) 0x2e66, Float16.fromFloat(0.1f));
        assertEquals((short) 0x3c00, Float16.fromFloat(1f + 0x1p-11f)); // tie -> even
        assertEquals((short) 0x3c02, Float16.fromFloat(1f + 3 * 0x1p-11f)); // tie -> even (up)
        assertTrue(Float.isNaN(Float16.toFloat(Float16.fromFloat(Float.NaN))));
        for (float f : new float[]{0.25f, -1.5f, 1000f, 0x1p-20f, 6.1035156e-5f}) {
            assertEquals(f, Float16.toFloat(Float16.fromFloat(f)), "exactly representable " + f);
        }
        Random r = new Random(1);
        for (int i = 0; i < 10000; i++) {
            float f = (float) r.nextGaussian() * 10;
            assertEquals(f, Float16.toFloat(Float16.fromFloat(f)), Math.abs(f) * 0x1p-11f + 0x1p-25f);
        }
    }

    @Test
    void modelStamp() {
        OnnxGraphBuilder b = new OnnxGraphBuilder("g");
        OnnxValue x = b.input("x", OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 2);
        b.output(b.node(OnnxOp.IDENTITY, "y", List.of(x), Map.of()), OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 2);
        OnnxMl.ModelProto m = OnnxModels.stamp(b.build(), 19, "9.9", "doc", Map.of("b", "2", "a", "1"));
        assertEquals(8, m.getIrVersion());
        assertEquals(19, m.getOpsetImport(0).getVersion());
        assertEquals("spherekit", m.getProducerName());
        assertEquals("9.9", m.getProducerVersion());
        assertEquals("doc", m.getDocString());
        assertEquals(List.of("a", "b"), m.getMetadataPropsList().stream().map(OnnxMl.StringStringEntryProto::getKey).toList());
        assertEquals(Map.of("Identity", 1), OnnxModels.opCounts(m));
        assertEquals("x float[batch,2]", OnnxModels.describe(m.getGraph().getInput(0)));
        assertThrows(IllegalArgumentException.class, () -> OnnxModels.checkOpset(12));
        assertThrows(IllegalArgumentException.class, () -> OnnxModels.checkOpset(22));
    }

    /** A Gemm with FLOAT16 weights (stored half, cast to float) runs in ONNX Runtime with the expected result. */
    @Test
    void fp16WeightsRunInOnnxRuntime() throws Exception {
        OnnxGraphBuilder b = new OnnxGraphBuilder("g", OnnxGraphBuilder.WeightPrecision.FLOAT16);
        OnnxValue x = b.input("x", OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 2);
        OnnxValue w = b.floatInitializer("w", new float[]{1f, 2f, 3f, 4f, 5f, 6f}, 2, 3);
        OnnxValue c = b.floatInitializer("c", new float[]{0.5f, 0f, -0.5f}, 3);
        OnnxValue y = b.node(OnnxOp.GEMM, "y", List.of(x, w, c), Map.of("transB", 0L), List.of("y")).get(0);
        b.output(y, OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, 3);
        byte[] model = OnnxModels.stamp(b.build(), OnnxModels.DEFAULT_OPSET, "t", null, Map.of()).toByteArray();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(model, o);
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[]{1f, 1f, 2f, -1f}), new long[]{2, 2});
             OrtSession.Result r = s.run(Map.of("x", t))) {
            float[][] out = (float[][]) r.get(0).getValue();
            assertArrayEquals(new float[]{5.5f, 7f, 8.5f}, out[0]);
            assertArrayEquals(new float[]{-1.5f, -1f, -0.5f}, out[1]);
        }
    }

    /** erf(x) by composite Simpson integration of 2/sqrt(pi)·e^(-t²) over [0, x] (2000 panels, double). */
    static double erfBySimpson(double x) {
        int n = 2000;
        double h = x / n;
        double sum = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) {
            double t = i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-t * t);
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }

    /**
     * Erf, Exp and Min (2 inputs, broadcast scalar) run in ONNX Runtime at opsets 13 and 21 and give erf by numerical
     * integration, {@link Math#exp} and the smaller value, to float precision.
     */
    @Test
    void erfExpMinRunInOnnxRuntime() throws Exception {
        float[] xs = {-3.1f, -1.7f, -0.6f, -0.05f, 0f, 0.3f, 0.9f, 1.4f, 2.2f, 4.0f};
        for (int opset : new int[]{13, 21}) {
            OnnxGraphBuilder b = new OnnxGraphBuilder("g");
            OnnxValue x = b.input("x", OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, xs.length);
            OnnxValue erf = b.node(OnnxOp.ERF, "erf", List.of(x), Map.of(), List.of("erf")).get(0);
            OnnxValue exp = b.node(OnnxOp.EXP, "exp", List.of(x), Map.of(), List.of("exp")).get(0);
            OnnxValue min = b.node(OnnxOp.MIN, "min", List.of(x, b.floatInitializer("c", new float[]{0.5f})), Map.of(),
                    List.of("min")).get(0);
            for (OnnxValue v : List.of(erf, exp, min)) {
                b.output(v, OnnxMl.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, xs.length);
            }
            byte[] model = OnnxModels.stamp(b.build(), opset, "t", null, Map.of()).toByteArray();
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                 OrtSession s = env.createSession(model, o);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(xs), new long[]{1, xs.length});
                 OrtSession.Result r = s.run(Map.of("x", t))) {
                float[] e = ((float[][]) r.get("erf").orElseThrow().getValue())[0];
                float[] ex = ((float[][]) r.get("exp").orElseThrow().getValue())[0];
                float[] mn = ((float[][]) r.get("min").orElseThrow().getValue())[0];
                for (int i = 0; i < xs.length; i++) {
                    assertEquals(erfBySimpson(xs[i]), e[i], 2e-6, "erf(" + xs[i] + ") at opset " + opset);
                    assertEquals(Math.exp(xs[i]), ex[i], 2e-6 * Math.max(1, Math.exp(xs[i])), "exp(" + xs[i] + ")");
                    assertEquals(xs[i] < 0.5f ? xs[i] : 0.5f, mn[i], 0f, "min(" + xs[i] + ", 0.5)");
                }
            }
        }
    }
}
