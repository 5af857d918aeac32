package io.spherekit.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
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

    @Test
    void killedWhileSavingLeavesAWholeModel() throws Exception {
        Path file = dir.resolve("model.zip");
        ModelIO.save(ModelZipCrashWriter.net(0), Map.of(), file, true);
        Random delays = new Random(13);
        int next = 1;
        for (int kill = 0; kill < 3; kill++) {
            CrashChild child = CrashChild.start(ModelZipCrashWriter.class, file.toString(), Integer.toString(next));
            int writes = 1 + kill;
            child.awaitWrites(writes);
            child.kill(delays.nextInt(100)); // a random point inside (or just after) the current save
            next = child.nextAfterKill(next + writes);

            ComputationGraph g = ModelIO.load(file, true).graph();
            INDArray params = g.params();
            double gen = params.getDouble(0);
            assertTrue(gen >= 0 && gen < next && gen == Math.rint(gen), "generation " + gen);
            assertEquals(gen, params.minNumber().doubleValue(), 0.0);
            assertEquals(gen, params.maxNumber().doubleValue(), 0.0);
            System.out.printf("kill %d: generation %.0f (last started %d), %d temporary file(s) left%n", kill, gen,
                    next - 1, CrashChild.temps(dir).size());
            ModelIO.save(g, Map.of(), file, true); // the next save cleans what the killed one left
            assertEquals(List.of(), CrashChild.temps(dir));
        }
    }
}
