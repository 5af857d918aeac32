package io.spherekit.exporter;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.trainer.ModelIO;
import io.spherekit.trainer.TinyTrainingTest;
import io.spherekit.trainer.TrainCli;
import io.spherekit.trainer.model.SphereFaceNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A small trained model file committed in {@code testdata/fixtures/model/} (SphereFace-4, width 1/16, 64-d, trained
 * 24 iterations with A-Softmax by {@link #regenerate}): a change that breaks loading existing model files, or changes what
 * they compute, fails here. Its embedding of a fixed input is pinned, and its ONNX export must match it in ORT.
 */
class ModelFileFixtureTest {

    static Path fixtureDir() {
        return Path.of(System.getProperty("spherekit.root", "..")).toAbsolutePath().normalize()
                .resolve("testdata/fixtures/model");
    }

    /** The fixed input: x[i] = sin(0.001·i), shape [2, 3, 112, 96]. */
    static float[] input() {
        float[] x = new float[2 * 3 * 112 * 96];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(0.001 * i);
        }
        return x;
    }

    static float[][] dl4j(ComputationGraph g) {
        INDArray in = Nd4j.create(input(), new long[]{2, 3, 112, 96}, 'c');
        return g.feedForward(in, false).get(SphereFaceNet.EMBEDDING).toFloatMatrix();
    }

    @Test
    void committedModelLoadsComputesThePinnedEmbeddingAndExports(@TempDir Path tmp) throws Exception {
        Path model = fixtureDir().resolve("sf4-tiny.zip");
        ModelIO.TrainedModel m = ModelIO.load(model, false);
        assertEquals("asoftmax", m.metadata().get("spherekit.head"));
        assertEquals("24", m.metadata().get("spherekit.training.iterations"));
        @SuppressWarnings("unchecked")
        Map<String, Object> ref = new ObjectMapper().readValue(fixtureDir().resolve("expected.json").toFile(), Map.class);
        @SuppressWarnings("unchecked")
        List<List<Double>> expected = (List<List<Double>>) ref.get("embedding");
        float[][] got = dl4j(m.graph());
        double maxDiff = 0;
        for (int i = 0; i < got.length; i++) {
            for (int j = 0; j < got[i].length; j++) {
                maxDiff = Math.max(maxDiff, Math.abs(got[i][j] - expected.get(i).get(j)));
            }
        }
        assertTrue(maxDiff <= 1e-5, "pinned embedding changed by " + maxDiff);

        Path onnx = tmp.resolve("m.onnx");
        assertEquals(0, ExportCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()),
                "--model", model.toString(), "--output", onnx.toString()));
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(onnx).optProvider(Provider.CPU).build()) {
            float[][] ort = e.embedTensor(input(), 2);
            double d = 0;
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < ort[i].length; j++) {
                    d = Math.max(d, Math.abs(ort[i][j] - got[i][j]));
                }
            }
            assertTrue(d <= 1e-4, "ORT vs DL4J on the fixture: " + d);
            assertEquals(64, e.embeddingDim());
        }
    }

    /**
     * Regenerates the fixture with the current code: trains on a generated 4-identity set (seed 5) and rewrites
     * {@code sf4-tiny.zip} and {@code expected.json}. Only run it when the model format is meant to change, with the
     * command in {@code testdata/fixtures/model/README.md}:
     * <pre>
     * mvn -B -pl exporter/converter -am verify -Dspherekit.skipPython=true -Dsurefire.failIfNoSpecifiedTests=false \
     *     -Dtest='ModelFileFixtureTest#regenerate' -Dspherekit.excludedGroups=none
     * </pre>
     */
    @Test
    @Tag("generator")
    void regenerate(@TempDir Path tmp) throws Exception {
        Path dir = fixtureDir();
        Path faces = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 4, 8, 11);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream logStream = new PrintStream(log, true);
        int code = TrainCli.create(logStream, logStream).execute("--images", faces.toString(), "--people", "none",
                "--out", tmp.resolve("run").toString(), "--depth", "4", "--width", "0.0625", "--embedding-dim", "64",
                "--epochs", "3", "--batch", "4", "--no-cache", "--val-fraction", "0", "--checkpoint-every", "0", "--seed", "5");
        assertEquals(0, code, log::toString);
        Files.createDirectories(dir);
        ModelIO.TrainedModel m = ModelIO.load(tmp.resolve("run/model.zip"), true);
        ModelIO.save(m.graph(), m.metadata(), dir.resolve("sf4-tiny.zip"), false);
        Map<String, Object> ref = new LinkedHashMap<>();
        ref.put("input", "x[i] = sin(0.001*i), shape [2,3,112,96]");
        ref.put("embedding", dl4j(ModelIO.load(dir.resolve("sf4-tiny.zip"), false).graph()));
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("expected.json").toFile(), ref);
        System.out.println("[fixture] wrote " + dir.resolve("sf4-tiny.zip") + " and expected.json");
    }
}
