package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.util.MaskZeroLayer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GravesBidirectionalLSTM;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Embedding and recurrent layers: random weights, odd sizes (5 input features, 7 time steps, 3 hidden units;
 * vocabularies of 13 and 11), batch 1 and 7; ONNX Runtime must match DL4J to 1e-5 relative. Embedding inputs are
 * integer indices stored as floats, as DL4J takes them. The negative tests break the gate order and the
 * time/batch transpose of a correct export and require the parity check to notice.
 */
class RecurrentLayerParityTest {
    static final int NIN = 5;
    static final int T = 7;
    static final int H = 3;
    static final InputType SEQ = InputType.recurrent(NIN, T);
    /** The same sequences in NWC: {@code [N, T, F]}. */
    static final InputType SEQ_NWC = InputType.recurrent(NIN, T, RNNFormat.NWC);

    /** A case: the network and whether its input holds indices below {@code vocab} (0: real-valued). */
    record Case(String label, InputType input, int vocab, org.deeplearning4j.nn.conf.layers.Layer... layers) {
        @Override
        public String toString() {
            return label;
        }

        Parity.Net build() {
            // No input types for an embedding: DL4J would then set its nIn (the vocabulary) to the input's size, 1.
            ComputationGraphConfiguration.GraphBuilder b = vocab > 0
                    ? new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).updater(new Sgd(0.1)).graphBuilder().addInputs("input")
                    : StandardLayerCases.builder(input);
            String prev = "input";
            for (int i = 0; i < layers.length; i++) {
                b.addLayer("l" + i, layers[i].clone(), prev);
                prev = "l" + i;
            }
            ComputationGraph g = new ComputationGraph(b.setOutputs(prev).build());
            g.init();
            randomize(g, label.hashCode());
            return new Parity.Net(label, g, input);
        }

        float[] input(int n, long[] shape, long seed) {
            float[] x = Parity.randomInput(n, shape, seed);
            if (vocab > 0) {
                Random r = new Random(seed);
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextInt(vocab);
                }
            } else {
                for (int i = 0; i < x.length; i++) {
                    x[i] *= 2f;
                }
            }
            return x;
        }
    }

    /** Weights N(0, 1/fanIn) (recurrent ones too, so the state matters), biases N(0, 0.3²), embeddings N(0, 1). */
    static void randomize(ComputationGraph g, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Layer l : g.getLayers()) {
            for (Map.Entry<String, INDArray> e : l.paramTable().entrySet()) {
                INDArray p = e.getValue();
                String k = e.getKey();
                double scale = k.endsWith("b") ? 0.3 : p.rank() == 2 && p.size(0) > 1 ? 1.0 / Math.sqrt(p.size(0)) : 0.3;
                if (l.getConfig() instanceof EmbeddingLayer || l.getConfig() instanceof EmbeddingSequenceLayer) {
                    scale = k.equals("W") ? 1.0 : 0.3;
                }
                p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(scale));
            }
        }
    }

    static LSTM lstm(Activation act, Activation gate) {
        return new LSTM.Builder().nOut(H).activation(act).gateActivationFunction(gate).build();
    }

    static SimpleRnn rnn(Activation act) {
        return new SimpleRnn.Builder().nOut(H).activation(act).build();
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("embedding vocab 13 -> 6 bias tanh", InputType.feedForward(1), 13,
                new EmbeddingLayer.Builder().nIn(13).nOut(6).hasBias(true).activation(Activation.TANH).build()));
        c.add(new Case("embedding vocab 13 -> 5 no bias", InputType.feedForward(1), 13,
                new EmbeddingLayer.Builder().nIn(13).nOut(5).hasBias(false).activation(Activation.IDENTITY).build()));
        c.add(new Case("embedding sequence vocab 11 -> 4 bias relu", InputType.recurrent(1, T), 11,
                new EmbeddingSequenceLayer.Builder().nIn(11).nOut(4).inputLength(T).hasBias(true).activation(Activation.RELU).build()));
        c.add(new Case("lstm tanh/sigmoid", SEQ, 0, lstm(Activation.TANH, Activation.SIGMOID)));
        c.add(new Case("lstm softsign/hard sigmoid", SEQ, 0, lstm(Activation.SOFTSIGN, Activation.HARDSIGMOID)));
        c.add(new Case("lstm relu/sigmoid", SEQ, 0, lstm(Activation.RELU, Activation.SIGMOID)));
        c.add(new Case("graves lstm (peepholes)", SEQ, 0, new GravesLSTM.Builder().nOut(H).activation(Activation.TANH).build()));
        c.add(new Case("bidirectional graves lstm CONCAT", SEQ, 0,
                new Bidirectional(Bidirectional.Mode.CONCAT, new GravesLSTM.Builder().nOut(H).activation(Activation.TANH).build())));
        c.add(new Case("simple rnn tanh", SEQ, 0, rnn(Activation.TANH)));
        c.add(new Case("simple rnn relu", SEQ, 0, rnn(Activation.RELU)));
        c.add(new Case("simple rnn sigmoid", SEQ, 0, rnn(Activation.SIGMOID)));
        c.add(new Case("simple rnn hard sigmoid", SEQ, 0, rnn(Activation.HARDSIGMOID)));
        c.add(new Case("simple rnn softsign", SEQ, 0, rnn(Activation.SOFTSIGN)));
        for (Bidirectional.Mode m : Bidirectional.Mode.values()) {
            c.add(new Case("bidirectional lstm " + m, SEQ, 0, new Bidirectional(m, lstm(Activation.TANH, Activation.SIGMOID))));
        }
        c.add(new Case("bidirectional simple rnn CONCAT", SEQ, 0, new Bidirectional(Bidirectional.Mode.CONCAT, rnn(Activation.TANH))));
        c.add(new Case("last time step lstm", SEQ, 0, new LastTimeStep(lstm(Activation.TANH, Activation.SIGMOID))));
        c.add(new Case("last time step bidirectional simple rnn ADD", SEQ, 0,
                new LastTimeStep(new Bidirectional(Bidirectional.Mode.ADD, rnn(Activation.TANH)))));
        c.add(new Case("rnn output layer softmax", SEQ, 0,
                new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build()));
        // (DL4J M2.1's own RnnOutputLayer fails without a bias: a null bias row vector in its forward pass.)
        c.add(new Case("lstm + rnn output layer tanh", SEQ, 0, lstm(Activation.TANH, Activation.SIGMOID),
                new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(6).activation(Activation.TANH).build()));
        c.add(new Case("embedding sequence + lstm + last step + dense", InputType.recurrent(1, T), 11,
                new EmbeddingSequenceLayer.Builder().nIn(11).nOut(NIN).inputLength(T).activation(Activation.IDENTITY).build(),
                new LSTM.Builder().nIn(NIN).nOut(H).activation(Activation.TANH).build(),
                new LastTimeStep(new SimpleRnn.Builder().nIn(H).nOut(H).activation(Activation.TANH).build()),
                new DenseLayer.Builder().nIn(H).nOut(4).activation(Activation.IDENTITY).build()));
        // NWC ([N, T, F]) networks: the ONNX input and sequence outputs are NWC too, NCW inside.
        c.add(new Case("lstm [NWC]", SEQ_NWC, 0, new LSTM.Builder().nOut(H).activation(Activation.TANH)
                .dataFormat(RNNFormat.NWC).build()));
        c.add(new Case("simple rnn + rnn output layer softmax [NWC]", SEQ_NWC, 0,
                new SimpleRnn.Builder().nOut(H).activation(Activation.TANH).dataFormat(RNNFormat.NWC).build(),
                new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX)
                        .dataFormat(RNNFormat.NWC).build()));
        c.add(new Case("bidirectional lstm CONCAT [NWC]", SEQ_NWC, 0, new Bidirectional(Bidirectional.Mode.CONCAT,
                new LSTM.Builder().nOut(H).activation(Activation.TANH).dataFormat(RNNFormat.NWC).build())));
        c.add(new Case("last time step graves lstm [NWC] + dense", SEQ_NWC, 0, new LastTimeStep(
                new GravesLSTM.Builder().nOut(H).activation(Activation.TANH).dataFormat(RNNFormat.NWC).build()),
                new DenseLayer.Builder().nOut(4).activation(Activation.IDENTITY).build()));
        return c;
    }

    static Parity.Result compare(Case c, Parity.Net net, Dl4jToOnnx.Conversion conv, OrtSession s, int n, long seed) throws Exception {
        long[] shape = Parity.withBatch(n, conv.inputShape());
        float[] x = c.input(n, conv.inputShape(), seed);
        Parity.Output dl = Parity.dl4j(net.network(), conv.embeddingVertex(), x, shape);
        Parity.Output onnx = Parity.ort(s, x, shape);
        if (!Arrays.equals(dl.shape(), onnx.shape())) {
            System.out.printf("[parity] output shapes differ: DL4J %s, ORT %s%n", Arrays.toString(dl.shape()), Arrays.toString(onnx.shape()));
            return new Parity.Result(Double.POSITIVE_INFINITY, 1);
        }
        double diff = 0;
        double max = 0;
        for (int i = 0; i < dl.values().length; i++) {
            double d = Math.abs((double) dl.values()[i] - onnx.values()[i]);
            diff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(diff, d);
            max = Math.max(max, Math.abs(dl.values()[i]));
        }
        return new Parity.Result(diff, max);
    }

    static Case find(String label) {
        return cases().stream().filter(c -> c.label().equals(label)).findFirst().orElseThrow(() -> new AssertionError(label));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ortMatchesDl4j(Case c) throws Exception {
        Parity.Net net = c.build();
        Dl4jToOnnx.Conversion conv = net.convert(Dl4jToOnnx.Options.defaults());
        try (OrtSession s = Parity.session(conv.model())) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result r = compare(c, net, conv, s, batch, 31L * batch + c.label().length());
                System.out.printf("[parity] %-50s batch %d: max abs %.2e, relative %.2e%n", c.label(), batch,
                        r.maxAbsDiff(), r.relative());
                assertTrue(r.maxAbs() > 1e-3, c.label() + ": degenerate output, max |DL4J| = " + r.maxAbs());
                assertTrue(r.relative() <= StandardLayerParityTest.TOL, c.label() + " batch " + batch + ": relative difference "
                        + r.relative() + " (max abs " + r.maxAbsDiff() + ")");
            }
        }
    }

    /** A correct export matches; the broken one must not (relative difference above 1e-3, at batch 7 and 1). */
    static void assertDetected(String label, String broken, UnaryOperator<OnnxMl.ModelProto> mutation) throws Exception {
        Case c = find(label);
        Parity.Net net = c.build();
        Dl4jToOnnx.Conversion conv = net.convert(Dl4jToOnnx.Options.defaults());
        OnnxMl.ModelProto bad = mutation.apply(conv.model());
        assertNotEquals(conv.model(), bad, "the mutation changed nothing");
        try (OrtSession good = Parity.session(conv.model()); OrtSession wrong = Parity.session(bad)) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result g = compare(c, net, conv, good, batch, 5);
                Parity.Result b = compare(c, net, conv, wrong, batch, 5);
                System.out.printf("[mutation] %-35s %-50s batch %d: correct %.1e, broken %.1e%n", label, broken, batch,
                        g.relative(), b.relative());
                assertTrue(g.relative() <= StandardLayerParityTest.TOL, "correct export: relative " + g.relative());
                assertTrue(b.relative() > 1e-3, "the broken rule (" + broken + ") went unnoticed: relative " + b.relative());
            }
        }
    }

    /** The four H-row gate blocks of W, R and B (both bias halves) put back in DL4J's column order [c, f, o, i]. */
    static OnnxMl.ModelProto dl4jGateOrder(OnnxMl.ModelProto m) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (!t.getName().matches("l0_[WRB]")) {
                continue;
            }
            ByteBuffer in = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] v = new float[in.remaining() / 4];
            in.asFloatBuffer().get(v);
            int blocks = t.getName().equals("l0_B") ? 8 : 4;
            int per = v.length / blocks;
            float[] out = new float[v.length];
            for (int b = 0; b < blocks; b++) {
                int to = (b / 4) * 4 + (3 - b % 4);
                System.arraycopy(v, b * per, out, to * per, per);
            }
            ByteBuffer o = ByteBuffer.allocate(out.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            o.asFloatBuffer().put(out);
            g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(o.array())));
        }
        return m.toBuilder().setGraph(g).build();
    }

    /** Sets the perm of the Transpose node named {@code node}. */
    static OnnxMl.ModelProto perm(OnnxMl.ModelProto m, String node, long... perm) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        boolean found = false;
        for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
            if (n.getName().equals(node)) {
                for (OnnxMl.AttributeProto.Builder a : n.getAttributeBuilderList()) {
                    a.clearInts();
                    for (long p : perm) {
                        a.addInts(p);
                    }
                }
                found = true;
            }
        }
        assertTrue(found, "no node " + node);
        return m.toBuilder().setGraph(g).build();
    }

    @Test
    void lstmGateOrderMatters() throws Exception {
        assertDetected("lstm tanh/sigmoid", "gates in DL4J's block order (c, f, o, i) instead of iofc", RecurrentLayerParityTest::dl4jGateOrder);
    }

    @Test
    void gravesPeepholesMatter() throws Exception {
        assertDetected("graves lstm (peepholes)", "peepholes in DL4J's column order (f, o, i) instead of ONNX's (i, o, f)",
                m -> LayoutMutationTest.mapFloats(m, "l0_P", (p, d) -> {
                    float[] out = p.clone();
                    System.arraycopy(p, 0, out, 2 * H, H);
                    System.arraycopy(p, 2 * H, out, 0, H);
                    return out;
                }));
    }

    @Test
    void timeBatchTransposeMatters() throws Exception {
        // NCW read as [N, T, I] -> time and batch swapped (7 steps, batch 7: the shapes still fit).
        assertDetected("lstm tanh/sigmoid", "batch and time swapped around the LSTM",
                m -> perm(perm(m, "l0_tni", 0, 2, 1), "l0_ndht", 0, 1, 3, 2));
        assertDetected("simple rnn tanh", "batch and time swapped around the RNN",
                m -> perm(perm(m, "l0_tni", 0, 2, 1), "l0_ndht", 0, 1, 3, 2));
    }

    @Test
    void bidirectionalDirectionsMatter() throws Exception {
        // The forward layer's weights run backward in time and the backward layer's forward.
        assertDetected("bidirectional lstm CONCAT", "forward and backward weights swapped", RecurrentLayerParityTest::swapDirections);
    }

    /** Swaps the two direction slices of W, R and B (the backward weights run forward and vice versa). */
    static OnnxMl.ModelProto swapDirections(OnnxMl.ModelProto m) {
        OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            OnnxMl.TensorProto t = g.getInitializer(i);
            if (!t.getName().matches("l0_[WRB]")) {
                continue;
            }
            byte[] raw = t.getRawData().toByteArray();
            byte[] out = new byte[raw.length];
            int half = raw.length / 2;
            System.arraycopy(raw, 0, out, half, half);
            System.arraycopy(raw, half, out, 0, half);
            g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(out)));
        }
        return m.toBuilder().setGraph(g).build();
    }

    @Test
    void refusesLayerNormRnnGravesBidirectionalAndOtherActivationsInOneError() {
        ExportException e = assertThrows(ExportException.class, () -> new Case("refused", SEQ, 0,
                new SimpleRnn.Builder().nOut(H).hasLayerNorm(true).build(),
                new GravesBidirectionalLSTM.Builder().nOut(H).build(),
                new LSTM.Builder().nOut(H).gateActivationFunction(Activation.TANH).build()).build().convert(Dl4jToOnnx.Options.defaults()));
        String m = e.getMessage();
        assertTrue(m.contains("'l0'") && m.contains("layer normalisation"), m);
        assertTrue(m.contains("'l1'") && m.contains(GravesBidirectionalLSTM.class.getName() + " is not supported"), m);
        assertTrue(m.contains("'l2'") && m.contains("gate activation"), m);
        e = assertThrows(ExportException.class, () -> new Case("lstm elu", SEQ, 0,
                new LSTM.Builder().nOut(H).activation(Activation.ELU).build()).build().convert(Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("'l0'") && e.getMessage().contains("ELU") && e.getMessage().contains("TanH"), e.getMessage());
    }

    /**
     * An NWC input read with a Reshape to {@code [N, F, T]} instead of a Transpose (same element count, so the shapes
     * still fit: the classic layout bug) must miss DL4J.
     */
    @Test
    void nwcInputIsTransposedNotReshaped() throws Exception {
        assertDetected("lstm [NWC]", "NWC input reshaped to [N, F, T] instead of transposed", m -> {
            OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
            for (int i = 0; i < g.getNodeCount(); i++) {
                if (g.getNode(i).getOpType().equals("Transpose") && g.getNode(i).getOutput(0).equals("input_ncw")) {
                    ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
                    b.asLongBuffer().put(new long[]{-1, NIN, T});
                    g.addInitializer(OnnxMl.TensorProto.newBuilder().setName("mut_shape").addDims(3)
                            .setDataType(OnnxMl.TensorProto.DataType.INT64.getNumber()).setRawData(ByteString.copyFrom(b.array())));
                    g.setNode(i, g.getNode(i).toBuilder().setOpType("Reshape").clearAttribute().addInput("mut_shape"));
                    return m.toBuilder().setGraph(g).build();
                }
            }
            throw new AssertionError("no input_ncw Transpose");
        });
    }

    /** The NWC export's graph input is [batch, T, F] and its sequence output [batch, T, classes]. */
    @Test
    void nwcInputAndOutputKeepDl4jsLayout() throws Exception {
        Dl4jToOnnx.Conversion conv = find("simple rnn + rnn output layer softmax [NWC]").build().convert(Dl4jToOnnx.Options.defaults());
        assertArrayEquals(new long[]{T, NIN}, conv.inputShape());
        assertArrayEquals(new long[]{T, 4}, conv.outputShape());
    }

    /** A MaskZeroLayer is refused with the reason. */
    @Test
    void masksAreRefusedNamingTheReason() {
        ExportException e = assertThrows(ExportException.class, () -> new Case("mask zero", SEQ, 0,
                new MaskZeroLayer.Builder().setUnderlying(lstm(Activation.TANH, Activation.SIGMOID)).setMaskValue(0.0).build())
                .build().convert(Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("'l0'") && e.getMessage().contains(MaskZeroLayer.class.getName())
                && e.getMessage().contains("mask cannot be expressed") && e.getMessage().contains("sequence_lens"), e.getMessage());
    }

    static MultiLayerNetwork mln(long seed, org.deeplearning4j.nn.conf.layers.Layer... layers) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list();
        for (org.deeplearning4j.nn.conf.layers.Layer l : layers) {
            b.layer(l);
        }
        MultiLayerNetwork n = new MultiLayerNetwork(b.build());
        n.init();
        Nd4j.getRandom().setSeed(seed);
        for (Layer l : n.getLayers()) {
            for (INDArray p : l.paramTable().values()) {
                p.assign(Nd4j.randn(p.dataType(), p.shape()).muli(0.5));
            }
        }
        return n;
    }

    /** A MultiLayerNetwork starting with an EmbeddingLayer converts without an input type: [N, 1] indices. */
    @Test
    void multiLayerNetworkWithEmbeddingInfersItsInput() throws Exception {
        MultiLayerNetwork n = mln(3, new EmbeddingLayer.Builder().nIn(13).nOut(6).activation(Activation.IDENTITY).build(),
                new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(5).activation(Activation.SOFTMAX).build());
        Dl4jToOnnx.Conversion conv = Dl4jToOnnx.convert(n, Map.of(), Dl4jToOnnx.Options.defaults());
        assertArrayEquals(new long[]{1}, conv.inputShape());
        Case c = new Case("mln embedding", InputType.feedForward(1), 13);
        try (OrtSession s = Parity.session(conv.model())) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result r = compare(c, new Parity.Net("mln", n, InputType.feedForward(1)), conv, s, batch, batch);
                assertTrue(r.maxAbs() > 1e-3 && r.relative() <= StandardLayerParityTest.TOL, "relative " + r.relative());
            }
        }
    }

    /** A MultiLayerNetwork starting with an LSTM needs the sequence length: refused without it, exact with it. */
    @Test
    void multiLayerNetworkWithLstm() throws Exception {
        MultiLayerNetwork n = mln(4, new LSTM.Builder().nIn(NIN).nOut(H).activation(Activation.TANH).build(),
                new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(H).nOut(4).activation(Activation.SOFTMAX).build());
        ExportException e = assertThrows(ExportException.class, () -> Dl4jToOnnx.convert(n, Map.of(), Dl4jToOnnx.Options.defaults()));
        assertTrue(e.getMessage().contains("InputType.recurrent"), e.getMessage());
        Dl4jToOnnx.Conversion conv = Dl4jToOnnx.convert(n, SEQ, Map.of(), Dl4jToOnnx.Options.defaults());
        Case c = new Case("mln lstm", SEQ, 0);
        try (OrtSession s = Parity.session(conv.model())) {
            for (int batch : new int[]{1, 7}) {
                Parity.Result r = compare(c, new Parity.Net("mln", n, SEQ), conv, s, batch, batch);
                System.out.printf("[parity] MultiLayerNetwork LSTM + RnnOutputLayer batch %d: relative %.2e%n", batch, r.relative());
                assertTrue(r.maxAbs() > 1e-3 && r.relative() <= StandardLayerParityTest.TOL, "relative " + r.relative());
            }
        }
    }

    @Test
    void embeddingTableOrderMatters() throws Exception {
        assertDetected("embedding vocab 13 -> 6 bias tanh", "table W [nIn, nOut] read in f order",
                m -> LayoutMutationTest.mapFloats(m, "l0_W", LayoutMutationTest::transposedData));
        assertDetected("embedding sequence vocab 11 -> 4 bias relu", "table W [nIn, nOut] read in f order",
                m -> LayoutMutationTest.mapFloats(m, "l0_W", LayoutMutationTest::transposedData));
    }

    @Test
    void rnnOutputSoftmaxAxisMatters() throws Exception {
        assertDetected("rnn output layer softmax", "softmax over the time axis", m -> {
            OnnxMl.GraphProto.Builder g = m.getGraph().toBuilder();
            for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
                if (n.getOpType().equals("Softmax")) {
                    n.getAttributeBuilderList().forEach(a -> a.setI(2));
                }
            }
            return m.toBuilder().setGraph(g).build();
        });
    }
}
