package io.spherekit.server;

import static io.spherekit.core.cli.CliConventions.assertFailure;
import static io.spherekit.core.cli.CliConventions.assertUsageError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.cli.CliConventions;
import io.spherekit.core.cli.CliConventions.Run;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --flip} through the command line: evaluate records the flip with the threshold, verify and serve use it
 * by default and refuse the threshold in another mode, and galleries are only searched in the mode they were built
 * with.
 */
class FlipCliTest {

    static final int H = 16;
    static final int W = 12;
    static final int D = 8;

    @TempDir
    static Path dir;
    static Path model;
    static Path root;
    static Path pairs;
    static Path a;
    static Path b;

    @BeforeAll
    static void setUp() throws IOException {
        Preprocessing pre = Preprocessing.fullImage(H, W, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        model = TestModelsAccess.linear(dir.resolve("lin.onnx"), H, W, D, 17, pre.toMetadata());
        root = RuntimeMainTest.lfwTree(dir.resolve("lfw"));
        pairs = RuntimeMainTest.writePairs(dir.resolve("pairsSmall.txt"), false);
        a = root.resolve("P0/P0_0001.jpg");
        b = root.resolve("P0/P0_0002.jpg");
    }

    private static Run run(String... args) {
        return CliConventions.run(RuntimeMain::run, args);
    }

    private static Map<String, String> metadata(Path m) throws IOException {
        Map<String, String> md = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(m)).getMetadataPropsList()
                .forEach(e -> md.put(e.getKey(), e.getValue()));
        return md;
    }

    @Test
    void evaluateRecordsTheFlipWithTheThresholdAndVerifyFollowsIt() throws IOException {
        Path m = Files.copy(model, dir.resolve("sum.onnx"));
        Path report = dir.resolve("sum-report.json");
        Run r = run("evaluate", "--model", m.toString(), "--provider", "cpu", "--flip", "sum", "--pairs",
                pairs.toString(), "--root", root.toString(), "--report", report.toString(), "--write-threshold");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("flip: sum (8-d embeddings)"), r.out());
        JsonNode j = new ObjectMapper().readTree(report.toFile());
        assertEquals("sum", j.get("flip").asText());
        assertEquals("sum", j.at("/threshold_written/flip").asText());
        double written = Double.parseDouble(j.at("/threshold_written/value").asText());
        Map<String, String> md = metadata(m);
        assertEquals("sum", md.get(Key.INPUT_FLIP.key()));
        assertEquals(Double.toString(written), md.get(Verifier.THRESHOLD_KEY));

        Run v = run("verify", "--model", m.toString(), "--provider", "cpu", a.toString(), b.toString());
        assertEquals(Cli.OK, v.code(), v.err());
        assertTrue(v.out().contains("(model metadata spherekit.threshold)"), v.out());
        assertTrue(v.out().contains("flip: sum"), "the model's flip is the default: " + v.out());

        assertFailure(RuntimeMain::run, "was calibrated with test-time flip sum (metadata spherekit.input.flip), but"
                + " the embedder uses flip none", "verify", "--model", m.toString(), "--provider", "cpu", "--flip",
                "none", a.toString(), b.toString());
        Run explicit = run("verify", "--model", m.toString(), "--provider", "cpu", "--flip", "none", "--threshold",
                "0.3", a.toString(), b.toString());
        assertEquals(Cli.OK, explicit.code(), explicit.err());
        assertFailure(RuntimeMain::run, "was calibrated with test-time flip sum", "serve", "--model", m.toString(),
                "--provider", "cpu", "--flip", "concat", "--port", "0");
        assertUsageError(RuntimeMain::run, "spherekit verify",
                "--flip: test-time flip must be none, sum or concat, got 'mirror'", "verify", "--model",
                m.toString(), "--flip", "mirror", a.toString(), b.toString());

        // a later evaluate without flip on the same model writes none: the key goes away
        Run none = run("evaluate", "--model", m.toString(), "--provider", "cpu", "--flip", "none", "--pairs",
                pairs.toString(), "--root", root.toString(), "--write-threshold");
        assertEquals(Cli.OK, none.code(), none.err());
        assertFalse(metadata(m).containsKey(Key.INPUT_FLIP.key()), metadata(m).toString());
    }

    @Test
    void embedAndGalleriesKeepTheirFlipMode() throws IOException {
        Path e = dir.resolve("e.json");
        Run r = run("embed", "--model", model.toString(), "--provider", "cpu", "--flip", "concat", "--output",
                e.toString(), a.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(e.toFile());
        assertEquals(2 * D, j.get("embedding_dim").asInt());
        assertEquals("concat", j.get("flip").asText());
        assertTrue(j.get("normalized").asBoolean());
        double sq = 0;
        for (JsonNode x : j.at("/embeddings/0/embedding")) {
            sq += x.asDouble() * x.asDouble();
        }
        assertEquals(2 * D, j.at("/embeddings/0/embedding").size());
        assertEquals(1.0, sq, 1e-5, "unit length");

        Path gc = dir.resolve("concat.gallery");
        Run build = run("gallery", "build", "--model", model.toString(), "--provider", "cpu", "--flip", "concat",
                "--root", root.toString(), "--output", gc.toString());
        assertEquals(Cli.OK, build.code(), build.err());
        assertTrue(build.out().contains("(16-d, model lin.onnx@sha256:") && build.out().contains("+flip=concat)"),
                build.out());
        assertFailure(RuntimeMain::run, "holds 16-d embeddings", "gallery", "search", "--model", model.toString(),
                "--provider", "cpu", "--gallery", gc.toString(), a.toString());
        Run miss = run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--gallery",
                gc.toString(), a.toString());
        assertTrue(miss.err().contains("(one of the two uses test-time flip concat, which doubles the dimension"),
                miss.err());
        Run ok = run("gallery", "search", "--model", model.toString(), "--provider", "cpu", "--flip", "concat",
                "--gallery", gc.toString(), a.toString());
        assertEquals(Cli.OK, ok.code(), ok.err());
        assertTrue(ok.out().startsWith("1\t"), ok.out());

        Path gn = dir.resolve("none.gallery");
        assertEquals(Cli.OK, run("gallery", "build", "--model", model.toString(), "--provider", "cpu", "--root",
                root.toString(), "--output", gn.toString()).code());
        assertFailure(RuntimeMain::run, "+flip=sum: its embeddings are not comparable", "gallery", "search",
                "--model", model.toString(), "--provider", "cpu", "--flip", "sum", "--gallery", gn.toString(),
                a.toString());
    }
}
