package io.spherekit.runtime;

import io.spherekit.core.ident.Identifier;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.io.CrashTests;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of {@link Gallery#save}: a child JVM ({@link GalleryCrashWriter}) rewrites a gallery in a loop and
 * is killed with SIGKILL ({@link Process#destroyForcibly()}) at a random point after it started a write, five
 * times. After each kill the file is a complete generation, loaded by the real loader ({@link Gallery#load}, which
 * checks the checksum): its model id names one generation, every label and embedding is that generation's, and a
 * search for one of its rows finds it with cosine 1. A temporary file the killed writer left is deleted by the
 * next save (its process id is dead).
 */
class GalleryCrashTest {

    @TempDir
    Path dir;


    @Test
    void killedWhileSavingLeavesThePreviousOrTheNewGalleryWhole() throws Exception {
        Path file = dir.resolve("gallery.bin");
        GalleryCrashWriter.gallery(0).save(file);
        Random delays = new Random(11);
        int next = 1;
        for (int kill = 0; kill < 5; kill++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), GalleryCrashWriter.class.getName(), file.toString(),
                    Integer.toString(next)).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int writes = 1 + kill % 3; // let it finish 0, 1 or 2 saves, then kill it inside the next one
            for (int w = 0; w < writes; w++) {
                String line = out.readLine();
                assertTrue(line != null && line.startsWith("writing "), "child said: " + line);
            }
            Thread.sleep(delays.nextInt(60)); // a random point inside (or just after) the current save
            p.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly it keeps the output open to read to its end
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            next = CrashTests.nextAfterKill(out, next + writes);

            Gallery g = Gallery.load(file);
            assertTrue(g.modelId().startsWith("gen-"), g.modelId());
            int gen = Integer.parseInt(g.modelId().substring(4));
            assertTrue(gen >= 0 && gen < next, "generation " + gen + " was written");
            Gallery expected = GalleryCrashWriter.gallery(gen);
            assertEquals(expected.size(), g.size());
            assertEquals(expected.labels(), g.labels());
            Random r = new Random(gen);
            float[] first = new float[GalleryCrashWriter.DIM];
            for (int k = 0; k < first.length; k++) {
                first[k] = (float) r.nextGaussian();
            }
            Identifier.Match m = g.search(first, 1).get(0);
            assertEquals("g" + gen + "-0", m.label());
            assertEquals(1.0, m.score(), 1e-6);

            System.out.printf("kill %d: loaded generation %d (last started %d), %d temporary file(s) left%n", kill, gen,
                    next - 1, CrashTests.temps(dir).size());
            g.save(dir.resolve("gallery.bin")); // the next write cleans what the killed one left
            assertEquals(List.of(), CrashTests.temps(dir));
        }
    }
}
