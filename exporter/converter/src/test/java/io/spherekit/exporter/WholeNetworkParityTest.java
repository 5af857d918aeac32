package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import io.spherekit.onnx.OnnxModels;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two whole networks of standard DL4J layers only, exported and run in ONNX Runtime at batch 1 and 7 and at opsets
 * 13, 17 and 21: a ResNet-style ComputationGraph and a MultiLayerNetwork CNN with pooling, dropout and softmax.
 */
class WholeNetworkParityTest {
    static final double TOL = 1e-5;

    /**
     * ResNet-style graph on 3×23×19: conv-BN-ReLU stem, an identity residual block, a stride-2 block with a 1×1
     * projection shortcut, max pooling, global average pooling, softmax output over 6 classes.
     */
    static ComputationGraph resnet() {
        ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).graphBuilder().addInputs("input").setInputTypes(InputType.convolutional(23, 19, 3));
        b.addLayer("stem", conv(3, 1, 8), "input")
                .addLayer("stem_bn", new BatchNormalization.Builder().build(), "stem")
                .addLayer("stem_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "stem_bn");
        b.addLayer("b1_c1", conv(3, 1, 8), "stem_relu")
                .addLayer("b1_bn1", new BatchNormalization.Builder().build(), "b1_c1")
                .addLayer("b1_r1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "b1_bn1")
                .addLayer("b1_c2", conv(3, 1, 8), "b1_r1")
                .addLayer("b1_bn2", new BatchNormalization.Builder().build(), "b1_c2")
                .addVertex("b1_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b1_bn2", "stem_relu")
                .addLayer("b1_out", new ActivationLayer.Builder().activation(Activation.RELU).build(), "b1_add");
        b.addLayer("b2_c1", conv(3, 2, 16), "b1_out")
                .addLayer("b2_bn1", new BatchNormalization.Builder().build(), "b2_c1")
                .addLayer("b2_r1", new ActivationLayer.Builder().activation(Activation.RELU).build(), "b2_bn1")
                .addLayer("b2_c2", conv(3, 1, 16), "b2_r1")
                .addLayer("b2_bn2", new BatchNormalization.Builder().build(), "b2_c2")
                .addLayer("b2_proj", conv(1, 2, 16), "b1_out")
                .addLayer("b2_proj_bn", new BatchNormalization.Builder().build(), "b2_proj")
                .addVertex("b2_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b2_bn2", "b2_proj_bn")
                .addLayer("b2_out", new ActivationLayer.Builder().activation(Activation.RELU).build(), "b2_add");
        b.addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2)
                        .convolutionMode(ConvolutionMode.Same).build(), "b2_out")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "pool")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(6)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out");
        ComputationGraph g = new ComputationGraph(b.build());
        g.init();
        Parity.randomize(g, 17);
        return g;
    }

    private static ConvolutionLayer conv(int k, int stride, int nOut) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).convolutionMode(ConvolutionMode.Same)
                .nOut(nOut).activation(Activation.IDENTITY).build();
    }

    /** LeNet-style MultiLayerNetwork on 1×27×23: conv, max pool, conv (Same), avg pool, dropout, dense, dropout, softmax. */
    static MultiLayerNetwork cnn() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(6).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(6).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).convolutionMode(ConvolutionMode.Same).nOut(10)
                        .activation(Activation.LEAKYRELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DropoutLayer.Builder(0.5).build())
                .layer(new DenseLayer.Builder().nOut(24).activation(Activation.RELU).dropOut(0.8).build())
                .layer(new DropoutLayer.Builder(0.7).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(7).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(27, 23, 1))
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        Parity.randomize(n, 18);
        return n;
    }

    private static void assertParity(String label, Object network, Dl4jToOnnx.Conversion c) throws Exception {
        try (OrtSession s = Parity.session(c.model())) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result r = Parity.compare(network, c, s, batch, 100 + batch);
                System.out.printf("[parity] %s opset %d batch %d: max abs %.2e, relative %.2e%n", label,
                        c.model().getOpsetImport(0).getVersion(), batch, r.maxAbsDiff(), r.relative());
                assertTrue(r.maxAbs() > 0.05, "degenerate output " + r.maxAbs());
                assertTrue(r.relative() <= TOL, label + " batch " + batch + ": relative " + r.relative());
            }
        }
    }

    @Test
    void resnetStyleGraphMatches() throws Exception {
        ComputationGraph g = resnet();
        for (int opset : new int[]{13, 17, 21}) {
            Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(g, Map.of("spherekit.input.height", "23", "spherekit.input.width", "19"),
                    Dl4jToOnnx.Options.defaults().withOpset(opset));
            assertArrayEquals(new long[]{3, 23, 19}, c.inputShape());
            assertArrayEquals(new long[]{6}, c.outputShape());
            assertEquals("out", c.embeddingVertex());
            // Every BatchNormalization follows an activation-free conv that feeds nothing else: all 6 are folded.
            Map<String, Integer> ops = OnnxModels.opCounts(c.model());
            assertEquals(null, ops.get("BatchNormalization"), ops.toString());
            assertEquals(6, (int) ops.get("Conv"), ops.toString());
            assertParity("ResNet-style ComputationGraph", g, c);
        }
        Dl4jToOnnx.Conversion unfolded = Dl4jToOnnx.convert(g, InputType.convolutional(23, 19, 3), Map.of(),
                Dl4jToOnnx.Options.defaults().withFoldBatchNorm(false));
        assertEquals(6, (int) OnnxModels.opCounts(unfolded.model()).get("BatchNormalization"));
        assertParity("ResNet-style ComputationGraph (BN as nodes)", g, unfolded);
    }

    @Test
    void multiLayerNetworkCnnMatches() throws Exception {
        MultiLayerNetwork n = cnn();
        for (int opset : new int[]{13, 17, 21}) {
            // Input size from the metadata, channels from the first convolution's nIn.
            Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(n, Map.of("spherekit.input.height", "27", "spherekit.input.width", "23"),
                    Dl4jToOnnx.Options.defaults().withOpset(opset));
            assertArrayEquals(new long[]{1, 27, 23}, c.inputShape());
            assertArrayEquals(new long[]{7}, c.outputShape());
            OnnxMl.GraphProto graph = c.model().getGraph();
            assertEquals("input float[batch,1,27,23]", OnnxModels.describe(graph.getInput(0)));
            assertEquals("embedding float[batch,7]", OnnxModels.describe(graph.getOutput(0)));
            assertEquals(Map.of("Conv", 2, "Relu", 2, "LeakyRelu", 1, "MaxPool", 1, "AveragePool", 1, "Flatten", 1,
                    "Gemm", 2, "Softmax", 1), OnnxModels.opCounts(c.model()));
            assertParity("MultiLayerNetwork CNN", n, c);
        }
    }

    /**
     * Input types inferred from the first layer, no metadata: a MultiLayerNetwork on flattened 1×7×9 images
     * (FeedForwardToCnnPreProcessor → Reshape; ONNX input {@code [batch, 63]}) and a plain dense one
     * (feed-forward nIn; ONNX input {@code [batch, 13]}).
     */
    @Test
    void inputTypeIsInferredForFlatAndDenseMultiLayerNetworks() throws Exception {
        MultiLayerNetwork flat = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(8).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.ELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(7, 9, 1)).build());
        flat.init();
        Parity.randomize(flat, 9);
        Dl4jToOnnx.Conversion c = Dl4jToOnnx.convert(flat, Map.of(), Dl4jToOnnx.Options.defaults());
        assertEquals("input float[batch,63]", OnnxModels.describe(c.model().getGraph().getInput(0)));
        assertEquals(1, (int) OnnxModels.opCounts(c.model()).get("Reshape"));
        assertParity("MultiLayerNetwork on flat images", flat, c);

        MultiLayerNetwork dense = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(10).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new DenseLayer.Builder().nIn(13).nOut(8).activation(Activation.SWISH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(3).activation(Activation.IDENTITY).build())
                .build());
        dense.init();
        Parity.randomize(dense, 11);
        Dl4jToOnnx.Conversion d = Dl4jToOnnx.convert(dense, Map.of(), Dl4jToOnnx.Options.defaults().withL2norm(true));
        assertEquals("input float[batch,13]", OnnxModels.describe(d.model().getGraph().getInput(0)));
        assertEquals("embedding float[batch,3]", OnnxModels.describe(d.model().getGraph().getOutput(0)));
        assertParity("dense MultiLayerNetwork", dense, d);
    }
}
