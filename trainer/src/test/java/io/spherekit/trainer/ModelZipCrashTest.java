package io.spherekit.trainer;

import io.spherekit.core.io.CrashTests;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Crash safety of the trainer's model zip / checkpoint writer ({@link ModelIO#save} with the updater): a child JVM
 * ({@link ModelZipCrashWriter}) rewrites a 0.5 M-parameter graph in a loop and is killed with SIGKILL at random
 * points, three times (each child start loads ND4J, so few kills keep the test short; {@link ResumeTest} kills a
 * real training run as well). After each kill {@link ModelIO#load} reads the file with its updater, every
 * parameter holds one generation's value, and the next save deletes the temporary file the killed writer left.
 */
class ModelZipCrashTest {

    @TempDir
    Path dir;

    static List<Path> temps(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void killedWhileSavingLeavesAWholeModel() throws Exception {
        Path file = dir.resolve("model.zip");
        ModelIO.save(ModelZipCrashWriter.net(0), Map.of(), file, true);
        Random delays = new Random(13);
        int next = 1;
        for (int kill = 0; kill < 3; kill++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), ModelZipCrashWriter.class.getName(), file.toString(),
                    Integer.toString(next)).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            int writes = 1 + kill;
            for (int w = 0; w < writes; w++) {
                String line;
                do {
                    line = out.readLine();
                } while (line != null && !line.startsWith("writing ")); // skip ND4J's log lines
                assertTrue(line != null, "the writer ended before writing");
            }
            Thread.sleep(delays.nextInt(100)); // a random point inside (or just after) the current save
            p.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly it keeps the output open to read to its end
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            next = CrashTests.nextAfterKill(out, next + writes);

            ComputationGraph g = ModelIO.load(file, true).graph();
            INDArray params = g.params();
            double gen = params.getDouble(0);
            assertTrue(gen >= 0 && gen < next && gen == Math.rint(gen), "generation " + gen);
            assertEquals(gen, params.minNumber().doubleValue(), 0.0);
            assertEquals(gen, params.maxNumber().doubleValue(), 0.0);
            System.out.printf("kill %d: generation %.0f (last started %d), %d temporary file(s) left%n", kill, gen,
                    next - 1, temps(dir).size());
            ModelIO.save(g, Map.of(), file, true); // the next save cleans what the killed one left
            assertEquals(List.of(), temps(dir));
        }
    }
}
