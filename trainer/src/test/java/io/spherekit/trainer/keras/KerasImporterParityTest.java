package io.spherekit.trainer.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spherekit.trainer.model.ChannelPReLU;
import io.spherekit.trainer.model.SphereConv2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keras 3 (JAX backend) vs DL4J embeddings of SphereFace-4 and -20 imported by {@link KerasImporter}, on the same
 * input batch (NHWC for Keras, transposed to NCHW for DL4J), plus the negative and error-path checks.
 */
class KerasImporterParityTest {

    /** Max abs difference allowed between L2-normalised Keras and DL4J embeddings. */
    static final double EMBEDDING_TOL = 1e-5;

    static INDArray l2Rows(INDArray e) {
        INDArray d = e.castTo(DataType.DOUBLE);
        return d.divColumnVector(d.norm2(1).reshape(d.rows(), 1));
    }

    /** {maxAbs over L2-normalised rows, maxAbs raw} between the DL4J output and the Keras embeddings. */
    static double[] compare(ComputationGraph net, Path refs, int depth) {
        INDArray nhwc = Nd4j.createFromNpyFile(refs.resolve("input.npy").toFile());
        INDArray nchw = nhwc.permute(0, 3, 1, 2).dup('c');
        INDArray keras = Nd4j.createFromNpyFile(refs.resolve("embeddings_sf" + depth + ".npy").toFile())
                .castTo(DataType.DOUBLE);
        INDArray dl4j = net.outputSingle(false, nchw.castTo(net.params().dataType())).castTo(DataType.DOUBLE);
        assertArrayEquals(keras.shape(), dl4j.shape(), "embedding shape");
        double raw = maxAbsDiff(dl4j, keras);
        double norm = maxAbsDiff(l2Rows(dl4j), l2Rows(keras));
        return new double[]{norm, raw};
    }

    static double maxAbsDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @ParameterizedTest(name = "SphereFace-{0}")
    @ValueSource(ints = {4, 20})
    void embeddingsMatchKeras(int depth) {
        Path refs = KerasReferences.dir();
        long t0 = System.nanoTime();
        ComputationGraph net = KerasImporter.load(refs.resolve("model_sf" + depth + ".keras"));
        double loadSec = (System.nanoTime() - t0) / 1e9;
        assertNotNull(net.getLayer("conv1_1"));
        assertInstanceOf(SphereConv2D.class, net.getLayer("conv1_1").conf().getLayer());
        assertArrayEquals(new int[]{1, 1}, ((SphereConv2D) net.getLayer("conv1_1").conf().getLayer()).getPadding(),
                "ZeroPadding2D(1) must be folded into conv1_1's padding");
        assertInstanceOf(ChannelPReLU.class, net.getLayer("relu1_1").conf().getLayer());
        double[] d = compare(net, refs, depth);
        System.out.printf("[keras parity] SphereFace-%d (%s): max |Δ| L2-normalised embeddings = %.3e, raw = %.3e "
                + "(tolerance %.0e on normalised; import %.1f s)%n", depth, refs.getFileName(), d[0], d[1],
                EMBEDDING_TOL, loadSec);
        assertTrue(d[0] <= EMBEDDING_TOL, "SphereFace-" + depth + ": L2-normalised embeddings differ by " + d[0]);
    }

    @ParameterizedTest(name = "SphereFace-{0} in float64")
    @ValueSource(ints = {4})
    void embeddingsMatchKerasInDouble(int depth) {
        Path refs = KerasReferences.dir();
        ComputationGraph net = KerasImporter.load(refs.resolve("model_sf" + depth + ".keras"), DataType.DOUBLE);
        double[] d = compare(net, refs, depth);
        System.out.printf("[keras parity] SphereFace-%d, DL4J in float64: max |Δ| normalised = %.3e, raw = %.3e%n",
                depth, d[0], d[1]);
        assertTrue(d[0] <= EMBEDDING_TOL, "float64 DL4J vs float32 Keras differ by " + d[0]);
    }

    @Test
    void wrongFlattenOrderFailsParity() {
        Path refs = KerasReferences.dir();
        ComputationGraph wrong = KerasImporter.load(refs.resolve("model_sf4.keras"), DataType.FLOAT, true);
        double[] d = compare(wrong, refs, 4);
        System.out.printf("[keras parity] SphereFace-4 with the Keras [H,W,C] flatten order left as is: max |Δ| "
                + "normalised = %.3e, raw = %.3e (must FAIL the %.0e check)%n", d[0], d[1], EMBEDDING_TOL);
        assertTrue(d[0] > 1e3 * EMBEDDING_TOL, "the wrong flatten order must break parity, diff only " + d[0]);
    }

    // ---- error paths: edit the real config.json and re-zip ----

    static Path rewrite(Path model, Path dir, String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper om = new ObjectMapper();
        Path out = dir.resolve(name);
        try (ZipFile in = new ZipFile(model.toFile()); OutputStream os = Files.newOutputStream(out);
             ZipOutputStream zo = new ZipOutputStream(os)) {
            Enumeration<? extends ZipEntry> es = in.entries();
            while (es.hasMoreElements()) {
                ZipEntry e = es.nextElement();
                zo.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream is = in.getInputStream(e)) {
                    if (e.getName().equals("config.json")) {
                        ObjectNode cfg = (ObjectNode) om.readTree(is);
                        edit.accept(cfg);
                        zo.write(om.writeValueAsBytes(cfg));
                    } else {
                        is.transferTo(zo);
                    }
                }
                zo.closeEntry();
            }
        }
        return out;
    }

    static ObjectNode layer(ObjectNode cfg, String name) {
        for (JsonNode l : cfg.path("config").path("layers")) {
            if (name.equals(l.path("name").asText())) {
                return (ObjectNode) l;
            }
        }
        throw new AssertionError("no layer " + name);
    }

    @Test
    void unsupportedLayerIsNamedWithItsClassAndTheSupportedList(@TempDir Path tmp) throws IOException {
        Path model = rewrite(KerasReferences.fixtures().resolve("model_sf4.keras"), tmp, "bn.keras",
                cfg -> layer(cfg, "relu2_1").put("class_name", "BatchNormalization"));
        KerasImportException e = assertThrows(KerasImportException.class, () -> KerasImporter.load(model));
        System.out.println("[keras parity] unsupported-layer message: " + e.getMessage());
        assertTrue(e.getMessage().contains("'relu2_1'"), e.getMessage());
        assertTrue(e.getMessage().contains("BatchNormalization"), e.getMessage());
        for (String s : KerasImporter.SUPPORTED_LAYERS) {
            assertTrue(e.getMessage().contains(s), e.getMessage());
        }
    }

    @Test
    void sameStride2OnEvenSizeIsRejected(@TempDir Path tmp) throws IOException {
        // conv2_1 reads pad2_1; make it read relu1_1 directly with padding='same' (Keras pads 0 before, 1 after)
        Path model = rewrite(KerasReferences.fixtures().resolve("model_sf4.keras"), tmp, "same.keras", cfg -> {
            ObjectNode conv = layer(cfg, "conv2_1");
            ((ObjectNode) conv.path("config")).put("padding", "same");
            String json = conv.path("inbound_nodes").toString().replace("\"pad2_1\"", "\"relu1_1\"");
            try {
                conv.set("inbound_nodes", new ObjectMapper().readTree(json));
            } catch (IOException ex) {
                throw new IllegalStateException(ex);
            }
        });
        KerasImportException e = assertThrows(KerasImportException.class, () -> KerasImporter.load(model));
        System.out.println("[keras parity] same-padding message: " + e.getMessage());
        assertTrue(e.getMessage().contains("conv2_1") && e.getMessage().contains("ZeroPadding2D"), e.getMessage());
    }

    @Test
    void kerasWeightPathNames() {
        assertEquals("conv2d", KerasImporter.snakeCase("Conv2D"));
        assertEquals("p_re_lu", KerasImporter.snakeCase("PReLU"));
        assertEquals("zero_padding2d", KerasImporter.snakeCase("ZeroPadding2D"));
        assertEquals("input_layer", KerasImporter.snakeCase("InputLayer"));
        assertEquals("dense", KerasImporter.snakeCase("Dense"));
    }
}
