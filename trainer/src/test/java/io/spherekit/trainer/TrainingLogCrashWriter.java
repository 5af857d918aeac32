package io.spherekit.trainer;

import java.nio.file.Path;
import java.util.Map;

/**
 * Child JVM of {@link TrainingLogCrashTest}: appends to the {@link TrainingLog} in {@code args[0]} as a resumed run
 * does, iteration {@code args[1]}, {@code args[1]} + 1, ... until killed; after every {@value #EPOCH}th iteration an
 * epoch record, which also rewrites {@code loss.png}, announced by "writing N" (N = the iteration).
 */
public final class TrainingLogCrashWriter {
    /** Iterations per epoch record. */
    static final int EPOCH = 5;

    private TrainingLogCrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        try (TrainingLog log = new TrainingLog(Path.of(args[0]), true)) {
            for (int it = Integer.parseInt(args[1]); ; it++) {
                log.iteration(it, it / EPOCH, 1.0 / it, 1000.0 / it, 0.01, 100.0);
                if (it % EPOCH == 0) {
                    System.out.println("writing " + it);
                    System.out.flush();
                    log.epoch(it, it / EPOCH, Map.of("heldout_accuracy", 0.5 + 0.4 * it / (it + 100.0)));
                }
            }
        }
    }
}
