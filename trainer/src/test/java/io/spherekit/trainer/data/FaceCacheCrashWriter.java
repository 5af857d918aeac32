package io.spherekit.trainer.data;

import java.nio.file.Path;
import java.util.List;

/**
 * Child JVM of {@link FaceCacheCrashTest}: decodes the images under {@code args[0]} once and writes their crop
 * cache into the folder {@code args[1]} with {@link FaceCache#write} in a loop until killed, printing "writing N"
 * before each write.
 */
public final class FaceCacheCrashWriter {

    private FaceCacheCrashWriter() {
    }

    /** The dataset definition both sides use: every identity with two or more images under {@code root}. */
    static List<FaceDataset.Identity> identities(Path root) throws Exception {
        return FaceDataset.list(root, null, 2, 0);
    }

    public static void main(String[] args) throws Exception {
        List<FaceDataset.Identity> ids = identities(Path.of(args[0]));
        String key = FaceCache.key(ids, FaceCacheCrashTest.PRE, FaceCacheCrashTest.MARGIN);
        FaceDataset d = FaceDataset.load(ids, FaceCacheCrashTest.PRE, FaceCacheCrashTest.MARGIN, 1, false, null);
        Path file = FaceCache.file(Path.of(args[1]), key);
        for (int gen = 1; ; gen++) {
            System.out.println("writing " + gen);
            System.out.flush();
            FaceCache.write(d, key, file);
        }
    }
}
