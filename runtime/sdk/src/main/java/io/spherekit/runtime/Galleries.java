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
        if (!Files.isDirectory(path)) {
            return Gallery.load(path, expectedDim);
        }
        HnswGallery g = HnswGallery.open(path, false);
        if (g.dim() != expectedDim) {
            g.close();
            throw new IOException("gallery index " + path + " holds " + g.dim() + "-d embeddings"
                    + (g.modelId().isEmpty() ? "" : " (model " + g.modelId() + ")") + " but the model produces "
                    + expectedDim + "-d embeddings");
        }
        return g;
    }

    /**
     * The preprocessing description recorded in an HNSW gallery: the embedder's {@link
     * io.spherekit.core.Preprocessing} and alignment ({@code crop} or {@code detect}).
     */
    public static String preprocessingOf(FaceEmbedder embedder) {
        return embedder.preprocessing() + "; align=" + (embedder.detector() != null ? "detect" : "crop");
    }

    /** The stored preprocessing of a gallery: empty for the exact format, which does not record it. */
    public static String preprocessingOf(Identifier g) {
        return g instanceof HnswGallery h ? h.preprocessing() : "";
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
