package io.spherekit.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.spherekit.core.io.CrashTests;
import io.spherekit.core.Preprocessing;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the ONNX metadata rewrite ({@link ModelThreshold#write}, used by {@code evaluate
 * --write-threshold}): a child JVM ({@link ModelThresholdCrashWriter}) rewrites a test model's threshold in a loop
 * and is killed with SIGKILL at random points, five times. After each kill ONNX Runtime loads the model
 * ({@link FaceEmbedder}), its threshold and source are those of one generation, and it embeds an image exactly as
 * the original model did (the weights are intact). A temporary file the killed writer left is deleted by the
 * next rewrite.
 */
class ModelThresholdCrashTest {

    @TempDir
    Path dir;

    static float[] embed(Path model, BufferedImage img) throws Exception {
        try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                .optIntraOpThreads(1).build()) {
            assertEquals(Verifier.fromModelMetadata(e).threshold(),
                    Double.parseDouble(e.metadata().get(Verifier.THRESHOLD_KEY)), 0.0);
            return e.embed(img);
        }
    }

    @Test
    void killedWhileRewritingLeavesAWholeModel() throws Exception {
        Preprocessing pre = Preprocessing.fullImage(112, 96, 127.5f, 1f / 128f, Preprocessing.ChannelOrder.RGB);
        Map<String, String> md = new HashMap<>(pre.toMetadata());
        md.put(Verifier.THRESHOLD_KEY, "0.0");
        Path model = TestModelsAccess.standard(dir.resolve("m.onnx"), 112, 96, 256, md);
        BufferedImage img = new BufferedImage(96, 112, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = img.createGraphics();
        gr.setColor(Color.ORANGE);
        gr.fillRect(10, 10, 50, 60);
        gr.dispose();
        float[] reference = embed(model, img);
        Random delays = new Random(5);
        int next = 1;
        for (int kill = 0; kill < 5; kill++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), ModelThresholdCrashWriter.class.getName(), model.toString(),
                    Integer.toString(next)).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int writes = 1 + kill % 3;
            for (int w = 0; w < writes; w++) {
                String line;
                do {
                    line = out.readLine();
                } while (line != null && !line.startsWith("writing ")); // skip log lines
                assertTrue(line != null, "the writer ended before writing");
            }
            Thread.sleep(delays.nextInt(80)); // a random point inside (or just after) the current rewrite
            p.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly it keeps the output open to read to its end
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            next = CrashTests.nextAfterKill(out, next + writes);

            try (FaceEmbedder e = FaceEmbedder.builder().setModelPath(model).optProvider(Provider.CPU)
                    .optIntraOpThreads(1).build()) {
                String source = e.metadata().get(Verifier.THRESHOLD_SOURCE_KEY);
                double t = Double.parseDouble(e.metadata().get(Verifier.THRESHOLD_KEY));
                if (source == null) {
                    assertEquals(0.0, t, 0.0); // the original, never rewritten yet
                } else if (source.equals("cleanup")) {
                    assertEquals(0.5, t, 0.0); // this test's own rewrite after the previous kill
                } else {
                    assertTrue(source.startsWith("gen "), source);
                    int gen = Integer.parseInt(source.substring(4));
                    assertTrue(gen >= 1 && gen < next, "generation " + gen + " was written");
                    assertEquals(gen / 1000.0, t, 0.0);
                }
                assertArrayEquals(reference, e.embed(img), 0f);
                System.out.printf("kill %d: threshold %s (%s), %d temporary file(s) left%n", kill, t, source,
                        CrashTests.temps(dir).size());
            }
            ModelThreshold.write(model, 0.5, "cleanup"); // the next write cleans what the killed one left
            assertEquals(List.of(), CrashTests.temps(dir));
        }
    }
}
