package io.spherekit.runtime;

import io.spherekit.core.ident.Identifier;
import io.spherekit.index.HnswGallery;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens either kind of identification gallery by its path: a folder is an HNSW index ({@link HnswGallery}, Lucene),
 * a file is an exact gallery ({@link Gallery}, the SphereKit binary format).
 */
public final class Galleries {

    private Galleries() {
    }

    /** @return {@code "hnsw"} for a folder, {@code "exact"} otherwise (also for a path that does not exist) */
    public static String kindOf(Path path) {
        return Files.isDirectory(path) ? "hnsw" : "exact";
    }

    /**
     * Opens a gallery read-only for search.
     *
     * @param expectedDim the embedding dimension of the model that will produce queries
     * @return a {@link Gallery} or a read-only {@link HnswGallery} (close it when done: {@link #closeQuietly})
     * @throws IOException naming the path: missing, corrupt, not a gallery, or holding embeddings of another
     *                     dimension
     */
    public static Identifier open(Path path, int expectedDim) throws IOException {
        return open(path, expectedDim, 1);
    }

    /**
     * As {@link #open(Path, int)}; an HNSW index searches its segments with {@code searchThreads} threads per query
     * ({@link HnswGallery.Options#searchThreads()}; ignored for an exact gallery file).
     *
     * @param searchThreads threads per query, &gt;= 1
     */
    public static Identifier open(Path path, int expectedDim, int searchThreads) throws IOException {
        if (searchThreads < 1) {
            throw new IllegalArgumentException("searchThreads must be >= 1, got " + searchThreads);
        }
        if (!Files.isDirectory(path)) {
            return Gallery.load(path, expectedDim);
        }
        HnswGallery g = HnswGallery.open(path, false, HnswGallery.Options.defaults().withSearchThreads(searchThreads));
        if (g.dim() != expectedDim) {
            g.close();
            throw new IOException("gallery index " + path + " holds " + g.dim() + "-d embeddings"
                    + (g.modelId().isEmpty() ? "" : " (model " + g.modelId() + ")") + " but the model produces "
                    + expectedDim + "-d embeddings");
        }
        return g;
    }

    /**
     * The preprocessing description recorded in a gallery (exact file format 2, HNSW index) and compared with the
     * query side's: the embedder's {@link io.spherekit.core.Preprocessing} (crop box, input size, channel order,
     * mean, scale), then {@code "; align=crop"} or {@code "; align=detect; template=NAME"} (the alignment template),
     * then {@code "; flip=sum"} or {@code "; flip=concat"} when the embedder uses test-time flip. For the fixed crop
     * without flip the string is the one galleries recorded before the template and flip were added.
     */
    public static String preprocessingOf(FaceEmbedder embedder) {
        StringBuilder s = new StringBuilder(embedder.preprocessing().toString());
        if (embedder.detector() != null) {
            s.append("; align=detect; template=").append(embedder.alignmentTemplate().name());
        } else {
            s.append("; align=crop");
        }
        if (embedder.flip().needsMirror()) {
            s.append("; flip=").append(embedder.flip().id());
        }
        return s.toString();
    }

    /**
     * The stored preprocessing of a gallery ({@link Gallery#preprocessing()}, {@link HnswGallery#preprocessing()}):
     * empty when not recorded (exact format version 1, or a builder given none), which the checks skip.
     */
    public static String preprocessingOf(Identifier g) {
        if (g instanceof HnswGallery h) {
            return h.preprocessing();
        }
        return g instanceof Gallery x ? x.preprocessing() : "";
    }

    /**
     * Whether a gallery's recorded preprocessing and the query side's are the same: equal strings, or a string
     * recorded before the template and flip parts existed (it has neither {@code "; template="} nor
     * {@code "; flip="}) equal to {@code current} without them. Such a gallery's flip mode is still checked through
     * its model id ({@link ModelId}, {@code +flip=MODE}).
     *
     * @param stored  as recorded, non-empty
     * @param current {@link #preprocessingOf(FaceEmbedder)} of the query side
     */
    public static boolean samePreprocessing(String stored, String current) {
        if (stored.equals(current)) {
            return true;
        }
        if (stored.contains(TEMPLATE_PART) || stored.contains(FLIP_PART)) {
            return false;
        }
        return stored.equals(withoutPart(withoutPart(current, FLIP_PART), TEMPLATE_PART));
    }

    private static final String TEMPLATE_PART = "; template=";
    private static final String FLIP_PART = "; flip=";

    /** {@code s} without the part starting at {@code part} and running to the next {@code "; "} or the end. */
    private static String withoutPart(String s, String part) {
        int i = s.indexOf(part);
        if (i < 0) {
            return s;
        }
        int end = s.indexOf("; ", i + part.length());
        return s.substring(0, i) + (end < 0 ? "" : s.substring(end));
    }

    /** Closes {@code g} if it holds resources (an {@link HnswGallery}); errors are ignored. */
    public static void closeQuietly(Identifier g) {
        if (g instanceof Closeable c) {
            try {
                c.close();
            } catch (IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }
}
