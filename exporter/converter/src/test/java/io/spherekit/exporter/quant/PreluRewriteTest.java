package io.spherekit.exporter.quant;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.spherekit.exporter.ExportCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PreluRewrite}: the rewritten graph computes PReLU as defined ({@code max(0,x) + a·min(0,x)}, evaluated here
 * directly) for both recognised forms, leaves near misses alone, and on the committed fixture keeps ONNX Runtime's
 * output while replacing every PReLU.
 */
class PreluRewriteTest {

    static final Path ROOT = Path.of(System.getProperty("spherekit.root", "../..")).toAbsolutePath().normalize();
    static final Path FIXTURE = ROOT.resolve("testdata/fixtures/model/sf4-tiny.zip");

    static final float[] SLOPE = {0.25f, -0.1f, 1.5f};

    @Test
    void preluNodeBecomesNegatedReluFormAndComputesTheDefinition() throws Exception {
        ModelProto m = model(List.of(node("PRelu", "y", "x", "slope")), Map.of("slope", tensor("slope", SLOPE, 3, 1, 1)));
        PreluRewrite.Result r = PreluRewrite.apply(m);
        assertEquals(1, r.rewritten());
        assertEquals(List.of("Conv", "Relu", "Conv", "Add"), ops(r.model()));
        float[] x = input(2 * 3 * 4 * 5, 1);
        float[] y = run(r.model(), x, 2, 3, 4, 5);
        for (int i = 0; i < x.length; i++) {
            float a = SLOPE[(i / 20) % 3];
            float want = Math.max(0, x[i]) + a * Math.min(0, x[i]);
            assertEquals(want, y[i], 1e-6, "element " + i + " x=" + x[i]);
        }
    }

    @Test
    void depthwiseFormIsRecognisedWhenItsWeightsSumToOne() throws Exception {
        float[] oneMinus = new float[3];
        for (int c = 0; c < 3; c++) {
            oneMinus[c] = 1f - SLOPE[c];
        }
        ModelProto m = depthwiseForm(SLOPE, oneMinus);
        PreluRewrite.Result r = PreluRewrite.apply(m);
        assertEquals(1, r.rewritten());
        assertEquals(List.of("Conv", "Relu", "Conv", "Add"), ops(r.model()));
        // the old weights are gone, the new ones are -1 and 1 - a
        assertEquals(2, r.model().getGraph().getInitializerCount());
        float[] x = input(3 * 4 * 5, 2);
        float[] y = run(r.model(), x, 1, 3, 4, 5);
        for (int i = 0; i < x.length; i++) {
            float a = SLOPE[i / 20];
            assertEquals(Math.max(0, x[i]) + a * Math.min(0, x[i]), y[i], 1e-6, "element " + i);
        }
    }

    @Test
    void nearMissesAreLeftAlone() {
        // depthwise weights that do not sum to 1: a different function
        ModelProto notPrelu = depthwiseForm(SLOPE, new float[]{0.5f, 0.5f, 0.5f});
        PreluRewrite.Result r = PreluRewrite.apply(notPrelu);
        assertEquals(0, r.rewritten());
        assertSame(notPrelu, r.model());
        // a PRelu with a 1-D slope broadcasts over the last axis, not the channels
        ModelProto lastAxis = model(List.of(node("PRelu", "y", "x", "slope")), Map.of("slope", tensor("slope", new float[5], 5)));
        assertEquals(0, PreluRewrite.apply(lastAxis).rewritten());
    }

    @Test
    void fixtureKeepsItsOutputWithEveryPreluRewritten(@TempDir Path dir) throws Exception {
        Path fp32 = dir.resolve("fp32.onnx");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int rc = ExportCli.run(new PrintStream(o, true), new PrintStream(o, true), "--model", FIXTURE.toString(),
                "--output", fp32.toString());
        assertEquals(0, rc, o.toString(StandardCharsets.UTF_8));
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(fp32));
        // the depthwise PReLU form has exactly one Relu per PReLU, and the fixture has no other Relu
        long prelus = ops(m).stream().filter("Relu"::equals).count();
        assertTrue(prelus >= 4, "PReLUs in the fixture: " + prelus);
        PreluRewrite.Result r = PreluRewrite.apply(m);
        assertEquals(prelus, r.rewritten());
        var in = m.getGraph().getInput(0).getType().getTensorType().getShape();
        int c = (int) in.getDim(1).getDimValue(), h = (int) in.getDim(2).getDimValue(), w = (int) in.getDim(3).getDimValue();
        float[] x = input(2 * c * h * w, 3);
        float[] want = run(m, x, 2, c, h, w);
        float[] got = run(r.model(), x, 2, c, h, w);
        double maxAbs = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        assertTrue(maxAbs <= 1e-5 * scale, "max |diff| " + maxAbs + " of max |y| " + scale);
    }

    // ------------------------------------------------------------------ helpers

    private static ModelProto depthwiseForm(float[] a, float[] b) {
        NodeProto relu = node("Relu", "r", "x");
        NodeProto ax = conv("ax", "x", "wa");
        NodeProto br = conv("br", "r", "wb");
        NodeProto add = node("Add", "y", "ax", "br");
        return model(List.of(relu, ax, br, add), Map.of("wa", tensor("wa", a, 3, 1, 1, 1), "wb", tensor("wb", b, 3, 1, 1, 1)));
    }

    private static NodeProto conv(String out, String in, String w) {
        return node("Conv", out, in, w).toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("group").setType(AttributeProto.AttributeType.INT).setI(3))
                .addAttribute(AttributeProto.newBuilder().setName("kernel_shape").setType(AttributeProto.AttributeType.INTS)
                        .addInts(1).addInts(1)).build();
    }

    private static NodeProto node(String op, String out, String... in) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(out).addOutput(out);
        for (String s : in) {
            b.addInput(s);
        }
        return b.build();
    }

    private static TensorProto tensor(String name, float[] v, long... dims) {
        return QdqQuantizer.floatTensor(name, v, dims);
    }

    private static ModelProto model(List<NodeProto> nodes, Map<String, TensorProto> inits) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addAllNode(nodes).addAllInitializer(inits.values())
                .addInput(valueInfo("x", 3)).addOutput(valueInfo("y", 3));
        return ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, long channels) {
        OnnxMl.TensorShapeProto.Builder s = OnnxMl.TensorShapeProto.newBuilder()
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(channels))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(4))
                .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(5));
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(s))).build();
    }

    private static List<String> ops(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    private static float[] input(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return x;
    }

    private static float[] run(ModelProto m, float[] x, long... shape) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(m.toByteArray(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), t))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] y = new float[fb.remaining()];
            fb.get(y);
            return y;
        }
    }
}
