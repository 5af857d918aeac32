package io.spherekit.runtime;

import java.nio.file.Path;
import java.util.Random;

/**
 * Child JVM of {@link GalleryCrashTest}: saves generation 1, 2, 3, ... of {@link #gallery} to {@code args[0]}
 * with {@link Gallery#save} in a loop until it is killed, printing "writing N" before each save.
 */
public final class GalleryCrashWriter {

    static final int DIM = 128;
    static final int ROWS = 4000;

    private GalleryCrashWriter() {
    }

    /**
     * @return generation {@code gen}: {@value #ROWS} rows of {@value #DIM}-d Gaussian embeddings (seeded by
     *         {@code gen}), labels {@code "g<gen>-<row>"}, model id {@code "gen-<gen>"} (about 2 MB on disk)
     */
    static Gallery gallery(int gen) {
        Random r = new Random(gen);
        Gallery.Builder b = Gallery.builder(DIM).optModelId("gen-" + gen);
        for (int i = 0; i < ROWS; i++) {
            float[] e = new float[DIM];
            for (int k = 0; k < DIM; k++) {
                e[k] = (float) r.nextGaussian();
            }
            b.add("g" + gen + "-" + i, e);
        }
        return b.build();
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int start = Integer.parseInt(args[1]);
        for (int gen = start; ; gen++) {
            Gallery g = gallery(gen);
            System.out.println("writing " + gen);
            System.out.flush();
            g.save(file);
        }
    }
}
