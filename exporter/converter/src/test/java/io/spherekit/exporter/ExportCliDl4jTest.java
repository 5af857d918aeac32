package io.spherekit.exporter;

import ai.onnx.proto.OnnxMl;
import io.spherekit.core.ModelMetadata;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.Cli;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.util.MaskZeroLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code export-model --model} with plain DL4J zips (ModelSerializer, no SphereKit metadata): MultiLayerNetworks and
 * graphs, recurrent ones with {@code --input-type sequence:F,T[,nwc]}, an image CNN recording the preprocessing and
 * alignment template given on the command line; {@code --check} compares ONNX Runtime with DL4J on each.
 */
class ExportCliDl4jTest {

    private static NeuralNetConfiguration.Builder conf() {
        return new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1));
    }

    private static Map<String, String> metadata(Path onnx) throws Exception {
        Map<String, String> m = new TreeMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx)).getMetadataPropsList().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    /** The check line's max abs diff and max |output|: the check ran, and DL4J's output is not degenerate. */
    private static void assertChecked(ExportCliTest.Run r) {
        Matcher m = Pattern.compile("max abs diff (\\S+) on a random batch of \\d+ \\(max \\|embedding\\| (\\S+),").matcher(r.out());
        assertTrue(m.find(), r.out());
        double diff = Double.parseDouble(m.group(1));
        double max = Double.parseDouble(m.group(2));
        assertTrue(max > 1e-2, "degenerate output: " + r.out());
        assertTrue(diff / max <= 1e-5, "ORT vs DL4J relative " + diff / max + ": " + r.out());
        assertTrue(r.out().contains(": OK"), r.out());
    }

    @Test
    void recurrentMultiLayerNetworkZipExportsWithItsSequenceLength(@TempDir Path dir) throws Exception {
        MultiLayerNetwork n = new MultiLayerNetwork(conf().list()
                .layer(new LSTM.Builder().nIn(5).nOut(4).activation(Activation.TANH).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        Parity.randomize(n, 11);
        Path zip = dir.resolve("rnn.zip");
        ModelSerializer.writeModel(n, zip.toFile(), false);
        Path out = dir.resolve("rnn.onnx");

        ExportCliTest.Run refused = ExportCliTest.run("--model", zip.toString(), "--output", out.toString());
        assertEquals(Cli.FAILURE, refused.code(), refused.out());
        assertTrue(refused.err().contains("--input-type sequence:F,T"), refused.err());
        assertFalse(Files.exists(out));

        ExportCliTest.Run r = ExportCliTest.run("--model", zip.toString(), "--output", out.toString(),
                "--input-type", "sequence:5,9", "--check");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("inputs:  input float[batch,5,9]"), r.out());
        assertTrue(r.out().contains("outputs: embedding float[batch,3,9]"), r.out());
        assertChecked(r);
        Map<String, String> meta = metadata(out);
        assertEquals("dl4j:rnn.zip", meta.get("spherekit.source"));
        assertFalse(meta.keySet().stream().anyMatch(k -> k.startsWith("spherekit.input.")), "no image preprocessing: " + meta);

        // Preprocessing options on a non-image input are a usage error naming the input.
        ExportCliTest.Run bad = ExportCliTest.run("--model", zip.toString(), "--output", dir.resolve("x.onnx").toString(),
                "--input-type", "sequence:5,9", "--mean", "1");
        assertEquals(Cli.USAGE, bad.code(), bad.out() + bad.err());
        assertTrue(bad.err().contains("3-channel image inputs") && bad.err().contains("[5, 9]"), bad.err());
    }

    @Test
    void nwcGraphZipTakesAndGivesDl4jsLayout(@TempDir Path dir) throws Exception {
        ComputationGraph g = new ComputationGraph(conf().graphBuilder().addInputs("in")
                .setInputTypes(InputType.recurrent(5, 6, RNNFormat.NWC))
                .addLayer("lstm", new LastTimeStep(new LSTM.Builder().nOut(4).activation(Activation.TANH).dataFormat(RNNFormat.NWC).build()), "in")
                .addLayer("fc", new DenseLayer.Builder().nOut(3).activation(Activation.IDENTITY).build(), "lstm")
                .setOutputs("fc").build());
        g.init();
        Parity.randomize(g, 12);
        Path zip = dir.resolve("nwc.zip");
        ModelSerializer.writeModel(g, zip.toFile(), false);
        Path out = dir.resolve("nwc.onnx");
        ExportCliTest.Run r = ExportCliTest.run("--model", zip.toString(), "--output", out.toString(),
                "--input-type", "sequence:5,6,nwc", "--check", "--batch", "3");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("inputs:  input float[3,6,5]"), r.out());
        assertTrue(r.out().contains("outputs: embedding float[3,3]"), r.out());
        assertChecked(r);
    }

    @Test
    void imageMultiLayerNetworkZipRecordsTheGivenPreprocessingAndTemplate(@TempDir Path dir) throws Exception {
        MultiLayerNetwork n = new MultiLayerNetwork(conf().list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX, new int[]{2, 2}, new int[]{2, 2}).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(5).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(23, 19, 3)).build());
        n.init();
        Parity.randomize(n, 13);
        Path zip = dir.resolve("cnn.zip");
        ModelSerializer.writeModel(n, zip.toFile(), false);
        Path out = dir.resolve("cnn.onnx");
        ExportCliTest.Run r = ExportCliTest.run("--model", zip.toString(), "--output", out.toString(),
                "--input-type", "image:23,19,3", "--mean", "0", "--scale", "0.5", "--channel-order", "BGR",
                "--align-template", "arcface-112x112", "--check");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("inputs:  input float[batch,3,23,19]"), r.out());
        assertChecked(r);
        ModelMetadata meta = ModelMetadata.parse(metadata(out));
        assertEquals(Preprocessing.fullImage(23, 19, 0f, 0.5f, Preprocessing.ChannelOrder.BGR), meta.preprocessing().orElseThrow());
        assertEquals("arcface-112x112", metadata(out).get(Preprocessing.ALIGN_TEMPLATE_KEY));
    }

    @Test
    void badInputTypeSpecIsAUsageErrorAndMasksAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        MultiLayerNetwork n = new MultiLayerNetwork(conf().list()
                .layer(new MaskZeroLayer.Builder().setUnderlying(new LSTM.Builder().nIn(5).nOut(4).build()).setMaskValue(0).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2).activation(Activation.IDENTITY).build())
                .build());
        n.init();
        Path zip = dir.resolve("mask.zip");
        ModelSerializer.writeModel(n, zip.toFile(), false);
        Path out = dir.resolve("mask.onnx");
        for (String spec : List.of("sequence:5", "tensor:1,2", "sequence:5,0", "image:3,4,5,nwc")) {
            ExportCliTest.Run r = ExportCliTest.run("--model", zip.toString(), "--output", out.toString(), "--input-type", spec);
            assertEquals(Cli.USAGE, r.code(), spec + ": " + r.err());
            assertTrue(r.err().contains("--input-type '" + spec + "'"), r.err());
        }
        ExportCliTest.Run keras = ExportCliTest.run("--from-keras", zip.toString(), "--output", out.toString(),
                "--input-type", "sequence:5,4");
        assertEquals(Cli.USAGE, keras.code(), keras.err());
        assertTrue(keras.err().contains("--input-type applies to --model"), keras.err());
        ExportCliTest.Run r = ExportCliTest.run("--model", zip.toString(), "--output", out.toString(), "--input-type", "sequence:5,4");
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().contains(MaskZeroLayer.class.getName()) && r.err().contains("mask cannot be expressed"), r.err());
        assertFalse(Files.exists(out));
    }
}
