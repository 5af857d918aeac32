package io.spherekit.runtime;

import java.nio.file.Path;

/**
 * Child JVM of {@link ModelThresholdCrashTest}: rewrites the metadata of the ONNX model {@code args[0]} with
 * {@link ModelThreshold#write} in a loop (generation N: threshold N / 1000, source "gen N") until killed, printing
 * "writing N" before each rewrite.
 */
public final class ModelThresholdCrashWriter {

    private ModelThresholdCrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        for (int gen = Integer.parseInt(args[1]); ; gen++) {
            System.out.println("writing " + gen);
            System.out.flush();
            ModelThreshold.write(model, gen / 1000.0, "gen " + gen);
        }
    }
}
