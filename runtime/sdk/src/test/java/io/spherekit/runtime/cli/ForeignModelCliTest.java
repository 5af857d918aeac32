package io.spherekit.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.Preprocessing.ChannelOrder;
import io.spherekit.core.Similarity;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify / embed / evaluate on a model without SphereKit metadata and with a fixed batch of 1 (the contract of an
 * ArcFace-style {@code [1,3,112,112]} model), its preprocessing given only by flags or only by a model card.
 * Expected values: the Java API with the same preprocessing given explicitly, and the tiny model's closed form
 * ({@link TestModelsAccess#expected}).
 */
class ForeignModelCliTest {

    static final int D = 8;
    static final String[] ARCFACE_FLAGS = {"--input-size", "112x112", "--mean", "127.5", "--scale", "0.0078125",
        "--channel-order", "BGR"};
    static final Preprocessing ARCFACE_BGR = Preprocessing.fullImage(112, 112, 127.5f, 1f / 128f, ChannelOrder.BGR);
    static final Color[] COLOURS = {new Color(250, 10, 10), new Color(235, 30, 15), new Color(10, 10, 250),
        new Color(25, 15, 230)};

    @TempDir
    static Path dir;
    static Path model;
    static Path[] images = new Path[COLOURS.length];

    record Run(int code, String out, String err) {
    }

    static Run run(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(command, args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] cat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Writes a textured stand-in for colour {@code c} (a solid colour is refused as a uniform image). */
    static void png(Path p, Color c, int w, int h) throws IOException {
        Files.createDirectories(p.getParent());
        ImageIO.write(TestModelsAccess.textured(w, h, c), "png", p.toFile());
    }

    /**
     * The closed-form embedding of image {@code i} through BGR, (p - 127.5)/128 (channel 0 holds blue): the
     * standard model averages each normalised channel over the 112x112 input, so it is
     * {@link TestModelsAccess#expected} of the channel means of the resized pixels.
     */
    static double[] expectedBgr(int i) throws IOException {
        double[] m = channelMeans(i);
        return TestModelsAccess.expected(m[2], m[1], m[0], D);
    }

    /** As {@link #expectedBgr} with RGB order. */
    static double[] expectedRgb(int i) throws IOException {
        double[] m = channelMeans(i);
        return TestModelsAccess.expected(m[0], m[1], m[2], D);
    }

    /** Mean normalised R, G, B of image {@code i} resized to the model input. */
    static double[] channelMeans(int i) throws IOException {
        byte[] px = ARCFACE_BGR.cropResize(Images.read(images[i]));
        double[] m = new double[3];
        for (int k = 0; k < px.length; k++) {
            m[k % 3] += ((px[k] & 0xFF) - 127.5) / 128.0;
        }
        int n = px.length / 3;
        return new double[] {m[0] / n, m[1] / n, m[2] / n};
    }

    static double cosine(double[] a, double[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @BeforeAll
    static void setUp() throws Exception {
        model = TestModelsAccess.standard(dir.resolve("foreign.onnx"), new Object[] {1, 3, 112, 112}, 112, 112, D,
                Map.of());
        for (int i = 0; i < COLOURS.length; i++) {
            images[i] = dir.resolve("root/P" + (i / 2) + "/P" + (i / 2) + "_000" + (1 + i % 2) + ".png");
            png(images[i], COLOURS[i], 150, 130);
        }
    }

    private static float[] javaApi(Path image) throws Exception {
        try (FaceEmbedder fe = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optPreprocessing(ARCFACE_BGR).build()) {
            return fe.embed(Images.read(image));
        }
    }

    @Test
    void verifyWithFlagsOnlyScoresAsTheJavaApi() throws Exception {
        Run r = run(new VerifyCommand(), cat(new String[] {"--model", model.toString(), "--provider", "cpu",
            "--threshold", "0.9"}, cat(ARCFACE_FLAGS, images[0].toString(), images[2].toString())));
        assertEquals(Cli.OK, r.code(), r.err());
        double api = Similarity.cosine(javaApi(images[0]), javaApi(images[2]));
        double closed = cosine(expectedBgr(0), expectedBgr(2));
        assertEquals(closed, api, 1e-5);
        assertTrue(r.out().contains(String.format(Locale.ROOT, "score: %.6f%n", api)), r.out() + " vs " + api);
        assertTrue(r.out().contains("decision: " + (api >= 0.9 ? "same" : "different")), r.out());
    }

    @Test
    void sessionTuningFlagsSaveALoadableOptimisedModelAndBadLevelsAreUsageErrors() throws Exception {
        Path saved = dir.resolve("tuned/foreign-ort.onnx");
        Files.createDirectories(saved.getParent());
        double closed = cosine(expectedBgr(0), expectedBgr(2));
        Run r = run(new VerifyCommand(), cat(new String[] {"--model", model.toString(), "--provider", "cpu",
            "--threshold", "0.9", "--graph-optimization", "all", "--intra-op-spinning", "false",
            "--save-optimized-model", saved.toString()}, cat(ARCFACE_FLAGS, images[0].toString(),
                images[2].toString())));
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(Files.size(saved) > 0, "optimised model written");
        r = run(new VerifyCommand(), cat(new String[] {"--model", saved.toString(), "--provider", "cpu",
            "--threshold", "0.9", "--graph-optimization", "NONE"}, cat(ARCFACE_FLAGS, images[0].toString(),
                images[2].toString())));
        assertEquals(Cli.OK, r.code(), r.err());
        String score = r.out().lines().filter(l -> l.startsWith("score: ")).findFirst().orElseThrow();
        assertEquals(closed, Double.parseDouble(score.substring(7)), 1e-5, r.out());
        r = run(new VerifyCommand(), cat(new String[] {"--model", model.toString(), "--provider", "cpu",
            "--threshold", "0.9", "--graph-optimization", "fast"}, cat(ARCFACE_FLAGS, images[0].toString(),
                images[2].toString())));
        assertEquals(Cli.USAGE, r.code(), r.out());
        assertTrue(r.err().contains("--graph-optimization must be none, basic, extended, layout or all, got 'fast'"),
                r.err());
    }

    @Test
    void missingFlagsAreNamedAsFlagsAndCardFields() {
        Run r = run(new VerifyCommand(), "--model", model.toString(), "--provider", "cpu", "--threshold", "0.5",
                "--mean", "127.5", images[0].toString(), images[1].toString());
        assertEquals(Cli.USAGE, r.code(), r.out());
        // the model's fixed [1,3,112,112] input gives the size, so only these three are missing
        assertTrue(r.err().startsWith("error: model " + model + " has no SphereKit preprocessing metadata"
                + " (spherekit.input.*), so its preprocessing must be given: missing --scale (or --std),"
                + " --channel-order (or the fields scale, channel_order in the model card " + model
                + ".json, which does not exist)"), r.err());
        assertFalse(r.err().contains("optPreprocessing"), "errors speak CLI: " + r.err());
        r = run(new VerifyCommand(), cat(new String[] {"--model", model.toString(), "--threshold", "0.5",
            "--channel-order", "RGBX"}, images[0].toString(), images[1].toString()));
        assertEquals(Cli.USAGE, r.code(), r.out());
        assertTrue(r.err().startsWith("error: --channel-order: channel order must be RGB or BGR, got 'RGBX'"),
                r.err());
        r = run(new VerifyCommand(), cat(new String[] {"--model", model.toString(), "--threshold", "0.5",
            "--scale", "1", "--std", "2"}, images[0].toString(), images[1].toString()));
        assertEquals(Cli.USAGE, r.code(), r.out());
        assertTrue(r.err().startsWith("error: give --scale or --std, not both"), r.err());
    }

    @Test
    void aModelCardNextToTheModelServesEmbedAndEvaluateAndFlagsOverrideIt() throws Exception {
        Path carded = Files.copy(model, dir.resolve("carded.onnx"));
        Files.writeString(dir.resolve("carded.onnx.json"), "{\"input_size\": \"112x112\", \"mean\": 127.5,"
                + " \"std\": 128, \"channel_order\": \"BGR\", \"layout\": \"NCHW\"}");
        Path out = dir.resolve("e.json");
        Run r = run(new EmbedCommand(), "--model", carded.toString(), "--provider", "cpu", "--batch", "3",
                "--output", out.toString(), images[0].toString(), images[1].toString(), images[2].toString(),
                images[3].toString());
        assertEquals(Cli.OK, r.code(), r.err());
        JsonNode emb = new ObjectMapper().readTree(out.toFile()).get("embeddings");
        assertEquals(4, emb.size());
        for (int i = 0; i < 4; i++) {
            float[] api = javaApi(images[i]);
            float[] cli = new float[D];
            for (int j = 0; j < D; j++) {
                cli[j] = (float) emb.get(i).get("embedding").get(j).asDouble();
            }
            assertArrayEquals(api, cli, 0f, "image " + i + ": the card gives the Java API's preprocessing");
            double[] closed = expectedBgr(i);
            for (int j = 0; j < D; j++) {
                assertEquals(closed[j], cli[j], 1e-4);
            }
        }
        // the flag --channel-order RGB wins over the card's BGR: the first image's embedding changes accordingly
        r = run(new EmbedCommand(), "--model", carded.toString(), "--provider", "cpu", "--channel-order", "rgb",
                "--output", out.toString(), images[0].toString());
        assertEquals(Cli.OK, r.code(), r.err());
        JsonNode e0 = new ObjectMapper().readTree(out.toFile()).get("embeddings").get(0).get("embedding");
        double[] rgb = expectedRgb(0);
        for (int j = 0; j < D; j++) {
            assertEquals(rgb[j], e0.get(j).asDouble(), 1e-4);
        }
        // evaluate: P0 images are reds, P1 images blues; genuine pairs score above every impostor pair, so each
        // fold's threshold separates them
        StringBuilder pairs = new StringBuilder("10\n");
        for (int i = 0; i < 10; i++) {
            pairs.append("P").append(i % 2).append(" 1 2\n");
        }
        for (int i = 0; i < 10; i++) {
            pairs.append("P0 ").append(1 + i % 2).append(" P1 ").append(1 + (i / 2) % 2).append('\n');
        }
        double worstGenuine = Math.min(cosine(expectedBgr(0), expectedBgr(1)),
                cosine(expectedBgr(2), expectedBgr(3)));
        double bestImpostor = -1;
        for (int a = 0; a < 2; a++) {
            for (int b = 2; b < 4; b++) {
                bestImpostor = Math.max(bestImpostor, cosine(expectedBgr(a), expectedBgr(b)));
            }
        }
        assertTrue(worstGenuine > bestImpostor, worstGenuine + " vs " + bestImpostor);
        Path pairsFile = Files.writeString(dir.resolve("pairs.txt"), pairs.toString());
        Path report = dir.resolve("report.json");
        renameToLfw();
        r = run(new EvaluateCommand(), "--model", carded.toString(), "--provider", "cpu", "--pairs",
                pairsFile.toString(), "--root", dir.resolve("lfw").toString(), "--report", report.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(report.toFile());
        assertEquals(ARCFACE_BGR.toString(), j.get("preprocessing").asText());
        assertEquals(20, j.get("pairs").asInt());
        assertEquals(4, j.get("images").asInt());
        assertEquals(1.0, j.get("metrics").get("accuracy_mean").asDouble(), 0.0);
        assertEquals(1.0, j.get("metrics").get("auc").asDouble(), 0.0);
        // the mean threshold lies between the worst genuine and the best impostor cosine
        double t = j.get("metrics").get("threshold_mean").asDouble();
        assertTrue(t > bestImpostor - 1e-6 && t <= worstGenuine + 1e-6, t + " not in (" + bestImpostor + ", "
                + worstGenuine + "]");
    }

    /** LFW file names: ROOT/NAME/NAME_0001.jpg; PairList reads .jpg, so the PNG bytes are copied under that name. */
    private static void renameToLfw() throws IOException {
        for (int i = 0; i < COLOURS.length; i++) {
            String person = "P" + (i / 2);
            Path target = dir.resolve("lfw/" + person + "/" + person + "_000" + (1 + i % 2) + ".jpg");
            Files.createDirectories(target.getParent());
            Files.copy(images[i], target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
