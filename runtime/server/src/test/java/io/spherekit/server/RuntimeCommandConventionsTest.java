package io.spherekit.server;

import static io.spherekit.core.cli.CliConventions.assertFailure;
import static io.spherekit.core.cli.CliConventions.assertUsageError;
import static io.spherekit.core.cli.CliConventions.assertVersion;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.Cli;
import io.spherekit.core.cli.CliConventions;
import io.spherekit.core.cli.CliConventions.Run;
import io.spherekit.runtime.Gallery;
import io.spherekit.runtime.TestModelsAccess;
import io.spherekit.runtime.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify, evaluate, embed, gallery and serve (through {@link RuntimeMain}, their entry point) follow the shared
 * conventions: {@code --version}, a usage error (exit 2) and a failure (exit 1), each an {@code error:} line;
 * and {@code evaluate --write-threshold} records a threshold that verify and serve then use.
 */
class RuntimeCommandConventionsTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path bare;
    static Path root;
    static Path pairs;
    static Path image;

    @BeforeAll
    static void setUp() throws IOException {
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        bare = TestModelsAccess.standard(dir.resolve("bare.onnx"), 112, 96, 8, pre.toMetadata());
        root = RuntimeMainTest.lfwTree(dir.resolve("lfw"));
        // 10 genuine pairs (same colour) and 10 impostor pairs (two colours), one of each per fold
        pairs = RuntimeMainTest.writePairs(dir.resolve("pairsSmall.txt"), false);
        image = root.resolve("P0/P0_0001.jpg");
    }

    private static Run run(String... args) {
        return CliConventions.run(RuntimeMain::run, args);
    }

    /** Every command's argument list with {@code --model MODEL} first, followed by {@code extra}. */
    private static Map<String, String[]> commands(Path m, String... extra) {
        String img = image.toString();
        Map<String, String[]> c = new LinkedHashMap<>();
        c.put("verify", concat(new String[] {"verify", "--model", m.toString()}, extra, img, img));
        c.put("evaluate", concat(new String[] {"evaluate", "--model", m.toString()}, extra, "--pairs",
                pairs.toString(), "--root", root.toString()));
        c.put("embed", concat(new String[] {"embed", "--model", m.toString()}, extra, "--output",
                dir.resolve("e.json").toString(), img));
        c.put("gallery build", concat(new String[] {"gallery", "build", "--model", m.toString()}, extra, "--root",
                root.toString(), "--output", dir.resolve("g.gallery").toString()));
        c.put("gallery search", concat(new String[] {"gallery", "search", "--model", m.toString()}, extra,
                "--gallery", dir.resolve("g.gallery").toString(), img));
        c.put("serve", concat(new String[] {"serve", "--model", m.toString()}, extra, "--port", "0"));
        return c;
    }

    private static String[] concat(String[] head, String[] middle, String... tail) {
        return Stream.of(head, middle, tail).flatMap(Stream::of).toArray(String[]::new);
    }

    @Test
    void version() {
        assertVersion(RuntimeMain::run);
        for (String command : List.of("verify", "evaluate", "embed", "gallery", "gallery build", "gallery search",
                "serve")) {
            assertVersion(RuntimeMain::run, command.split(" "));
        }
    }

    @Test
    void usageErrors() {
        Path missing = dir.resolve("missing.onnx");
        // --threads -1 is a usage error, found before the (missing) model is read
        commands(missing, "--threads", "-1").forEach((name, args) ->
                assertUsageError(RuntimeMain::run, "spherekit " + name, "--threads must be >= 0, got -1", args));
        commands(model, "--bogus").forEach((name, args) ->
                assertUsageError(RuntimeMain::run, "spherekit " + name, "Unknown option: '--bogus'", args));
        assertUsageError(RuntimeMain::run, "spherekit gallery", "missing subcommand: build, add, remove, search or stats", "gallery");
        assertUsageError(RuntimeMain::run, "spherekit", "missing subcommand: verify, evaluate, embed, gallery or serve");
        assertUsageError(RuntimeMain::run, "spherekit", "Unmatched argument at index 0: 'frobnicate'", "frobnicate");
    }

    @Test
    void failuresNameTheMissingModel() throws IOException {
        Path missing = dir.resolve("missing.onnx");
        commands(missing, "--provider", "cpu").forEach((name, args) -> {
            if (name.equals("gallery search")) {
                return; // needs a gallery first: checked below with one
            }
            Run r = assertFailure(RuntimeMain::run, missing.toString(), args);
            assertEquals("", r.out(), name);
        });
        Path g = dir.resolve("g8.gallery");
        Gallery.builder(8).add("x", new float[] {1, 0, 0, 0, 0, 0, 0, 0}).build().save(g);
        assertFailure(RuntimeMain::run, missing.toString(), "gallery", "search", "--model", missing.toString(),
                "--gallery", g.toString(), image.toString());
    }

    @Test
    void evaluateWritesTheThresholdThatVerifyAndServeThenUse() throws IOException {
        Path calibrated = Files.copy(bare, dir.resolve("calibrated.onnx"));
        Run before = run("verify", "--model", calibrated.toString(), "--provider", "cpu", image.toString(),
                image.toString());
        assertEquals(Cli.USAGE, before.code(), "no threshold yet: " + before.err());

        Path report = dir.resolve("eval/report.json");
        Run r = run("evaluate", "--model", calibrated.toString(), "--provider", "cpu", "--pairs", pairs.toString(),
                "--root", root.toString(), "--report", report.toString(), "--write-threshold");
        assertEquals(Cli.OK, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(report.toFile());
        double mean = 0;
        for (JsonNode t : j.at("/metrics/fold_thresholds")) {
            mean += t.asDouble() / 10;
        }
        assertEquals(10, j.at("/metrics/fold_thresholds").size());
        double written = Double.parseDouble(j.at("/threshold_written/value").asText());
        assertEquals(mean, written, 1e-12, "the mean of the 10 fold thresholds");
        assertEquals("pairsSmall.txt 10-fold mean", j.at("/threshold_written/source").asText());
        assertTrue(j.at("/threshold_written/previous").isNull());
        assertTrue(r.out().contains("threshold: wrote spherekit.threshold=" + written
                + " (pairsSmall.txt 10-fold mean) into " + calibrated), r.out());

        Map<String, String> md = new HashMap<>();
        OnnxMl.ModelProto.parseFrom(Files.readAllBytes(calibrated)).getMetadataPropsList()
                .forEach(e -> md.put(e.getKey(), e.getValue()));
        assertEquals(Double.toString(written), md.get(Verifier.THRESHOLD_KEY));
        assertEquals("pairsSmall.txt 10-fold mean", md.get(Verifier.THRESHOLD_SOURCE_KEY));

        Run v = run("verify", "--model", calibrated.toString(), "--provider", "cpu", image.toString(),
                root.resolve("P0/P0_0002.jpg").toString());
        assertEquals(Cli.OK, v.code(), v.err());
        assertTrue(v.out().contains(String.format(Locale.ROOT, "threshold: %.6f (model metadata spherekit.threshold)",
                written)), v.out());
        assertTrue(v.out().contains("decision: same"), v.out());

        // serve gets past its threshold check (exit 2 'has no metadata' for the bare model) and stops at the next
        // problem, a gallery of the wrong dimension, before listening
        Path wrongDim = dir.resolve("dim5.gallery");
        Gallery.builder(5).add("x", new float[] {1, 0, 0, 0, 0}).build().save(wrongDim);
        Run sBare = run("serve", "--model", bare.toString(), "--provider", "cpu", "--port", "0", "--gallery",
                wrongDim.toString());
        assertEquals(Cli.USAGE, sBare.code(), sBare.err());
        Run s = run("serve", "--model", calibrated.toString(), "--provider", "cpu", "--port", "0", "--gallery",
                wrongDim.toString());
        assertEquals(Cli.FAILURE, s.code(), s.err());
        assertTrue(s.err().startsWith("error: ") && s.err().contains("holds 5-d embeddings"), s.err());

        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }
}
