package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.spherekit.onnx.OnnxGraphBuilder;
import io.spherekit.onnx.OnnxModels;
import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.head.ASoftmaxHead;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SpaceToBatchLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Dl4jToOnnxTest {
    private static final double TOL = 1e-4;
    private static ComputationGraph sf4;
    private static ComputationGraph sf20;

    @BeforeAll
    static void nets() {
        sf4 = TestNets.sphereFace(4, 11);
        sf20 = TestNets.sphereFace(20, 12);
    }

    private static long[] chw(Dl4jToOnnx.Conversion c) {
        return c.inputShape();
    }

    /** Exports, then compares ORT with DL4J for several batch sizes on the same symbolic-batch model. */
    private static void assertMatches(String label, ComputationGraph g, Dl4jToOnnx.PreluForm prelu, int... batches)
            throws Exception {
        Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(g, Map.of(), Dl4jToOnnx.Options.defaults().withPrelu(prelu));
        byte[] bytes = c.model().toByteArray();
        assertEquals("fc5", c.embeddingVertex());
        assertEquals(List.of("fc6"), c.dropped());
        assertArrayEquals(new long[]{3, 112, 96}, c.inputShape());
        for (int n : batches) {
            float[] x = OrtCheck.randomBatch(n, chw(c), 1000 + n);
            float[][] expected = OrtCheck.dl4j(g, "fc5", x, n, chw(c));
            float[][] actual = OrtCheck.ort(bytes, Dl4jToOnnx.OUTPUT, x, n, chw(c));
            assertEquals(n, actual.length);
            assertEquals(TestNets.DIM, actual[0].length);
            double diff = OrtCheck.maxAbsDiff(expected, actual);
            double scale = 0;
            for (float[] row : expected) {
                for (float v : row) {
                    scale = Math.max(scale, Math.abs(v));
                }
            }
            System.out.printf("[exporter] %s (PReLU as %s) batch %d: ORT vs DL4J max abs diff %.3e (max |embedding| %.3f)%n",
                    label, prelu, n, diff, scale);
            assertTrue(scale > 0.1, "embeddings should not be degenerate, max |v| = " + scale);
            assertTrue(diff <= TOL, label + " batch " + n + ": max abs diff " + diff + " > " + TOL);
        }
    }

    @ParameterizedTest
    @EnumSource(Dl4jToOnnx.PreluForm.class)
    void sphereFace4MatchesDl4jInOnnxRuntime(Dl4jToOnnx.PreluForm prelu) throws Exception {
        assertMatches("SphereFace-4", sf4, prelu, 4, 1, 3);
    }

    @ParameterizedTest
    @EnumSource(Dl4jToOnnx.PreluForm.class)
    void sphereFace20MatchesDl4jInOnnxRuntime(Dl4jToOnnx.PreluForm prelu) throws Exception {
        assertMatches("SphereFace-20", sf20, prelu, 4, 1, 3);
    }

    @Test
    void graphStructure() {
        OnnxMl.ModelProto m = Dl4jToOnnx.convert(sf20, Map.of(),
                Dl4jToOnnx.Options.defaults().withPrelu(Dl4jToOnnx.PreluForm.PRELU)).model();
        // SphereFace-20: 4 stage convs + 2 per unit (1+2+4+1 units) = 20 convs; as many PReLUs; 8 Adds.
        assertEquals(Map.of("Conv", 20, "PRelu", 20, "Add", 8, "Flatten", 1, "Gemm", 1), OnnxModels.opCounts(m));
        // The default depthwise form: each PReLU becomes Relu + 2 depthwise 1x1 Convs + Add, with 2C weights.
        OnnxMl.ModelProto dw = Dl4jToOnnx.convert(sf20, Map.of(), Dl4jToOnnx.Options.defaults()).model();
        assertEquals(Map.of("Conv", 60, "Relu", 20, "Add", 28, "Flatten", 1, "Gemm", 1), OnnxModels.opCounts(dw));
        long preluChannels = 0;
        for (String layer : sf20.getConfiguration().getVertices().keySet()) {
            if (sf20.getLayer(layer) != null && sf20.getLayer(layer).paramTable().containsKey("alpha")) {
                preluChannels += sf20.getLayer(layer).getParam("alpha").length();
            }
        }
        assertEquals(OnnxModels.parameterCount(m) + preluChannels, OnnxModels.parameterCount(dw));
        OnnxMl.NodeProto depthwise = dw.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv") && n.getName().endsWith("_ax")).findFirst().orElseThrow();
        long group = depthwise.getAttributeList().stream().filter(a -> a.getName().equals("group")).findFirst()
                .orElseThrow().getI();
        assertTrue(group > 1, "depthwise conv must have group = C, got " + group);
        assertEquals(1, m.getGraph().getInputCount());
        assertEquals("input float[batch,3,112,96]", OnnxModels.describe(m.getGraph().getInput(0)));
        assertEquals("embedding float[batch," + TestNets.DIM + "]", OnnxModels.describe(m.getGraph().getOutput(0)));
        assertEquals(sf20.numParams() - sf20.getLayer("fc6").numParams(), OnnxModels.parameterCount(m));
        for (OnnxMl.TensorProto t : m.getGraph().getInitializerList()) {
            assertTrue(t.hasRawData(), t.getName());
            assertEquals(0, t.getFloatDataCount(), t.getName());
        }
        OnnxMl.NodeProto prelu = m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("PRelu")).findFirst().orElseThrow();
        OnnxMl.TensorProto slope = m.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals(prelu.getInput(1))).findFirst().orElseThrow();
        assertEquals(List.of(1L, 1L), slope.getDimsList().subList(1, 3), "PRelu slope must be [C,1,1]");
        assertEquals(3, slope.getDimsCount());
    }

    @Test
    void l2normOutputHasUnitRows() throws Exception {
        Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(sf4, Map.of(), Dl4jToOnnx.Options.defaults().withL2norm(true));
        assertEquals(2, c.model().getGraph().getOutputCount());
        assertEquals("embedding_norm", c.model().getGraph().getOutput(1).getName());
        int n = 3;
        float[] x = OrtCheck.randomBatch(n, chw(c), 5);
        float[][] raw = OrtCheck.dl4j(sf4, "fc5", x, n, chw(c));
        float[][] norm = OrtCheck.ort(c.model().toByteArray(), Dl4jToOnnx.OUTPUT_NORM, x, n, chw(c));
        for (int i = 0; i < n; i++) {
            double ss = 0;
            double rawNorm = 0;
            for (int j = 0; j < norm[i].length; j++) {
                ss += (double) norm[i][j] * norm[i][j];
                rawNorm += (double) raw[i][j] * raw[i][j];
            }
            assertEquals(1.0, Math.sqrt(ss), 1e-5, "row " + i);
            rawNorm = Math.sqrt(rawNorm);
            for (int j = 0; j < norm[i].length; j++) {
                assertEquals(raw[i][j] / rawNorm, norm[i][j], 1e-5);
            }
        }
    }

    @Test
    void metadataRoundTripsThroughFileAndOnnxRuntime(@TempDir Path dir) throws Exception {
        Map<String, String> meta = new LinkedHashMap<>(Preprocessing.LFW_SPHEREFACE.toMetadata());
        meta.put("spherekit.head", "asoftmax");
        meta.put("spherekit.head.m", "4");
        meta.put("other.key", "not copied");
        Path zip = dir.resolve("trained.zip");
        ModelIO.save(sf4, meta, zip, false);
        Path onnx = dir.resolve("face.onnx");
        Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(zip, Dl4jToOnnx.Options.defaults());
        long size = Dl4jToOnnx.write(c.model(), onnx);
        assertEquals(Files.size(onnx), size);

        OnnxMl.ModelProto back = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx));
        Map<String, String> props = new TreeMap<>();
        back.getMetadataPropsList().forEach(e -> props.put(e.getKey(), e.getValue()));
        Map<String, String> expected = new TreeMap<>(meta);
        expected.remove("other.key");
        assertEquals(expected, props);
        assertEquals(8, back.getIrVersion());
        assertEquals(17, back.getOpsetImport(0).getVersion());
        assertEquals("", back.getOpsetImport(0).getDomain());
        assertEquals("spherekit", back.getProducerName());
        assertFalse(back.getProducerVersion().isBlank());
        assertFalse(back.getDocString().isBlank());

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(onnx.toString(), o)) {
            assertEquals(expected, new TreeMap<>(s.getMetadata().getCustomMetadata()));
            assertEquals("spherekit", s.getMetadata().getProducerName());
            NodeInfo in = s.getInputInfo().get("input");
            assertArrayEquals(new long[]{-1, 3, 112, 96}, ((TensorInfo) in.getInfo()).getShape());
            // Preprocessing survives: the runtime can rebuild it from the ONNX metadata alone.
            assertEquals(Preprocessing.LFW_SPHEREFACE, Preprocessing.fromMetadata(s.getMetadata().getCustomMetadata()));
        }
        // The round trip through the zip kept the weights: the exported file still matches the in-memory graph.
        float[] x = OrtCheck.randomBatch(2, chw(c), 9);
        double diff = OrtCheck.maxAbsDiff(OrtCheck.dl4j(sf4, "fc5", x, 2, chw(c)),
                OrtCheck.ort(Files.readAllBytes(onnx), "embedding", x, 2, chw(c)));
        assertTrue(diff <= TOL, "diff " + diff);
    }

    @Test
    void opsetsAndFixedBatchRunInOnnxRuntime() throws Exception {
        for (int opset : new int[]{13, 21}) {
            Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(sf4, Map.of(), Dl4jToOnnx.Options.defaults().withOpset(opset).withBatch(2));
            assertEquals(opset, c.model().getOpsetImport(0).getVersion());
            assertEquals("input float[2,3,112,96]", OnnxModels.describe(c.model().getGraph().getInput(0)));
            float[] x = OrtCheck.randomBatch(2, chw(c), 3);
            double diff = OrtCheck.maxAbsDiff(OrtCheck.dl4j(sf4, "fc5", x, 2, chw(c)),
                    OrtCheck.ort(c.model().toByteArray(), "embedding", x, 2, chw(c)));
            assertTrue(diff <= TOL, "opset " + opset + ": diff " + diff);
        }
        assertThrows(IllegalArgumentException.class, () -> Dl4jToOnnx.Options.defaults().withOpset(12));
        assertThrows(IllegalArgumentException.class, () -> Dl4jToOnnx.Options.defaults().withOpset(22));
    }

    @Test
    void fp16WeightsHalveTheFileAndStayClose() throws Exception {
        Dl4jToOnnx.Conversion f32 = Dl4jToOnnx.convert(sf4, Map.of(), Dl4jToOnnx.Options.defaults());
        Dl4jToOnnx.Conversion f16 = Dl4jToOnnx.convert(sf4, Map.of(),
                Dl4jToOnnx.Options.defaults().withPrecision(OnnxGraphBuilder.WeightPrecision.FLOAT16));
        byte[] b32 = f32.model().toByteArray();
        byte[] b16 = f16.model().toByteArray();
        assertTrue(b16.length < b32.length * 0.6, b16.length + " vs " + b32.length);
        assertEquals(OnnxModels.parameterCount(f32.model()), OnnxModels.parameterCount(f16.model()));
        float[] x = OrtCheck.randomBatch(2, chw(f32), 4);
        float[][] a = OrtCheck.ort(b32, "embedding", x, 2, chw(f32));
        float[][] b = OrtCheck.ort(b16, "embedding", x, 2, chw(f16));
        double diff = OrtCheck.maxAbsDiff(a, b);
        System.out.printf("[exporter] SphereFace-4 fp16 weights vs fp32: max abs diff %.3e%n", diff);
        assertTrue(diff > 0 && diff < 0.05, "fp16 diff " + diff);
    }

    @Test
    void nonFiniteWeightIsRefusedWithItsName() {
        ComputationGraph g = TestNets.sphereFace(4, 3);
        g.getLayer("conv2_1").getParam("W").putScalar(new long[]{0, 1, 2, 0}, Float.NaN);
        ExportException e = assertThrows(ExportException.class,
                () -> Dl4jToOnnx.convert(g, Map.of(), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("conv2_1/W"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());

        ComputationGraph h = TestNets.sphereFace(4, 3);
        h.getLayer("fc5").getParam("b").putScalar(5, Float.POSITIVE_INFINITY);
        e = assertThrows(ExportException.class, () -> Dl4jToOnnx.convert(h, Map.of(), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("fc5/b") && e.getMessage().contains("Infinity"), e.getMessage());
    }

    @Test
    void unsupportedLayerIsNamedWithClassAndSupportedList() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).graphBuilder()
                .addInputs("input").setInputTypes(InputType.convolutional(16, 16, 3))
                .addLayer("conv", new SphereConv2D(0, 4, new int[]{3, 3}, new int[]{1, 1}, new int[]{1, 1}, SphereConv2D.Init.XAVIER), "input")
                .addLayer("pool", new SpaceToBatchLayer.Builder(new int[]{2, 2}).build(), "conv")
                .addLayer("fc5", new DenseLayer.Builder().nOut(8).activation(Activation.IDENTITY).build(), "pool")
                .addLayer("fc6", new ASoftmaxHead(0, 3, 4), "fc5")
                .setOutputs("fc6").build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        ExportException e = assertThrows(ExportException.class, () -> Dl4jToOnnx.convert(g,
                Map.of("spherekit.input.height", "16", "spherekit.input.width", "16"), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("'pool'"), e.getMessage());
        assertTrue(e.getMessage().contains(SpaceToBatchLayer.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("SphereConv2D -> Conv"), e.getMessage());
    }

    /** An activation no mapper knows (every one of DL4J's own Activation enum is mapped): sin(x). */
    public static final class SinActivation extends BaseActivationFunction {
        @Override
        public INDArray getActivation(INDArray in, boolean training) {
            return Transforms.sin(in, false);
        }

        @Override
        public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
            throw new UnsupportedOperationException("inference only");
        }

        @Override
        public String toString() {
            return "sin";
        }
    }

    /** Dense activations are exported now (StandardLayerParityTest); one the mapper does not know is refused by name. */
    @Test
    void unsupportedDenseActivationIsRefused() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).graphBuilder()
                .addInputs("input").setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer("conv", new SphereConv2D(0, 4, new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1}, SphereConv2D.Init.XAVIER), "input")
                .addLayer("fc5", new DenseLayer.Builder().nOut(8).activation(new SinActivation()).build(), "conv")
                .addLayer("fc6", new ASoftmaxHead(0, 3, 4), "fc5")
                .setOutputs("fc6").build());
        g.init();
        ExportException e = assertThrows(ExportException.class, () -> Dl4jToOnnx.convert(g,
                Map.of("spherekit.input.height", "8", "spherekit.input.width", "8"), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("'fc5'") && e.getMessage().contains("SinActivation"), e.getMessage());
        assertTrue(e.getMessage().contains("activations: Identity, ReLU"), e.getMessage());
    }

    @Test
    void batchNormalizationExportsInInferenceForm() throws Exception {
        for (boolean logStd : new boolean[]{true, false}) {
            ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                    .updater(new Sgd(0.1)).graphBuilder()
                    .addInputs("input").setInputTypes(InputType.convolutional(20, 16, 3))
                    .addLayer("conv", new SphereConv2D(0, 6, new int[]{3, 3}, new int[]{2, 2}, new int[]{1, 1}, SphereConv2D.Init.XAVIER), "input")
                    .addLayer("bn", new BatchNormalization.Builder().useLogStd(logStd).eps(1e-3).build(), "conv")
                    .addLayer("relu", new ChannelPReLU(0), "bn")
                    .addLayer("fc5", new DenseLayer.Builder().nOut(10).activation(Activation.IDENTITY).build(), "relu")
                    .addLayer("fc5bn", new BatchNormalization.Builder().useLogStd(logStd).build(), "fc5")
                    .addLayer("fc6", new ASoftmaxHead(0, 3, 4), "fc5bn")
                    .setOutputs("fc6").build());
            g.init();
            TestNets.randomize(g, 21);
            for (String bn : new String[]{"bn", "fc5bn"}) {
                Map<String, INDArray> p = g.getLayer(bn).paramTable();
                if (logStd) {
                    p.get("log10stdev").assign(Nd4j.rand(DataType.FLOAT, p.get("log10stdev").shape()).subi(0.5));
                } else {
                    p.get("var").assign(Nd4j.rand(DataType.FLOAT, p.get("var").shape()).addi(0.2));
                }
                p.get("gamma").addi(1.0);
            }
            Map<String, String> meta = new HashMap<>(Map.of("spherekit.input.height", "20", "spherekit.input.width", "16"));
            for (boolean fold : new boolean[]{false, true}) {
                Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(g, meta, Dl4jToOnnx.Options.defaults().withFoldBatchNorm(fold));
                assertEquals("fc5bn", c.embeddingVertex());
                // Folded: the conv's BatchNormalization disappears into its weights; the one after the Dense stays.
                assertEquals(fold ? 1 : 2, (int) OnnxModels.opCounts(c.model()).get("BatchNormalization"));
                assertEquals(1, (int) OnnxModels.opCounts(c.model()).get("Conv") - 2, "one conv plus the PReLU's two");
                float[] x = OrtCheck.randomBatch(3, chw(c), 8);
                double diff = OrtCheck.maxAbsDiff(OrtCheck.dl4j(g, "fc5bn", x, 3, chw(c)),
                        OrtCheck.ort(c.model().toByteArray(), "embedding", x, 3, chw(c)));
                System.out.printf("[exporter] BatchNormalization (useLogStd=%s, folded=%s): ORT vs DL4J max abs diff %.3e%n",
                        logStd, fold, diff);
                assertTrue(diff <= TOL, "diff " + diff);
            }
        }
    }

    @Test
    void wrongInputSizeInMetadataIsReported() {
        ExportException e = assertThrows(ExportException.class, () -> Dl4jToOnnx.convert(sf4,
                Map.of("spherekit.input.height", "abc"), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("spherekit.input.height"), e.getMessage());
    }

    @Test
    void atomicWriteLeavesNothingOnFailure(@TempDir Path dir) throws Exception {
        Path missingDir = dir.resolve("nope").resolve("x.onnx");
        OnnxMl.ModelProto m = Dl4jToOnnx.convert(sf4, Map.of(), Dl4jToOnnx.Options.defaults()).model();
        assertThrows(IOException.class, () -> Dl4jToOnnx.write(m, missingDir));
        assertFalse(Files.exists(missingDir));
        // Replacing an existing file works and leaves no temp file next to it.
        Path target = dir.resolve("m.onnx");
        Files.writeString(target, "old");
        Dl4jToOnnx.write(m, target);
        assertEquals(m, OnnxMl.ModelProto.parseFrom(Files.readAllBytes(target)));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void fixedBatchIsDeclaredOnEveryInputAndOutputAndTheDefaultIsSymbolic() {
        OnnxMl.GraphProto fixed = Dl4jToOnnx.convert(sf4, Map.of(),
                Dl4jToOnnx.Options.defaults().withBatch(2).withL2norm(true)).model().getGraph();
        OnnxMl.GraphProto symbolic = Dl4jToOnnx.convert(sf4, Map.of(),
                Dl4jToOnnx.Options.defaults().withL2norm(true)).model().getGraph();
        List<OnnxMl.ValueInfoProto> fixedValues = new ArrayList<>(fixed.getInputList());
        fixedValues.addAll(fixed.getOutputList());
        List<OnnxMl.ValueInfoProto> symbolicValues = new ArrayList<>(symbolic.getInputList());
        symbolicValues.addAll(symbolic.getOutputList());
        assertEquals(List.of("input", "embedding", "embedding_norm"),
                fixedValues.stream().map(OnnxMl.ValueInfoProto::getName).toList());
        for (OnnxMl.ValueInfoProto v : fixedValues) {
            OnnxMl.TensorShapeProto.Dimension d = v.getType().getTensorType().getShape().getDim(0);
            assertTrue(d.hasDimValue() && d.getDimValue() == 2 && !d.hasDimParam(), v.getName() + ": " + d);
        }
        assertEquals(3, symbolicValues.size());
        for (OnnxMl.ValueInfoProto v : symbolicValues) {
            OnnxMl.TensorShapeProto.Dimension d = v.getType().getTensorType().getShape().getDim(0);
            assertTrue(!d.hasDimValue() && "batch".equals(d.getDimParam()), v.getName() + ": " + d);
        }
    }

    /** A MultiLayerNetwork with two problems: both are named, with their classes, before anything is written. */
    @Test
    void everyUnsupportedVertexOfAMultiLayerNetworkIsNamedAtOnce() {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(new SinActivation()).build())
                .layer(new SpaceToBatchLayer.Builder(new int[]{2, 2}).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(10, 10, 2)).build());
        n.init();
        ExportException e = assertThrows(ExportException.class,
                () -> Dl4jToOnnx.convert(n, InputType.convolutional(10, 10, 2), Map.of(), Dl4jToOnnx.Options.defaults()));
        String m = e.getMessage();
        assertTrue(m.contains("layer 'layer0': activation " + SinActivation.class.getName()), m);
        assertTrue(m.contains("vertex 'layer1': " + SpaceToBatchLayer.class.getName() + " is not supported"), m);
        assertTrue(m.contains("ConvolutionLayer -> Conv (+ activation)") && m.contains("activations: Identity, ReLU"), m);
    }
}
