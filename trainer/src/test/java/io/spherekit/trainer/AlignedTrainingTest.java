package io.spherekit.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spherekit.core.Images;
import io.spherekit.core.ModelMetadata.Key;
import io.spherekit.core.Preprocessing;
import io.spherekit.core.align.AlignmentTemplate;
import io.spherekit.core.align.FaceAligner;
import io.spherekit.core.cli.LfwLocation;
import io.spherekit.trainer.data.FaceDataset;
import io.spherekit.trainer.data.Landmarks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --align detect} on a few real LFW people with real detection (the runtime's {@code landmarks}
 * command in its own JVM: BlazeFace through ONNX Runtime), and a person-per-folder set of PGM files; skipped files
 * are reported by reason.
 */
class AlignedTrainingTest {

    static final Path LFW = Path.of(System.getProperty("spherekit.root", "."), "..", "shared", "data", "lfw",
            "lfw-deepfunneled").normalize();
    static final String[] PEOPLE = {"Aaron_Peirsol", "Abdullah_Gul", "Adrien_Brody"};

    record Run(int code, String out, String err) {
    }

    static Run train(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TrainCli.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] tiny(Path images, Path run, String... more) {
        List<String> a = new ArrayList<>(List.of("--images", images.toString(), "--people", "none",
                "--out", run.toString(), "--depth", "4", "--width", "0.0625", "--embedding-dim", "8", "--epochs",
                "1", "--batch", "4", "--val-fraction", "0", "--checkpoint-every", "0", "--threads", "1"));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    /** Three LFW people (3 images each), plus a blank image in the first person's folder. */
    static Path lfwSubset(Path root) throws IOException {
        for (String p : PEOPLE) {
            Files.createDirectories(root.resolve(p));
            for (int i = 1; i <= 3; i++) {
                String f = String.format("%s_%04d.jpg", p, i);
                Files.copy(LFW.resolve(p).resolve(f), root.resolve(p).resolve(f));
            }
        }
        BufferedImage blank = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = blank.createGraphics();
        g.setColor(Color.GRAY);
        g.fillRect(0, 0, 250, 250);
        g.dispose();
        ImageIO.write(blank, "png", root.resolve(PEOPLE[0]).resolve(PEOPLE[0] + "_0099.png").toFile());
        return root;
    }

    @Test
    void detectAlignsEveryImageWithTheRuntimesDetectorAndReportsTheFaceless(@TempDir Path tmp) throws Exception {
        String root = System.getProperty("spherekit.root");
        assertNotNull(root, "surefire sets spherekit.root to the repository");
        Path repo = Path.of(root);
        assertTrue(Files.isRegularFile(repo.resolve("runtime/server/target/classpath.txt")),
                "the landmarks step runs in the runtime's JVM: build runtime/server first (the reactor packages it"
                        + " before the trainer)");
        Path images = lfwSubset(tmp.resolve("faces"));
        Path cache = tmp.resolve("cache");
        String old = System.getProperty(LfwLocation.HOME_PROPERTY);
        System.setProperty(LfwLocation.HOME_PROPERTY, repo.toString());
        Run r;
        Run again;
        try {
            r = train(tiny(images, tmp.resolve("run"), "--align", "detect", "--cache-dir", cache.toString()));
            again = train(tiny(images, tmp.resolve("run2"), "--align", "detect", "--cache-dir", cache.toString()));
        } finally {
            if (old == null) {
                System.clearProperty(LfwLocation.HOME_PROPERTY);
            } else {
                System.setProperty(LfwLocation.HOME_PROPERTY, old);
            }
        }
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("landmarks: detecting faces in 10 images"), r.err());
        assertTrue(r.err().contains("align: detect, template sphereface-112x96"), r.err());
        assertTrue(r.err().contains("skipped (no_face): " + images.resolve(PEOPLE[0]).resolve(PEOPLE[0] + "_0099.png")),
                r.err());
        // the second run reuses the landmarks (keyed by data + detector hash) and the aligned crops
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("landmarks: cached "), again.err());
        assertTrue(again.err().contains("cache: loaded 9 decoded images"), again.err());

        JsonNode report = new ObjectMapper().readTree(tmp.resolve("run/train-report.json").toFile());
        assertEquals(9, report.path("images").asInt());
        assertEquals(1, report.at("/skipped/no_face").asInt(), report.toString());
        assertEquals(images.resolve(PEOPLE[0]).resolve(PEOPLE[0] + "_0099.png").toString(),
                report.at("/skipped_files/no_face/0").asText());
        assertEquals("detect", report.at("/config/align").asText());

        Map<String, String> md = ModelIO.load(tmp.resolve("run/model.zip"), false).metadata();
        assertEquals("detect", md.get(Key.INPUT_ALIGN.key()));
        assertEquals("sphereface-112x96", md.get(Key.INPUT_ALIGN_TEMPLATE.key()));
        assertEquals("9", md.get(Key.TRAINING_IMAGES.key()));

        // the stored pixels are the runtime's alignment: the centre window of each margin-2 crop is exactly
        // FaceAligner's warp onto the plain 112x96 template from the landmarks the command wrote
        Path lm;
        try (var s = Files.list(cache)) {
            lm = s.filter(p -> p.getFileName().toString().matches("landmarks-[0-9a-f]{16}\\.json")).findFirst()
                    .orElseThrow();
        }
        Landmarks landmarks = Landmarks.read(lm);
        assertEquals(64, landmarks.detectorSha256().length());
        var ids = FaceDataset.list(images, null, 2, 0);
        Preprocessing pre = Preprocessing.LFW_SPHEREFACE;
        FaceDataset d = FaceDataset.load(ids, pre, 2, 1, false, null, landmarks, AlignmentTemplate.SPHEREFACE);
        assertEquals(9, d.size());
        assertEquals(Map.of("no_face", 1), d.skippedCounts());
        FaceAligner plain = new FaceAligner(AlignmentTemplate.SPHEREFACE);
        for (int i = 0; i < d.size(); i++) {
            byte[] want = plain.align(Images.read(d.file(i)), landmarks.get(d.file(i)).points());
            byte[] got = new byte[want.length];
            int w = pre.width() + 4;
            for (int y = 0; y < pre.height(); y++) {
                System.arraycopy(d.pixels(i), ((y + 2) * w + 2) * 3, got, y * pre.width() * 3, pre.width() * 3);
            }
            assertArrayEquals(want, got, d.file(i).toString());
        }
        // the detected eyes of a real LFW face are where deep-funneling puts them, roughly: left of centre and
        // right of centre, in the upper half of the 250x250 image
        double[][] p = landmarks.get(images.resolve(PEOPLE[1]).resolve(PEOPLE[1] + "_0001.jpg")).points();
        assertTrue(p[0][0] < 125 && p[1][0] > 125 && p[0][1] < 125 && p[1][1] < 125, Arrays.deepToString(p));
    }

    @Test
    void detectWithoutTheRepositoryNamesTheLandmarksOption(@TempDir Path tmp) throws Exception {
        Path images = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 2, 4, 3);
        String old = System.getProperty(LfwLocation.HOME_PROPERTY);
        System.clearProperty(LfwLocation.HOME_PROPERTY);
        Run r;
        try {
            r = train(tiny(images, tmp.resolve("run"), "--align", "detect", "--no-cache"));
        } finally {
            if (old != null) {
                System.setProperty(LfwLocation.HOME_PROPERTY, old);
            }
        }
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("or pass --landmarks FILE written by 'spherekit landmarks --root " + images),
                r.err());
        Run usage = train(tiny(images, tmp.resolve("run"), "--landmarks", "x.json"));
        assertEquals(2, usage.code(), usage.err());
        assertTrue(usage.err().contains("a landmarks file needs align detect"), usage.err());
        Run missing = train(tiny(images, tmp.resolve("run"), "--align", "detect", "--landmarks",
                tmp.resolve("nope.json").toString(), "--no-cache"));
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().contains("landmarks file " + tmp.resolve("nope.json") + " does not exist"),
                missing.err());
    }

    /** Writes a grey image as binary PGM (P5), by hand. */
    static void writePgm(BufferedImage img, Path file) throws IOException {
        int w = img.getWidth();
        int h = img.getHeight();
        try (OutputStream o = Files.newOutputStream(file)) {
            o.write(("P5\n" + w + " " + h + "\n255\n").getBytes(StandardCharsets.US_ASCII));
            byte[] row = new byte[w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = img.getRGB(x, y);
                    row[x] = (byte) Math.round(0.299 * ((rgb >> 16) & 0xFF) + 0.587 * ((rgb >> 8) & 0xFF)
                            + 0.114 * (rgb & 0xFF));
                }
                o.write(row);
            }
        }
    }

    @Test
    void aPersonPerFolderSetOfPgmFilesTrainsAndSkippedFilesAreReportedByReason(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("pgm");
        for (String p : PEOPLE) {
            Files.createDirectories(root.resolve(p));
            for (int i = 1; i <= 3; i++) {
                writePgm(Images.read(LFW.resolve(p).resolve(String.format("%s_%04d.jpg", p, i))),
                        root.resolve(p).resolve(String.format("%d.pgm", i)));
            }
        }
        Files.writeString(root.resolve(PEOPLE[0]).resolve("README.txt"), "not an image");
        Files.writeString(root.resolve(PEOPLE[1]).resolve("4.pgm"), "P5\n250 250\n255\n"); // header only: truncated
        assertTrue(Images.readableSuffixes().containsAll(List.of("pgm", "ppm", "jpg", "png", "bmp", "gif")),
                Images.readableSuffixes().toString());

        var ids = FaceDataset.list(root, null, 2, 0);
        assertEquals(3, ids.size());
        assertEquals(List.of(root.resolve(PEOPLE[0]).resolve("README.txt")), ids.get(0).unsupported());
        Run r = train(tiny(root, tmp.resolve("run"), "--no-cache"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("skipped: {undecodable=1, unsupported_format=1}"), r.err());
        JsonNode report = new ObjectMapper().readTree(tmp.resolve("run/train-report.json").toFile());
        assertEquals(9, report.path("images").asInt());
        assertEquals(1, report.at("/skipped/undecodable").asInt(), report.toString());
        assertEquals(1, report.at("/skipped/unsupported_format").asInt(), report.toString());
        assertEquals(root.resolve(PEOPLE[1]).resolve("4.pgm").toString(),
                report.at("/skipped_files/undecodable/0").asText());
        assertFalse(report.at("/metadata").has(Key.INPUT_ALIGN.key()), "a crop model records no align mode");

        // a folder of only unsupported files says so instead of "found 0" alone
        Path other = tmp.resolve("tiff-only");
        for (String p : List.of("A", "B")) {
            Files.createDirectories(other.resolve(p));
            for (int i = 0; i < 3; i++) {
                Files.writeString(other.resolve(p).resolve(i + ".heic"), "x");
            }
        }
        IOException e = assertThrows(IOException.class,
                () -> FaceDataset.list(other, null, 2, 0));
        assertTrue(e.getMessage().contains("found 0; 6 file(s) of an unsupported format were ignored (readable: "),
                e.getMessage());
    }
}
