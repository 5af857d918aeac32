package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeMainTest {

    static final Color[] PEOPLE = {Color.RED, Color.BLUE, new Color(20, 200, 60), new Color(240, 200, 10),
        new Color(90, 30, 160)};

    @TempDir
    static Path dir;
    static Path model;
    static Path bare;
    static Path root;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RuntimeMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Writes a textured stand-in for colour {@code c} ({@link TestModelsAccess#textured}) as PNG. */
    static void png(Path p, Color c, int w, int h) throws IOException {
        Files.createDirectories(p.getParent());
        ImageIO.write(TestModelsAccess.textured(w, h, c), "png", p.toFile());
    }

    /** Writes a blank (solid colour) PNG: an image without a face. */
    static void blankPng(Path p, Color c, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        Files.createDirectories(p.getParent());
        ImageIO.write(img, "png", p.toFile());
    }

    static final Preprocessing PRE = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);

    /** The standard model's embedding of an image file, by hand ({@link TestModelsAccess#expectedOf}). */
    static double[] expectedOf(Path image) throws IOException {
        return TestModelsAccess.expectedOf(PRE, Images.read(image), 8);
    }

    /** The cosine of the hand-computed embeddings of two image files. */
    static double expectedCosine(Path a, Path b) throws IOException {
        double[] x = expectedOf(a);
        double[] y = expectedOf(b);
        double dot = 0;
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        return dot / Math.sqrt(nx * ny);
    }

    /** The number after {@code prefix} in {@code text}, e.g. {@code score: }. */
    static double number(String text, String prefix) {
        int i = text.indexOf(prefix);
        assertTrue(i >= 0, prefix + " not in " + text);
        String rest = text.substring(i + prefix.length()).split("[\\s]")[0];
        return Double.parseDouble(rest);
    }

    @BeforeAll
    static void setUp() throws IOException {
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put("spherekit.threshold", "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        bare = TestModelsAccess.standard(dir.resolve("bare.onnx"), 112, 96, 8, pre.toMetadata());
        root = lfwTree(dir.resolve("lfw"));
    }

    /**
     * Writes an LFW-style tree: {@code P<k>/P<k>_000i.jpg}, i = 1..3, for each of the {@link #PEOPLE} (PNG content;
     * ImageIO sniffs the format).
     *
     * @return {@code root}
     */
    static Path lfwTree(Path root) throws IOException {
        for (int k = 0; k < PEOPLE.length; k++) {
            for (int i = 1; i <= 3; i++) {
                png(root.resolve("P" + k).resolve(String.format("P%d_%04d.jpg", k, i)), PEOPLE[k], 20 + i, 30);
            }
        }
        return root;
    }

    static Path pairs(String name, boolean withMissing) throws IOException {
        return writePairs(dir.resolve(name), withMissing);
    }

    /**
     * Writes a 10-fold pair list over {@link #lfwTree}: per fold one genuine pair (same person) and one impostor pair
     * (two people); with {@code withMissing}, one impostor pair names P9, who has no images.
     *
     * @return {@code file}
     */
    static Path writePairs(Path file, boolean withMissing) throws IOException {
        StringBuilder sb = new StringBuilder("10\n");
        for (int k = 0; k < 10; k++) {
            sb.append("P").append(k % 5).append(' ').append(1 + k / 5).append(' ').append(2 + k / 5).append('\n');
        }
        for (int k = 0; k < 10; k++) {
            int other = withMissing && k == 3 ? 9 : (k + 1) % 5;
            sb.append("P").append(k % 5).append(" 1 P").append(other).append(' ').append(1 + k / 5).append('\n');
        }
        return Files.writeString(file, sb.toString());
    }

    @Test
    void verifyPrintsScoreDecisionThresholdProvider() throws IOException {
        Path a = root.resolve("P0/P0_0001.jpg");
        Path b = root.resolve("P0/P0_0002.jpg");
        Run r = run("verify", "--model", model.toString(), "--provider", "cpu", a.toString(), b.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*score: \\d\\.\\d{6}\\R.*"), r.out());
        assertEquals(expectedCosine(a, b), number(r.out(), "score: "), 2e-6);
        assertTrue(number(r.out(), "score: ") > 0.999, r.out());
        assertTrue(r.out().contains("decision: same"), r.out());
        assertTrue(r.out().contains("threshold: 0.500000 (model metadata spherekit.threshold)"), r.out());
        assertTrue(r.out().contains("provider: CPU (CPU requested)"), r.out());
        r = run("verify", "--model", model.toString(), "--provider", "CPU", "--threshold", "0.9999", a.toString(),
                root.resolve("P1/P1_0001.jpg").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("decision: different"), r.out());
        assertTrue(r.out().contains("threshold: 0.999900 (explicit)"), r.out());
    }

    @Test
    void exitCodes() {
        Path a = root.resolve("P0/P0_0001.jpg");
        Run r = run("verify", "--model", bare.toString(), "--provider", "cpu", a.toString(), a.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("has no metadata spherekit.threshold; pass --threshold"), r.err());
        r = run("verify", "--model", model.toString(), "--provider", "cpu", a.toString(),
                dir.resolve("nope.jpg").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: cannot read image " + dir.resolve("nope.jpg") + ": file does not exist"),
                r.err());
        // --provider cuda on the CPU build: ProviderCliTest (exit 1 naming the build), without a condition.
        assertEquals(2, run("verify", "--model", model.toString(), "--bogus", a.toString(), a.toString()).code());
        assertEquals(2, run("verify", "--model", model.toString(), "--provider", "tpu", a.toString(), a.toString())
                .code());
        assertEquals(2, run().code());
        assertEquals(2, run("frobnicate").code());
        assertEquals(0, run("--help").code());
        assertEquals(1, run("verify", "--model", dir.resolve("x.onnx").toString(), a.toString(), a.toString()).code());
    }

    @Test
    void evaluateWritesSummaryAndAtomicReport() throws IOException {
        Path pairs = pairs("pairsSmall.txt", false);
        Path extra = Files.writeString(dir.resolve("train.json"), "{\"epochs\": 3, \"loss\": [1.5, 0.7]}");
        Path out = Files.createDirectories(dir.resolve("out"));
        Path report = out.resolve("report.json");
        Path roc = out.resolve("roc.csv");
        Run r = run("evaluate", "--model", model.toString(), "--provider", "cpu", "--pairs", pairs.toString(),
                "--root", root.toString(), "--report", report.toString(), "--roc", roc.toString(),
                "--extra-json", extra.toString(), "--batch", "4");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("10-fold accuracy: 100.00% ± 0.00% (population std"), r.out());
        assertTrue(r.out().contains("optimistic accuracy"), r.out());
        assertTrue(r.out().contains("AUC: 1.0000   EER: 0.00%"), r.out());
        assertTrue(r.out().contains("TAR@FAR=0.001: 100.00%"), r.out());
        assertTrue(r.out().contains("provider: CPU"), r.out());
        assertTrue(r.out().contains("images: 15 embedded"), r.out());
        assertTrue(r.err().contains("embedding: 15/15 images"), r.err());
        JsonNode j = new ObjectMapper().readTree(report.toFile());
        assertEquals(1.0, j.at("/metrics/accuracy_mean").asDouble());
        assertEquals(10, j.at("/metrics/fold_accuracies").size());
        assertEquals(1.0, j.at("/metrics/auc").asDouble());
        assertEquals(20, j.get("pairs").asInt());
        assertEquals(15, j.get("images").asInt());
        assertEquals("CPU", j.get("provider").asText());
        assertEquals(3, j.at("/training/epochs").asInt());
        assertEquals(0.7, j.at("/training/loss/1").asDouble());
        assertEquals("0.5", j.at("/model_metadata/spherekit.threshold").asText());
        assertTrue(j.get("roc").size() >= 3);
        assertTrue(Files.readAllLines(roc).get(0).equals("threshold,far,tar"));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("report.json", "roc.csv"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void evaluateMissingImagesAndBadExtraJson() throws IOException {
        Path pairs = pairs("pairsMissing.txt", true);
        Run r = run("evaluate", "--model", model.toString(), "--provider", "cpu", "--pairs", pairs.toString(),
                "--root", root.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("1 image(s) missing") && r.err().contains("P9_0001.jpg"), r.err());
        r = run("evaluate", "--model", model.toString(), "--provider", "cpu", "--pairs", pairs.toString(),
                "--root", root.toString(), "--skip-missing");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("skipped: 1 pairs (1 missing images)"), r.out());
        assertTrue(r.out().contains("pairs: 19 (10 genuine, 9 impostor)"), r.out());
        Path notObject = Files.writeString(dir.resolve("arr.json"), "[1,2]");
        r = run("evaluate", "--model", model.toString(), "--provider", "cpu", "--pairs", pairs.toString(),
                "--root", root.toString(), "--skip-missing", "--extra-json", notObject.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("must hold a JSON object, found array"), r.err());
        assertEquals(2, run("evaluate", "--model", model.toString(), "--pairs", pairs.toString(),
                "--root", root.toString(), "--batch", "0").code());
    }

    @Test
    void embedWritesJson() throws IOException {
        Path out = dir.resolve("emb.json");
        Path a = root.resolve("P0/P0_0001.jpg");
        Path b = root.resolve("P1/P1_0003.jpg");
        Run r = run("embed", "--model", model.toString(), "--provider", "cpu", "--output", out.toString(),
                a.toString(), b.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote 2 embeddings (8-d)"), r.out());
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        assertEquals(8, j.get("embedding_dim").asInt());
        assertEquals(2, j.get("embeddings").size());
        assertEquals(a.toString(), j.at("/embeddings/0/image").asText());
        double[] red = expectedOf(a);
        for (int i = 0; i < 8; i++) {
            assertEquals(red[i], j.at("/embeddings/0/embedding/" + i).asDouble(), 1e-4);
        }
        assertFalse(r.err().contains("error"), r.err());
    }
}
