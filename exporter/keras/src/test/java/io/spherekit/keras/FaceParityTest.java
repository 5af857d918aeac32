package io.spherekit.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.spherekit.core.io.AtomicFiles;
import io.spherekit.onnx.OnnxGraphBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Keras {@code predict} (JAX backend, in the Python reference script) against our ONNX in ONNX Runtime, on four face
 * architectures with seeded random weights: MobileFaceNet, IResNet, Inception-ResNet-v1 blocks, SphereFace-20,
 * each from its {@code .keras} file (and from the legacy {@code .h5} where the script writes one), at batch 1 and 7:
 * L2-normalised embeddings agree to 1e-4 max abs.
 *
 * <p>Writes the parity table to {@code exporter/keras/target/keras-face-parity.md}; with
 * {@code -Dspherekit.keras.writeReport=true} to the committed {@code exporter/keras/reports/keras-face-parity.md}
 * (the README's numbers).
 */
class FaceParityTest {
    static final double TOLERANCE = 1e-4;

    @Test
    void faceModelsMatchKerasAtBatch1And7() throws Exception {
        List<String> names = KerasZoo.names("face");
        assertEquals(List.of("mobilefacenet", "iresnet", "inception_resnet", "sphereface20"), names);
        StringBuilder report = new StringBuilder();
        report.append("| architecture | file | params | batch 1 max abs diff | batch 7 max abs diff |\n|---|---|---|---|---|\n");
        List<String> failures = new ArrayList<>();
        for (String name : names) {
            JsonNode m = KerasZoo.manifest().path("models").path(name);
            for (JsonNode f : m.path("files")) {
                Path file = KerasZoo.dir().resolve(f.asText());
                KerasToOnnx.Conversion conv = KerasToOnnx.convert(file, Map.of(), KerasToOnnx.Options.defaults());
                long params = KerasFile.read(file).weights().values().stream().flatMap(List::stream)
                        .mapToLong(KerasFile.Tensor::size).sum();
                assertEquals(m.path("params").asLong(), params, name + ": weights read vs Keras count_params()");
                double[] diffs = new double[2];
                int i = 0;
                for (int batch : new int[]{1, 7}) {
                    float[] in = KerasZoo.floats(name + "_in" + batch + ".bin");
                    float[] ref = KerasZoo.floats(name + "_out" + batch + ".bin");
                    long[] kshape = conv.kerasInputShape();
                    float[] x = Ort.toChannelsFirst(in, batch, kshape);
                    float[] y = Ort.run(conv.model().toByteArray(), x, conv.onnxInputDims(batch));
                    int dim = (int) conv.outputShape()[0];
                    assertEquals(ref.length, y.length, name);
                    diffs[i++] = Ort.maxAbsDiff(Ort.l2normalise(ref, dim), Ort.l2normalise(y, dim));
                }
                System.out.printf(Locale.ROOT, "[keras parity] %s (%s): batch 1 %.2e, batch 7 %.2e%n", name, f.asText(), diffs[0], diffs[1]);
                report.append(String.format(Locale.ROOT, "| %s | `%s` | %,d | %.1e | %.1e |%n", name, f.asText(), params, diffs[0], diffs[1]));
                if (!(diffs[0] <= TOLERANCE && diffs[1] <= TOLERANCE)) {
                    failures.add(name + " " + f.asText() + ": " + diffs[0] + ", " + diffs[1]);
                }
            }
        }
        String text = "# Keras 3 -> ONNX parity on face architectures\n\n"
                + "Written by `FaceParityTest` (exporter/keras). Keras 3 " + KerasZoo.manifest().path("keras").asText()
                + " (" + KerasZoo.manifest().path("backend").asText() + " backend) `predict` vs SphereKit's ONNX in "
                + "ONNX Runtime (CPU), on L2-normalised embeddings; seeded random weights (seed "
                + KerasZoo.manifest().path("seed").asText() + ", testdata/python/keras_face_zoo.py), input 56x48x3, "
                + "embedding 32.\n\n" + report;
        Path out = Boolean.getBoolean("spherekit.keras.writeReport")
                ? KerasZoo.root().resolve("exporter/keras/reports/keras-face-parity.md")
                : KerasZoo.root().resolve("exporter/keras/target/keras-face-parity.md");
        Files.createDirectories(out.getParent());
        AtomicFiles.writeString(out, text);
        assertTrue(failures.isEmpty(), "over " + TOLERANCE + ": " + failures + "\n" + text);
    }

    /** The l2norm output and a fixed batch: shapes as declared, rows of unit norm equal to the normalised embedding. */
    @Test
    void l2normOutputAndFixedBatch() throws Exception {
        Path file = KerasZoo.dir().resolve("mobilefacenet.keras");
        KerasToOnnx.Conversion conv = KerasToOnnx.convert(file, Map.of("spherekit.source", "keras:mobilefacenet.keras"),
                KerasToOnnx.Options.defaults().withL2norm(true).withBatch(7));
        var g = conv.model().getGraph();
        assertEquals(2, g.getOutputCount());
        assertEquals(7, g.getInput(0).getType().getTensorType().getShape().getDim(0).getDimValue());
        assertArrayEquals(new long[]{7, 3, 56, 48}, conv.onnxInputDims(7));
        assertEquals("keras:mobilefacenet.keras", conv.model().getMetadataProps(0).getValue());
        KerasToOnnx.Conversion sym = KerasToOnnx.convert(file, Map.of(), KerasToOnnx.Options.defaults());
        assertEquals(OnnxGraphBuilder.BATCH_PARAM, sym.model().getGraph().getInput(0).getType().getTensorType()
                .getShape().getDim(0).getDimParam());
    }
}
