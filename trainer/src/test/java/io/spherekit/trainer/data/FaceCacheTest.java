package io.spherekit.trainer.data;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.TinyTrainingTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The decoded-image cache is reused when nothing changed, and never when the data or preprocessing changed. */
class FaceCacheTest {

    static List<Path> cacheFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
        }
    }

    @Test
    void reusesOnlyAMatchingCache(@TempDir Path tmp) throws Exception {
        Path root = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 3, 4, 9);
        Path cache = tmp.resolve("cache");
        Preprocessing pre = Preprocessing.LFW_SPHEREFACE;
        var ids = FaceDataset.list(root, null, 2, 0);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true);

        FaceDataset first = FaceCache.loadOrBuild(ids, pre, 2, cache, 1, false, null, ps);
        assertEquals(1, cacheFiles(cache).size());
        assertTrue(log.toString().contains("cache: wrote"), log.toString());

        log.reset();
        FaceDataset second = FaceCache.loadOrBuild(ids, pre, 2, cache, 1, false, null, ps);
        assertTrue(log.toString().contains("cache: loaded 12"), log.toString());
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.pixels(i), second.pixels(i));
            assertEquals(first.label(i), second.label(i));
        }

        // another preprocessing (margin) -> another key -> a second file, never the first one
        FaceCache.loadOrBuild(ids, pre, 0, cache, 1, false, null, ps);
        assertEquals(2, cacheFiles(cache).size());

        // a changed image (mtime) -> the old cache is not used
        String before = FaceCache.key(ids, pre, 2);
        Path img = ids.get(0).images().get(0);
        Files.setLastModifiedTime(img, FileTime.fromMillis(Files.getLastModifiedTime(img).toMillis() + 5000));
        var changed = FaceDataset.list(root, null, 2, 0);
        assertNotEquals(before, FaceCache.key(changed, pre, 2));

        // a truncated cache file with the right name is reported and rebuilt
        Path f = cache.resolve("faces-" + FaceCache.key(changed, pre, 2).substring(0, 16) + ".bin");
        FaceCache.loadOrBuild(changed, pre, 2, cache, 1, false, null, ps);
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(bytes, bytes.length / 2));
        log.reset();
        FaceDataset rebuilt = FaceCache.loadOrBuild(changed, pre, 2, cache, 1, false, null, ps);
        assertTrue(log.toString().contains("ignoring") && log.toString().contains("truncated"), log.toString());
        assertEquals(12, rebuilt.size());
        assertEquals(bytes.length, Files.size(f), "the rebuilt cache replaced the truncated one");
    }

    @Test
    void corruptImagesAreSkippedAndCountedOrFail(@TempDir Path tmp) throws Exception {
        Path root = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 2, 3, 4);
        Files.writeString(root.resolve("person_0").resolve("broken.png"), "not an image");
        var ids = FaceDataset.list(root, null, 2, 0);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        PrintStream err = System.err;
        System.setErr(quiet);
        try {
            FaceDataset d = FaceDataset.load(ids, Preprocessing.LFW_SPHEREFACE, 0, 1, false, null);
            assertEquals(6, d.size());
            assertEquals(1, d.skipped());
            IOException e = assertThrows(IOException.class,
                    () -> FaceDataset.load(ids, Preprocessing.LFW_SPHEREFACE, 0, 1, true, null));
            assertTrue(e.getMessage().contains("broken.png"), e.getMessage());
        } finally {
            System.setErr(err);
        }
        IOException empty = assertThrows(IOException.class,
                () -> FaceDataset.list(Files.createDirectories(tmp.resolve("empty")), null, 2, 0));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    }

    @Test
    void truncatedJpegIsRefusedAndFailOnCorruptHoldsOnACacheHit(@TempDir Path tmp) throws Exception {
        Path root = TinyTrainingTest.makeDataset(tmp.resolve("faces"), 2, 3, 5);
        BufferedImage img = new BufferedImage(250, 250, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(3);
        for (int y = 0; y < 250; y++) {
            for (int x = 0; x < 250; x++) {
                img.setRGB(x, y, r.nextInt());
            }
        }
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        assertTrue(javax.imageio.ImageIO.write(img, "jpg", jpeg));
        byte[] full = jpeg.toByteArray();
        // javax.imageio alone decodes a half file without complaint; the runtime's Images.read refuses it
        Files.write(root.resolve("person_1").resolve("truncated.jpg"), Arrays.copyOf(full, full.length / 2));
        var ids = FaceDataset.list(root, null, 2, 0);
        Path cache = tmp.resolve("cache");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true);
        PrintStream err = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream()));
        try {
            FaceDataset d = FaceCache.loadOrBuild(ids, Preprocessing.LFW_SPHEREFACE, 0, cache, 1, false, null, ps);
            assertEquals(6, d.size());
            assertEquals(1, d.skipped());
            // the cache now exists and records the skipped image; --fail-on-corrupt must still fail, naming it
            IOException e = assertThrows(IOException.class, () -> FaceCache.loadOrBuild(ids,
                    Preprocessing.LFW_SPHEREFACE, 0, cache, 1, true, null, ps));
            assertTrue(e.getMessage().contains("truncated.jpg"), e.getMessage());
            assertTrue(log.toString().contains("records 1 undecodable"), log.toString());
        } finally {
            System.setErr(err);
        }
    }
}
