package io.spherekit.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.Preprocessing;
import io.spherekit.trainer.CrashChild;
import io.spherekit.trainer.TinyTrainingTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the trainer's crop cache ({@link FaceCache}): a child JVM ({@link FaceCacheCrashWriter}) writes
 * the cache of 24 generated face images (about 0.9 MB of crops) and one undecodable file in a loop and is killed
 * with SIGKILL at random points, five times. After each kill the cache file is absent (only while no write has
 * finished yet) or {@link FaceCache#read} loads it completely and it equals the decoded dataset (names, labels,
 * paths, every pixel, the skipped file); a later run ({@link FaceCache#loadOrBuild}) loads it (or builds it) without
 * tripping over the killed writer's temporary file, and the next write deletes that file.
 */
class FaceCacheCrashTest {
    static final Preprocessing PRE = Preprocessing.LFW_SPHEREFACE;
    static final int MARGIN = 4;

    @TempDir
    Path dir;

    static void assertSameData(FaceDataset expected, FaceDataset actual) {
        assertEquals(expected.identities(), actual.identities());
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.label(i), actual.label(i));
            assertEquals(expected.file(i), actual.file(i));
            assertArrayEquals(expected.pixels(i), actual.pixels(i), "pixels of image " + i);
        }
        assertEquals(expected.skipped(), actual.skipped());
        assertEquals(expected.skippedFiles(), actual.skippedFiles());
    }

    @Test
    void killedWhileWritingLeavesNoCacheOrAWholeOne() throws Exception {
        Path root = TinyTrainingTest.makeDataset(dir.resolve("faces"), 4, 6, 21);
        Files.writeString(root.resolve("person_1").resolve("broken.png"), "not an image");
        Path cache = Files.createDirectories(dir.resolve("cache"));
        List<FaceDataset.Identity> ids = FaceCacheCrashWriter.identities(root);
        String key = FaceCache.key(ids, PRE, MARGIN);
        Path file = FaceCache.file(cache, key);
        FaceDataset expected = FaceDataset.load(ids, PRE, MARGIN, 1, false, null);
        assertEquals(24, expected.size());
        assertEquals(1, expected.skipped());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);

        Random delays = new Random(17);
        for (int kill = 0; kill < 5; kill++) {
            CrashChild child = CrashChild.start(FaceCacheCrashWriter.class, root.toString(), cache.toString());
            child.awaitWrites(1 + kill % 3);
            child.kill(delays.nextInt(40)); // a random point inside (or just after) the current write

            boolean present = Files.exists(file);
            assertTrue(present || kill == 0, "once written, the cache is never removed by a killed writer");
            if (present) {
                assertSameData(expected, FaceCache.read(file, key, PRE, MARGIN));
            }
            System.out.printf("kill %d: cache %s, %d temporary file(s) left%n", kill,
                    present ? "whole" : "absent", CrashChild.temps(cache).size());
            log.reset();
            assertSameData(expected, FaceCache.loadOrBuild(ids, PRE, MARGIN, cache, 1, false, null, ps));
            assertTrue(log.toString(StandardCharsets.UTF_8).contains(present ? "cache: loaded 24" : "cache: wrote"),
                    log.toString(StandardCharsets.UTF_8));
            FaceCache.write(expected, key, file); // the next write cleans what the killed one left
            assertEquals(List.of(), CrashChild.temps(cache));
            assertEquals(List.of(file), FaceCacheTest.cacheFiles(cache));
        }
    }
}
